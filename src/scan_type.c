/*
 * scan_type.c - detect a file's media type with libmagic, inside the
 * scanner worker (see scan_type.h).
 *
 * libmagic is a parser of hostile input with its own history of memory
 * bugs (CDF, ELF, regex), so it gets what libclamav gets: no keys but the
 * one data key, no network, no new files, bounded memory and CPU. It sees
 * only a buffer (magic_buffer), never a descriptor or a path, and is told
 * never to look inside compressed data: libmagic can decompress by
 * starting external programs, which the sandbox would kill us for.
 * Limits are set explicitly so a distribution's defaults cannot widen
 * them.
 */
#include "config.h"

#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan_proto.h"
#include "scan_type.h"

struct scan_type {
	magic_t m;
};

static const struct {
	int param;
	size_t value;
	const char *name;
} scan_type_params[] = {
    {MAGIC_PARAM_INDIR_MAX, 15, "indir_max"},	       /* indirect offsets followed */
    {MAGIC_PARAM_NAME_MAX, 30, "name_max"},	       /* named-rule recursion */
    {MAGIC_PARAM_ELF_PHNUM_MAX, 128, "elf_phnum_max"}, /* ELF details: descriptors only */
    {MAGIC_PARAM_ELF_SHNUM_MAX, 1024, "elf_shnum_max"},
    {MAGIC_PARAM_ELF_NOTES_MAX, 64, "elf_notes_max"},
    {MAGIC_PARAM_REGEX_MAX, 8192, "regex_max"}, /* bytes a regex rule may scan */
    {MAGIC_PARAM_BYTES_MAX, SCAN_TYPE_BYTES, "bytes_max"},
    {MAGIC_PARAM_ENCODING_MAX, 65536, "encoding_max"}, /* bytes read to guess a text encoding */
};

int
scan_type_load(struct scan_type **out, char *err, size_t errlen)
{
	/*
	 * MIME type only; no decompression (MAGIC_NO_CHECK_COMPRESS) and, in
	 * case a future flag set turns it back on, never by forking
	 * (MAGIC_NO_COMPRESS_FORK); errors reported as errors (MAGIC_ERROR).
	 */
	const int flags =
	    MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_COMPRESS_FORK | MAGIC_ERROR;
	struct scan_type *t;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->m = magic_open(flags);
	if (t->m == NULL) {
		snprintf(err, errlen, "libmagic: cannot start");
		free(t);
		return -1;
	}
	for (size_t i = 0; i < sizeof(scan_type_params) / sizeof(scan_type_params[0]); i++)
		if (magic_setparam(t->m, scan_type_params[i].param, &scan_type_params[i].value) !=
		    0) {
			snprintf(err, errlen, "libmagic: cannot set %s", scan_type_params[i].name);
			goto fail;
		}
	if (magic_load(t->m, NULL) != 0) {
		const char *e = magic_error(t->m);
		snprintf(err, errlen,
			 "libmagic: cannot load the magic database (%s): install libmagic-mgc",
			 e ? e : "unknown error");
		goto fail;
	}
	*out = t;
	return 0;
fail:
	magic_close(t->m);
	free(t);
	return -1;
}

void
scan_type_detect(struct scan_type *t, const void *buf, size_t len, char *out, size_t outsz)
{
	const char *r;
	size_t n;

	if (outsz == 0)
		return;
	out[0] = '\0';
	r = magic_buffer(t->m, buf, len);
	if (r == NULL || (n = strlen(r)) >= outsz)
		return;
	/* Media types are case-insensitive; okuru stores them lower-cased. */
	for (size_t i = 0; i < n; i++)
		out[i] = r[i] >= 'A' && r[i] <= 'Z' ? (char)(r[i] - 'A' + 'a') : r[i];
	out[n] = '\0';
	if (!scan_type_ok(out))
		out[0] = '\0';
}

int
scan_type_version(void)
{
	return magic_version();
}

void
scan_type_free(struct scan_type *t)
{
	if (t == NULL)
		return;
	magic_close(t->m);
	free(t);
}
