/*
 * scan_type.h - libmagic, as okuru uses it: the media type of a file from
 * its first bytes, in the scanner worker only. libmagic parses hostile
 * content like libclamav does, so it runs under the same sandbox; its
 * database is opened and loaded before the sandbox is applied.
 */
#ifndef OKURU_SCAN_TYPE_H
#define OKURU_SCAN_TYPE_H

#include <stddef.h>

/* How much of a file type detection reads: the start of the plaintext. */
#define SCAN_TYPE_BYTES (1024U * 1024U)

struct scan_type;

/*
 * scan_type_load - open libmagic with the flags and limits below and load
 * its default compiled database (libmagic-mgc; $MAGIC overrides). Must run
 * before the sandbox: afterwards no file can be opened.
 */
int scan_type_load(struct scan_type **out, char *err, size_t errlen);

/*
 * scan_type_detect - the media type of len bytes at buf into out (size
 * SCAN_TYPEMAX), lower-cased, or "" when libmagic fails or says something
 * that is not a media type (scan_type_ok).
 */
void scan_type_detect(struct scan_type *t, const void *buf, size_t len, char *out, size_t outsz);

/* scan_type_version - libmagic's version number (544 for 5.44) */
int scan_type_version(void);

void scan_type_free(struct scan_type *t);

#endif
