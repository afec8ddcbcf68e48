/*
 * totp.h - time-based one-time passwords (RFC 6238 over RFC 4226):
 * HMAC-SHA1, 30-second steps, 6 digits, the parameters every authenticator
 * app accepts. The secret is the first TOTP_SECRETBYTES of a 32-byte data
 * key that the master keyring wraps (schema 9 in db.c).
 */
#ifndef OKURU_TOTP_H
#define OKURU_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRETBYTES 20U /* 160 bits, RFC 4226's recommendation */
#define TOTP_PERIOD 30
#define TOTP_DIGITS 6
#define TOTP_B32MAX 64U	  /* base32 of the secret, with its NUL */
#define TOTP_URIMAX 512U

/* totp_code - the code of time step STEP as TOTP_DIGITS decimal digits */
int totp_code(const unsigned char *secret, size_t len, uint64_t step,
	      char out[TOTP_DIGITS + 1]);
/*
 * totp_verify - 1 when CODE is the code of the step of NOW or of the step
 * either side (a phone's clock may be half a minute out), and that step is
 * after LAST_STEP (a code is good once); *step gets the step that matched.
 * 0 otherwise, -1 on error. The comparison is in constant time.
 */
int totp_verify(const unsigned char *secret, size_t len, int64_t now, const char *code,
		int64_t last_step, int64_t *step);
/* totp_base32 - RFC 4648 base32 without padding, as authenticator apps take it */
int totp_base32(const unsigned char *in, size_t len, char *out, size_t outlen);
/* totp_uri - the otpauth:// URI for ISSUER and ACCOUNT (percent-encoded here) */
int totp_uri(const unsigned char *secret, size_t len, const char *issuer, const char *account,
	     char *out, size_t outlen);

#endif
