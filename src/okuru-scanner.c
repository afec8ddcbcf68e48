/*
 * okuru-scanner.c - a scanner worker. Started by okurud (or okuructl scan)
 * with its end of a SOCK_SEQPACKET socket on descriptor 3; never run by
 * hand. It loads the engine and the magic database, locks itself down
 * (sandbox.c), says READY, then answers one JOB with one RESULT until the
 * socket closes.
 *
 * A job is a descriptor and, for a stored blob, the file's data key: the
 * plaintext is decrypted chunk by chunk inside libclamav's read callback
 * and never written anywhere. What libclamav extracts from archives goes
 * to the private temp directory okurud made for this worker (memory-backed).
 * The media type comes from libmagic, given the first SCAN_TYPE_BYTES of
 * the plaintext, read through the same callback into memory.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "scan_engine.h"
#include "scan_proto.h"
#include "scan_type.h"
#include "store.h"

/* The start of the file, for libmagic: static, so no allocation can fail. */
static unsigned char worker_head[SCAN_TYPE_BYTES];

struct reader {
	int fd;
	int plain;
	int failed;
	struct store_open o;
};

static off_t
worker_read(void *handle, void *buf, size_t count, off_t offset)
{
	struct reader *rd = handle;
	size_t got = 0;
	ssize_t n;

	if (offset < 0) {
		rd->failed = 1;
		return -1;
	}
	if (!rd->plain) {
		n = store_open_read(&rd->o, (uint64_t)offset, buf, count);
		if (n < 0) {
			rd->failed = 1;
			return -1;
		}
		return (off_t)n;
	}
	while (got < count) {
		n = pread(rd->fd, (char *)buf + got, count - got, offset + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rd->failed = 1;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (off_t)got;
}

static uint32_t
worker_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint32_t)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/*
 * worker_type - the media type of the first bytes of the file, read with
 * the scan's own reader. A failure leaves the type "" (unknown) and never
 * touches the verdict, which the scan alone decides.
 */
static void
worker_type(struct scan_type *ty, struct reader *rd, uint64_t size, struct scan_msg_result *res)
{
	size_t want = size < SCAN_TYPE_BYTES ? (size_t)size : SCAN_TYPE_BYTES, got = 0;
	int failed = rd->failed;
	off_t n;

	while (got < want) {
		n = worker_read(rd, worker_head + got, want - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	rd->failed = failed;
	if (got == want)
		scan_type_detect(ty, worker_head, got, res->media_type, sizeof(res->media_type));
	sodium_memzero(worker_head, got);
}

static void
worker_job(struct scan_engine *e, struct scan_type *ty, struct scan_msg_job *job, int fd,
	   struct scan_msg_result *res)
{
	struct reader rd;
	struct timespec t0;
	struct stat st;

	memset(res, 0, sizeof(*res));
	res->type = SCAN_MSG_RESULT;
	res->id = job->id;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rd, 0, sizeof(rd));
	rd.fd = fd;
	rd.plain = (job->flags & SCAN_JOB_PLAIN) != 0;
	rd.o.fd = -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		res->verdict = SCAN_ERROR;
		res->reason = SCAN_REASON_ENGINE;
		scan_strlcpy(res->detail, "not a regular file", sizeof(res->detail));
		return;
	}
	if (!rd.plain && (store_open_init(&rd.o, fd, job->key) != 0 || rd.o.size != job->size)) {
		store_open_free(&rd.o);
		res->verdict = SCAN_ERROR;
		res->reason = SCAN_REASON_INTEGRITY;
		scan_strlcpy(res->detail, "the stored file failed authentication",
			     sizeof(res->detail));
		return;
	}
	scan_engine_scan(e, &rd, (size_t)job->size, worker_read, &rd.failed, res);
	/* Infected, encrypted and failed files get their type too. */
	worker_type(ty, &rd, job->size, res);
	if (rd.plain && res->reason == SCAN_REASON_INTEGRITY)
		scan_strlcpy(res->detail, "the file could not be read", sizeof(res->detail));
	store_open_free(&rd.o);
	res->ms = worker_ms_since(&t0);
}

/* worker_cpu_spent - CPU seconds used so far */
static uint64_t
worker_cpu_spent(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return UINT64_MAX;
	return (uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec;
}

int
main(int argc, char **argv)
{
	union scan_msg m;
	struct scan_msg_config cfg;
	struct scan_msg_ready ready;
	struct scan_msg_loadfail lf;
	struct scan_engine *e = NULL;
	struct scan_type *ty = NULL;
	struct sandbox_limits lim;
	struct stat st;
	char err[SCAN_PATHMAX];
	ssize_t n;
	int fd, ll;

	(void)argv;
	if (argc != 1 || fstat(SCAN_WORKER_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "okuru-scanner: started by okurud and okuructl scan only\n");
		return 2;
	}
	log_open("okuru-scanner", 0);
	/* A temp file over RLIMIT_FSIZE fails the write (and so the scan)
	 * instead of killing us; either way the file is not clean. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return 1;
	n = scan_proto_recv(SCAN_WORKER_FD, &m, &fd);
	if (n <= 0 || m.type != SCAN_MSG_CONFIG || m.config.version != SCAN_PROTO_VERSION)
		return 1;
	cfg = m.config;
	cfg.database[sizeof(cfg.database) - 1] = '\0';
	cfg.tmpdir[sizeof(cfg.tmpdir) - 1] = '\0';
	log_set_level((int)cfg.log_level);

	memset(&lf, 0, sizeof(lf));
	lf.type = SCAN_MSG_LOADFAIL;
	memset(&lim, 0, sizeof(lim));
	lim.memory = cfg.memory_limit;
	lim.cpu = cfg.cpu_limit;
	lim.file_size = cfg.max_file_size + (1U << 20);
	lim.nofile = 64;
	/* Both parsers' data is opened and loaded here, before the sandbox
	 * forbids opening files, and counts against RLIMIT_AS. */
	if (sandbox_rlimits(&lim, err, sizeof(err)) != 0 ||
	    scan_engine_load(&cfg, &e, &ready, err, sizeof(err)) != 0 ||
	    scan_type_load(&ty, err, sizeof(err)) != 0) {
		scan_strlcpy(lf.reason, err, sizeof(lf.reason));
		scan_proto_send(SCAN_WORKER_FD, &lf, sizeof(lf), -1);
		scan_engine_free(e);
		return 1;
	}
	ready.magic = (uint32_t)scan_type_version();
	ll = sandbox_landlock(cfg.tmpdir, err, sizeof(err));
	if (ll == 0 && cfg.require_landlock)
		/* Without it the worker could open master.key by path. */
		snprintf(err, sizeof(err),
			 "the kernel has no Landlock (Linux 5.13+, lsm=landlock): a scanner "
			 "worker could open any file okuru can; set scanner.require_landlock = "
			 "false to run with seccomp and rlimits only");
	if (ll < 0 || (ll == 0 && cfg.require_landlock) ||
	    sandbox_seccomp(SCAN_WORKER_FD, err, sizeof(err)) != 0) {
		scan_strlcpy(lf.reason, err, sizeof(lf.reason));
		scan_proto_send(SCAN_WORKER_FD, &lf, sizeof(lf), -1);
		return 1;
	}
	ready.landlock = (uint32_t)ll;
	if (scan_proto_send(SCAN_WORKER_FD, &ready, sizeof(ready), -1) != 0)
		return 1;

	for (;;) {
		struct scan_msg_result res;

		n = scan_proto_recv(SCAN_WORKER_FD, &m, &fd);
		if (n == 0)
			break; /* okurud closed: retire */
		if (n < 0 || m.type != SCAN_MSG_JOB) {
			log_event(LOG_LVL_ERR, "scanner.protocol", "error=\"unexpected message\"");
			return 1;
		}
		worker_job(e, ty, &m.job, fd, &res);
		sodium_memzero(&m, sizeof(m));
		close(fd);
		/* Retire before RLIMIT_CPU could cut a scan short, and say so in the
		 * result, so no job is sent to a worker on its way out. */
		if (cfg.cpu_limit > 0 && worker_cpu_spent() >= cfg.cpu_limit / 2)
			res.flags |= SCAN_RESULT_RETIRING;
		if (scan_proto_send(SCAN_WORKER_FD, &res, sizeof(res), -1) != 0)
			return 1;
		if (res.flags & SCAN_RESULT_RETIRING)
			break;
	}
	/* _exit: nothing to flush, and no exit-time work (or leak checker)
	 * runs inside the seccomp filter. */
	_exit(0);
}
