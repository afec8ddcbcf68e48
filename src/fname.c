/*
 * fname.c - file name rules. libunistring does the UTF-8 checking and NFC
 * normalisation (macOS sends decomposed names; "ガ" must match "ガ"). We
 * refuse what would let a name pose as a path or hide its real extension:
 * separators, "." and "..", control characters, and bidirectional overrides
 * ("invoice\u202Efdp.exe" displays as "invoiceexe.pdf").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#include <uninorm.h>

#include "fname.h"

static int
fname_bad_char(ucs4_t c)
{
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
		return 1; /* C0, DEL, C1 controls */
	if (c == '/' || c == '\\')
		return 1;
	if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x200e || c == 0x200f || c == 0x061c)
		return 1; /* bidi embeddings, overrides, isolates, marks */
	if (c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) || c == 0xfffe || c == 0xffff)
		return 1;
	return 0;
}

int
fname_normalize(const char *in, size_t inlen, char *out, size_t outsz,
		const char **why)
{
	uint8_t *nfc;
	size_t nfclen = 0;
	const uint8_t *p, *end;
	ucs4_t c;

	if (inlen == 0) {
		*why = "file name is empty";
		return -1;
	}
	if (inlen > 4 * FNAME_MAXBYTES) {
		*why = "file name is too long (at most 255 bytes of UTF-8)";
		return -1;
	}
	if (u8_check((const uint8_t *)in, inlen) != NULL) {
		*why = "file name is not valid UTF-8";
		return -1;
	}
	nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)in, inlen, NULL, &nfclen);
	if (nfc == NULL) {
		*why = "file name cannot be normalised";
		return -1;
	}
	if (nfclen > FNAME_MAXBYTES || nfclen + 1 > outsz) {
		free(nfc);
		*why = "file name is too long (at most 255 bytes of UTF-8)";
		return -1;
	}
	end = nfc + nfclen;
	for (p = nfc; p < end;) {
		int n = u8_mbtouc(&c, p, (size_t)(end - p));
		if (n <= 0 || fname_bad_char(c)) {
			free(nfc);
			*why = "file name contains a control character, a path separator "
			       "or a direction override";
			return -1;
		}
		p += n;
	}
	if ((nfclen == 1 && nfc[0] == '.') ||
	    (nfclen == 2 && nfc[0] == '.' && nfc[1] == '.')) {
		free(nfc);
		*why = "file name may not be \".\" or \"..\"";
		return -1;
	}
	if (nfc[0] == ' ' || nfc[nfclen - 1] == ' ' || nfc[nfclen - 1] == '.') {
		free(nfc);
		*why = "file name may not begin or end with a space, or end with a dot";
		return -1;
	}
	memcpy(out, nfc, nfclen);
	out[nfclen] = '\0';
	free(nfc);
	return 0;
}
