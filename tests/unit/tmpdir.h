/*
 * tmpdir.h - a private temporary directory for a unit test, and its removal.
 *
 * The fixtures of test_keys, test_util and test_conf each work in their own
 * directory, $TMPDIR (or /tmp) / okuru-test-TAG-XXXXXX, made in setup and
 * removed in teardown with whatever the test left in it.
 */
#ifndef OKURU_TEST_TMPDIR_H
#define OKURU_TEST_TMPDIR_H

#include <stddef.h>

int tmpdir_make(char *out, size_t outsz, const char *tag);
void tmpdir_remove(const char *dir);

#endif
