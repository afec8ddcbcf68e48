/*
 * scan_worker.h - the parent's side of one scanner worker: start it with a
 * private memory-backed temp directory and a socket on its descriptor 3,
 * send it jobs, stop it (gracefully or with SIGKILL) and clean up after it.
 * Used by okurud's scanner pool and by okuructl scan.
 */
#ifndef OKURU_SCAN_WORKER_H
#define OKURU_SCAN_WORKER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "scan_proto.h"

struct scan_worker {
	pid_t pid;
	int sock;
	char tmpdir[PATH_MAX];
};

/* scan_worker_config - the CONFIG message for conf's settings */
void scan_worker_config(const struct conf *c, int log_level, struct scan_msg_config *m);

/* scan_worker_tmpdir_ok - is dir on tmpfs or ramfs (never on a disk) */
int scan_worker_tmpdir_ok(const char *dir, char *err, size_t errlen);

/*
 * scan_worker_spawn - start program with cfg. Its temp directory is
 * cfg->tmpdir/okuru-scan.TAG.XXXXXX; TAG names the owner (one okurud
 * installation, or one okuructl run) so scan_worker_sweep can remove what
 * a killed owner left behind without touching anybody else's.
 */
int scan_worker_spawn(const char *program, const struct scan_msg_config *cfg, const char *tag,
		      struct scan_worker *w, char *err, size_t errlen);
int scan_worker_sweep(const char *parent, const char *tag);

/*
 * scan_worker_recv - wait up to timeout_ms for one message. 1 when one
 * arrived, 0 on timeout, -1 when the worker died or broke the protocol.
 */
int scan_worker_recv(struct scan_worker *w, int timeout_ms, union scan_msg *m);

/* key NULL: fd is a plain local file (okuructl scan) */
int scan_worker_send_job(struct scan_worker *w, uint64_t id, int fd, uint64_t size,
			 const unsigned char *key);

/*
 * scan_worker_stop - end the worker: close its socket and give it grace_ms
 * to exit, then SIGKILL (grace_ms 0: at once). Reaps it, removes its temp
 * directory, and returns its wait status.
 */
int scan_worker_stop(struct scan_worker *w, int grace_ms);

/* scan_worker_describe_exit - "exit 1", "signal 9 (Killed)" */
void scan_worker_describe_exit(int status, char *out, size_t outsz);

/* scan_db_is_sigfile - a name libclamav loads signatures from (cvd, cld, ndb, ...) */
int scan_db_is_sigfile(const char *name);

int scan_db_list(const char *dir, char ***names, size_t *n);
void scan_db_list_free(char **names, size_t n);

/* scan_db_fingerprint - changes whenever a signature file in dir does */
int scan_db_fingerprint(const char *dir, unsigned char out[32]);

#endif
