/*
 * tmpdir.h - a private temporary directory for a unit test, and its removal.
 *
 * The fixtures of test_keys, test_util and test_conf each work in their own
 * directory, $TMPDIR (or /tmp) / okuru-test-TAG-XXXXXX, made in setup and
 * removed in teardown with whatever the test left in it.
 */
#ifndef OKURU_TEST_TMPDIR_H
#define OKURU_TEST_TMPDIR_H

#include <limits.h>
#include <stddef.h>

int tmpdir_make(char *out, size_t outsz, const char *tag);
void tmpdir_remove(const char *dir);

/* The fixture test_keys and test_util share: a directory and an error buffer. */
struct tmpdir_fixture {
	char dir[256];
	char err[512];
};

int tmpdir_fixture_setup(void **state, const char *tag);
int tmpdir_fixture_teardown(void **state);
const char *tmpdir_fixture_path(struct tmpdir_fixture *fx, const char *name,
				char out[PATH_MAX]);

#endif
