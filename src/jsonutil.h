/*
 * jsonutil.h - limits jansson does not enforce itself. jansson parses; these
 * only bound what it is given.
 */
#ifndef OKURU_JSONUTIL_H
#define OKURU_JSONUTIL_H

#include <stddef.h>

int jsonutil_depth_ok(const char *buf, size_t len, int maxdepth);
int jsonutil_has_controls(const char *s, int allow_newlines);

#endif
