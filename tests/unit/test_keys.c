/*
 * test_keys.c - unit tests for the master keyring and data key wrapping
 * (keys.c): generating and loading a keyring, wrap/unwrap round trips, the
 * associated data binding a wrapped key to its master key id and file id,
 * rotation (a new key in front of the old one), and the key files that
 * must be refused: readable by others, a size that is not a whole number
 * of keys, empty, and an existing file that must not be overwritten. Each
 * test works in its own temporary directory, removed afterwards.
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

#include "keys.h"
#include "tmpdir.h"
#include "util.h"

static const char file_a[] = "0123456789abcdef0123456789abcdef";
static const char file_b[] = "fedcba9876543210fedcba9876543210";


static int
fx_setup(void **state)
{
	return tmpdir_fixture_setup(state, "keys");
}

static int
fx_teardown(void **state)
{
	return tmpdir_fixture_teardown(state);
}

/* write_keys - a key file of len raw bytes with the given mode */
static void
write_keys(const char *path, const unsigned char *data, size_t len, mode_t mode)
{
	assert_int_equal(util_write_new_file(path, data, len, mode), 0);
}

/* read_keys - the raw bytes of a key file */
static size_t
read_keys(const char *path, unsigned char *buf, size_t max)
{
	size_t len = 0;

	assert_int_equal(util_read_small_file(path, buf, max, &len), 0);
	return len;
}

static void
assert_is_key_id(const char *id)
{
	assert_int_equal(strlen(id), KEYS_IDLEN);
	for (size_t i = 0; i < KEYS_IDLEN; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
}

/* ring_new - generate master.key in the test's directory and load it */
static struct keyring *
ring_new(struct tmpdir_fixture *fx)
{
	char path[PATH_MAX];
	struct keyring *kr = NULL;

	tmpdir_fixture_path(fx, "master.key", path);
	assert_int_equal(keys_generate_file(path, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), 0);
	return kr;
}

/* ring_wrapped - ring_new(), and a new data key dk wrapped under it for file_a */
static struct keyring *
ring_wrapped(struct tmpdir_fixture *fx, unsigned char dk[KEYS_KEYBYTES],
	     unsigned char w[KEYS_WRAPPEDBYTES], char id[KEYS_IDLEN + 1])
{
	struct keyring *kr = ring_new(fx);

	keys_data_key_new(dk);
	assert_int_equal(keys_wrap(kr, file_a, dk, w, id), 0);
	return kr;
}

/* assert_unwraps - the wrapped key w still opens to dk, under id and file_a */
static void
assert_unwraps(const struct keyring *kr, const char *id, const unsigned char w[KEYS_WRAPPEDBYTES],
	       const unsigned char dk[KEYS_KEYBYTES])
{
	unsigned char got[KEYS_KEYBYTES];

	assert_int_equal(keys_unwrap(kr, id, file_a, w, KEYS_WRAPPEDBYTES, got), 0);
	assert_memory_equal(got, dk, KEYS_KEYBYTES);
}

/* test_generate_load - a new keyring is one 32-byte key, mode 0600, and loads */
static void
test_generate_load(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX], id[KEYS_IDLEN + 1];
	unsigned char raw[64];
	struct keyring *kr = NULL, *again = NULL;
	struct stat st;

	tmpdir_fixture_path(fx, "master.key", path);
	assert_int_equal(keys_generate_file(path, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, KEYS_KEYBYTES);
	assert_int_equal(read_keys(path, raw, sizeof(raw)), KEYS_KEYBYTES);
	assert_false(sodium_is_zero(raw, KEYS_KEYBYTES));

	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), 0);
	assert_non_null(kr);
	assert_is_key_id(keys_current_id(kr));
	snprintf(id, sizeof(id), "%s", keys_current_id(kr));

	/* The id is a function of the key: loading again gives the same one. */
	assert_int_equal(keys_load(path, &again, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(keys_current_id(again), id);
	keys_free(again);
	keys_free(kr);

	/* Another generated key has another id. */
	tmpdir_fixture_path(fx, "other.key", path);
	assert_int_equal(keys_generate_file(path, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), 0);
	assert_string_not_equal(keys_current_id(kr), id);
	keys_free(kr);
	keys_free(NULL);
}

/* test_roundtrip - wrap then unwrap gives the data key back */
static void
test_roundtrip(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char id[KEYS_IDLEN + 1];
	unsigned char dk[KEYS_KEYBYTES], dk2[KEYS_KEYBYTES], got[KEYS_KEYBYTES];
	unsigned char w1[KEYS_WRAPPEDBYTES], w2[KEYS_WRAPPEDBYTES];
	struct keyring *kr = ring_new(fx);

	keys_data_key_new(dk);
	keys_data_key_new(dk2);
	assert_memory_not_equal(dk, dk2, KEYS_KEYBYTES);
	memset(id, 'x', sizeof(id));
	assert_int_equal(keys_wrap(kr, file_a, dk, w1, id), 0);
	assert_string_equal(id, keys_current_id(kr));
	/* The data key does not appear in the clear. */
	assert_null(memmem(w1, sizeof(w1), dk, sizeof(dk)));

	memset(got, 0, sizeof(got));
	assert_int_equal(keys_unwrap(kr, id, file_a, w1, sizeof(w1), got), 0);
	assert_memory_equal(got, dk, KEYS_KEYBYTES);

	/* Wrapping again uses a fresh nonce; both unwrap. */
	assert_int_equal(keys_wrap(kr, file_a, dk, w2, id), 0);
	assert_memory_not_equal(w1, w2, sizeof(w1));
	memset(got, 0, sizeof(got));
	assert_int_equal(keys_unwrap(kr, id, file_a, w2, sizeof(w2), got), 0);
	assert_memory_equal(got, dk, KEYS_KEYBYTES);
	keys_free(kr);
}

/* test_unwrap_other_file - a wrapped key copied to another file's row fails */
static void
test_unwrap_other_file(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char id[KEYS_IDLEN + 1];
	unsigned char dk[KEYS_KEYBYTES], got[KEYS_KEYBYTES], w[KEYS_WRAPPEDBYTES];
	struct keyring *kr = ring_wrapped(fx, dk, w, id);

	memset(got, 0xaa, sizeof(got));
	assert_int_equal(keys_unwrap(kr, id, file_b, w, sizeof(w), got), -1);
	assert_true(sodium_is_zero(got, sizeof(got)));
	/* a prefix or an extension of the file id is another file id too */
	assert_int_equal(keys_unwrap(kr, id, "0123456789abcdef0123456789abcde", w, sizeof(w), got),
			 -1);
	assert_int_equal(
		keys_unwrap(kr, id, "0123456789abcdef0123456789abcdef0", w, sizeof(w), got), -1);
	assert_int_equal(keys_unwrap(kr, id, "", w, sizeof(w), got), -1);
	assert_unwraps(kr, id, w, dk);
	keys_free(kr);
}

/* test_unwrap_flipped - any changed byte of the wrapped key fails */
static void
test_unwrap_flipped(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char id[KEYS_IDLEN + 1];
	unsigned char dk[KEYS_KEYBYTES], got[KEYS_KEYBYTES], w[KEYS_WRAPPEDBYTES];
	struct keyring *kr = ring_wrapped(fx, dk, w, id);

	for (size_t i = 0; i < sizeof(w); i++) {
		w[i] ^= 0x01;
		memset(got, 0xaa, sizeof(got));
		assert_int_equal(keys_unwrap(kr, id, file_a, w, sizeof(w), got), -1);
		assert_true(sodium_is_zero(got, sizeof(got)));
		w[i] ^= 0x01;
	}
	/* wrong lengths */
	assert_int_equal(keys_unwrap(kr, id, file_a, w, sizeof(w) - 1, got), -1);
	assert_int_equal(keys_unwrap(kr, id, file_a, w, 0, got), -1);
	assert_unwraps(kr, id, w, dk);
	keys_free(kr);
}

/* test_unwrap_unknown_id - a key id not in the ring, or malformed, fails */
static void
test_unwrap_unknown_id(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char id[KEYS_IDLEN + 1], bad[KEYS_IDLEN + 2];
	unsigned char dk[KEYS_KEYBYTES], got[KEYS_KEYBYTES], w[KEYS_WRAPPEDBYTES];
	struct keyring *kr = ring_wrapped(fx, dk, w, id);

	snprintf(bad, sizeof(bad), "%s", id);
	bad[0] = bad[0] == '0' ? '1' : '0';
	assert_int_equal(keys_unwrap(kr, bad, file_a, w, sizeof(w), got), -1);
	assert_int_equal(keys_unwrap(kr, "0000000000000000", file_a, w, sizeof(w), got), -1);
	/* the right id, one digit short or one too long */
	snprintf(bad, sizeof(bad), "%.*s", (int)KEYS_IDLEN - 1, id);
	assert_int_equal(keys_unwrap(kr, bad, file_a, w, sizeof(w), got), -1);
	snprintf(bad, sizeof(bad), "%s0", id);
	assert_int_equal(keys_unwrap(kr, bad, file_a, w, sizeof(w), got), -1);
	assert_int_equal(keys_unwrap(kr, "", file_a, w, sizeof(w), got), -1);
	assert_unwraps(kr, id, w, dk);
	keys_free(kr);
}

/*
 * test_rotation - a new key prepended to the file: old wrapped keys still
 * unwrap, new ones are wrapped under the new key, which the old keyring
 * does not know.
 */
static void
test_rotation(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char oldpath[PATH_MAX], newpath[PATH_MAX], ringpath[PATH_MAX];
	char oldid[KEYS_IDLEN + 1], newid[KEYS_IDLEN + 1], id[KEYS_IDLEN + 1];
	unsigned char ring[3 * KEYS_KEYBYTES], raw[KEYS_KEYBYTES];
	unsigned char dk1[KEYS_KEYBYTES], dk2[KEYS_KEYBYTES], got[KEYS_KEYBYTES];
	unsigned char w1[KEYS_WRAPPEDBYTES], w2[KEYS_WRAPPEDBYTES];
	struct keyring *oldkr, *newkr, *onlynew;

	tmpdir_fixture_path(fx, "old.key", oldpath);
	tmpdir_fixture_path(fx, "new.key", newpath);
	tmpdir_fixture_path(fx, "ring.key", ringpath);
	assert_int_equal(keys_generate_file(oldpath, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(keys_generate_file(newpath, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(keys_load(oldpath, &oldkr, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(keys_load(newpath, &onlynew, fx->err, sizeof(fx->err)), 0);
	snprintf(oldid, sizeof(oldid), "%s", keys_current_id(oldkr));
	snprintf(newid, sizeof(newid), "%s", keys_current_id(onlynew));
	assert_string_not_equal(oldid, newid);

	keys_data_key_new(dk1);
	assert_int_equal(keys_wrap(oldkr, file_a, dk1, w1, id), 0);
	assert_string_equal(id, oldid);

	/* ring = new key || old key */
	assert_int_equal(read_keys(newpath, raw, sizeof(raw)), KEYS_KEYBYTES);
	memcpy(ring, raw, KEYS_KEYBYTES);
	assert_int_equal(read_keys(oldpath, raw, sizeof(raw)), KEYS_KEYBYTES);
	memcpy(ring + KEYS_KEYBYTES, raw, KEYS_KEYBYTES);
	write_keys(ringpath, ring, 2 * KEYS_KEYBYTES, 0600);
	assert_int_equal(keys_load(ringpath, &newkr, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(keys_current_id(newkr), newid);

	/* The old wrapped key still unwraps with the rotated ring. */
	memset(got, 0, sizeof(got));
	assert_int_equal(keys_unwrap(newkr, oldid, file_a, w1, sizeof(w1), got), 0);
	assert_memory_equal(got, dk1, sizeof(dk1));
	/* ... but only under its own key id. */
	assert_int_equal(keys_unwrap(newkr, newid, file_a, w1, sizeof(w1), got), -1);

	/* New keys are wrapped under the new current key. */
	keys_data_key_new(dk2);
	assert_int_equal(keys_wrap(newkr, file_b, dk2, w2, id), 0);
	assert_string_equal(id, newid);
	memset(got, 0, sizeof(got));
	assert_int_equal(keys_unwrap(newkr, newid, file_b, w2, sizeof(w2), got), 0);
	assert_memory_equal(got, dk2, sizeof(dk2));
	assert_int_equal(keys_unwrap(onlynew, newid, file_b, w2, sizeof(w2), got), 0);
	assert_memory_equal(got, dk2, sizeof(dk2));
	assert_int_equal(keys_unwrap(oldkr, newid, file_b, w2, sizeof(w2), got), -1);
	/* the new key cannot open the old wrapped key */
	assert_int_equal(keys_unwrap(onlynew, oldid, file_a, w1, sizeof(w1), got), -1);

	sodium_memzero(ring, sizeof(ring));
	sodium_memzero(raw, sizeof(raw));
	keys_free(oldkr);
	keys_free(newkr);
	keys_free(onlynew);
}

/* test_refuse_mode - a key file others can read or write is refused */
static void
test_refuse_mode(void **state)
{
	static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0660, 0610, 0601};
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX];
	struct keyring *kr = NULL;

	tmpdir_fixture_path(fx, "master.key", path);
	assert_int_equal(keys_generate_file(path, fx->err, sizeof(fx->err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(path, bad[i]), 0);
		fx->err[0] = '\0';
		assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
		assert_null(kr);
		assert_non_null(strstr(fx->err, "0600"));
	}
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "is 0644"));

	/* stricter than 0600 is fine */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), 0);
	keys_free(kr);
}

/* test_refuse_size - not a whole number of keys, empty, or too many keys */
static void
test_refuse_size(void **state)
{
	struct tmpdir_fixture *fx = *state;
	unsigned char buf[(KEYS_MAX + 1) * KEYS_KEYBYTES];
	char path[PATH_MAX];
	struct keyring *kr = NULL;

	randombytes_buf(buf, sizeof(buf));

	write_keys(tmpdir_fixture_path(fx, "33.key", path), buf, 33, 0600);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
	assert_null(kr);
	assert_non_null(strstr(fx->err, "size 33"));

	write_keys(tmpdir_fixture_path(fx, "31.key", path), buf, 31, 0600);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
	assert_null(kr);

	write_keys(tmpdir_fixture_path(fx, "empty.key", path), buf, 0, 0600);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
	assert_null(kr);
	assert_non_null(strstr(fx->err, "size 0"));

	write_keys(tmpdir_fixture_path(fx, "17.key", path), buf, (KEYS_MAX + 1) * KEYS_KEYBYTES, 0600);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
	assert_null(kr);
	assert_non_null(strstr(fx->err, "more than 16 keys"));

	/* 16 keys is the most, and is fine */
	write_keys(tmpdir_fixture_path(fx, "16.key", path), buf, KEYS_MAX * KEYS_KEYBYTES, 0600);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), 0);
	keys_free(kr);
	kr = NULL;

	/* missing, and not a regular file */
	assert_int_equal(keys_load(tmpdir_fixture_path(fx, "missing.key", path), &kr, fx->err,
				   sizeof(fx->err)),
			 -1);
	assert_null(kr);
	assert_non_null(strstr(fx->err, "No such file"));
	assert_int_equal(mkdir(tmpdir_fixture_path(fx, "dir.key", path), 0700), 0);
	assert_int_equal(keys_load(path, &kr, fx->err, sizeof(fx->err)), -1);
	assert_null(kr);
	sodium_memzero(buf, sizeof(buf));
}

/* test_generate_no_overwrite - an existing key file is never replaced */
static void
test_generate_no_overwrite(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	unsigned char before[KEYS_KEYBYTES], after[KEYS_KEYBYTES + 1];
	struct stat st;

	tmpdir_fixture_path(fx, "master.key", path);
	assert_int_equal(keys_generate_file(path, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(read_keys(path, before, sizeof(before)), KEYS_KEYBYTES);
	fx->err[0] = '\0';
	errno = 0;
	assert_int_equal(keys_generate_file(path, fx->err, sizeof(fx->err)), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(fx->err, path));
	assert_int_equal(read_keys(path, after, sizeof(after)), KEYS_KEYBYTES);
	assert_memory_equal(before, after, KEYS_KEYBYTES);

	/* nor is a symbolic link followed to create one elsewhere */
	tmpdir_fixture_path(fx, "link.key", link);
	tmpdir_fixture_path(fx, "target.key", target);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(keys_generate_file(link, fx->err, sizeof(fx->err)), -1);
	assert_int_equal(lstat(target, &st), -1);
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_load, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unwrap_other_file, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unwrap_flipped, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unwrap_unknown_id, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rotation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_mode, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_size, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_generate_no_overwrite, fx_setup, fx_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
