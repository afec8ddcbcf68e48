/*
 * fname.h - client file names as metadata: validated, NFC-normalised UTF-8.
 * A client name is never used as a path; blobs are named by server ids.
 */
#ifndef OKURU_FNAME_H
#define OKURU_FNAME_H

#include <stddef.h>

#define FNAME_MAXBYTES 255U

/*
 * fname_normalize - check in (inlen bytes) and write its NFC form to out
 * (at least FNAME_MAXBYTES + 1 bytes). Returns 0, or -1 with *why set to a
 * sentence fit for the client.
 */
int fname_normalize(const char *in, size_t inlen, char *out, size_t outsz,
		    const char **why);

#endif
