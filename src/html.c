/*
 * html.c - escaping text for HTML.
 *
 * The five characters that can end an element's text or a quoted attribute
 * value (& < > " ') become entities; every other byte, UTF-8 included, is
 * copied as is. The result is therefore safe in content and in attribute
 * values written with either quote, but not in a script, a style or an
 * unquoted attribute, where okuru never puts a value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

/* html_entity - the replacement for c, or NULL to copy c as is */
static const char *
html_entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

/* html_escape - a malloc'd, escaped copy of s; NULL on OOM */
char *
html_escape(const char *s)
{
	size_t n = 0, i, o = 0;
	const char *e;
	char *out;

	for (i = 0; s[i] != '\0'; i++) {
		e = html_entity((unsigned char)s[i]);
		n += e != NULL ? strlen(e) : 1;
		/* every step adds at most 5, so n cannot wrap before i does */
		if (n > SIZE_MAX / 2)
			return NULL;
	}
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		e = html_entity((unsigned char)s[i]);
		if (e != NULL) {
			memcpy(out + o, e, strlen(e));
			o += strlen(e);
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}
