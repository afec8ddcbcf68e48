/*
 * tmpdir.c - a private temporary directory for a unit test, and its removal.
 *
 * tmpdir_make() creates the directory with mkdtemp(), so it is new and mode
 * 0700. tmpdir_remove() is for teardown: it removes what the tests make
 * there (files, symbolic links, and directories at most two levels down,
 * never following a link) and then the directory, ignoring errors; a test
 * that leaves more than that behind leaves it in $TMPDIR.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

/* how many levels of subdirectories tmpdir_remove() goes down */
#define TMPDIR_DEPTH 2

/* tmpdir_make - create $TMPDIR-or-/tmp/okuru-test-TAG-XXXXXX; its name in out */
int
tmpdir_make(char *out, size_t outsz, const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(out, outsz, "%s/okuru-test-%s-XXXXXX", tmp, tag);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(out) == NULL)
		return -1;
	return 0;
}

/* tmpdir_empty - remove the entries of the open directory fd (closed here) */
static void
tmpdir_empty(int fd, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (d == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			continue;
		/* a directory: empty it first, if it is not too deep */
		if (depth > 0) {
			sub = openat(dirfd(d), e->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				tmpdir_empty(sub, depth - 1);
		}
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* tmpdir_remove - remove dir and what the test left in it */
void
tmpdir_remove(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		tmpdir_empty(fd, TMPDIR_DEPTH);
	rmdir(dir);
}

/* tmpdir_fixture_setup - a fresh fixture with its own directory, for cmocka setup */
int
tmpdir_fixture_setup(void **state, const char *tag)
{
	struct tmpdir_fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (tmpdir_make(fx->dir, sizeof(fx->dir), tag) != 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

/* tmpdir_fixture_teardown - remove everything the test made */
int
tmpdir_fixture_teardown(void **state)
{
	struct tmpdir_fixture *fx = *state;

	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* tmpdir_fixture_path - dir/name into out */
const char *
tmpdir_fixture_path(struct tmpdir_fixture *fx, const char *name, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", fx->dir, name);

	assert_true(n > 0 && n < PATH_MAX);
	return out;
}
