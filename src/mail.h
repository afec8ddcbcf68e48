/*
 * mail.h - the messages okuru sends: rendered from the admin-editable
 * templates (okuru.conf "templates"), packed into the outbox and unpacked
 * for delivery by smtp.c. A message never carries a file or a passphrase;
 * its only secret is a link or a one-time code.
 */
#ifndef OKURU_MAIL_H
#define OKURU_MAIL_H

#include <stddef.h>

struct mail_msg {
	char *to;      /* one plain address (util_mailbox_ok) */
	char *subject; /* UTF-8, one line */
	char *text;    /* text/plain body, UTF-8 */
	char *html;    /* text/html body, UTF-8 */
};

/* A template variable. In NAME.html, value is HTML-escaped unless html is set. */
struct mail_var {
	const char *name;
	const char *value; /* plain text */
	const char *html;  /* optional markup, already escaped by the caller */
};

int mail_render(const char *dir, const char *name, const char *to, const struct mail_var *vars,
		size_t nvars, struct mail_msg *out, char *err, size_t errlen);
void mail_msg_free(struct mail_msg *m);

/* Outbox form: a JSON object, so a queued message survives a restart. */
char *mail_msg_pack(const struct mail_msg *m, size_t *len);
int mail_msg_unpack(const char *buf, size_t len, struct mail_msg *out);

/* RFC 2047 encoded-words for a UTF-8 header value; -1 if out is too small. */
int mail_header_encode(const char *value, char *out, size_t outlen);

#endif
