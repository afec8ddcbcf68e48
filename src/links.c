/*
 * links.c - make and check the secrets of sending (see links.h).
 *
 * A one-time code has only 10^6..10^8 values, so its hash alone could be
 * searched offline; that is acceptable because a code is useless without
 * its link's token (256 bits, stored only hashed), lives ten minutes and
 * allows a few attempts. The code is bound to its link by hashing the
 * link id with it.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "links.h"

static const char links_key_token[] = "okuru link token v1";
static const char links_key_session[] = "okuru link session v1";
static const char links_key_otp[] = "okuru one-time code v1";

/* Argon2id takes 64 MiB per check: one at a time bounds memory under attack. */
static pthread_mutex_t links_pwhash_lock = PTHREAD_MUTEX_INITIALIZER;

static void
links_hash(const char *key, size_t keylen, const void *a, size_t alen, const void *b, size_t blen,
	   unsigned char hash[LINKS_HASHBYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, (const unsigned char *)key, keylen, LINKS_HASHBYTES);
	crypto_generichash_update(&st, a, alen);
	if (b != NULL)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, hash, LINKS_HASHBYTES);
}

static const char *
links_key(enum links_kind k, size_t *len)
{
	if (k == LINKS_TOKEN) {
		*len = sizeof(links_key_token) - 1;
		return links_key_token;
	}
	*len = sizeof(links_key_session) - 1;
	return links_key_session;
}

/* links_secret_new - a fresh token or session id and its hash */
void
links_secret_new(enum links_kind k, char out[LINKS_TOKENLEN + 1], unsigned char hash[LINKS_HASHBYTES])
{
	unsigned char raw[32];
	size_t klen;
	const char *key = links_key(k, &klen);

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, LINKS_TOKENLEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	links_hash(key, klen, out, LINKS_TOKENLEN, NULL, 0, hash);
}

/* links_secret_hash - -1 unless s has the exact shape of one of ours */
int
links_secret_hash(enum links_kind k, const char *s, unsigned char hash[LINKS_HASHBYTES])
{
	size_t klen, n = strnlen(s, LINKS_TOKENLEN + 1);
	const char *key = links_key(k, &klen);

	if (n != LINKS_TOKENLEN)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_'))
			return -1;
	}
	links_hash(key, klen, s, n, NULL, 0, hash);
	return 0;
}

/* links_otp_new - a uniformly random code of digits digits, bound to link_id */
void
links_otp_new(int digits, const char *link_id, char code[9], unsigned char hash[LINKS_HASHBYTES])
{
	uint32_t bound = 1;

	for (int i = 0; i < digits; i++)
		bound *= 10;
	snprintf(code, 9, "%0*u", digits, (unsigned)randombytes_uniform(bound));
	links_hash(links_key_otp, sizeof(links_key_otp) - 1, link_id, strlen(link_id), code,
		   strlen(code), hash);
}

/* links_otp_hash - -1 unless code is exactly digits decimal digits */
int
links_otp_hash(const char *code, int digits, const char *link_id, unsigned char hash[LINKS_HASHBYTES])
{
	if (strnlen(code, 9) != (size_t)digits)
		return -1;
	for (int i = 0; i < digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return -1;
	links_hash(links_key_otp, sizeof(links_key_otp) - 1, link_id, strlen(link_id), code,
		   (size_t)digits, hash);
	return 0;
}

int
links_passphrase_hash(const char *pass, char out[crypto_pwhash_STRBYTES])
{
	int r;

	pthread_mutex_lock(&links_pwhash_lock);
	r = crypto_pwhash_str(out, pass, strlen(pass), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE);
	pthread_mutex_unlock(&links_pwhash_lock);
	return r;
}

/* links_passphrase_check - 1 when pass matches the stored Argon2id string */
int
links_passphrase_check(const char *stored, const char *pass)
{
	int r;

	if (stored[0] == '\0')
		return 0;
	pthread_mutex_lock(&links_pwhash_lock);
	r = crypto_pwhash_str_verify(stored, pass, strlen(pass)) == 0;
	pthread_mutex_unlock(&links_pwhash_lock);
	return r;
}
