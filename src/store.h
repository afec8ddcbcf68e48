/*
 * store.h - the encrypted blob format, with random access.
 *
 * A blob is a 48-byte header followed by chunks of at most 64 KiB of
 * plaintext, each sealed with an AEAD (AES-256-GCM or ChaCha20-Poly1305,
 * named in the header). The payload key is derived from the file's data key
 * and the whole header; the nonce of chunk i is i (11 bytes, big endian)
 * followed by a last-chunk flag. Any flipped bit, reordered chunk, cut or
 * appended data makes store_open_read() fail with EBADMSG; it never returns
 * bytes that were not written. See docs/ARCHITECTURE.md for the byte layout.
 *
 * Keys, the key derivation and ChaCha20-Poly1305 are libsodium's. AES-256-GCM
 * chunks go through GnuTLS (already linked for TLS): on x86 it runs about
 * twice as fast as libsodium's, and it has a software fallback, so a blob
 * sealed on a machine with AES-NI opens on any machine. The bytes on disk
 * are the same whichever library seals them (the unit tests open GnuTLS's
 * chunks with libsodium).
 *
 * The API follows libsodium's shape: store_seal_* writes, store_open_* reads,
 * 0 on success and -1 with errno on failure.
 */
#ifndef OKURU_STORE_H
#define OKURU_STORE_H

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STORE_KEYBYTES 32U
#define STORE_HEADERBYTES 48U
#define STORE_CHUNK_SHIFT 16U
#define STORE_CHUNKBYTES (1U << STORE_CHUNK_SHIFT)
#define STORE_TAGBYTES 16U
#define STORE_SALTBYTES 32U

enum store_cipher {
	STORE_CIPHER_AES256GCM = 1,
	STORE_CIPHER_CHACHA20POLY1305 = 2,
};

struct store_seal {
	int fd;
	int cipher;
	uint64_t counter;	/* index of the chunk in buf */
	size_t buflen;		/* plaintext bytes in buf */
	unsigned char *buf;	/* STORE_CHUNKBYTES + STORE_TAGBYTES, wiped */
	gnutls_aead_cipher_hd_t aes; /* AES-256-GCM only */
	unsigned char key[STORE_KEYBYTES];
};

struct store_open {
	int fd;
	int cipher;
	uint64_t size;		/* plaintext size */
	uint64_t nchunks;
	uint64_t cached;	/* chunk index held in buf, UINT64_MAX if none */
	size_t cachedlen;
	unsigned char *buf;
	gnutls_aead_cipher_hd_t aes; /* AES-256-GCM only */
	unsigned char key[STORE_KEYBYTES];
};

int store_cipher_default(void);
int store_cipher_available(int cipher);

/* store_blob_size - the blob size that holds size bytes of plaintext */
uint64_t store_blob_size(uint64_t size);

int store_seal_init(struct store_seal *s, int fd, int cipher,
		    const unsigned char dk[STORE_KEYBYTES]);
int store_seal_update(struct store_seal *s, const void *data, size_t len);
int store_seal_final(struct store_seal *s);
/* Resumable sealing (tus uploads): durable whole chunks, continued later. */
int store_seal_checkpoint(struct store_seal *s, uint64_t *chunks);
int store_seal_resume(struct store_seal *s, int fd, const unsigned char dk[STORE_KEYBYTES],
		      uint64_t chunks);
void store_seal_free(struct store_seal *s);

int store_open_init(struct store_open *o, int fd,
		    const unsigned char dk[STORE_KEYBYTES]);
ssize_t store_open_read(struct store_open *o, uint64_t off, void *out,
			size_t len);
void store_open_free(struct store_open *o);

#endif
