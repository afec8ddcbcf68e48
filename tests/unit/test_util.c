/*
 * test_util.c - unit tests for the small helpers: server ids (util_id_new,
 * util_id_valid), the file helpers (util_write_new_file never replaces and
 * applies its mode whatever the umask, util_read_small_file refuses a file
 * over its limit, util_pread_all treats a short file as an error), RFC 3339
 * time, and jsonutil.c's request body checks: nesting depth counted only
 * outside strings, and control characters. Files are made in a temporary
 * directory, removed afterwards.
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

#include "jsonutil.h"
#include "tmpdir.h"
#include "util.h"


static int
fx_setup(void **state)
{
	return tmpdir_fixture_setup(state, "util");
}

static int
fx_teardown(void **state)
{
	return tmpdir_fixture_teardown(state);
}

/* test_utf8_trim - a character cut short at the end goes, whole ones stay */
static void
test_utf8_trim(void **state)
{
	char a[] = "abc", b[] = "\xe6\x97\xa5\xe6\x9c", c[] = "\xe6\x97\xa5\xe6\x9c\xac",
	     d[] = "x\xf0\x9f\x98", e[] = "\xc3", f[] = "";

	(void)state;
	util_utf8_trim(a);
	assert_string_equal(a, "abc");
	util_utf8_trim(b);
	assert_string_equal(b, "\xe6\x97\xa5"); /* 日 kept, the half of 本 gone */
	util_utf8_trim(c);
	assert_string_equal(c, "\xe6\x97\xa5\xe6\x9c\xac");
	util_utf8_trim(d);
	assert_string_equal(d, "x");
	util_utf8_trim(e);
	assert_string_equal(e, "");
	util_utf8_trim(f);
	assert_string_equal(f, "");
}

static void
test_id_new(void **state)
{
	char a[UTIL_IDLEN + 1], b[UTIL_IDLEN + 1];

	memset(a, 'X', sizeof(a));
	util_id_new(a);
	assert_int_equal(strlen(a), UTIL_IDLEN);
	for (size_t i = 0; i < UTIL_IDLEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_true(util_id_valid(a));
	util_id_new(b);
	assert_true(util_id_valid(b));
	assert_string_not_equal(a, b);

	/* Over many ids every hex digit turns up, in every position's range. */
	{
		int seen[16] = {0};
		for (int n = 0; n < 64; n++) {
			util_id_new(a);
			for (size_t i = 0; i < UTIL_IDLEN; i++)
				seen[a[i] <= '9' ? a[i] - '0' : a[i] - 'a' + 10]++;
		}
		for (int d = 0; d < 16; d++)
			assert_true(seen[d] > 0);
	}
}

static void
test_id_valid(void **state)
{
	assert_true(util_id_valid("0123456789abcdef0123456789abcdef"));
	assert_true(util_id_valid("00000000000000000000000000000000"));
	assert_true(util_id_valid("ffffffffffffffffffffffffffffffff"));
	assert_false(util_id_valid(""));
	assert_false(util_id_valid("0123456789abcdef0123456789abcde"));   /* 31 */
	assert_false(util_id_valid("0123456789abcdef0123456789abcdef0")); /* 33 */
	assert_false(util_id_valid("0123456789ABCDEF0123456789abcdef"));  /* upper case */
	assert_false(util_id_valid("0123456789abcdeg0123456789abcdef"));
	assert_false(util_id_valid("0123456789abcdef0123456789abcde "));
	assert_false(util_id_valid(" 123456789abcdef0123456789abcdef"));
	assert_false(util_id_valid("../../../../../../../etc/passwd0"));
	assert_false(util_id_valid("0123456789abcdef/123456789abcdef"));
	assert_false(util_id_valid("0123456789abcdef0123456789abcdef\n"));
}

/* test_write_new_file - creates with the mode asked for, never replaces */
static void
test_write_new_file(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	unsigned char buf[64];
	size_t len = 0;
	struct stat st;
	mode_t old;

	tmpdir_fixture_path(fx, "a", path);
	assert_int_equal(util_write_new_file(path, "hello", 5, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(util_read_small_file(path, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);

	/* An existing file is refused and left alone. */
	errno = 0;
	assert_int_equal(util_write_new_file(path, "other", 5, 0644), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(util_read_small_file(path, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* The mode is applied whatever the umask says. */
	old = umask(077);
	assert_int_equal(util_write_new_file(tmpdir_fixture_path(fx, "b", path), "x", 1, 0644), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	old = umask(0);
	assert_int_equal(util_write_new_file(tmpdir_fixture_path(fx, "c", path), "", 0, 0640), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 0);

	/* A symbolic link is not followed, even a dangling one. */
	tmpdir_fixture_path(fx, "link", link);
	tmpdir_fixture_path(fx, "target", target);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(util_write_new_file(link, "x", 1, 0600), -1);
	assert_int_equal(lstat(target, &st), -1);

	/* a missing directory */
	errno = 0;
	assert_int_equal(util_write_new_file(tmpdir_fixture_path(fx, "no/such", path), "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);
}

/* test_read_small_file - up to max bytes, EFBIG beyond */
static void
test_read_small_file(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX];
	unsigned char buf[16];
	size_t len = 99;

	tmpdir_fixture_path(fx, "ten", path);
	assert_int_equal(util_write_new_file(path, "0123456789", 10, 0600), 0);
	assert_int_equal(util_read_small_file(path, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "0123456789", 10);
	len = 99;
	assert_int_equal(util_read_small_file(path, buf, 10, &len), 0);
	assert_int_equal(len, 10);
	len = 99;
	errno = 0;
	assert_int_equal(util_read_small_file(path, buf, 9, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(len, 99); /* untouched on failure */
	errno = 0;
	assert_int_equal(util_read_small_file(path, buf, 1, &len), -1);
	assert_int_equal(errno, EFBIG);

	tmpdir_fixture_path(fx, "empty", path);
	assert_int_equal(util_write_new_file(path, "", 0, 0600), 0);
	assert_int_equal(util_read_small_file(path, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);

	errno = 0;
	assert_int_equal(util_read_small_file(tmpdir_fixture_path(fx, "missing", path), buf, sizeof(buf), &len),
			 -1);
	assert_int_equal(errno, ENOENT);
}

/* test_io_all - util_write_all and util_pread_all, and a short file */
static void
test_io_all(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX];
	unsigned char big[100000], back[100000];
	int fd;

	randombytes_buf(big, sizeof(big));
	tmpdir_fixture_path(fx, "io", path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, big, sizeof(big)), 0);
	assert_int_equal(util_pread_all(fd, back, sizeof(back), 0), 0);
	assert_memory_equal(back, big, sizeof(big));
	assert_int_equal(util_pread_all(fd, back, 10, 99990), 0);
	assert_memory_equal(back, big + 99990, 10);
	errno = 0;
	assert_int_equal(util_pread_all(fd, back, 11, 99990), -1);
	assert_int_equal(errno, EIO);
	errno = 0;
	assert_int_equal(util_pread_all(fd, back, 1, 100000), -1);
	assert_int_equal(errno, EIO);
	close(fd);
	errno = 0;
	assert_int_equal(util_write_all(fd, big, 1), -1);
	assert_int_equal(errno, EBADF);
}

static void
test_time_iso(void **state)
{
	char out[32];

	util_time_iso(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	util_time_iso(951782400, out);
	assert_string_equal(out, "2000-02-29T00:00:00Z");
	util_time_iso(1700000000, out);
	assert_string_equal(out, "2023-11-14T22:13:20Z");
	util_time_iso(4102444799LL, out);
	assert_string_equal(out, "2099-12-31T23:59:59Z");

	/* util_now is now, and util_mono does not go backwards */
	assert_true(util_now() > 1700000000);
	double a = util_mono(), b = util_mono();
	assert_true(b >= a);
}

#define DEPTH_OK(s, max) assert_int_equal(jsonutil_depth_ok(s, sizeof(s) - 1, max), 0)
#define DEPTH_BAD(s, max) assert_int_equal(jsonutil_depth_ok(s, sizeof(s) - 1, max), -1)

static void
test_json_depth(void **state)
{
	DEPTH_OK("1", 0);
	DEPTH_OK("\"x\"", 0);
	DEPTH_BAD("[]", 0);
	DEPTH_OK("[]", 1);
	DEPTH_OK("[[[]]]", 3);
	DEPTH_BAD("[[[]]]", 2);
	DEPTH_OK("{\"a\":{\"b\":[1,2,{}]}}", 4);
	DEPTH_BAD("{\"a\":{\"b\":[1,2,{}]}}", 3);
	/* siblings do not add up */
	DEPTH_OK("[[1],[2],[3],{\"a\":1},{}]", 2);
	DEPTH_BAD("[[1],[2],[3],{\"a\":[]},{}]", 2);

	/* brackets inside strings are text */
	DEPTH_OK("[\"[[[[[[{{{{\"]", 1);
	DEPTH_OK("{\"[[[[\":\"]]]]{{{{\"}", 1);
	/* an escaped quote does not end the string ... */
	DEPTH_OK("[\"a\\\"[[[[\"]", 1);
	DEPTH_OK("[\"\\\\\\\"[[[[\"]", 1);
	/* ... but an escaped backslash before a quote does */
	DEPTH_BAD("[\"\\\\\",[[1]]]", 2);
	DEPTH_OK("[\"\\\\\",[[1]]]", 3);
	DEPTH_OK("[\"\\u005b\\n\",[]]", 2);

	/* only len bytes are looked at */
	assert_int_equal(jsonutil_depth_ok("[][[[[", 2, 1), 0);
	assert_int_equal(jsonutil_depth_ok("[][[[[", 6, 3), -1);

	/* deep nesting well past any sane limit */
	{
		char deep[4096];
		memset(deep, '[', 2048);
		memset(deep + 2048, ']', 2048);
		assert_int_equal(jsonutil_depth_ok(deep, sizeof(deep), 2048), 0);
		assert_int_equal(jsonutil_depth_ok(deep, sizeof(deep), 32), -1);
		/* the same brackets inside a string are fine */
		deep[0] = '"';
		deep[sizeof(deep) - 1] = '"';
		assert_int_equal(jsonutil_depth_ok(deep, sizeof(deep), 0), 0);
	}
}

static void
test_json_controls(void **state)
{
	assert_int_equal(jsonutil_has_controls("", 0), 0);
	assert_int_equal(jsonutil_has_controls("plain text", 0), 0);
	assert_int_equal(jsonutil_has_controls("報告書 2026年度", 0), 0);
	assert_int_equal(jsonutil_has_controls("a\nb", 0), 1);
	assert_int_equal(jsonutil_has_controls("a\nb", 1), 0);
	assert_int_equal(jsonutil_has_controls("a\r\nb", 1), 0);
	assert_int_equal(jsonutil_has_controls("a\tb", 0), 1);
	assert_int_equal(jsonutil_has_controls("a\tb", 1), 0);
	assert_int_equal(jsonutil_has_controls("a\x01" "b", 1), 1);
	assert_int_equal(jsonutil_has_controls("\x1b[2J", 1), 1);
	assert_int_equal(jsonutil_has_controls("a\x7f", 1), 1);
	assert_int_equal(jsonutil_has_controls("\x1f", 0), 1);
	/* bytes 0x80 and up are UTF-8, not controls, at this level */
	assert_int_equal(jsonutil_has_controls("\xc2\xa0\xff", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_trim),
	    cmocka_unit_test(test_id_new),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test_setup_teardown(test_write_new_file, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_small_file, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_io_all, fx_setup, fx_teardown),
		cmocka_unit_test(test_time_iso),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_controls),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
