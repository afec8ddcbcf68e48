/*
 * smtp.h - deliver one message through libcurl (GnuTLS): implicit TLS
 * (smtps://) or STARTTLS required (smtp://, CURLUSESSL_ALL), the server's
 * certificate and host name verified, optional AUTH. There is no path that
 * sends without TLS: such a message is not sent, and the result says why.
 */
#ifndef OKURU_SMTP_H
#define OKURU_SMTP_H

#include "mail.h"

struct smtp_conf {
	const char *url;       /* smtps://host[:port] or smtp://host[:port] */
	const char *ca_file;   /* "" for the system store */
	const char *from;      /* envelope sender and From address */
	const char *from_name; /* display name for From */
	const char *username;  /* "" for no AUTH */
	const char *password;
	int timeout; /* seconds for the whole session */
};

enum smtp_outcome {
	SMTP_SENT = 0,
	SMTP_TEMPFAIL = 1, /* try again later: network, TLS, 4xx, AUTH */
	SMTP_PERMFAIL = 2, /* the server refused this message or recipient (5xx) */
};

struct smtp_result {
	enum smtp_outcome outcome;
	long code;	 /* the last SMTP reply code, 0 if none */
	char error[256]; /* why it was not sent, for the sender and the log */
	char tls[128];	 /* protocol and cipher that carried it, e.g. "TLS1.3 AES-256-GCM" */
};

/* smtp_password_read - smtp.password_file: one line, owner-only (0600/0400) */
#define SMTP_PASSWORDMAX 1024
int smtp_password_read(const char *path, char pw[SMTP_PASSWORDMAX + 1], char *err, size_t errlen);

/* smtp_init - once, before any thread exists (curl_global_init) */
int smtp_init(void);
void smtp_cleanup(void);

/* smtp_send - message_id is "<...@...>", fixed when the message was queued */
int smtp_send(const struct smtp_conf *c, const struct mail_msg *m, const char *message_id,
	      struct smtp_result *r);

#endif
