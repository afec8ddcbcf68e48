/*
 * test_store.c - unit tests for the encrypted blob format (store.c).
 *
 * Round trips of sizes around the chunk size and of several MiB, sealed
 * with varying update() piece sizes and read back whole, streamed and at
 * random offsets, for both ciphers; the byte layout checked against the
 * specification with libsodium directly; and the misuse cases: flipped
 * bits, swapped and foreign chunks, truncation, appended data, a wrong key
 * and unknown header fields must all end in EBADMSG, never in wrong bytes.
 * Blobs are unlinked temporary files, so nothing is left behind.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define CHUNK ((size_t)STORE_CHUNKBYTES)
#define SEALED (CHUNK + STORE_TAGBYTES)
#define BIG ((size_t)5 * 1024 * 1024 + 17)

enum pieces {
	PIECES_WHOLE,	/* one update() */
	PIECES_BYTES,	/* one byte at a time */
	PIECES_CHUNK,	/* exactly a chunk at a time */
	PIECES_RANDOM,	/* 1 .. 3 chunks, with empty updates between */
};

/* A fixed-seed generator, so a failure repeats. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t
rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

/* tmp_file - a new read-write temporary file; its name in path */
static int
tmp_file(char path[PATH_MAX])
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(path, PATH_MAX, "%s/okuru-test-store-XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

/* tmp_fd - a read-write temporary file, already unlinked */
static int
tmp_fd(void)
{
	char path[PATH_MAX];
	int fd = tmp_file(path);

	assert_int_equal(unlink(path), 0);
	return fd;
}

static off_t
fd_size(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

/* chunk_off - file offset of chunk i */
static off_t
chunk_off(uint64_t i)
{
	return (off_t)(STORE_HEADERBYTES + i * SEALED);
}

/* plaintext - len bytes (allocated len + 1, never NULL) that depend on seed */
static unsigned char *
plaintext(size_t len, unsigned seed)
{
	unsigned char s[randombytes_SEEDBYTES];
	unsigned char *p = malloc(len + 1);

	assert_non_null(p);
	memset(s, 0, sizeof(s));
	memcpy(s, &seed, sizeof(seed));
	randombytes_buf_deterministic(p, len + 1, s);
	return p;
}

static void
flip(int fd, off_t off, unsigned bit)
{
	unsigned char b;

	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= (unsigned char)(1U << bit);
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
}

static void
poke(int fd, off_t off, unsigned char v)
{
	assert_int_equal(pwrite(fd, &v, 1, off), 1);
}

static void
copy_range(int from, off_t fromoff, int to, off_t tooff, size_t len)
{
	unsigned char *b = malloc(len);

	assert_non_null(b);
	assert_int_equal(pread(from, b, len, fromoff), (ssize_t)len);
	assert_int_equal(pwrite(to, b, len, tooff), (ssize_t)len);
	free(b);
}

/* seal - write data as a blob to fd, feeding update() as mode says */
static void
seal(int fd, int cipher, const unsigned char *dk, const unsigned char *data, size_t len,
     enum pieces mode)
{
	struct store_seal s;
	size_t done = 0;

	assert_int_equal(store_seal_init(&s, fd, cipher, dk), 0);
	while (done < len) {
		size_t n;

		switch (mode) {
		case PIECES_WHOLE:
			n = len;
			break;
		case PIECES_BYTES:
			n = 1;
			break;
		case PIECES_CHUNK:
			n = CHUNK;
			break;
		default:
			n = 1 + rng_below(3 * CHUNK);
			if (rng_below(4) == 0)
				assert_int_equal(store_seal_update(&s, data + done, 0), 0);
			break;
		}
		if (n > len - done)
			n = len - done;
		assert_int_equal(store_seal_update(&s, data + done, n), 0);
		done += n;
	}
	assert_int_equal(store_seal_final(&s), 0);
	store_seal_free(&s);
	assert_int_equal((uint64_t)fd_size(fd), store_blob_size(len));
}

/* make_blob - a fresh blob of len bytes of plaintext p */
static int
make_blob(int cipher, const unsigned char *dk, const unsigned char *p, size_t len)
{
	int fd = tmp_fd();

	seal(fd, cipher, dk, p, len, PIECES_RANDOM);
	return fd;
}

/* read_ok - [off, off+len) of the blob reads back as data */
static void
read_ok(int fd, const unsigned char *dk, const unsigned char *data, size_t size, uint64_t off,
	size_t len)
{
	struct store_open o;
	unsigned char *out = malloc(len + 1);
	size_t want = off >= size ? 0 : len < size - off ? len : (size_t)(size - off);

	assert_non_null(out);
	assert_int_equal(store_open_init(&o, fd, dk), 0);
	assert_int_equal(o.size, size);
	assert_int_equal(store_open_read(&o, off, out, len), (ssize_t)want);
	if (want > 0)
		assert_memory_equal(out, data + off, want);
	store_open_free(&o);
	free(out);
}

/* init_fails - store_open_init refuses the blob with EBADMSG */
static void
init_fails(int fd, const unsigned char *dk)
{
	struct store_open o;

	errno = 0;
	assert_int_equal(store_open_init(&o, fd, dk), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(o.fd, -1);
	assert_null(o.buf);
}

/*
 * read_fails - a read of [off, off+len) fails with EBADMSG, or the blob
 * does not even open; asking again fails the same way (nothing bad cached).
 */
static void
read_fails(int fd, const unsigned char *dk, uint64_t off, size_t len)
{
	struct store_open o;
	unsigned char *out = malloc(len);

	assert_non_null(out);
	errno = 0;
	if (store_open_init(&o, fd, dk) != 0) {
		assert_int_equal(errno, EBADMSG);
		free(out);
		return;
	}
	for (int i = 0; i < 2; i++) {
		errno = 0;
		assert_int_equal(store_open_read(&o, off, out, len), -1);
		assert_int_equal(errno, EBADMSG);
	}
	store_open_free(&o);
	free(out);
}

/*
 * stream_fails - read the blob front to back as a download would: every
 * byte delivered must be the original, and the stream must end in EBADMSG,
 * never at a clean end of file.
 */
static void
stream_fails(int fd, const unsigned char *dk, const unsigned char *data, size_t size)
{
	struct store_open o;
	unsigned char out[5000];
	uint64_t off = 0;

	errno = 0;
	if (store_open_init(&o, fd, dk) != 0) {
		assert_int_equal(errno, EBADMSG);
		return;
	}
	for (;;) {
		errno = 0;
		ssize_t r = store_open_read(&o, off, out, sizeof(out));
		if (r < 0) {
			assert_int_equal(errno, EBADMSG);
			break;
		}
		if (r == 0)
			fail_msg("tampered blob read to a clean end after %llu bytes",
				 (unsigned long long)off);
		assert_true(off + (uint64_t)r <= size);
		assert_memory_equal(out, data + off, (size_t)r);
		off += (uint64_t)r;
	}
	store_open_free(&o);
}

/* check_blob - read the whole blob every way we know and compare */
static void
check_blob(int fd, const unsigned char *dk, const unsigned char *data, size_t size)
{
	struct store_open o;
	unsigned char *out = malloc(size + 100);

	assert_non_null(out);
	assert_int_equal((uint64_t)fd_size(fd), store_blob_size(size));
	assert_int_equal(store_open_init(&o, fd, dk), 0);
	assert_int_equal(o.size, size);
	assert_int_equal(o.nchunks, size == 0 ? 1 : (size + CHUNK - 1) / CHUNK);

	/* Whole, asking for more than there is. */
	memset(out, 0, size + 100);
	assert_int_equal(store_open_read(&o, 0, out, size + 100), (ssize_t)size);
	if (size > 0)
		assert_memory_equal(out, data, size);
	assert_int_equal(store_open_read(&o, size, out, 1), 0);

	/* Streamed in odd pieces. */
	for (uint64_t off = 0; off < size;) {
		ssize_t r = store_open_read(&o, off, out, 4099);
		assert_true(r > 0);
		assert_int_equal((size_t)r, size - off < 4099 ? size - off : 4099);
		assert_memory_equal(out, data + off, (size_t)r);
		off += (uint64_t)r;
	}

	/* Across every chunk boundary. */
	for (size_t b = CHUNK; b <= size; b += CHUNK) {
		size_t off = b - 7, want = size - off < 14 ? size - off : 14;
		assert_int_equal(store_open_read(&o, off, out, 14), (ssize_t)want);
		assert_memory_equal(out, data + off, want);
	}

	/* Random offsets and lengths, some spanning several chunks. */
	for (int i = 0; i < 64; i++) {
		size_t off = rng_below(size + 1), len = rng_below(3 * CHUNK + 2), want;

		if (len > size + 100)
			len = size + 100;
		want = len < size - off ? len : size - off;
		assert_int_equal(store_open_read(&o, off, out, len), (ssize_t)want);
		if (want > 0)
			assert_memory_equal(out, data + off, want);
	}
	store_open_free(&o);
	free(out);
}

/* roundtrip - every size of interest, every way of feeding update() */
static void
roundtrip(int cipher)
{
	static const size_t sizes[] = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK,
				       3 * CHUNK + 1000, BIG};
	static const enum pieces modes[] = {PIECES_WHOLE, PIECES_BYTES, PIECES_CHUNK,
					    PIECES_RANDOM};
	unsigned char dk[STORE_KEYBYTES];

	randombytes_buf(dk, sizeof(dk));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = plaintext(sizes[i], (unsigned)i);
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			if (modes[m] == PIECES_BYTES && sizes[i] > 3 * CHUNK)
				continue;
			int fd = tmp_fd();
			seal(fd, cipher, dk, p, sizes[i], modes[m]);
			check_blob(fd, dk, p, sizes[i]);
			close(fd);
		}
		free(p);
	}
}

/* aead_open - decrypt one chunk with libsodium directly, into out */
static int
aead_open(int cipher, unsigned char *out, const unsigned char *in, size_t clen,
	  const unsigned char nonce[12], const unsigned char key[STORE_KEYBYTES])
{
	unsigned long long mlen = 0;
	int r;

	if (cipher == STORE_CIPHER_AES256GCM)
		r = crypto_aead_aes256gcm_decrypt(out, &mlen, NULL, in, clen, NULL, 0, nonce, key);
	else
		r = crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, in, clen, NULL, 0,
							      nonce, key);
	if (r == 0)
		assert_int_equal(mlen, clen - STORE_TAGBYTES);
	return r;
}

/* layout - the bytes on disk are what docs/ARCHITECTURE.md says */
static void
layout(int cipher)
{
	static const char label[] = "okuru blob payload key v1";
	size_t size = 2 * CHUNK + 100;
	unsigned char dk[STORE_KEYBYTES], key[STORE_KEYBYTES], header[STORE_HEADERBYTES];
	unsigned char *p = plaintext(size, 7), *in = malloc(SEALED), *out = malloc(SEALED);
	crypto_generichash_state st;
	int fd;

	assert_non_null(in);
	assert_non_null(out);
	randombytes_buf(dk, sizeof(dk));
	fd = make_blob(cipher, dk, p, size);
	assert_int_equal(pread(fd, header, sizeof(header), 0), (ssize_t)sizeof(header));
	assert_memory_equal(header, "OKURUBLB", 8);
	assert_int_equal(header[8], 1);
	assert_int_equal(header[9], cipher);
	assert_int_equal(header[10], 16);
	for (int i = 11; i < 16; i++)
		assert_int_equal(header[i], 0);
	assert_false(sodium_is_zero(header + 16, STORE_SALTBYTES));

	/* payload key = BLAKE2b-256(key = dk, label || header) */
	assert_int_equal(crypto_generichash_init(&st, dk, sizeof(dk), sizeof(key)), 0);
	crypto_generichash_update(&st, (const unsigned char *)label, sizeof(label) - 1);
	crypto_generichash_update(&st, header, sizeof(header));
	crypto_generichash_final(&st, key, sizeof(key));

	for (uint64_t i = 0; i < 3; i++) {
		int last = i == 2;
		size_t clen = (last ? 100 : CHUNK) + STORE_TAGBYTES;
		unsigned char nonce[12];

		/* nonce = 11-byte big-endian counter || last-chunk flag */
		memset(nonce, 0, sizeof(nonce));
		nonce[10] = (unsigned char)i;
		nonce[11] = (unsigned char)last;
		assert_int_equal(pread(fd, in, clen, chunk_off(i)), (ssize_t)clen);
		assert_int_equal(aead_open(cipher, out, in, clen, nonce, key), 0);
		assert_memory_equal(out, p + i * CHUNK, clen - STORE_TAGBYTES);
		/* Under the other flag, or another counter, the chunk does not open. */
		nonce[11] ^= 1;
		assert_int_equal(aead_open(cipher, out, in, clen, nonce, key), -1);
		nonce[11] ^= 1;
		nonce[10] ^= 1;
		assert_int_equal(aead_open(cipher, out, in, clen, nonce, key), -1);
		nonce[10] ^= 1;
		nonce[0] = 1;
		assert_int_equal(aead_open(cipher, out, in, clen, nonce, key), -1);
	}
	close(fd);
	free(in);
	free(out);
	free(p);
}

/* fresh_salt - the same data under the same key never seals the same way */
static void
fresh_salt(int cipher)
{
	unsigned char dk[STORE_KEYBYTES], a[STORE_HEADERBYTES + 32], b[STORE_HEADERBYTES + 32];
	unsigned char *p = plaintext(1000, 1);
	int fa, fb;

	randombytes_buf(dk, sizeof(dk));
	fa = make_blob(cipher, dk, p, 1000);
	fb = make_blob(cipher, dk, p, 1000);
	assert_int_equal(pread(fa, a, sizeof(a), 0), (ssize_t)sizeof(a));
	assert_int_equal(pread(fb, b, sizeof(b), 0), (ssize_t)sizeof(b));
	assert_memory_equal(a, b, 16);
	assert_memory_not_equal(a + 16, b + 16, STORE_SALTBYTES);
	assert_memory_not_equal(a + STORE_HEADERBYTES, b + STORE_HEADERBYTES, 32);
	close(fa);
	close(fb);
	free(p);
}

/* header_bits - every single-bit change to the header is caught */
static void
header_bits(int cipher)
{
	static const size_t sizes[] = {0, CHUNK + 100};
	unsigned char dk[STORE_KEYBYTES];

	randombytes_buf(dk, sizeof(dk));
	for (size_t i = 0; i < 2; i++) {
		size_t size = sizes[i];
		unsigned char *p = plaintext(size, 3);
		int fd = make_blob(cipher, dk, p, size);

		for (off_t byte = 0; byte < (off_t)STORE_HEADERBYTES; byte++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				flip(fd, byte, bit);
				/* Fixed fields, and anything at all of an empty blob,
				 * are refused when the blob is opened. */
				if (byte < 16 || size == 0)
					init_fails(fd, dk);
				else
					read_fails(fd, dk, CHUNK, 10);
				read_fails(fd, dk, 0, 1);
				stream_fails(fd, dk, p, size);
				flip(fd, byte, bit);
			}
		}
		check_blob(fd, dk, p, size);
		close(fd);
		free(p);
	}
}

/* bad_fields - unknown version, cipher, chunk size, reserved bytes, magic */
static void
bad_fields(int cipher)
{
	static const struct {
		off_t off;
		unsigned char v;
	} bad[] = {
		{0, 'o'}, {7, 'C'}, {8, 0}, {8, 2}, {8, 255}, {9, 0}, {9, 3}, {9, 255},
		{10, 0}, {10, 15}, {10, 17}, {11, 1}, {12, 1}, {13, 0x80}, {14, 1}, {15, 1},
	};
	unsigned char dk[STORE_KEYBYTES], orig;
	unsigned char *p = plaintext(100, 4);
	int fd;

	randombytes_buf(dk, sizeof(dk));
	fd = make_blob(cipher, dk, p, 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pread(fd, &orig, 1, bad[i].off), 1);
		poke(fd, bad[i].off, bad[i].v);
		init_fails(fd, dk);
		poke(fd, bad[i].off, orig);
	}
	/* A valid cipher id that is not the one sealed with derives another key. */
	if (store_cipher_available(STORE_CIPHER_AES256GCM)) {
		poke(fd, 9, cipher == STORE_CIPHER_AES256GCM ? STORE_CIPHER_CHACHA20POLY1305
							     : STORE_CIPHER_AES256GCM);
		read_fails(fd, dk, 0, 100);
		poke(fd, 9, (unsigned char)cipher);
	}
	read_ok(fd, dk, p, 100, 0, 100);
	close(fd);
	free(p);
}

/* chunk_bits - a flipped bit in a chunk's ciphertext or tag */
static void
chunk_bits(int cipher)
{
	size_t size = 3 * CHUNK + 1000;
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(size, 5);
	int fd;

	randombytes_buf(dk, sizeof(dk));
	fd = make_blob(cipher, dk, p, size);
	for (uint64_t i = 0; i < 4; i++) {
		size_t ctlen = i == 3 ? 1000 : CHUNK;
		/* first, middle and last ciphertext byte, first and last tag byte */
		size_t where[] = {0, ctlen / 2, ctlen - 1, ctlen, ctlen + STORE_TAGBYTES - 1};
		uint64_t other = (i + 1) % 4;

		for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
			off_t off = chunk_off(i) + (off_t)where[w];
			unsigned bit = (unsigned)rng_below(8);

			flip(fd, off, bit);
			read_fails(fd, dk, i * CHUNK + where[w] % ctlen, 1);
			read_fails(fd, dk, i * CHUNK, ctlen);
			/* a read spanning into the damaged chunk from the one before */
			if (i > 0)
				read_fails(fd, dk, i * CHUNK - 5, 10);
			stream_fails(fd, dk, p, size);
			/* chunks that were not touched still read */
			read_ok(fd, dk, p, size, other * CHUNK, 500);
			flip(fd, off, bit);
		}
	}
	check_blob(fd, dk, p, size);
	close(fd);
	free(p);
}

/* swap_chunks - exchange the sealed chunks i and j, both full ones */
static void
swap_chunks(int fd, uint64_t i, uint64_t j)
{
	unsigned char *a = malloc(SEALED), *b = malloc(SEALED);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(pread(fd, a, SEALED, chunk_off(i)), (ssize_t)SEALED);
	assert_int_equal(pread(fd, b, SEALED, chunk_off(j)), (ssize_t)SEALED);
	assert_int_equal(pwrite(fd, b, SEALED, chunk_off(i)), (ssize_t)SEALED);
	assert_int_equal(pwrite(fd, a, SEALED, chunk_off(j)), (ssize_t)SEALED);
	free(a);
	free(b);
}

/* swapped - two chunks exchanged, including the last one */
static void
swapped(int cipher)
{
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(3 * CHUNK + 1000, 6);
	int fd;

	randombytes_buf(dk, sizeof(dk));

	/* chunks 0 and 1 of four */
	fd = make_blob(cipher, dk, p, 3 * CHUNK + 1000);
	swap_chunks(fd, 0, 1);
	read_fails(fd, dk, 0, 1);
	read_fails(fd, dk, CHUNK, 1);
	stream_fails(fd, dk, p, 3 * CHUNK + 1000);
	read_ok(fd, dk, p, 3 * CHUNK + 1000, 2 * CHUNK, 2000);
	close(fd);

	/* chunks 1 and 2 of three full ones: the last moves forward */
	fd = make_blob(cipher, dk, p, 3 * CHUNK);
	swap_chunks(fd, 1, 2);
	read_fails(fd, dk, CHUNK, 1);
	read_fails(fd, dk, 2 * CHUNK, 1);
	read_fails(fd, dk, 3 * CHUNK - 1, 1);
	stream_fails(fd, dk, p, 3 * CHUNK);
	read_ok(fd, dk, p, 3 * CHUNK, 0, CHUNK);
	close(fd);
	free(p);
}

/* truncated - cut at a chunk boundary, inside a chunk, inside a tag */
static void
truncated(int cipher)
{
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(3 * CHUNK + 1000, 8);
	int fd;

	randombytes_buf(dk, sizeof(dk));

	/* The last (partial) chunk dropped: chunk 2 now claims to be last. */
	fd = make_blob(cipher, dk, p, 3 * CHUNK + 1000);
	assert_int_equal(ftruncate(fd, chunk_off(3)), 0);
	read_fails(fd, dk, 2 * CHUNK, 1);
	read_fails(fd, dk, 3 * CHUNK - 1, 1);
	stream_fails(fd, dk, p, 3 * CHUNK + 1000);
	close(fd);

	/* Full chunks only, the last one dropped, then the last two. */
	fd = make_blob(cipher, dk, p, 3 * CHUNK);
	assert_int_equal(ftruncate(fd, chunk_off(2)), 0);
	read_fails(fd, dk, CHUNK, 1);
	stream_fails(fd, dk, p, 3 * CHUNK);
	assert_int_equal(ftruncate(fd, chunk_off(1)), 0);
	read_fails(fd, dk, 0, 1);
	stream_fails(fd, dk, p, 3 * CHUNK);
	close(fd);

	/* Mid-chunk: inside chunk 1, leaving more or less than a tag. */
	static const off_t cuts[] = {1000, 100, STORE_TAGBYTES + 1, STORE_TAGBYTES,
				     STORE_TAGBYTES - 1, 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		fd = make_blob(cipher, dk, p, 3 * CHUNK + 1000);
		assert_int_equal(ftruncate(fd, chunk_off(1) + cuts[i]), 0);
		read_fails(fd, dk, CHUNK, 1);
		stream_fails(fd, dk, p, 3 * CHUNK + 1000);
		close(fd);
	}

	/* One byte off the end (the last tag), and half the last chunk. */
	fd = make_blob(cipher, dk, p, 3 * CHUNK + 1000);
	assert_int_equal(ftruncate(fd, fd_size(fd) - 1), 0);
	read_fails(fd, dk, 3 * CHUNK, 1);
	stream_fails(fd, dk, p, 3 * CHUNK + 1000);
	assert_int_equal(ftruncate(fd, chunk_off(3) + 500), 0);
	read_fails(fd, dk, 3 * CHUNK, 1);
	stream_fails(fd, dk, p, 3 * CHUNK + 1000);
	close(fd);
	free(p);
}

/* truncated_to_empty - header + one tag's worth must not pass for empty */
static void
truncated_to_empty(int cipher)
{
	static const size_t sizes[] = {1, 100, CHUNK, CHUNK + 1, 3 * CHUNK + 1000};
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(3 * CHUNK + 1000, 9);

	randombytes_buf(dk, sizeof(dk));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = make_blob(cipher, dk, p, sizes[i]);

		assert_int_equal(ftruncate(fd, STORE_HEADERBYTES + STORE_TAGBYTES), 0);
		init_fails(fd, dk);
		assert_int_equal(ftruncate(fd, STORE_HEADERBYTES + STORE_TAGBYTES - 1), 0);
		init_fails(fd, dk);
		assert_int_equal(ftruncate(fd, STORE_HEADERBYTES), 0);
		init_fails(fd, dk);
		close(fd);
	}
	free(p);
}

/* appended - a whole random chunk, or a few bytes, added at the end */
static void
appended(int cipher)
{
	static const size_t sizes[] = {0, 1000, CHUNK, CHUNK + 100, 2 * CHUNK};
	static const size_t extra[] = {SEALED, STORE_TAGBYTES + 1, STORE_TAGBYTES, 17, 3, 1};
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(2 * CHUNK, 10), *junk = malloc(SEALED);

	assert_non_null(junk);
	randombytes_buf(dk, sizeof(dk));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
			size_t size = sizes[i];
			int fd = make_blob(cipher, dk, p, size);
			off_t end = fd_size(fd);
			/* the chunk that used to be last */
			uint64_t lastoff = size == 0 ? 0 : (size - 1) / CHUNK * CHUNK;

			randombytes_buf(junk, extra[e]);
			assert_int_equal(pwrite(fd, junk, extra[e], end), (ssize_t)extra[e]);
			read_fails(fd, dk, lastoff, 1);
			if (size > 0)
				read_fails(fd, dk, size - 1, 1);
			read_fails(fd, dk, size, 1);
			stream_fails(fd, dk, p, size);
			close(fd);
		}
	}
	free(junk);
	free(p);
}

/* foreign_parts - the header, or one chunk, taken from another blob */
static void
foreign_parts(int cipher)
{
	static const size_t sizes[] = {0, 100, 3 * CHUNK + 1000};
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(3 * CHUNK + 1000, 11);

	randombytes_buf(dk, sizeof(dk));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		int a = make_blob(cipher, dk, p, size), b = make_blob(cipher, dk, p, size);

		copy_range(b, 0, a, 0, STORE_HEADERBYTES);
		if (size == 0)
			init_fails(a, dk);
		read_fails(a, dk, 0, 1);
		read_fails(a, dk, size / 2, 1);
		stream_fails(a, dk, p, size);
		/* b itself is still fine */
		read_ok(b, dk, p, size, 0, size);
		close(a);
		close(b);
	}

	/* Chunk 1 of a blob with the same key and the same plaintext. */
	{
		size_t size = 3 * CHUNK + 1000;
		int a = make_blob(cipher, dk, p, size), b = make_blob(cipher, dk, p, size);

		copy_range(b, chunk_off(1), a, chunk_off(1), SEALED);
		read_fails(a, dk, CHUNK, 1);
		stream_fails(a, dk, p, size);
		read_ok(a, dk, p, size, 0, CHUNK);
		read_ok(a, dk, p, size, 2 * CHUNK, CHUNK);
		close(a);
		close(b);
	}
	free(p);
}

/* wrong_key - another data key opens nothing */
static void
wrong_key(int cipher)
{
	static const size_t sizes[] = {0, 1, CHUNK + 1};
	unsigned char dk[STORE_KEYBYTES], other[STORE_KEYBYTES];
	unsigned char *p = plaintext(CHUNK + 1, 12);

	randombytes_buf(dk, sizeof(dk));
	memcpy(other, dk, sizeof(dk));
	other[31] ^= 1;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = make_blob(cipher, dk, p, sizes[i]);

		if (sizes[i] == 0)
			init_fails(fd, other);
		read_fails(fd, other, 0, 1);
		if (sizes[i] > CHUNK)
			read_fails(fd, other, CHUNK, 1);
		stream_fails(fd, other, p, sizes[i]);
		read_ok(fd, dk, p, sizes[i], 0, sizes[i]);
		close(fd);
	}
	free(p);
}

/* Each check above, once per cipher; AES-256-GCM only where the CPU has it. */
#define PER_CIPHER(fn)                                                          \
	static void test_##fn##_chacha20(void **state)                          \
	{                                                                       \
		fn(STORE_CIPHER_CHACHA20POLY1305);                              \
	}                                                                       \
	static void test_##fn##_aes256gcm(void **state)                         \
	{                                                                       \
		if (!store_cipher_available(STORE_CIPHER_AES256GCM))            \
			skip();                                                 \
		fn(STORE_CIPHER_AES256GCM);                                     \
	}

PER_CIPHER(roundtrip)
PER_CIPHER(layout)
PER_CIPHER(fresh_salt)
PER_CIPHER(header_bits)
PER_CIPHER(bad_fields)
PER_CIPHER(chunk_bits)
PER_CIPHER(swapped)
PER_CIPHER(truncated)
PER_CIPHER(truncated_to_empty)
PER_CIPHER(appended)
PER_CIPHER(foreign_parts)
PER_CIPHER(wrong_key)

static void
test_blob_size(void **state)
{
	assert_int_equal(store_blob_size(0), 48 + 16);
	assert_int_equal(store_blob_size(1), 48 + 1 + 16);
	assert_int_equal(store_blob_size(CHUNK - 1), 48 + CHUNK - 1 + 16);
	assert_int_equal(store_blob_size(CHUNK), 48 + CHUNK + 16);
	assert_int_equal(store_blob_size(CHUNK + 1), 48 + CHUNK + 1 + 32);
	assert_int_equal(store_blob_size(BIG), 48 + BIG + 81 * 16);
}

static void
test_cipher_default(void **state)
{
	assert_true(store_cipher_available(STORE_CIPHER_CHACHA20POLY1305));
	assert_false(store_cipher_available(0));
	assert_false(store_cipher_available(3));
	assert_true(store_cipher_available(store_cipher_default()));
	if (crypto_aead_aes256gcm_is_available())
		assert_int_equal(store_cipher_default(), STORE_CIPHER_AES256GCM);
	else
		assert_int_equal(store_cipher_default(), STORE_CIPHER_CHACHA20POLY1305);
}

/* test_read_past_end - reads at or past the end return 0, reads are clipped */
static void
test_read_past_end(void **state)
{
	unsigned char dk[STORE_KEYBYTES], out[200];
	unsigned char *p = plaintext(1000, 13);
	struct store_open o;
	int fd;

	randombytes_buf(dk, sizeof(dk));
	fd = make_blob(STORE_CIPHER_CHACHA20POLY1305, dk, p, 1000);
	assert_int_equal(store_open_init(&o, fd, dk), 0);
	assert_int_equal(store_open_read(&o, 1000, out, sizeof(out)), 0);
	assert_int_equal(store_open_read(&o, 1001, out, sizeof(out)), 0);
	assert_int_equal(store_open_read(&o, CHUNK * 5, out, sizeof(out)), 0);
	assert_int_equal(store_open_read(&o, UINT64_MAX, out, sizeof(out)), 0);
	assert_int_equal(store_open_read(&o, 0, out, 0), 0);
	assert_int_equal(store_open_read(&o, 990, out, sizeof(out)), 10);
	assert_memory_equal(out, p + 990, 10);
	store_open_free(&o);
	errno = 0;
	assert_int_equal(store_open_read(&o, 0, out, 1), -1);
	assert_int_equal(errno, EBADF);
	close(fd);

	/* an empty blob */
	fd = make_blob(STORE_CIPHER_CHACHA20POLY1305, dk, p, 0);
	assert_int_equal(store_open_init(&o, fd, dk), 0);
	assert_int_equal(o.size, 0);
	assert_int_equal(store_open_read(&o, 0, out, sizeof(out)), 0);
	store_open_free(&o);
	close(fd);
	free(p);
}

/* test_short_file - anything shorter than a header and one tag is refused */
static void
test_short_file(void **state)
{
	static const off_t lens[] = {0, 1, 8, STORE_HEADERBYTES - 1, STORE_HEADERBYTES,
				     STORE_HEADERBYTES + STORE_TAGBYTES - 1};
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(100, 14);

	randombytes_buf(dk, sizeof(dk));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int fd = make_blob(STORE_CIPHER_CHACHA20POLY1305, dk, p, 100);

		assert_int_equal(ftruncate(fd, lens[i]), 0);
		init_fails(fd, dk);
		close(fd);
	}
	free(p);
}

/* test_seal_misuse - bad cipher, use after final, unwritable fd */
static void
test_seal_misuse(void **state)
{
	unsigned char dk[STORE_KEYBYTES];
	struct store_seal s;
	int fd = tmp_fd();

	randombytes_buf(dk, sizeof(dk));
	errno = 0;
	assert_int_equal(store_seal_init(&s, fd, 0, dk), -1);
	assert_int_equal(errno, ENOTSUP);
	errno = 0;
	assert_int_equal(store_seal_init(&s, fd, 3, dk), -1);
	assert_int_equal(errno, ENOTSUP);
	store_seal_free(&s);
	assert_int_equal(fd_size(fd), 0);

	assert_int_equal(store_seal_init(&s, fd, STORE_CIPHER_CHACHA20POLY1305, dk), 0);
	assert_int_equal(store_seal_update(&s, "abc", 3), 0);
	assert_int_equal(store_seal_final(&s), 0);
	errno = 0;
	assert_int_equal(store_seal_update(&s, "d", 1), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(store_seal_final(&s), -1);
	assert_int_equal(errno, EBADF);
	store_seal_free(&s);
	assert_int_equal((uint64_t)fd_size(fd), store_blob_size(3));
	close(fd);

	/* A read-only descriptor: the header cannot be written. */
	{
		char path[PATH_MAX];
		int rfd;

		fd = tmp_file(path);
		rfd = open(path, O_RDONLY);
		assert_int_equal(unlink(path), 0);
		assert_true(rfd >= 0);
		assert_int_equal(store_seal_init(&s, rfd, STORE_CIPHER_CHACHA20POLY1305, dk), -1);
		assert_int_equal(errno, EBADF);
		assert_null(s.buf);
		store_seal_free(&s);
		close(rfd);
		close(fd);
	}
}

/*
 * resume_run - seal len bytes of p in sessions, as a tus upload does: each
 * session resumes at the durable chunk count, feeds bytes up to its cut
 * (a partial chunk at the cut is dropped by the checkpoint), and the last
 * session feeds the rest and seals the final chunk.
 */
static void
resume_run(int cipher, size_t len, const size_t *cuts, size_t ncuts)
{
	unsigned char dk[STORE_KEYBYTES];
	unsigned char *p = plaintext(len, 77);
	struct store_seal s;
	uint64_t chunks = 0;
	int fd = tmp_fd();

	randombytes_buf(dk, sizeof(dk));
	assert_int_equal(store_seal_init(&s, fd, cipher, dk), 0);
	assert_int_equal(store_seal_checkpoint(&s, &chunks), 0);
	assert_int_equal(chunks, 0);
	store_seal_free(&s);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t from = (size_t)chunks * CHUNK;
		size_t to = i < ncuts ? cuts[i] : len;

		assert_int_equal(store_seal_resume(&s, fd, dk, chunks), 0);
		assert_int_equal((uint64_t)fd_size(fd), (uint64_t)chunk_off(chunks));
		assert_int_equal(store_seal_update(&s, p + from, to - from), 0);
		if (i < ncuts) {
			assert_int_equal(store_seal_checkpoint(&s, &chunks), 0);
			assert_int_equal(chunks, to / CHUNK);
			/* A writer that dies mid-chunk leaves junk past the durable part. */
			assert_int_equal(pwrite(fd, "junk", 4, chunk_off(chunks)), 4);
		} else {
			assert_int_equal(store_seal_final(&s), 0);
		}
		store_seal_free(&s);
	}
	assert_int_equal((uint64_t)fd_size(fd), store_blob_size(len));
	read_ok(fd, dk, p, len, 0, len);
	sodium_memzero(dk, sizeof(dk));
	free(p);
	close(fd);
}

static void
test_resume(int cipher)
{
	const size_t a[] = {CHUNK + 100, 3 * CHUNK, 3 * CHUNK + 1, 5 * CHUNK - 1};
	const size_t b[] = {CHUNK};
	const size_t c[] = {10};

	resume_run(cipher, 6 * CHUNK + 5, a, 4);
	resume_run(cipher, 2 * CHUNK, b, 1); /* ends on a boundary: the last chunk is full */
	resume_run(cipher, 100, c, 1);	     /* nothing durable before the end */
	resume_run(cipher, 0, NULL, 0);
}

static void
test_resume_chacha20(void **state)
{
	(void)state;
	test_resume(STORE_CIPHER_CHACHA20POLY1305);
}

static void
test_resume_aes256gcm(void **state)
{
	(void)state;
	test_resume(STORE_CIPHER_AES256GCM);
}

/* test_resume_misuse - a wrong key, lost chunks, a damaged chunk or header */
static void
test_resume_misuse(void **state)
{
	unsigned char dk[STORE_KEYBYTES], other[STORE_KEYBYTES];
	unsigned char *p = plaintext(3 * CHUNK, 5);
	struct store_seal s;
	uint64_t chunks;
	int fd = tmp_fd();

	(void)state;
	randombytes_buf(dk, sizeof(dk));
	randombytes_buf(other, sizeof(other));
	assert_int_equal(store_seal_init(&s, fd, store_cipher_default(), dk), 0);
	assert_int_equal(store_seal_update(&s, p, 3 * CHUNK), 0);
	assert_int_equal(store_seal_checkpoint(&s, &chunks), 0);
	assert_int_equal(chunks, 3);
	store_seal_free(&s);

	errno = 0;
	assert_int_equal(store_seal_resume(&s, fd, other, 3), -1);
	assert_int_equal(errno, EBADMSG);
	store_seal_free(&s);
	errno = 0;
	assert_int_equal(store_seal_resume(&s, fd, dk, 4), -1); /* more than is there */
	assert_int_equal(errno, EBADMSG);
	store_seal_free(&s);
	/* A flipped bit in the last durable chunk is caught, and nothing is cut. */
	flip(fd, chunk_off(2) + 7, 3);
	errno = 0;
	assert_int_equal(store_seal_resume(&s, fd, dk, 3), -1);
	assert_int_equal(errno, EBADMSG);
	store_seal_free(&s);
	assert_int_equal((uint64_t)fd_size(fd), (uint64_t)chunk_off(3)); /* nothing cut */
	flip(fd, chunk_off(2) + 7, 3);
	flip(fd, 20, 0); /* the salt: another payload key */
	errno = 0;
	assert_int_equal(store_seal_resume(&s, fd, dk, 3), -1);
	assert_int_equal(errno, EBADMSG);
	store_seal_free(&s);
	flip(fd, 20, 0);
	poke(fd, 8, 9); /* an unknown version */
	errno = 0;
	assert_int_equal(store_seal_resume(&s, fd, dk, 2), -1);
	assert_int_equal(errno, EBADMSG);
	store_seal_free(&s);
	poke(fd, 8, 1);
	/* Resuming at 2 drops chunk 2; the blob then ends where the next session says. */
	assert_int_equal(store_seal_resume(&s, fd, dk, 2), 0);
	assert_int_equal((uint64_t)fd_size(fd), (uint64_t)chunk_off(2));
	assert_int_equal(store_seal_update(&s, p + 2 * CHUNK, CHUNK), 0);
	assert_int_equal(store_seal_final(&s), 0);
	store_seal_free(&s);
	read_ok(fd, dk, p, 3 * CHUNK, 0, 3 * CHUNK);
	/* A checkpoint after the final is refused. */
	assert_int_equal(store_seal_checkpoint(&s, &chunks), -1);
	assert_int_equal(errno, EBADF);
	free(p);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_size),
		cmocka_unit_test(test_cipher_default),
		cmocka_unit_test(test_roundtrip_chacha20),
		cmocka_unit_test(test_roundtrip_aes256gcm),
		cmocka_unit_test(test_layout_chacha20),
		cmocka_unit_test(test_layout_aes256gcm),
		cmocka_unit_test(test_fresh_salt_chacha20),
		cmocka_unit_test(test_fresh_salt_aes256gcm),
		cmocka_unit_test(test_header_bits_chacha20),
		cmocka_unit_test(test_header_bits_aes256gcm),
		cmocka_unit_test(test_bad_fields_chacha20),
		cmocka_unit_test(test_bad_fields_aes256gcm),
		cmocka_unit_test(test_chunk_bits_chacha20),
		cmocka_unit_test(test_chunk_bits_aes256gcm),
		cmocka_unit_test(test_swapped_chacha20),
		cmocka_unit_test(test_swapped_aes256gcm),
		cmocka_unit_test(test_truncated_chacha20),
		cmocka_unit_test(test_truncated_aes256gcm),
		cmocka_unit_test(test_truncated_to_empty_chacha20),
		cmocka_unit_test(test_truncated_to_empty_aes256gcm),
		cmocka_unit_test(test_appended_chacha20),
		cmocka_unit_test(test_appended_aes256gcm),
		cmocka_unit_test(test_foreign_parts_chacha20),
		cmocka_unit_test(test_foreign_parts_aes256gcm),
		cmocka_unit_test(test_wrong_key_chacha20),
		cmocka_unit_test(test_wrong_key_aes256gcm),
		cmocka_unit_test(test_read_past_end),
		cmocka_unit_test(test_short_file),
		cmocka_unit_test(test_seal_misuse),
		cmocka_unit_test(test_resume_chacha20),
		cmocka_unit_test(test_resume_aes256gcm),
		cmocka_unit_test(test_resume_misuse),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
