/*
 * mail.c - the messages okuru sends: rendering the admin-editable templates,
 * the outbox form (JSON), and RFC 2047 encoding of header values.
 *
 * A template NAME is two files in the templates directory:
 *   NAME.txt   "Subject: ..." on the first line, one blank line, the text body
 *   NAME.html  the HTML body (a small complete document)
 * Both are UTF-8, at most MAIL_TEMPLATEMAX bytes, LF or CRLF line ends.
 * A placeholder is {{name}} with name [a-z0-9_]+; every "{{" starts one, so an
 * unknown name, a space inside the braces or a missing "}}" is an error that
 * names the file and line: an admin's typo must fail loudly, not reach a
 * customer as literal braces. In NAME.txt a value is inserted as is, in
 * NAME.html it is HTML-escaped unless the caller gave markup (mail_var.html).
 * The subject must stay one line, so a value with a line break (or any other
 * control character) is refused there.
 *
 * The text and HTML bodies may hold the one secret of a message (a link or a
 * one-time code), so mail_msg_free wipes them.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "html.h"
#include "mail.h"
#include "util.h"

#define MAIL_TEMPLATEMAX (64 * 1024)   /* bytes per template file */
#define MAIL_BODYMAX (512 * 1024)      /* bytes per rendered body */
#define MAIL_SUBJECTMAX 2000	       /* bytes of rendered subject */
#define MAIL_PACKMAX (4 * 1024 * 1024) /* bytes of an outbox entry */
#define MAIL_NAMEMAX 64		       /* template and variable names */

/*
 * An ASCII header value longer than this is encoded (and so folded) like a
 * non-ASCII one, so that no header line exceeds RFC 5322's 998 characters.
 */
#define MAIL_PLAINMAX 900

/* Raw bytes per encoded-word: "=?UTF-8?B?" + 60 base64 chars + "?=" = 72 <= 75. */
#define MAIL_WORDBYTES 45

/* A bounded, growing string. */
struct mail_buf {
	char *p;
	size_t len, cap;
};

static void mail_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
mail_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* mail_buf_add - append n bytes; -1 (ENOMEM or EFBIG) past MAIL_BODYMAX */
static int
mail_buf_add(struct mail_buf *b, const char *s, size_t n)
{
	if (n > MAIL_BODYMAX - b->len) {
		errno = EFBIG;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = malloc(cap);
		if (p == NULL) {
			errno = ENOMEM;
			return -1;
		}
		/* not realloc: the old copy may hold a link or a code */
		if (b->p != NULL) {
			memcpy(p, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void
mail_buf_free(struct mail_buf *b)
{
	if (b->p != NULL) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/* mail_buf_take - the string (never NULL: "" for nothing added), or NULL on OOM */
static char *
mail_buf_take(struct mail_buf *b)
{
	char *s;

	if (b->p == NULL && mail_buf_add(b, "", 0) != 0)
		return NULL;
	s = b->p;
	memset(b, 0, sizeof(*b));
	return s;
}

static int
mail_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* mail_name_ok - [a-z0-9_]+, at most MAIL_NAMEMAX */
static int
mail_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!mail_is_name_char(s[i]) || i >= MAIL_NAMEMAX)
			return 0;
	return i > 0;
}

/* mail_str_free - wipe and free a string that may hold a secret */
static void
mail_str_free(char **s)
{
	if (*s != NULL) {
		sodium_memzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* mail_has_ctl - does s hold a control character (C0 or DEL)? */
static int
mail_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * mail_template_read - DIR/NAME.EXT as a NUL-terminated string with LF line
 * ends; the file's name (for messages) in path.
 */
static char *
mail_template_read(const char *dir, const char *name, const char *ext, char *path, size_t pathlen,
		   char *err, size_t errlen)
{
	unsigned char *raw;
	size_t len, i, o = 0;
	int line = 1, n;
	const uint8_t *bad;

	n = snprintf(path, pathlen, "%s/%s.%s", dir, name, ext);
	if (n < 0 || (size_t)n >= pathlen) {
		mail_err(err, errlen, "%s: templates directory name too long", dir);
		return NULL;
	}
	raw = malloc(MAIL_TEMPLATEMAX + 1);
	if (raw == NULL) {
		mail_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (util_read_small_file(path, raw, MAIL_TEMPLATEMAX, &len) != 0) {
		if (errno == EFBIG)
			mail_err(err, errlen, "%s: larger than %d KiB", path,
				 MAIL_TEMPLATEMAX / 1024);
		else
			mail_err(err, errlen, "%s: %s", path, strerror(errno));
		free(raw);
		return NULL;
	}
	if ((bad = u8_check(raw, len)) != NULL) {
		for (i = 0; raw + i < bad; i++)
			line += raw[i] == '\n';
		mail_err(err, errlen, "%s:%d: not valid UTF-8", path, line);
		free(raw);
		return NULL;
	}
	/* CRLF to LF in place; a NUL or a lone CR is an error */
	for (i = 0; i < len; i++) {
		if (raw[i] == '\0' || (raw[i] == '\r' && (i + 1 == len || raw[i + 1] != '\n'))) {
			mail_err(err, errlen, "%s:%d: %s", path, line,
				 raw[i] ? "a carriage return without a line feed" : "a NUL byte");
			free(raw);
			return NULL;
		}
		if (raw[i] == '\r')
			continue;
		line += raw[i] == '\n';
		raw[o++] = raw[i];
	}
	raw[o] = '\0';
	return (char *)raw;
}

/* mail_var_find - the variable called name[0..n), or NULL */
static const struct mail_var *
mail_var_find(const struct mail_var *vars, size_t nvars, const char *name, size_t n)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
			return &vars[i];
	return NULL;
}

/*
 * mail_expand - append src[0..n) to out with its placeholders replaced;
 * html: escape values (or use their markup). line is src's first line in file.
 */
static int
mail_expand(const char *src, size_t n, int html, const char *file, int line,
	    const struct mail_var *vars, size_t nvars, struct mail_buf *out, char *err,
	    size_t errlen)
{
	size_t i = 0, start = 0;

	while (i < n) {
		const struct mail_var *v;
		size_t j;
		int r;

		if (src[i] == '\n') {
			line++;
			i++;
			continue;
		}
		if (src[i] != '{' || i + 1 >= n || src[i + 1] != '{') {
			i++;
			continue;
		}
		if (mail_buf_add(out, src + start, i - start) != 0)
			goto toolarge;
		for (j = i + 2; j < n && mail_is_name_char(src[j]); j++)
			;
		if (j == i + 2 || j + 1 >= n || src[j] != '}' || src[j + 1] != '}') {
			mail_err(err, errlen,
				 "%s:%d: unterminated or malformed placeholder (write {{name}}, "
				 "name of a-z, 0-9 and _)",
				 file, line);
			return -1;
		}
		v = mail_var_find(vars, nvars, src + i + 2, j - i - 2);
		if (v == NULL) {
			mail_err(err, errlen, "%s:%d: unknown placeholder {{%.*s}}", file, line,
				 (int)(j - i - 2 > MAIL_NAMEMAX ? MAIL_NAMEMAX : j - i - 2),
				 src + i + 2);
			return -1;
		}
		if (!html) {
			r = mail_buf_add(out, v->value, strlen(v->value));
		} else if (v->html != NULL) {
			r = mail_buf_add(out, v->html, strlen(v->html));
		} else {
			char *e = html_escape(v->value);

			if (e == NULL) {
				mail_err(err, errlen, "%s: out of memory", file);
				return -1;
			}
			r = mail_buf_add(out, e, strlen(e));
			mail_str_free(&e);
		}
		if (r != 0)
			goto toolarge;
		i = start = j + 2;
	}
	if (mail_buf_add(out, src + start, n - start) != 0)
		goto toolarge;
	return 0;
toolarge:
	mail_err(err, errlen, "%s:%d: %s", file, line,
		 errno == EFBIG ? "the rendered message is larger than 512 KiB" : "out of memory");
	return -1;
}

/* mail_vars_check - every variable is named [a-z0-9_]+ and holds UTF-8 */
static int
mail_vars_check(const struct mail_var *vars, size_t nvars, char *err, size_t errlen)
{
	for (size_t i = 0; i < nvars; i++) {
		const struct mail_var *v = &vars[i];

		if (v->name == NULL || !mail_name_ok(v->name)) {
			mail_err(err, errlen, "template variable %zu has an invalid name", i);
			return -1;
		}
		if (v->value == NULL) {
			mail_err(err, errlen, "template variable %s has no value", v->name);
			return -1;
		}
		if (u8_check((const uint8_t *)v->value, strlen(v->value)) != NULL ||
		    (v->html != NULL &&
		     u8_check((const uint8_t *)v->html, strlen(v->html)) != NULL)) {
			mail_err(err, errlen, "template variable %s is not valid UTF-8", v->name);
			return -1;
		}
	}
	return 0;
}

/*
 * mail_render - the message template NAME in DIR, for recipient to, with
 * vars filled in. 0, or -1 with one sentence in err (FILE:LINE: what).
 */
int
mail_render(const char *dir, const char *name, const char *to, const struct mail_var *vars,
	    size_t nvars, struct mail_msg *out, char *err, size_t errlen)
{
	char txtpath[4096], htmlpath[4096];
	char *txt = NULL, *html = NULL, *nl, *body;
	const char *subj;
	struct mail_buf sb = {0}, tb = {0}, hb = {0};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (to == NULL || util_mailbox_ok(to) != 0) {
		/* not echoed: it may hold the line break it is refused for */
		mail_err(err, errlen,
			 "the recipient is not a usable e-mail address (one plain "
			 "user@domain)");
		return -1;
	}
	if (name == NULL || !mail_name_ok(name)) {
		mail_err(err, errlen, "template name must be a-z, 0-9 and _ only");
		return -1;
	}
	if (mail_vars_check(vars, nvars, err, errlen) != 0)
		return -1;
	txt = mail_template_read(dir, name, "txt", txtpath, sizeof(txtpath), err, errlen);
	if (txt == NULL)
		goto out;
	html = mail_template_read(dir, name, "html", htmlpath, sizeof(htmlpath), err, errlen);
	if (html == NULL)
		goto out;

	if (strncmp(txt, "Subject:", 8) != 0) {
		mail_err(err, errlen, "%s:1: the first line must be \"Subject: ...\"", txtpath);
		goto out;
	}
	subj = txt + 8 + strspn(txt + 8, " \t");
	nl = strchr(subj, '\n');
	if (nl == NULL || nl[1] != '\n') {
		mail_err(err, errlen, "%s:2: the subject line must be followed by one blank line",
			 txtpath);
		goto out;
	}
	body = nl + 2;
	if (mail_expand(subj, (size_t)(nl - subj), 0, txtpath, 1, vars, nvars, &sb, err, errlen) !=
		0 ||
	    mail_expand(body, strlen(body), 0, txtpath, 3, vars, nvars, &tb, err, errlen) != 0 ||
	    mail_expand(html, strlen(html), 1, htmlpath, 1, vars, nvars, &hb, err, errlen) != 0)
		goto out;
	if (sb.len == 0 || sb.len > MAIL_SUBJECTMAX) {
		mail_err(err, errlen, "%s:1: the subject is %s", txtpath,
			 sb.len == 0 ? "empty" : "longer than 2000 bytes");
		goto out;
	}
	if (mail_has_ctl(sb.p)) {
		mail_err(err, errlen,
			 "%s:1: a value would put a line break or control character in the subject",
			 txtpath);
		goto out;
	}
	out->to = strdup(to);
	out->subject = mail_buf_take(&sb);
	out->text = mail_buf_take(&tb);
	out->html = mail_buf_take(&hb);
	if (out->to == NULL || out->subject == NULL || out->text == NULL || out->html == NULL) {
		mail_msg_free(out);
		mail_err(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	mail_buf_free(&sb);
	mail_buf_free(&tb);
	mail_buf_free(&hb);
	mail_str_free(&txt);
	mail_str_free(&html);
	return rc;
}

/* mail_msg_free - wipe and free the fields; m itself is the caller's */
void
mail_msg_free(struct mail_msg *m)
{
	if (m == NULL)
		return;
	mail_str_free(&m->to);
	mail_str_free(&m->subject);
	mail_str_free(&m->text);
	mail_str_free(&m->html);
}

/* mail_msg_pack - the outbox form {"to","subject","text","html"}; malloc'd, NULL on error */
char *
mail_msg_pack(const struct mail_msg *m, size_t *len)
{
	json_t *o;
	char *s;

	if (m->to == NULL || m->subject == NULL || m->text == NULL || m->html == NULL)
		return NULL;
	o = json_pack("{s:s, s:s, s:s, s:s}", "to", m->to, "subject", m->subject, "text", m->text,
		      "html", m->html);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL && len != NULL)
		*len = strlen(s);
	return s;
}

/* mail_unpack_str - the string member key of o, copied, refusing embedded NULs */
static char *
mail_unpack_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;
	return strdup(s);
}

/*
 * mail_msg_unpack - the outbox form back: an object of exactly the four
 * strings, a usable address and a one-line subject. 0, or -1 with out empty.
 */
int
mail_msg_unpack(const char *buf, size_t len, struct mail_msg *out)
{
	json_t *o;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > MAIL_PACKMAX)
		return -1;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL)
		return -1;
	if (!json_is_object(o) || json_object_size(o) != 4)
		goto out;
	out->to = mail_unpack_str(o, "to");
	out->subject = mail_unpack_str(o, "subject");
	out->text = mail_unpack_str(o, "text");
	out->html = mail_unpack_str(o, "html");
	if (out->to == NULL || out->subject == NULL || out->text == NULL || out->html == NULL ||
	    util_mailbox_ok(out->to) != 0 || mail_has_ctl(out->subject))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		mail_msg_free(out);
	json_decref(o);
	return rc;
}

/* mail_utf8_len - the length of the UTF-8 sequence that starts with c (input is valid) */
static size_t
mail_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/*
 * mail_header_encode - value ready for a header: printable ASCII (at most
 * MAIL_PLAINMAX, without "=?") as is; anything else as RFC 2047 B
 * encoded-words of at most 75 characters, each holding whole UTF-8
 * characters, folded with CRLF SP. -1 if out is too small, if value is not
 * UTF-8 or if it holds a line break (a header value must be one line).
 */
int
mail_header_encode(const char *value, char *out, size_t outlen)
{
	size_t n = strlen(value), i = 0, o = 0;
	int plain = n <= MAIL_PLAINMAX && strstr(value, "=?") == NULL;

	if (strpbrk(value, "\r\n") != NULL)
		return -1;
	for (size_t k = 0; k < n && plain; k++)
		if ((unsigned char)value[k] < 0x20 || (unsigned char)value[k] >= 0x7f)
			plain = 0;
	if (plain) {
		if (n + 1 > outlen)
			return -1;
		memcpy(out, value, n + 1);
		return 0;
	}
	if (u8_check((const uint8_t *)value, n) != NULL)
		return -1;
	while (i < n) {
		char b64[sodium_base64_ENCODED_LEN(MAIL_WORDBYTES, sodium_base64_VARIANT_ORIGINAL)];
		size_t take = 0, c, blen;

		while (i + take < n) {
			c = mail_utf8_len((unsigned char)value[i + take]);
			if (take + c > MAIL_WORDBYTES)
				break;
			take += c;
		}
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)value + i, take,
				  sodium_base64_VARIANT_ORIGINAL);
		blen = strlen(b64);
		/* separator + "=?UTF-8?B?" + b64 + "?=" + NUL */
		if ((o > 0 ? 3 : 0) + 10 + blen + 2 + 1 > outlen - o)
			return -1;
		if (o > 0) {
			memcpy(out + o, "\r\n ", 3);
			o += 3;
		}
		memcpy(out + o, "=?UTF-8?B?", 10);
		o += 10;
		memcpy(out + o, b64, blen);
		o += blen;
		memcpy(out + o, "?=", 2);
		o += 2;
		i += take;
	}
	out[o] = '\0';
	return 0;
}
