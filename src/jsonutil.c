/*
 * jsonutil.c - a nesting bound for JSON request bodies. jansson's own limit
 * is a compile-time 2048 levels; a request body has no business going past a
 * handful. This counts brackets outside strings (honouring backslash escapes)
 * and does not otherwise interpret the text: jansson does the parsing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "util.h"

/* jsonutil_depth_ok - 0 when no array/object nests deeper than maxdepth */
int
jsonutil_depth_ok(const char *buf, size_t len, int maxdepth)
{
	int depth = 0, in_string = 0, escaped = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (ch == '\\')
				escaped = 1;
			else if (ch == '"')
				in_string = 0;
			continue;
		}
		if (ch == '"')
			in_string = 1;
		else if (ch == '[' || ch == '{') {
			if (++depth > maxdepth)
				return -1;
		} else if (ch == ']' || ch == '}')
			depth--;
	}
	return 0;
}

/* jsonutil_has_controls - C0 controls or DEL (tab and newlines if allowed) */
int
jsonutil_has_controls(const char *s, int allow_newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	}
	return 0;
}

json_t *
jsonutil_time(int64_t t)
{
	char s[32];

	if (t == 0)
		return json_null();
	util_time_iso(t, s);
	return json_string(s);
}

/*
 * jsonutil_text - s as a JSON string even when it is not valid UTF-8 (text
 * from a mail server or a scanner): each byte of an invalid sequence
 * becomes '?'. json_string alone would return NULL and the whole detail of
 * an audit record would be lost with it.
 */
json_t *
jsonutil_text(const char *s)
{
	json_t *j;
	char *c;
	size_t n, i = 0;

	if (s == NULL)
		s = "";
	if ((j = json_string(s)) != NULL)
		return j;
	n = strlen(s);
	if ((c = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(c, s, n + 1);
	while (i < n) {
		unsigned char b = (unsigned char)c[i];
		size_t len = b < 0x80		  ? 1
			     : (b & 0xe0) == 0xc0 ? 2
			     : (b & 0xf0) == 0xe0 ? 3
			     : (b & 0xf8) == 0xf0 ? 4
						  : 0;
		json_t *one = NULL;
		if (len > 1 && i + len <= n)
			one = json_stringn(c + i, len);
		if (len == 0 || (len > 1 && one == NULL)) {
			c[i++] = '?';
			continue;
		}
		json_decref(one);
		i += len;
	}
	j = json_string(c);
	free(c);
	return j;
}
