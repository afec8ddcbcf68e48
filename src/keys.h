/*
 * keys.h - the master keyring and per-file data key wrapping.
 *
 * The master key file holds one or more raw 32-byte keys, nothing else; the
 * first wraps new data keys, all of them unwrap (so a key can be rotated in
 * front of the old one). It lives outside the database, mode 0600. A key's
 * id is derived from the key itself and stored beside each wrapped key.
 */
#ifndef OKURU_KEYS_H
#define OKURU_KEYS_H

#include <stddef.h>

#define KEYS_KEYBYTES 32U
#define KEYS_IDLEN 16U /* hex digits */
#define KEYS_MAX 16U
/* nonce (24) || XChaCha20-Poly1305(data key) (32 + 16) */
#define KEYS_WRAPPEDBYTES (24U + 32U + 16U)

struct keyring;

int keys_generate_file(const char *path, char *err, size_t errlen);
int keys_load(const char *path, struct keyring **out, char *err, size_t errlen);
void keys_free(struct keyring *kr);
const char *keys_current_id(const struct keyring *kr);

void keys_data_key_new(unsigned char dk[KEYS_KEYBYTES]);
int keys_wrap(const struct keyring *kr, const char *file_id,
	      const unsigned char dk[KEYS_KEYBYTES],
	      unsigned char out[KEYS_WRAPPEDBYTES], char key_id[KEYS_IDLEN + 1]);
int keys_unwrap(const struct keyring *kr, const char *key_id, const char *file_id,
		const unsigned char *wrapped, size_t wrappedlen,
		unsigned char dk[KEYS_KEYBYTES]);

#endif
