/*
 * smtp.c - deliver one message through libcurl (GnuTLS).
 *
 * TLS is not negotiable: smtps:// is TLS from the first byte, smtp:// must
 * upgrade with STARTTLS before MAIL (CURLUSESSL_ALL), the certificate chain
 * and the host name are always verified, and no other scheme reaches curl.
 * A server without STARTTLS or with a bad certificate therefore receives no
 * envelope and no message; the result says why, in a sentence meant for the
 * sender.
 *
 * The message is a MIME tree built by libcurl: multipart/mixed holding one
 * multipart/alternative with text/plain and text/html (UTF-8, base64, CRLF
 * line ends). The header fields come from us (CURLOPT_HTTPHEADER), each
 * checked for line breaks first, since a line break in a value would let it
 * write a header of its own.
 *
 * curl reports only a code for a refused command, so a debug callback keeps
 * the server's last reply line (for the sentence) and the verb of our last
 * command (MAIL, RCPT, DATA, AUTH...: is it the recipient that was refused?).
 * It never copies what we send: the AUTH exchange carries the password.
 * The TLS parameters are read during the transfer (a progress callback),
 * because the connection is gone from the handle once curl_easy_perform
 * returns.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"
#include "smtp.h"
#include "util.h"

#define SMTP_REPLYMAX 128   /* bytes of a server reply kept for the message */
#define SMTP_DETAILMAX 120  /* bytes of curl's own detail in a message */
#define SMTP_HEADERMAX 8192 /* bytes of one encoded header field */

/* What the debug and progress callbacks learn during one transfer. */
struct smtp_trace {
	CURL *h;
	char verb[12];		   /* our last command: MAIL, RCPT, DATA, ... */
	char stage[12];		   /* the command the last reply answered */
	char reply[SMTP_REPLYMAX]; /* the server's last reply line */
	char tls[sizeof(((struct smtp_result *)0)->tls)];
};

static void smtp_fail(struct smtp_result *r, enum smtp_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* smtp_fail - r says why nothing (more) was sent */
static void
smtp_fail(struct smtp_result *r, enum smtp_outcome o, const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* smtp_init - once, before any thread exists (curl_global_init) */
int
smtp_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
smtp_cleanup(void)
{
	curl_global_cleanup();
}

/* smtp_has_break - does s hold a CR or LF? */
static int
smtp_has_break(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* smtp_msgid_ok - "<local@domain>", printable ASCII without spaces */
static int
smtp_msgid_ok(const char *s)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');

	if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>' || at == NULL || at == s + 1 ||
	    at == s + n - 2 || strchr(at + 1, '@') != NULL)
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    strchr("<>()[]\\,;:\"", s[i]) != NULL)
			return 0;
	return 1;
}

/* smtp_printable - copy src[0..n) into dst as printable ASCII, '?' for anything else */
static void
smtp_printable(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < dstlen; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[o] = '\0';
}

/* smtp_debug - keep the server's last reply and our last command's verb */
static int
smtp_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	static const char *const verbs[] = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL",
					    "RCPT", "DATA", "QUIT",	"RSET", "NOOP"};
	struct smtp_trace *t = arg;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		/* only a known verb; the rest of the line may be a credential */
		for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			size_t n = strlen(verbs[i]);
			if (size >= n && memcmp(data, verbs[i], n) == 0 &&
			    (size == n || data[n] == ' ' || data[n] == '\r')) {
				snprintf(t->verb, sizeof(t->verb), "%s", verbs[i]);
				break;
			}
		}
	} else if (type == CURLINFO_HEADER_IN && strcmp(t->verb, "QUIT") != 0) {
		/* the last non-empty line of what arrived; not the goodbye that
		 * follows a refusal */
		size_t end = size, start;

		while (end > 0 && (data[end - 1] == '\r' || data[end - 1] == '\n'))
			end--;
		if (end == 0)
			return 0;
		start = end;
		while (start > 0 && data[start - 1] != '\n')
			start--;
		smtp_printable(t->reply, sizeof(t->reply), data + start, end - start);
		snprintf(t->stage, sizeof(t->stage), "%s", t->verb);
	}
	return 0;
}

/* smtp_tls_note - record the TLS version and cipher once the session has them */
static void
smtp_tls_note(struct smtp_trace *t)
{
	struct curl_tlssessioninfo *info = NULL;
	const char *proto, *cipher;
	gnutls_session_t s;

	if (strcmp(t->tls, "unknown") != 0)
		return;
	if (curl_easy_getinfo(t->h, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL ||
	    info->backend != CURLSSLBACKEND_GNUTLS || info->internals == NULL)
		return;
	s = info->internals;
	/* before the handshake completes there is no version and the cipher is NULL */
	proto = gnutls_protocol_get_name(gnutls_protocol_get_version(s));
	cipher = gnutls_cipher_get_name(gnutls_cipher_get(s));
	if (proto == NULL || cipher == NULL || gnutls_cipher_get(s) == GNUTLS_CIPHER_NULL ||
	    gnutls_cipher_get(s) == GNUTLS_CIPHER_UNKNOWN)
		return;
	snprintf(t->tls, sizeof(t->tls), "%s %s", proto, cipher);
}

/* smtp_progress - curl's progress callback: a moment when the connection exists */
static int
smtp_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	smtp_tls_note(arg);
	return 0;
}

/* smtp_date - "Date: Fri, 21 Nov 2025 09:30:00 +0000", independent of the locale */
static void
smtp_date(char out[64])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, 64, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/*
 * smtp_from - "From: NAME <addr>": NAME as encoded-words if it is not
 * ASCII, as a quoted string if it holds a character special in a phrase.
 */
static int
smtp_from(const struct smtp_conf *c, char *out, size_t outlen)
{
	char enc[1024];
	int n;

	if (c->from_name == NULL || c->from_name[0] == '\0') {
		n = snprintf(out, outlen, "From: %s", c->from);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	if (mail_header_encode(c->from_name, enc, sizeof(enc)) != 0)
		return -1;
	if (strncmp(enc, "=?", 2) != 0 && strpbrk(enc, "()<>[]:;@\\,.\"") != NULL) {
		/* a quoted string: only " and \ need a backslash */
		char q[sizeof(enc) * 2 + 3];
		size_t o = 0;

		q[o++] = '"';
		for (const char *p = enc; *p; p++) {
			if (*p == '"' || *p == '\\')
				q[o++] = '\\';
			q[o++] = *p;
		}
		q[o++] = '"';
		q[o] = '\0';
		n = snprintf(out, outlen, "From: %s <%s>", q, c->from);
	} else {
		n = snprintf(out, outlen, "From: %s <%s>", enc, c->from);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* smtp_crlf - a malloc'd copy of s with every line ending CRLF (MIME's canonical text) */
static char *
smtp_crlf(const char *s)
{
	size_t n = 0, o = 0;
	char *out;

	for (const char *p = s; *p; p++)
		n += (*p == '\n' || *p == '\r') ? 2 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p[1] == '\n')
				p++;
			out[o++] = '\r';
			out[o++] = '\n';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return out;
}

/* smtp_text_free - wipe and free a body copy: it may hold a link or a code */
static void
smtp_text_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

/* smtp_add_part - one text part of the alternative */
static int
smtp_add_part(curl_mime *alt, const char *body, const char *type)
{
	curl_mimepart *p = curl_mime_addpart(alt);

	if (p == NULL || curl_mime_data(p, body, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    curl_mime_type(p, type) != CURLE_OK || curl_mime_encoder(p, "base64") != CURLE_OK)
		return -1;
	return 0;
}

/* smtp_reply - the server's reply line for a message, or the bare code */
static const char *
smtp_reply(const struct smtp_trace *t, long code, char buf[32])
{
	if (t->reply[0] != '\0')
		return t->reply;
	snprintf(buf, 32, "%ld", code);
	return buf;
}

/* smtp_classify - outcome and sentence for a failed transfer */
static void
smtp_classify(CURLcode rc, long code, const struct smtp_trace *t, const char *errbuf, int timeout,
	      struct smtp_result *r)
{
	char detail[SMTP_DETAILMAX], codebuf[32];
	const char *reply = smtp_reply(t, code, codebuf);

	smtp_printable(detail, sizeof(detail), errbuf[0] ? errbuf : curl_easy_strerror(rc),
		       strlen(errbuf[0] ? errbuf : curl_easy_strerror(rc)));
	switch (rc) {
	case CURLE_USE_SSL_FAILED:
		smtp_fail(r, SMTP_TEMPFAIL,
			  "the mail server does not offer STARTTLS; nothing was sent");
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
		if (strstr(detail, "does not match") != NULL)
			smtp_fail(r, SMTP_TEMPFAIL,
				  "the mail server's certificate is not for its name (%s); "
				  "nothing was sent",
				  detail);
		else
			smtp_fail(r, SMTP_TEMPFAIL,
				  "the mail server's certificate is not trusted (%s); nothing "
				  "was sent",
				  detail);
		return;
	case CURLE_SSL_CACERT_BADFILE:
		smtp_fail(r, SMTP_TEMPFAIL, "cannot load smtp.ca_file (%s); nothing was sent",
			  detail);
		return;
	case CURLE_SSL_CONNECT_ERROR:
		smtp_fail(r, SMTP_TEMPFAIL,
			  "the TLS handshake with the mail server failed (%s); nothing was sent",
			  detail);
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		smtp_fail(r, SMTP_TEMPFAIL, "cannot resolve the mail server's name (%s)", detail);
		return;
	case CURLE_COULDNT_CONNECT:
		smtp_fail(r, SMTP_TEMPFAIL, "cannot connect to the mail server (%s)", detail);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		smtp_fail(r, SMTP_TEMPFAIL,
			  "the mail server did not finish within %d seconds (smtp.timeout)",
			  timeout);
		return;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		smtp_fail(r, SMTP_TEMPFAIL, "smtp.url is not usable (%s); nothing was sent",
			  detail);
		return;
	case CURLE_LOGIN_DENIED:
		smtp_fail(r, SMTP_TEMPFAIL,
			  "the mail server refused the login (%s); check smtp.username and "
			  "smtp.password_file",
			  reply);
		return;
	default:
		break;
	}
	if (code == 535 || strcmp(t->stage, "AUTH") == 0) {
		smtp_fail(r, SMTP_TEMPFAIL,
			  "the mail server refused the login (%s); check smtp.username and "
			  "smtp.password_file",
			  reply);
	} else if (code >= 400 && code < 600 &&
		   (strcmp(t->stage, "MAIL") == 0 || strcmp(t->stage, "RCPT") == 0 ||
		    strcmp(t->stage, "DATA") == 0)) {
		const char *what = strcmp(t->stage, "MAIL") == 0   ? "the sender address"
				   : strcmp(t->stage, "RCPT") == 0 ? "the recipient"
								   : "the message";
		if (code >= 500)
			smtp_fail(r, SMTP_PERMFAIL, "the mail server refused %s (%s)", what, reply);
		else
			smtp_fail(r, SMTP_TEMPFAIL,
				  "the mail server refused %s for now (%s); it may accept it later",
				  what, reply);
	} else if (code >= 400 && code < 600) {
		smtp_fail(r, SMTP_TEMPFAIL, "the mail server refused the session (%s)", reply);
	} else {
		smtp_fail(r, SMTP_TEMPFAIL, "sending to the mail server failed (%s)", detail);
	}
}

/* smtp_headers - the header fields of m, or NULL (r says why) */
static struct curl_slist *
smtp_headers(const struct smtp_conf *c, const struct mail_msg *m, const char *message_id,
	     struct smtp_result *r)
{
	static const char *const fixed[] = {"MIME-Version: 1.0", "Auto-Submitted: auto-generated",
					    /* no out-of-office replies to a gateway */
					    "X-Auto-Response-Suppress: All"};
	struct curl_slist *h = NULL, *n;
	/* on the heap: smtp_send may run on a small thread stack */
	char *line = malloc(SMTP_HEADERMAX), *enc = malloc(SMTP_HEADERMAX - 16);
	int k;

	if (line == NULL || enc == NULL) {
		smtp_fail(r, SMTP_TEMPFAIL, "out of memory; nothing was sent");
		free(line);
		free(enc);
		return NULL;
	}
	for (k = 0; k < 5 + 3; k++) {
		int ok = 0;

		switch (k) {
		case 0:
			smtp_date(line);
			ok = 1;
			break;
		case 1:
			ok = smtp_from(c, line, SMTP_HEADERMAX) == 0;
			if (!ok)
				smtp_fail(r, SMTP_TEMPFAIL,
					  "smtp.from_name is too long or not UTF-8; nothing was "
					  "sent");
			break;
		case 2:
			snprintf(line, SMTP_HEADERMAX, "To: %s", m->to);
			ok = 1;
			break;
		case 3:
			ok = mail_header_encode(m->subject, enc, SMTP_HEADERMAX - 16) == 0;
			if (ok)
				snprintf(line, SMTP_HEADERMAX, "Subject: %s", enc);
			else
				smtp_fail(r, SMTP_PERMFAIL,
					  "the subject is too long or not UTF-8; nothing was sent");
			break;
		case 4:
			snprintf(line, SMTP_HEADERMAX, "Message-ID: %s", message_id);
			ok = 1;
			break;
		default:
			snprintf(line, SMTP_HEADERMAX, "%s", fixed[k - 5]);
			ok = 1;
			break;
		}
		if (ok && (n = curl_slist_append(h, line)) == NULL) {
			smtp_fail(r, SMTP_TEMPFAIL, "out of memory; nothing was sent");
			ok = 0;
		}
		if (!ok) {
			curl_slist_free_all(h);
			h = NULL;
			break;
		}
		h = n;
	}
	free(line);
	free(enc);
	return h;
}

/* smtp_check - refuse, before any connection, what could break the session or a header */
static int
smtp_check(const struct smtp_conf *c, const struct mail_msg *m, const char *message_id,
	   struct smtp_result *r)
{
	if (c->url == NULL ||
	    (strncmp(c->url, "smtps://", 8) != 0 && strncmp(c->url, "smtp://", 7) != 0) ||
	    strpbrk(c->url, "\r\n\t ") != NULL) {
		smtp_fail(r, SMTP_TEMPFAIL,
			  "smtp.url must be smtps://HOST[:PORT] or smtp://HOST[:PORT]; nothing "
			  "was sent");
		return -1;
	}
	if (c->from == NULL || util_mailbox_ok(c->from) != 0 ||
	    (c->from_name != NULL && smtp_has_break(c->from_name))) {
		smtp_fail(r, SMTP_TEMPFAIL,
			  "smtp.from is not one plain address or smtp.from_name holds a line "
			  "break; nothing was sent");
		return -1;
	}
	if (m->to == NULL || m->subject == NULL || m->text == NULL || m->html == NULL ||
	    util_mailbox_ok(m->to) != 0) {
		smtp_fail(r, SMTP_PERMFAIL,
			  "the recipient address is not usable; nothing was sent");
		return -1;
	}
	if (smtp_has_break(m->subject)) {
		smtp_fail(r, SMTP_PERMFAIL, "the subject holds a line break; nothing was sent");
		return -1;
	}
	if (message_id == NULL || !smtp_msgid_ok(message_id)) {
		smtp_fail(r, SMTP_PERMFAIL, "the Message-ID is malformed; nothing was sent");
		return -1;
	}
	return 0;
}

#define SMTP_SET(h, opt, val)                                                                      \
	do {                                                                                       \
		if (curl_easy_setopt(h, opt, val) != CURLE_OK)                                     \
			goto setopt;                                                               \
	} while (0)

/*
 * smtp_send - deliver m to m->to over TLS. 0 when the server accepted it,
 * -1 otherwise; r is filled either way (outcome, last reply code, the reason
 * as a sentence, and the TLS parameters that carried it).
 */
int
smtp_send(const struct smtp_conf *c, const struct mail_msg *m, const char *message_id,
	  struct smtp_result *r)
{
	char errbuf[CURL_ERROR_SIZE], from[300];
	struct smtp_trace t;
	struct curl_slist *headers = NULL, *rcpt = NULL;
	curl_mime *mime = NULL, *alt = NULL;
	curl_mimepart *part;
	char *text = NULL, *html = NULL;
	CURL *h = NULL;
	CURLcode rc;
	long code = 0;

	memset(r, 0, sizeof(*r));
	r->outcome = SMTP_TEMPFAIL;
	snprintf(r->tls, sizeof(r->tls), "unknown");
	if (smtp_check(c, m, message_id, r) != 0)
		return -1;
	if ((headers = smtp_headers(c, m, message_id, r)) == NULL)
		return -1;

	memset(&t, 0, sizeof(t));
	snprintf(t.tls, sizeof(t.tls), "unknown");
	errbuf[0] = '\0';
	snprintf(from, sizeof(from), "<%s>", c->from);
	h = curl_easy_init();
	text = smtp_crlf(m->text);
	html = smtp_crlf(m->html);
	rcpt = curl_slist_append(NULL, m->to);
	if (h == NULL || text == NULL || html == NULL || rcpt == NULL)
		goto oom;
	t.h = h;
	mime = curl_mime_init(h);
	alt = curl_mime_init(h);
	if (mime == NULL || alt == NULL ||
	    smtp_add_part(alt, text, "text/plain; charset=UTF-8") != 0 ||
	    smtp_add_part(alt, html, "text/html; charset=UTF-8") != 0 ||
	    (part = curl_mime_addpart(mime)) == NULL)
		goto oom;
	if (curl_mime_subparts(part, alt) != CURLE_OK) {
		curl_mime_free(alt);
		alt = NULL;
		goto oom;
	}
	alt = NULL; /* part of mime now */
	if (curl_mime_type(part, "multipart/alternative") != CURLE_OK)
		goto oom;
	/* curl_mime_data made its own copies */
	smtp_text_free(text);
	smtp_text_free(html);
	text = html = NULL;

	SMTP_SET(h, CURLOPT_ERRORBUFFER, errbuf);
	SMTP_SET(h, CURLOPT_URL, c->url);
	SMTP_SET(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SMTP_SET(h, CURLOPT_REDIR_PROTOCOLS_STR, "smtps");
	SMTP_SET(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	SMTP_SET(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SMTP_SET(h, CURLOPT_SSL_VERIFYPEER, 1L);
	SMTP_SET(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL && c->ca_file[0] != '\0')
		SMTP_SET(h, CURLOPT_CAINFO, c->ca_file);
	SMTP_SET(h, CURLOPT_MAIL_FROM, from);
	SMTP_SET(h, CURLOPT_MAIL_RCPT, rcpt);
	if (c->username != NULL && c->username[0] != '\0') {
		SMTP_SET(h, CURLOPT_USERNAME, c->username);
		SMTP_SET(h, CURLOPT_PASSWORD, c->password != NULL ? c->password : "");
	}
	SMTP_SET(h, CURLOPT_TIMEOUT, (long)c->timeout);
	SMTP_SET(h, CURLOPT_NOSIGNAL, 1L);
	SMTP_SET(h, CURLOPT_HTTPHEADER, headers);
	SMTP_SET(h, CURLOPT_MIMEPOST, mime);
	SMTP_SET(h, CURLOPT_VERBOSE, 1L);
	SMTP_SET(h, CURLOPT_DEBUGFUNCTION, smtp_debug);
	SMTP_SET(h, CURLOPT_DEBUGDATA, &t);
	SMTP_SET(h, CURLOPT_NOPROGRESS, 0L);
	SMTP_SET(h, CURLOPT_XFERINFOFUNCTION, smtp_progress);
	SMTP_SET(h, CURLOPT_XFERINFODATA, &t);

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	r->code = code;
	snprintf(r->tls, sizeof(r->tls), "%s", t.tls);
	if (rc == CURLE_OK) {
		r->outcome = SMTP_SENT;
	} else {
		smtp_classify(rc, code, &t, errbuf, c->timeout, r);
	}
	goto out;
setopt:
	smtp_fail(r, SMTP_TEMPFAIL, "this libcurl lacks a required option (%s); nothing was sent",
		  errbuf[0] ? errbuf : "curl_easy_setopt failed");
	goto out;
oom:
	smtp_fail(r, SMTP_TEMPFAIL, "out of memory; nothing was sent");
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_mime_free(mime);
	curl_mime_free(alt);
	curl_slist_free_all(headers);
	curl_slist_free_all(rcpt);
	smtp_text_free(text);
	smtp_text_free(html);
	return r->outcome == SMTP_SENT ? 0 : -1;
}

/*
 * smtp_password_read - the SMTP password into pw (NUL-terminated, one
 * trailing newline removed). The file must be the owner's alone (0600 or
 * 0400): a password others can read is already compromised. pw is wiped
 * on every failure.
 */
int
smtp_password_read(const char *path, char pw[SMTP_PASSWORDMAX + 1], char *err, size_t errlen)
{
	struct stat st;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW), e;

	if (fd < 0) {
		snprintf(err, errlen, "smtp.password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "smtp.password_file %s: not a regular file", path);
		return -1;
	}
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400) {
		close(fd);
		snprintf(err, errlen, "smtp.password_file %s: mode %04o; it must be 0600 or 0400",
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (util_read_small_fd(fd, (unsigned char *)pw, SMTP_PASSWORDMAX, &len) != 0) {
		e = errno;
		close(fd);
		sodium_memzero(pw, SMTP_PASSWORDMAX + 1);
		snprintf(err, errlen, "smtp.password_file %s: %s", path,
			 e == EFBIG ? "longer than one line of 1024 bytes" : strerror(e));
		return -1;
	}
	close(fd);
	if (len > 0 && pw[len - 1] == '\n')
		len--;
	if (len > 0 && pw[len - 1] == '\r')
		len--;
	pw[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
			sodium_memzero(pw, SMTP_PASSWORDMAX + 1);
			snprintf(err, errlen, "smtp.password_file %s: the password must be one line "
					      "without control characters", path);
			return -1;
		}
	}
	if (len == 0) {
		snprintf(err, errlen, "smtp.password_file %s: empty", path);
		return -1;
	}
	return 0;
}
