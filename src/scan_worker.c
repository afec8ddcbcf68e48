/*
 * scan_worker.c - start, feed and stop one okuru-scanner process.
 *
 * The worker is a fresh program (posix_spawn), not a fork of okurud: a
 * fork would carry the master key, the database handle and the TLS key in
 * its memory. It inherits only descriptors 0-2 and its socket, and gets a
 * temp directory of its own on tmpfs, so nothing libclamav extracts from an
 * archive ever reaches a disk, and what one worker leaves behind (after a
 * crash) is removed before the next starts.
 */
#include "config.h" /* _GNU_SOURCE: posix_spawn_file_actions_addclosefrom_np */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan_worker.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

extern char **environ;

void
scan_worker_config(const struct conf *c, int log_level, struct scan_msg_config *m)
{
	memset(m, 0, sizeof(*m));
	m->type = SCAN_MSG_CONFIG;
	m->version = SCAN_PROTO_VERSION;
	m->max_scan_size = (uint64_t)c->clamav_max_scan_size;
	m->max_file_size = (uint64_t)c->clamav_max_file_size;
	m->max_recursion = (uint32_t)c->clamav_max_recursion;
	m->max_files = (uint32_t)c->clamav_max_files;
	/* libclamav stops itself a little before okurud would kill it, so a
	 * slow file is reported as over the time limit, not as a crash. */
	m->max_scan_time_ms = (uint32_t)(c->scanner_timeout > 10 ? (c->scanner_timeout - 5) * 1000
								 : c->scanner_timeout * 900);
	m->allow_test_signatures = (uint32_t)c->clamav_allow_test;
	m->log_level = (uint32_t)log_level;
	m->require_landlock = (uint32_t)c->scanner_require_landlock;
	m->memory_limit = (uint64_t)c->scanner_memory_limit;
	m->cpu_limit = (uint64_t)c->scanner_cpu_limit;
	scan_strlcpy(m->database, c->clamav_db, sizeof(m->database));
	/* the parent of the worker's own directory, made at spawn */
	scan_strlcpy(m->tmpdir, c->scanner_tmpdir, sizeof(m->tmpdir));
}

int
scan_worker_tmpdir_ok(const char *dir, char *err, size_t errlen)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0) {
		snprintf(err, errlen, "scanner.tmpdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((unsigned long)sf.f_type != TMPFS_MAGIC && (unsigned long)sf.f_type != RAMFS_MAGIC) {
		snprintf(err, errlen,
			 "scanner.tmpdir %s is not memory-backed (tmpfs): files extracted "
			 "from archives must never reach a disk",
			 dir);
		return -1;
	}
	return 0;
}

static int
scan_worker_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void
scan_worker_rmtree(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, scan_worker_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* scan_worker_sweep - remove PARENT/okuru-scan.TAG.* (left by a killed owner) */
int
scan_worker_sweep(const char *parent, const char *tag)
{
	char prefix[128], p[PATH_MAX];
	DIR *d = opendir(parent);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	snprintf(prefix, sizeof(prefix), "okuru-scan.%s.", tag);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
		scan_worker_rmtree(p);
		n++;
	}
	closedir(d);
	return n;
}

int
scan_worker_spawn(const char *program, const struct scan_msg_config *cfg0, const char *tag,
		  struct scan_worker *w, char *err, size_t errlen)
{
	struct scan_msg_config cfg = *cfg0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char parent[SCAN_PATHMAX];
	char *argv[] = {"okuru-scanner", NULL};
	int sv[2], r;

	memset(w, 0, sizeof(*w));
	w->pid = -1;
	w->sock = -1;
	scan_strlcpy(parent, cfg.tmpdir, sizeof(parent));
	if (scan_worker_tmpdir_ok(parent, err, errlen) != 0)
		return -1;
	if ((size_t)snprintf(w->tmpdir, sizeof(w->tmpdir), "%s/okuru-scan.%s.XXXXXX", parent, tag) >=
		    sizeof(cfg.tmpdir) ||
	    mkdtemp(w->tmpdir) == NULL) {
		snprintf(err, errlen, "cannot make a temp directory in %s: %s", parent,
			 strerror(errno));
		w->tmpdir[0] = '\0';
		return -1;
	}
	scan_strlcpy(cfg.tmpdir, w->tmpdir, sizeof(cfg.tmpdir));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail_dir;
	}
	/* dup2 onto itself would keep close-on-exec: keep the child end off 3. */
	if (sv[1] == SCAN_WORKER_FD) {
		int n = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
		close(sv[1]);
		sv[1] = n;
	}
	if (sv[0] == SCAN_WORKER_FD) {
		int n = fcntl(sv[0], F_DUPFD_CLOEXEC, 10);
		close(sv[0]);
		sv[0] = n;
	}
	if (sv[0] < 0 || sv[1] < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto fail_sock;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SCAN_WORKER_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, SCAN_WORKER_FD + 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&w->pid, program, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	sv[1] = -1;
	if (r != 0) {
		snprintf(err, errlen, "cannot start %s: %s", program, strerror(r));
		w->pid = -1;
		goto fail_sock;
	}
	w->sock = sv[0];
	if (scan_proto_send(w->sock, &cfg, sizeof(cfg), -1) != 0) {
		snprintf(err, errlen, "%s did not take its configuration: %s", program,
			 strerror(errno));
		scan_worker_stop(w, 0);
		return -1;
	}
	return 0;
fail_sock:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
fail_dir:
	scan_worker_rmtree(w->tmpdir);
	w->tmpdir[0] = '\0';
	return -1;
}

int
scan_worker_recv(struct scan_worker *w, int timeout_ms, union scan_msg *m)
{
	struct pollfd p = {.fd = w->sock, .events = POLLIN};
	ssize_t n;
	int fd, r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	n = scan_proto_recv(w->sock, m, &fd);
	if (n <= 0)
		return -1;
	/* Workers never send descriptors (scan_proto_recv refuses them). */
	return 1;
}

int
scan_worker_send_job(struct scan_worker *w, uint64_t id, int fd, uint64_t size,
		     const unsigned char *key)
{
	struct scan_msg_job j;
	int r;

	memset(&j, 0, sizeof(j));
	j.type = SCAN_MSG_JOB;
	j.id = id;
	j.size = size;
	if (key == NULL)
		j.flags = SCAN_JOB_PLAIN;
	else
		memcpy(j.key, key, SCAN_KEYBYTES);
	r = scan_proto_send(w->sock, &j, sizeof(j), fd);
	sodium_memzero(&j, sizeof(j));
	return r;
}

int
scan_worker_stop(struct scan_worker *w, int grace_ms)
{
	int status = 0, waited = 0;
	pid_t r = 0;

	if (w->sock >= 0) {
		close(w->sock);
		w->sock = -1;
	}
	if (w->pid > 0) {
		/* An idle worker exits as soon as it reads the end of its socket. */
		while (waited < grace_ms) {
			r = waitpid(w->pid, &status, WNOHANG);
			if (r != 0)
				break;
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			waited += 10;
		}
		if (r == 0) {
			kill(w->pid, SIGKILL);
			while ((r = waitpid(w->pid, &status, 0)) < 0 && errno == EINTR)
				;
		}
		w->pid = -1;
	}
	scan_worker_rmtree(w->tmpdir);
	w->tmpdir[0] = '\0';
	return status;
}

void
scan_worker_describe_exit(int status, char *out, size_t outsz)
{
	if (WIFEXITED(status))
		snprintf(out, outsz, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, outsz, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, outsz, "status %d", status);
}

int
scan_db_is_sigfile(const char *name)
{
	static const char *const ext[] = {
		"cvd", "cld", "cud", "hdb", "hsb", "hdu", "hsu", "mdb", "msb", "mdu", "msu",
		"ndb", "ndu", "ldb", "ldu", "sdb", "zmd", "rmd", "idb", "fp", "sfp", "gdb",
		"pdb", "wdb", "cbc", "ftm", "cfg", "cdb", "cat", "crb", "imp", "ign", "ign2",
		"pwdb", "yar", "yara", "info",
	};
	const char *dot = strrchr(name, '.');

	if (dot == NULL || name[0] == '.')
		return 0;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (strcmp(dot + 1, ext[i]) == 0)
			return 1;
	return 0;
}

static int
scan_db_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * scan_db_list - the signature files in dir, sorted by name; *names is an
 * array of *n strings the caller frees with scan_db_list_free. -1 with
 * errno when dir cannot be read or memory runs out.
 */
int
scan_db_list(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!scan_db_is_sigfile(e->d_name))
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nn = realloc(*names, nc * sizeof(**names));
			if (nn == NULL)
				goto fail;
			*names = nn;
			cap = nc;
		}
		if (((*names)[*n] = strdup(e->d_name)) == NULL)
			goto fail;
		(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), scan_db_cmp);
	return 0;
fail:
	closedir(d);
	scan_db_list_free(*names, *n);
	*names = NULL;
	*n = 0;
	errno = ENOMEM;
	return -1;
}

void
scan_db_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * scan_db_fingerprint - a digest of (name, size, mtime, inode) of every
 * signature file in dir. freshclam replaces a database by writing a new
 * file and renaming it, which changes all of these; its own state file
 * (freshclam.dat), rewritten on every run, is not a signature file and does
 * not count. okurud compares fingerprints and never opens a signature file
 * itself (it does not link libclamav at all).
 */
int
scan_db_fingerprint(const char *dir, unsigned char out[32])
{
	crypto_generichash_state h;
	char **names, p[PATH_MAX];
	size_t n;

	if (scan_db_list(dir, &names, &n) != 0)
		return -1;
	crypto_generichash_init(&h, NULL, 0, 32);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int64_t v[4] = {0, 0, 0, 0};
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (stat(p, &st) == 0) {
			v[0] = (int64_t)st.st_size;
			v[1] = (int64_t)st.st_mtim.tv_sec;
			v[2] = (int64_t)st.st_mtim.tv_nsec;
			v[3] = (int64_t)st.st_ino;
		}
		crypto_generichash_update(&h, (const unsigned char *)names[i], strlen(names[i]) + 1);
		crypto_generichash_update(&h, (const unsigned char *)v, sizeof(v));
	}
	scan_db_list_free(names, n);
	crypto_generichash_final(&h, out, 32);
	return 0;
}
