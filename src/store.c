/*
 * store.c - seal and open okuru blobs (format in store.h and
 * docs/ARCHITECTURE.md). Modelled on the age STREAM construction: a fresh
 * per-file key, a chunk counter in the nonce, and a flag on the last chunk,
 * which together detect truncation, extension and reordering while letting
 * any chunk be decrypted on its own (HTTP Range, scanning).
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "util.h"

static const unsigned char store_magic[8] = {'O', 'K', 'U', 'R', 'U', 'B', 'L', 'B'};
#define STORE_VERSION 1
#define STORE_NONCEBYTES 12U
#define STORE_SEALED (STORE_CHUNKBYTES + STORE_TAGBYTES)
static const char store_kdf_label[] = "okuru blob payload key v1";

/* Both AEADs take a 32-byte key and a 12-byte nonce and add a 16-byte tag. */
/* The format is libsodium's AES-256-GCM and ChaCha20-Poly1305-IETF sizes. */
_Static_assert(crypto_aead_aes256gcm_KEYBYTES == STORE_KEYBYTES, "key size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == STORE_KEYBYTES, "key size");
_Static_assert(crypto_aead_aes256gcm_NPUBBYTES == STORE_NONCEBYTES, "nonce size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == STORE_NONCEBYTES, "nonce size");
_Static_assert(crypto_aead_aes256gcm_ABYTES == STORE_TAGBYTES, "tag size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == STORE_TAGBYTES, "tag size");

/* store_cipher_available - can this machine seal and open with cipher */
int
store_cipher_available(int cipher)
{
	/* GnuTLS has a portable AES-GCM, so both open everywhere. */
	return cipher == STORE_CIPHER_CHACHA20POLY1305 || cipher == STORE_CIPHER_AES256GCM;
}

/*
 * store_cipher_default - AES-256-GCM where the CPU does AES and GHASH in
 * hardware (fast and free of table-lookup timing), else ChaCha20-Poly1305.
 */
int
store_cipher_default(void)
{
	return crypto_aead_aes256gcm_is_available() ? STORE_CIPHER_AES256GCM
						    : STORE_CIPHER_CHACHA20POLY1305;
}

uint64_t
store_blob_size(uint64_t size)
{
	uint64_t nchunks = size == 0 ? 1 : (size + STORE_CHUNKBYTES - 1) / STORE_CHUNKBYTES;

	return STORE_HEADERBYTES + size + nchunks * STORE_TAGBYTES;
}

static void
store_nonce(unsigned char nonce[STORE_NONCEBYTES], uint64_t counter, int last)
{
	memset(nonce, 0, STORE_NONCEBYTES);
	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* store_derive - payload key = BLAKE2b-256(key = dk, label || header) */
static int
store_derive(unsigned char key[STORE_KEYBYTES], const unsigned char dk[STORE_KEYBYTES],
	     const unsigned char header[STORE_HEADERBYTES])
{
	crypto_generichash_state st;

	if (crypto_generichash_init(&st, dk, STORE_KEYBYTES, STORE_KEYBYTES) != 0)
		return -1;
	crypto_generichash_update(&st, (const unsigned char *)store_kdf_label,
				  sizeof(store_kdf_label) - 1);
	crypto_generichash_update(&st, header, STORE_HEADERBYTES);
	crypto_generichash_final(&st, key, STORE_KEYBYTES);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

/* store_aead_init - the GnuTLS handle for an AES-256-GCM blob, made once per blob */
static int
store_aead_init(int cipher, const unsigned char key[STORE_KEYBYTES], gnutls_aead_cipher_hd_t *h)
{
	gnutls_datum_t k = {(unsigned char *)key, STORE_KEYBYTES};

	*h = NULL;
	if (cipher != STORE_CIPHER_AES256GCM)
		return 0;
	return gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &k) == 0 ? 0 : -1;
}

/* store_chunk_seal - encrypt buf[0..ptlen) in place and append the tag */
static int
store_chunk_seal(int cipher, gnutls_aead_cipher_hd_t aes, const unsigned char *key,
		 uint64_t counter, int last, unsigned char *buf, size_t ptlen)
{
	unsigned char nonce[STORE_NONCEBYTES];
	unsigned long long clen;

	store_nonce(nonce, counter, last);
	if (cipher == STORE_CIPHER_AES256GCM) {
		giovec_t iov = {buf, ptlen};
		size_t taglen = STORE_TAGBYTES;
		if (gnutls_aead_cipher_encryptv2(aes, nonce, sizeof(nonce), NULL, 0, &iov, 1,
						 buf + ptlen, &taglen) != 0 ||
		    taglen != STORE_TAGBYTES) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	/* In place: libsodium allows c == m. */
	crypto_aead_chacha20poly1305_ietf_encrypt(buf, &clen, buf, ptlen, NULL, 0, NULL, nonce,
						  key);
	return 0;
}

/* store_chunk_open - authenticate and decrypt a sealed chunk in place */
static int
store_chunk_open(int cipher, gnutls_aead_cipher_hd_t aes, const unsigned char *key,
		 uint64_t counter, int last, unsigned char *buf, size_t clen)
{
	unsigned char nonce[STORE_NONCEBYTES];
	unsigned long long mlen;

	if (clen < STORE_TAGBYTES)
		return -1;
	store_nonce(nonce, counter, last);
	if (cipher == STORE_CIPHER_AES256GCM) {
		giovec_t iov = {buf, clen - STORE_TAGBYTES};
		return gnutls_aead_cipher_decryptv2(aes, nonce, sizeof(nonce), NULL, 0, &iov, 1,
						    buf + clen - STORE_TAGBYTES,
						    STORE_TAGBYTES) == 0
			       ? 0
			       : -1;
	}
	return crypto_aead_chacha20poly1305_ietf_decrypt(buf, &mlen, NULL, buf, clen, NULL, 0,
							 nonce, key);
}

/* store_seal_fail - a seal that could not start: wipe it, fail with err */
static int
store_seal_fail(struct store_seal *s, int err)
{
	store_seal_free(s);
	errno = err;
	return -1;
}

/*
 * store_seal_keys - the file key from dk and header, its cipher and the
 * chunk buffer: what starting and resuming a seal both need. 0, or -1
 * with errno and s wiped.
 */
static int
store_seal_keys(struct store_seal *s, int cipher, const unsigned char dk[STORE_KEYBYTES],
		const unsigned char header[STORE_HEADERBYTES])
{
	if (store_derive(s->key, dk, header) != 0 || store_aead_init(cipher, s->key, &s->aes) != 0)
		return store_seal_fail(s, EINVAL);
	s->buf = malloc(STORE_SEALED);
	if (s->buf == NULL)
		return store_seal_fail(s, ENOMEM);
	return 0;
}

/* store_seal_init - write a fresh header to fd and get ready to seal */
int
store_seal_init(struct store_seal *s, int fd, int cipher,
		const unsigned char dk[STORE_KEYBYTES])
{
	unsigned char header[STORE_HEADERBYTES];

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (!store_cipher_available(cipher)) {
		errno = ENOTSUP;
		return -1;
	}
	memset(header, 0, sizeof(header));
	memcpy(header, store_magic, sizeof(store_magic));
	header[8] = STORE_VERSION;
	header[9] = (unsigned char)cipher;
	header[10] = STORE_CHUNK_SHIFT;
	randombytes_buf(header + 16, STORE_SALTBYTES);
	if (store_seal_keys(s, cipher, dk, header) != 0)
		return -1;
	if (util_write_all(fd, header, sizeof(header)) != 0)
		return store_seal_fail(s, errno);
	s->fd = fd;
	s->cipher = cipher;
	return 0;
}

/*
 * store_seal_update - accept plaintext. A full chunk is only sealed once
 * more data arrives, because until then it might be the last one.
 */
int
store_seal_update(struct store_seal *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (s->fd < 0) {
		errno = EBADF;
		return -1;
	}
	while (len > 0) {
		OKURU_ASSERT(s->buflen <= STORE_CHUNKBYTES);
		if (s->buflen == STORE_CHUNKBYTES) {
			if (store_chunk_seal(s->cipher, s->aes, s->key, s->counter, 0, s->buf,
					     s->buflen) != 0 ||
			    util_write_all(s->fd, s->buf, STORE_SEALED) != 0)
				return -1;
			s->counter++;
			s->buflen = 0;
		}
		size_t take = STORE_CHUNKBYTES - s->buflen;
		if (take > len)
			take = len;
		memcpy(s->buf + s->buflen, p, take);
		s->buflen += take;
		p += take;
		len -= take;
	}
	return 0;
}

/* store_seal_final - seal what is buffered as the last chunk */
int
store_seal_final(struct store_seal *s)
{
	int r;

	if (s->fd < 0) {
		errno = EBADF;
		return -1;
	}
	r = store_chunk_seal(s->cipher, s->aes, s->key, s->counter, 1, s->buf, s->buflen);
	if (r == 0)
		r = util_write_all(s->fd, s->buf, s->buflen + STORE_TAGBYTES);
	s->fd = -1;
	return r;
}

void
store_seal_free(struct store_seal *s)
{
	if (s->buf != NULL) {
		sodium_memzero(s->buf, STORE_SEALED);
		free(s->buf);
	}
	if (s->aes != NULL)
		gnutls_aead_cipher_deinit(s->aes);
	sodium_memzero(s, sizeof(*s));
	s->fd = -1;
}

/* store_header_check - a header this version can open: 0, or -1 with errno */
static int
store_header_check(const unsigned char header[STORE_HEADERBYTES])
{
	if (memcmp(header, store_magic, sizeof(store_magic)) != 0 || header[8] != STORE_VERSION ||
	    header[10] != STORE_CHUNK_SHIFT || !sodium_is_zero(header + 11, 5) ||
	    (header[9] != STORE_CIPHER_AES256GCM && header[9] != STORE_CIPHER_CHACHA20POLY1305)) {
		errno = EBADMSG;
		return -1;
	}
	if (!store_cipher_available(header[9])) {
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

/*
 * store_seal_resume - continue sealing a blob of which the first `chunks`
 * chunks were sealed (none of them as the last) and made durable by an
 * earlier store_seal_checkpoint(), perhaps by another process. The header
 * on disk gives the cipher and, with dk, the payload key; the last of those
 * chunks is authenticated, so a wrong key or a damaged blob fails here
 * (EBADMSG) rather than at the end. Anything past them (a chunk half
 * written when the writer died) is cut off, and sealing goes on at chunk
 * index `chunks`.
 */
int
store_seal_resume(struct store_seal *s, int fd, const unsigned char dk[STORE_KEYBYTES],
		  uint64_t chunks)
{
	unsigned char header[STORE_HEADERBYTES];
	struct stat st;
	off_t end;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (chunks > ((uint64_t)INT64_MAX - STORE_HEADERBYTES) / STORE_SEALED) {
		errno = EINVAL;
		return -1;
	}
	end = (off_t)(STORE_HEADERBYTES + chunks * STORE_SEALED);
	if (fstat(fd, &st) != 0 || util_pread_all(fd, header, sizeof(header), 0) != 0 ||
	    store_header_check(header) != 0)
		return -1;
	if (st.st_size < end) {
		errno = EBADMSG; /* chunks the caller counted on are gone */
		return -1;
	}
	s->cipher = header[9];
	if (store_seal_keys(s, s->cipher, dk, header) != 0)
		return -1;
	if (chunks > 0 &&
	    (util_pread_all(fd, s->buf, STORE_SEALED, end - (off_t)STORE_SEALED) != 0 ||
	     store_chunk_open(s->cipher, s->aes, s->key, chunks - 1, 0, s->buf, STORE_SEALED) !=
		 0))
		return store_seal_fail(s, errno == EIO ? EIO : EBADMSG);
	sodium_memzero(s->buf, STORE_SEALED);
	if (ftruncate(fd, end) != 0 || lseek(fd, end, SEEK_SET) != end)
		return store_seal_fail(s, errno);
	s->counter = chunks;
	s->fd = fd;
	return 0;
}

/*
 * store_seal_checkpoint - the caller promises more data will follow (so a
 * full chunk in the buffer is not the last one; at the end of the data call
 * store_seal_final instead): seal and write that chunk,
 * drop a partial one unwritten (its bytes must be sent again), and fsync.
 * *chunks is then the number of chunks sealed and durable; the plaintext
 * they hold is *chunks * STORE_CHUNKBYTES bytes, and sealing may go on from
 * exactly there.
 */
int
store_seal_checkpoint(struct store_seal *s, uint64_t *chunks)
{
	if (s->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (s->buflen == STORE_CHUNKBYTES) {
		if (store_chunk_seal(s->cipher, s->aes, s->key, s->counter, 0, s->buf, s->buflen) !=
			0 ||
		    util_write_all(s->fd, s->buf, STORE_SEALED) != 0)
			return -1;
		s->counter++;
	}
	sodium_memzero(s->buf, STORE_SEALED);
	s->buflen = 0;
	/* Never retry a failed fsync: the page cache may have dropped the data. */
	if (fsync(s->fd) != 0)
		return -1;
	*chunks = s->counter;
	return 0;
}

static int store_open_chunk(struct store_open *o, uint64_t idx);

/* store_open_init - read and check the header and the blob's geometry */
int
store_open_init(struct store_open *o, int fd, const unsigned char dk[STORE_KEYBYTES])
{
	unsigned char header[STORE_HEADERBYTES];
	struct stat st;
	uint64_t payload, last;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->cached = UINT64_MAX;
	if (fstat(fd, &st) != 0)
		return -1;
	if ((uint64_t)st.st_size < STORE_HEADERBYTES + STORE_TAGBYTES) {
		errno = EBADMSG;
		return -1;
	}
	if (util_pread_all(fd, header, sizeof(header), 0) != 0 || store_header_check(header) != 0)
		return -1;
	payload = (uint64_t)st.st_size - STORE_HEADERBYTES;
	o->nchunks = (payload + STORE_SEALED - 1) / STORE_SEALED;
	last = payload - (o->nchunks - 1) * STORE_SEALED;
	/* Only a lone chunk may be empty; otherwise the tail is not a chunk. */
	if (last < STORE_TAGBYTES || (last == STORE_TAGBYTES && o->nchunks > 1)) {
		errno = EBADMSG;
		return -1;
	}
	o->size = payload - o->nchunks * STORE_TAGBYTES;
	if (store_derive(o->key, dk, header) != 0 ||
	    store_aead_init(header[9], o->key, &o->aes) != 0) {
		store_open_free(o);
		errno = EINVAL;
		return -1;
	}
	o->buf = malloc(STORE_SEALED);
	if (o->buf == NULL) {
		store_open_free(o);
		errno = ENOMEM;
		return -1;
	}
	o->cipher = header[9];
	o->fd = fd;
	/*
	 * An empty file is one empty last chunk. Reads of it return before
	 * touching a chunk, so authenticate it now: a blob cut down to its
	 * first 64 bytes must not pass for an empty file.
	 */
	if (o->size == 0 && store_open_chunk(o, 0) != 0) {
		int saved = errno;
		store_open_free(o);
		errno = saved;
		return -1;
	}
	return 0;
}

static int
store_open_chunk(struct store_open *o, uint64_t idx)
{
	int last = idx + 1 == o->nchunks;
	size_t clen = last ? (size_t)(o->size - idx * STORE_CHUNKBYTES) + STORE_TAGBYTES
			   : STORE_SEALED;
	off_t off = (off_t)(STORE_HEADERBYTES + idx * STORE_SEALED);

	if (o->cached == idx)
		return 0;
	o->cached = UINT64_MAX;
	if (util_pread_all(o->fd, o->buf, clen, off) != 0)
		return -1;
	if (store_chunk_open(o->cipher, o->aes, o->key, idx, last, o->buf, clen) != 0) {
		sodium_memzero(o->buf, clen);
		errno = EBADMSG;
		return -1;
	}
	o->cached = idx;
	o->cachedlen = clen - STORE_TAGBYTES;
	return 0;
}

/*
 * store_open_read - up to len plaintext bytes from offset off; only the
 * chunks covering [off, off+len) are read and authenticated. Returns the
 * byte count (0 at end), or -1 with EBADMSG when anything fails to verify.
 */
ssize_t
store_open_read(struct store_open *o, uint64_t off, void *out, size_t len)
{
	unsigned char *p = out;
	size_t done = 0;

	if (o->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (off >= o->size)
		return 0;
	if (len > o->size - off)
		len = (size_t)(o->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t idx = pos >> STORE_CHUNK_SHIFT;
		size_t in = (size_t)(pos & (STORE_CHUNKBYTES - 1));

		if (store_open_chunk(o, idx) != 0)
			return -1;
		size_t take = o->cachedlen - in;
		if (take > len - done)
			take = len - done;
		memcpy(p + done, o->buf + in, take);
		done += take;
	}
	return (ssize_t)done;
}

void
store_open_free(struct store_open *o)
{
	if (o->buf != NULL) {
		sodium_memzero(o->buf, STORE_SEALED);
		free(o->buf);
	}
	if (o->aes != NULL)
		gnutls_aead_cipher_deinit(o->aes);
	sodium_memzero(o, sizeof(*o));
	o->fd = -1;
}
