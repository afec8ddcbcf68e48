/*
 * keys.c - load the master keyring into locked memory; wrap and unwrap the
 * per-file data keys with XChaCha20-Poly1305. The associated data binds a
 * wrapped key to its master key id and its file id, so a wrapped key copied
 * onto another file's row does not unwrap.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "util.h"

struct keyring {
	size_t n;
	unsigned char key[KEYS_MAX][KEYS_KEYBYTES];
	char id[KEYS_MAX][KEYS_IDLEN + 1];
};

static const char keys_id_label[] = "okuru master key id v1";
static const char keys_ad_label[] = "okuru data key v1";

static void
keys_id(const unsigned char key[KEYS_KEYBYTES], char out[KEYS_IDLEN + 1])
{
	unsigned char h[KEYS_IDLEN / 2];

	crypto_generichash(h, sizeof(h), (const unsigned char *)keys_id_label,
			   sizeof(keys_id_label) - 1, key, KEYS_KEYBYTES);
	sodium_bin2hex(out, KEYS_IDLEN + 1, h, sizeof(h));
}

/* keys_generate_file - create a new keyring file with one fresh key */
int
keys_generate_file(const char *path, char *err, size_t errlen)
{
	unsigned char key[KEYS_KEYBYTES];
	int r;

	randombytes_buf(key, sizeof(key));
	r = util_write_new_file(path, key, sizeof(key), 0600);
	sodium_memzero(key, sizeof(key));
	if (r != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return r;
}

/* keys_load - read the keyring; refuse a file others can read */
int
keys_load(const char *path, struct keyring **out, char *err, size_t errlen)
{
	unsigned char buf[KEYS_MAX * KEYS_KEYBYTES];
	struct keyring *kr;
	size_t len;
	int fd;

	fd = util_open_secret(path, "master key", err, errlen);
	if (fd < 0)
		return -1;
	if (util_read_small_fd(fd, buf, sizeof(buf), &len) != 0) {
		int saved = errno;
		close(fd);
		sodium_memzero(buf, sizeof(buf)); /* EFBIG comes after 16 keys were read */
		snprintf(err, errlen, "master key %s: %s", path,
			 saved == EFBIG ? "more than 16 keys" : strerror(saved));
		return -1;
	}
	close(fd);
	if (len == 0 || len % KEYS_KEYBYTES != 0) {
		sodium_memzero(buf, sizeof(buf));
		snprintf(err, errlen, "master key %s: size %zu is not a multiple of 32 bytes",
			 path, len);
		return -1;
	}
	kr = sodium_malloc(sizeof(*kr));
	if (kr == NULL) {
		sodium_memzero(buf, sizeof(buf));
		snprintf(err, errlen, "master key: out of memory");
		return -1;
	}
	memset(kr, 0, sizeof(*kr));
	kr->n = len / KEYS_KEYBYTES;
	memcpy(kr->key, buf, len);
	sodium_memzero(buf, sizeof(buf));
	for (size_t i = 0; i < kr->n; i++)
		keys_id(kr->key[i], kr->id[i]);
	sodium_mprotect_readonly(kr);
	*out = kr;
	return 0;
}

void
keys_free(struct keyring *kr)
{
	if (kr != NULL)
		sodium_free(kr); /* sodium_free wipes */
}

const char *
keys_current_id(const struct keyring *kr)
{
	return kr->id[0];
}

void
keys_data_key_new(unsigned char dk[KEYS_KEYBYTES])
{
	randombytes_buf(dk, KEYS_KEYBYTES);
}

static size_t
keys_ad(unsigned char *ad, size_t adsz, const char *key_id, const char *file_id)
{
	size_t n = 0, l;

	l = sizeof(keys_ad_label) - 1;
	memcpy(ad + n, keys_ad_label, l);
	n += l;
	ad[n++] = 0;
	memcpy(ad + n, key_id, KEYS_IDLEN);
	n += KEYS_IDLEN;
	ad[n++] = 0;
	l = strnlen(file_id, adsz - n - 1);
	memcpy(ad + n, file_id, l);
	n += l;
	return n;
}

/* keys_wrap - seal dk under the current master key for file_id */
int
keys_wrap(const struct keyring *kr, const char *file_id,
	  const unsigned char dk[KEYS_KEYBYTES], unsigned char out[KEYS_WRAPPEDBYTES],
	  char key_id[KEYS_IDLEN + 1])
{
	unsigned char ad[128];
	size_t adlen;
	unsigned long long clen;

	memcpy(key_id, kr->id[0], KEYS_IDLEN + 1);
	adlen = keys_ad(ad, sizeof(ad), key_id, file_id);
	randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	return crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen, dk,
		KEYS_KEYBYTES, ad, adlen, NULL, out, kr->key[0]);
}

/* keys_unwrap - open a wrapped key; -1 when the key id is unknown or it fails */
int
keys_unwrap(const struct keyring *kr, const char *key_id, const char *file_id,
	    const unsigned char *wrapped, size_t wrappedlen,
	    unsigned char dk[KEYS_KEYBYTES])
{
	unsigned char ad[128];
	size_t adlen;
	unsigned long long mlen;

	if (wrappedlen != KEYS_WRAPPEDBYTES || strlen(key_id) != KEYS_IDLEN)
		return -1;
	for (size_t i = 0; i < kr->n; i++) {
		if (sodium_memcmp(kr->id[i], key_id, KEYS_IDLEN) != 0)
			continue;
		adlen = keys_ad(ad, sizeof(ad), key_id, file_id);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(
			    dk, &mlen, NULL,
			    wrapped + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
			    wrappedlen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad,
			    adlen, wrapped, kr->key[i]) != 0) {
			sodium_memzero(dk, KEYS_KEYBYTES);
			return -1;
		}
		return 0;
	}
	return -1;
}
