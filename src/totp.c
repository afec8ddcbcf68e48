/*
 * totp.c - RFC 6238 codes. HMAC-SHA1 comes from GnuTLS (libsodium has no
 * SHA-1); the codes are checked against the RFC's own test vectors in
 * tests/unit/test_totp.c.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "totp.h"

int
totp_code(const unsigned char *secret, size_t len, uint64_t step, char out[TOTP_DIGITS + 1])
{
	unsigned char msg[8], mac[20];
	uint32_t v;
	unsigned off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, secret, len, msg, sizeof(msg), mac) != 0)
		return -1;
	/* RFC 4226 5.3, dynamic truncation */
	off = mac[19] & 0x0f;
	v = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	    ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	snprintf(out, TOTP_DIGITS + 1, "%06u", (unsigned)(v % 1000000U));
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

int
totp_verify(const unsigned char *secret, size_t len, int64_t now, const char *code,
	    int64_t last_step, int64_t *step)
{
	char want[TOTP_DIGITS + 1];
	int64_t t = now / TOTP_PERIOD;
	int found = 0;

	if (strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS)
		return 0;
	/* Every candidate is computed and compared, match or not: no early exit. */
	for (int64_t s = t - 1; s <= t + 1; s++) {
		if (s < 0)
			continue;
		if (totp_code(secret, len, (uint64_t)s, want) != 0)
			return -1;
		if (sodium_memcmp(want, code, TOTP_DIGITS) == 0 && s > last_step && !found) {
			found = 1;
			*step = s;
		}
	}
	sodium_memzero(want, sizeof(want));
	return found;
}

int
totp_base32(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t o = 0;
	unsigned buf = 0;
	int bits = 0;

	if (outlen < (len * 8 + 4) / 5 + 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

/* totp_pct - percent-encode S (RFC 3986 unreserved stay) onto OUT at *o */
static int
totp_pct(const char *s, char *out, size_t outlen, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		if (*o + 4 > outlen)
			return -1;
		if (keep) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

int
totp_uri(const unsigned char *secret, size_t len, const char *issuer, const char *account,
	 char *out, size_t outlen)
{
	char b32[TOTP_B32MAX];
	size_t o;
	int n;

	if (len > TOTP_SECRETBYTES || totp_base32(secret, len, b32, sizeof(b32)) != 0)
		return -1;
	n = snprintf(out, outlen, "otpauth://totp/");
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	o = (size_t)n;
	/* The label is "issuer:account"; the colon itself stays literal. */
	if (totp_pct(issuer, out, outlen, &o) != 0 || o + 2 > outlen)
		return -1;
	out[o++] = ':';
	if (totp_pct(account, out, outlen, &o) != 0)
		return -1;
	n = snprintf(out + o, outlen - o, "?secret=%s&issuer=", b32);
	sodium_memzero(b32, sizeof(b32));
	if (n < 0 || (size_t)n >= outlen - o)
		return -1;
	o += (size_t)n;
	if (totp_pct(issuer, out, outlen, &o) != 0)
		return -1;
	n = snprintf(out + o, outlen - o, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS,
		     TOTP_PERIOD);
	return n < 0 || (size_t)n >= outlen - o ? -1 : 0;
}
