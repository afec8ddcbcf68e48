/*
 * jsonutil.h - limits jansson does not enforce itself (jansson parses; these
 * only bound what it is given), and the one way okuru writes a time.
 */
#ifndef OKURU_JSONUTIL_H
#define OKURU_JSONUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int jsonutil_depth_ok(const char *buf, size_t len, int maxdepth);
int jsonutil_has_controls(const char *s, int allow_newlines);
/* jsonutil_time - a Unix time as an ISO 8601 UTC string, or null for 0 */
json_t *jsonutil_time(int64_t t);
/* jsonutil_text - a JSON string of s with invalid UTF-8 bytes as '?' (NULL s: "") */
json_t *jsonutil_text(const char *s);

#endif
