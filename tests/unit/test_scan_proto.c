/*
 * test_scan_proto.c - unit tests for the scanner's message layer
 * (scan_proto.c), over a real SOCK_SEQPACKET socket pair: every message type
 * round-trips with its exact size; a JOB carries one descriptor that refers
 * to the same open file, and close-on-exec is set on the received copy. Then
 * the misuse cases, sent with raw sendmsg() where scan_proto_send() would not
 * produce them: a JOB without a descriptor, a descriptor on any other type,
 * a wrong size for the type, an unknown type, a packet too short to hold a
 * type, one bigger than union scan_msg, two or five descriptors at once, and
 * a control message that is not SCM_RIGHTS. Each is refused with EPROTO and
 * no received descriptor stays open (counted in /proc/self/fd), and the
 * socket stays in step: the next good message still arrives whole. Last,
 * peer close, a send to a closed peer, the verdict and reason names and
 * scan_strlcpy(). A RESULT's text is checked on receipt: detail and media
 * type always end in NUL, and a media type that is not one (scan_type_ok:
 * upper case, parameters, spaces, control or non-ASCII bytes, a missing
 * part, too long) arrives empty while the verdict arrives unchanged.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan_proto.h"

/* what a JOB's descriptor points at */
static const char job_content[] = "okuru scan_proto job payload\n";

struct fx {
	int sv[2]; /* sv[0] the parent's end, sv[1] the worker's */
	int file;  /* an unlinked temporary file holding job_content, or -1 */
};

static int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	ssize_t n;

	if (fx == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fx->sv) != 0) {
		free(fx);
		return -1;
	}
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/okuru-test-scanproto-XXXXXX", tmp);
	fx->file = mkostemp(path, O_CLOEXEC);
	if (fx->file < 0) {
		close(fx->sv[0]);
		close(fx->sv[1]);
		free(fx);
		return -1;
	}
	unlink(path);
	n = write(fx->file, job_content, sizeof(job_content) - 1);
	if (n != (ssize_t)(sizeof(job_content) - 1)) {
		close(fx->file);
		close(fx->sv[0]);
		close(fx->sv[1]);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->sv[0] >= 0)
		close(fx->sv[0]);
	if (fx->sv[1] >= 0)
		close(fx->sv[1]);
	if (fx->file >= 0)
		close(fx->file);
	free(fx);
	return 0;
}

/* fd_count - how many descriptors this process has open */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* raw_send - one packet of len bytes with nfds descriptors, bypassing scan_proto_send */
static void
raw_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(8 * sizeof(int))];
	} cm;

	assert_true(nfds <= 8);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* expect_eproto - the next packet on sock is refused, and no descriptor is left behind */
static void
expect_eproto(int sock, int fds_before)
{
	union scan_msg m;
	int fd = 1234;

	errno = 0;
	assert_int_equal(scan_proto_recv(sock, &m, &fd), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(fd_count(), fds_before);
}

/* expect_loadfail - the socket is still in step: a good message arrives whole */
static void
expect_loadfail(struct fx *fx)
{
	struct scan_msg_loadfail lf;
	union scan_msg m;
	int fd = 1234;

	memset(&lf, 0, sizeof(lf));
	lf.type = SCAN_MSG_LOADFAIL;
	scan_strlcpy(lf.reason, "still in step", sizeof(lf.reason));
	assert_int_equal(scan_proto_send(fx->sv[1], &lf, sizeof(lf), -1), 0);
	assert_int_equal(scan_proto_recv(fx->sv[0], &m, &fd), (ssize_t)sizeof(lf));
	assert_int_equal(fd, -1);
	assert_int_equal(m.type, SCAN_MSG_LOADFAIL);
	assert_string_equal(m.loadfail.reason, "still in step");
}

/* roundtrip - msg sent one way comes out the other, same size and bytes, no descriptor */
static void
roundtrip(int from, int to, const void *msg, size_t len)
{
	union scan_msg m;
	int fd = 1234;

	assert_int_equal(scan_proto_send(from, msg, len, -1), 0);
	assert_int_equal(scan_proto_recv(to, &m, &fd), (ssize_t)len);
	assert_int_equal(fd, -1);
	assert_memory_equal(&m, msg, len);
}

static void
test_roundtrip_config(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_config c;
	union scan_msg m;
	int fd;

	memset(&c, 0, sizeof(c));
	c.type = SCAN_MSG_CONFIG;
	c.version = SCAN_PROTO_VERSION;
	c.max_scan_size = 400ULL << 20;
	c.max_file_size = 100ULL << 20;
	c.max_recursion = 17;
	c.max_files = 10000;
	c.max_scan_time_ms = 120000;
	c.allow_test_signatures = 1;
	c.log_level = 3;
	c.memory_limit = 1ULL << 31;
	c.cpu_limit = 600;
	scan_strlcpy(c.database, "/var/lib/okuru/clamav", sizeof(c.database));
	scan_strlcpy(c.tmpdir, "/run/okuru/scan-1", sizeof(c.tmpdir));
	c.tmpdir[sizeof(c.tmpdir) - 2] = 'z'; /* the far end of the struct too */
	roundtrip(fx->sv[0], fx->sv[1], &c, sizeof(c));

	/* and the fields read back through the union */
	assert_int_equal(scan_proto_send(fx->sv[0], &c, sizeof(c), -1), 0);
	assert_int_equal(scan_proto_recv(fx->sv[1], &m, &fd), (ssize_t)sizeof(c));
	assert_int_equal(m.config.version, SCAN_PROTO_VERSION);
	assert_true(m.config.memory_limit == 1ULL << 31);
	assert_string_equal(m.config.database, "/var/lib/okuru/clamav");
	assert_int_equal(m.config.tmpdir[sizeof(c.tmpdir) - 2], 'z');
}

static void
test_roundtrip_ready(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_ready r;

	memset(&r, 0, sizeof(r));
	r.type = SCAN_MSG_READY;
	r.signatures = 8712345;
	r.official = 1;
	r.landlock = 1;
	scan_strlcpy(r.engine, "ClamAV 1.4.6", sizeof(r.engine));
	memset(r.db_version, 'v', sizeof(r.db_version) - 1);
	roundtrip(fx->sv[1], fx->sv[0], &r, sizeof(r));
}

static void
test_roundtrip_loadfail(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_loadfail lf;

	memset(&lf, 0, sizeof(lf));
	lf.type = SCAN_MSG_LOADFAIL;
	scan_strlcpy(lf.reason, "cl_load: Can't open file or directory", sizeof(lf.reason));
	roundtrip(fx->sv[1], fx->sv[0], &lf, sizeof(lf));
}

static void
test_roundtrip_result(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_result r;

	memset(&r, 0, sizeof(r));
	r.type = SCAN_MSG_RESULT;
	r.verdict = SCAN_INFECTED;
	r.id = 0x0123456789abcdefULL;
	r.reason = SCAN_REASON_NONE;
	r.ms = 42;
	scan_strlcpy(r.detail, "Eicar-Signature", sizeof(r.detail));
	scan_strlcpy(r.media_type, "application/x-dosexec", sizeof(r.media_type));
	roundtrip(fx->sv[1], fx->sv[0], &r, sizeof(r));
}

/* result_recv - send r raw (scan_proto_send checks nothing) and receive it */
static void
result_recv(struct fx *fx, const struct scan_msg_result *r, union scan_msg *m)
{
	int fd = 1234;

	raw_send(fx->sv[1], r, sizeof(*r), NULL, 0);
	assert_int_equal(scan_proto_recv(fx->sv[0], m, &fd), (ssize_t)sizeof(*r));
	assert_int_equal(fd, -1);
	assert_int_equal(m->type, SCAN_MSG_RESULT);
}

/* test_result_text_checked - unterminated text is cut, a bad media type emptied */
static void
test_result_text_checked(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_result r;
	union scan_msg m;
	static const char *const bad[] = {
	    "Application/PDF",		/* okuru stores lower case only */
	    "text/plain; charset=us-ascii",
	    "text/plain\n",
	    "text/ plain",
	    "application/",
	    "/pdf",
	    "application",
	    "application/pdf/x",
	    "-x/pdf",
	    "application/.pdf",
	    "data",
	    "cannot open `x' (No such file or directory)",
	    "text/plain\x7f",
	    "image/\xe3\x81\x82",
	    "",
	};
	static const char *const good[] = {
	    "application/pdf",
	    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	    "application/x-7z-compressed",
	    "image/svg+xml",
	    "text/x-c++",
	    "application/vnd.ms-excel",
	    "application/x-empty",
	    "a/b",
	};

	memset(&r, 0, sizeof(r));
	r.type = SCAN_MSG_RESULT;
	r.verdict = SCAN_CLEAN;
	r.id = 5;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(r.media_type, 0, sizeof(r.media_type));
		scan_strlcpy(r.media_type, bad[i], sizeof(r.media_type));
		result_recv(fx, &r, &m);
		assert_string_equal(m.result.media_type, "");
		assert_int_equal(m.result.verdict, SCAN_CLEAN);
		assert_true(m.result.id == 5);
		assert_false(scan_type_ok(bad[i]));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(r.media_type, 0, sizeof(r.media_type));
		scan_strlcpy(r.media_type, good[i], sizeof(r.media_type));
		result_recv(fx, &r, &m);
		assert_string_equal(m.result.media_type, good[i]);
		assert_true(scan_type_ok(good[i]));
	}

	/* no NUL anywhere: detail is cut to fit, a media type is dropped */
	memset(r.detail, 'd', sizeof(r.detail));
	memset(r.media_type, 'a', sizeof(r.media_type));
	r.media_type[1] = '/';
	result_recv(fx, &r, &m);
	assert_int_equal(strlen(m.result.detail), sizeof(r.detail) - 1);
	assert_string_equal(m.result.media_type, "");

	/* the longest that fits (127 bytes) passes; scan_type_ok refuses 128 */
	{
		char t[SCAN_TYPEMAX + 1];

		memset(t, 'x', sizeof(t));
		t[0] = 'a';
		t[1] = '/';
		t[SCAN_TYPEMAX - 1] = '\0';
		assert_true(scan_type_ok(t));
		memset(r.media_type, 0, sizeof(r.media_type));
		memcpy(r.media_type, t, SCAN_TYPEMAX);
		result_recv(fx, &r, &m);
		assert_string_equal(m.result.media_type, t);
		t[SCAN_TYPEMAX - 1] = 'x';
		t[SCAN_TYPEMAX] = '\0';
		assert_false(scan_type_ok(t));
	}

	/* bytes after the terminator do not matter */
	memset(r.media_type, 'q', sizeof(r.media_type));
	memcpy(r.media_type, "text/csv", 9);
	result_recv(fx, &r, &m);
	assert_string_equal(m.result.media_type, "text/csv");
	expect_loadfail(fx);
}

/* test_job_fd - the descriptor arrives as a new one on the same open file, close-on-exec */
static void
test_job_fd(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_job j;
	union scan_msg m;
	struct stat a, b;
	char buf[sizeof(job_content)];
	int fd = -1;

	memset(&j, 0, sizeof(j));
	j.type = SCAN_MSG_JOB;
	j.flags = SCAN_JOB_PLAIN;
	j.id = 77;
	j.size = sizeof(job_content) - 1;
	for (size_t i = 0; i < sizeof(j.key); i++)
		j.key[i] = (unsigned char)(0xa0 + i);
	assert_int_equal(scan_proto_send(fx->sv[0], &j, sizeof(j), fx->file), 0);
	assert_int_equal(scan_proto_recv(fx->sv[1], &m, &fd), (ssize_t)sizeof(j));
	assert_memory_equal(&m, &j, sizeof(j));
	assert_true(fd >= 0);
	assert_int_not_equal(fd, fx->file);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fstat(fx->file, &a), 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_dev == b.st_dev);
	assert_true(a.st_ino == b.st_ino);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), (ssize_t)(sizeof(job_content) - 1));
	assert_string_equal(buf, job_content);
	/* the same open file description: the offset is shared */
	assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
	assert_int_equal(lseek(fx->file, 0, SEEK_CUR), 5);
	close(fd);
}

static void
test_job_without_fd(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_job j;
	int before = fd_count();

	memset(&j, 0, sizeof(j));
	j.type = SCAN_MSG_JOB;
	assert_int_equal(scan_proto_send(fx->sv[0], &j, sizeof(j), -1), 0);
	expect_eproto(fx->sv[1], before);
	expect_loadfail(fx);
}

/* test_fd_on_other_types - refused on every type but JOB, and the descriptor is closed */
static void
test_fd_on_other_types(void **state)
{
	struct fx *fx = *state;
	union scan_msg m;
	static const struct {
		uint32_t type;
		size_t len;
	} t[] = {
	    {SCAN_MSG_CONFIG, sizeof(struct scan_msg_config)},
	    {SCAN_MSG_READY, sizeof(struct scan_msg_ready)},
	    {SCAN_MSG_LOADFAIL, sizeof(struct scan_msg_loadfail)},
	    {SCAN_MSG_RESULT, sizeof(struct scan_msg_result)},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int before = fd_count();

		memset(&m, 0, sizeof(m));
		m.type = t[i].type;
		/* the same message without a descriptor would be accepted */
		roundtrip(fx->sv[1], fx->sv[0], &m, t[i].len);
		assert_int_equal(scan_proto_send(fx->sv[1], &m, t[i].len, fx->file), 0);
		expect_eproto(fx->sv[0], before);
	}
	expect_loadfail(fx);
}

/* test_wrong_size - a size that does not match the type, an unknown type, a runt */
static void
test_wrong_size(void **state)
{
	struct fx *fx = *state;
	union scan_msg m;
	unsigned char buf[sizeof(union scan_msg)];
	int before = fd_count();
	uint32_t type;

	/* a RESULT one byte short, and one byte long */
	memset(&m, 0, sizeof(m));
	m.type = SCAN_MSG_RESULT;
	raw_send(fx->sv[1], &m, sizeof(struct scan_msg_result) - 1, NULL, 0);
	expect_eproto(fx->sv[0], before);
	raw_send(fx->sv[1], &m, sizeof(struct scan_msg_result) + 1, NULL, 0);
	expect_eproto(fx->sv[0], before);

	/* a RESULT the size of a LOADFAIL, and a READY the size of a CONFIG */
	raw_send(fx->sv[1], &m, sizeof(struct scan_msg_loadfail), NULL, 0);
	expect_eproto(fx->sv[0], before);
	m.type = SCAN_MSG_READY;
	raw_send(fx->sv[1], &m, sizeof(struct scan_msg_config), NULL, 0);
	expect_eproto(fx->sv[0], before);

	/* a JOB one byte short, with its descriptor: refused, and the descriptor closed */
	m.type = SCAN_MSG_JOB;
	raw_send(fx->sv[0], &m, sizeof(struct scan_msg_job) - 1, &fx->file, 1);
	expect_eproto(fx->sv[1], before);

	/* unknown types, at the size of a real message */
	memset(buf, 0, sizeof(buf));
	type = 0;
	memcpy(buf, &type, sizeof(type));
	raw_send(fx->sv[1], buf, sizeof(struct scan_msg_result), NULL, 0);
	expect_eproto(fx->sv[0], before);
	type = SCAN_MSG_RESULT + 1;
	memcpy(buf, &type, sizeof(type));
	raw_send(fx->sv[1], buf, sizeof(struct scan_msg_result), NULL, 0);
	expect_eproto(fx->sv[0], before);
	type = UINT32_MAX;
	memcpy(buf, &type, sizeof(type));
	raw_send(fx->sv[1], buf, sizeof(struct scan_msg_config), NULL, 0);
	expect_eproto(fx->sv[0], before);

	/* too short to hold a type: 2 bytes, and 3 */
	buf[0] = SCAN_MSG_READY;
	raw_send(fx->sv[1], buf, 2, NULL, 0);
	expect_eproto(fx->sv[0], before);
	raw_send(fx->sv[1], buf, 3, NULL, 0);
	expect_eproto(fx->sv[0], before);

	/* just the type */
	type = SCAN_MSG_READY;
	memcpy(buf, &type, sizeof(type));
	raw_send(fx->sv[1], buf, sizeof(type), NULL, 0);
	expect_eproto(fx->sv[0], before);

	expect_loadfail(fx);
}

/* test_oversize - a packet bigger than any message is cut (MSG_TRUNC) and refused */
static void
test_oversize(void **state)
{
	struct fx *fx = *state;
	unsigned char *big;
	size_t len = sizeof(union scan_msg) + 1;
	uint32_t type = SCAN_MSG_CONFIG;
	int before = fd_count();

	/* its first sizeof(union scan_msg) bytes alone would be a good CONFIG */
	assert_int_equal(sizeof(union scan_msg), sizeof(struct scan_msg_config));
	big = calloc(1, len + 4096);
	assert_non_null(big);
	memcpy(big, &type, sizeof(type));
	raw_send(fx->sv[0], big, len, NULL, 0);
	expect_eproto(fx->sv[1], before);

	/* much bigger, as a JOB with its descriptor */
	type = SCAN_MSG_JOB;
	memcpy(big, &type, sizeof(type));
	raw_send(fx->sv[0], big, len + 4096, &fx->file, 1);
	expect_eproto(fx->sv[1], before);
	free(big);

	/* the rest of the cut packets was dropped, not read as the next message */
	{
		struct scan_msg_job j;
		union scan_msg m;
		int fd = -1;

		memset(&j, 0, sizeof(j));
		j.type = SCAN_MSG_JOB;
		j.id = 9;
		assert_int_equal(scan_proto_send(fx->sv[0], &j, sizeof(j), fx->file), 0);
		assert_int_equal(scan_proto_recv(fx->sv[1], &m, &fd), (ssize_t)sizeof(j));
		assert_true(fd >= 0);
		assert_true(m.job.id == 9);
		close(fd);
	}
}

/* test_many_fds - two descriptors on a JOB are refused and both closed; five overflow */
static void
test_many_fds(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_job j;
	int fds[5], devnull, before;

	memset(&j, 0, sizeof(j));
	j.type = SCAN_MSG_JOB;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(devnull >= 0);
	before = fd_count();
	fds[0] = fx->file;
	fds[1] = devnull;
	raw_send(fx->sv[0], &j, sizeof(j), fds, 2);
	expect_eproto(fx->sv[1], before);

	/* the same descriptor twice */
	fds[1] = fx->file;
	raw_send(fx->sv[0], &j, sizeof(j), fds, 2);
	expect_eproto(fx->sv[1], before);

	/* more than scan_proto_recv() has room for: MSG_CTRUNC */
	for (size_t i = 0; i < 5; i++)
		fds[i] = i % 2 == 0 ? fx->file : devnull;
	raw_send(fx->sv[0], &j, sizeof(j), fds, 5);
	expect_eproto(fx->sv[1], before);
	close(devnull);
}

/* test_foreign_cmsg - a control message other than SCM_RIGHTS (credentials) is refused */
static void
test_foreign_cmsg(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_ready r;
	struct scan_msg_job j;
	int one = 1, before = fd_count();

	memset(&r, 0, sizeof(r));
	r.type = SCAN_MSG_READY;
	roundtrip(fx->sv[1], fx->sv[0], &r, sizeof(r));
	/* with SO_PASSCRED every packet comes with SCM_CREDENTIALS */
	assert_int_equal(setsockopt(fx->sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	assert_int_equal(scan_proto_send(fx->sv[1], &r, sizeof(r), -1), 0);
	expect_eproto(fx->sv[0], before);

	/* and a good JOB with its descriptor, plus credentials: the descriptor is closed */
	assert_int_equal(setsockopt(fx->sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	memset(&j, 0, sizeof(j));
	j.type = SCAN_MSG_JOB;
	assert_int_equal(scan_proto_send(fx->sv[0], &j, sizeof(j), fx->file), 0);
	expect_eproto(fx->sv[1], before);
}

/* test_empty_with_fd - an empty packet carrying a descriptor is refused, not "closed" */
static void
test_empty_with_fd(void **state)
{
	struct fx *fx = *state;
	int before = fd_count();
	char nothing = 0;

	raw_send(fx->sv[0], &nothing, 0, &fx->file, 1);
	expect_eproto(fx->sv[1], before);
	expect_loadfail(fx);
}

static volatile sig_atomic_t sigpipes;

static void
on_sigpipe(int sig)
{
	sigpipes++;
}

/* test_peer_close - 0 from recv, EPIPE (and no SIGPIPE) from send */
static void
test_peer_close(void **state)
{
	struct fx *fx = *state;
	struct scan_msg_result r;
	struct sigaction sa, old;
	union scan_msg m;
	int fd = 1234;

	/*
	 * Counted, not left to kill the test: SIGPIPE may be ignored where the
	 * tests run, and current kernels raise none for SEQPACKET anyway.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	sigpipes = 0;

	memset(&r, 0, sizeof(r));
	r.type = SCAN_MSG_RESULT;
	/* what was sent before the close is still delivered */
	assert_int_equal(scan_proto_send(fx->sv[1], &r, sizeof(r), -1), 0);
	close(fx->sv[1]);
	fx->sv[1] = -1;
	assert_int_equal(scan_proto_recv(fx->sv[0], &m, &fd), (ssize_t)sizeof(r));
	assert_int_equal(scan_proto_recv(fx->sv[0], &m, &fd), 0);
	assert_int_equal(fd, -1);
	errno = 0;
	assert_int_equal(scan_proto_send(fx->sv[0], &r, sizeof(r), -1), -1);
	assert_int_equal(errno, EPIPE);
	errno = 0;
	assert_int_equal(scan_proto_send(fx->sv[0], &r, sizeof(r), fx->file), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(sigpipes, 0);
	sigaction(SIGPIPE, &old, NULL);
}

static void
test_names(void **state)
{
	assert_string_equal(scan_verdict_name(SCAN_CLEAN), "clean");
	assert_string_equal(scan_verdict_name(SCAN_INFECTED), "infected");
	assert_string_equal(scan_verdict_name(SCAN_UNSCANNABLE), "unscannable");
	assert_string_equal(scan_verdict_name(SCAN_ERROR), "error");
	assert_string_equal(scan_verdict_name(0), "error");
	assert_string_equal(scan_verdict_name(SCAN_ERROR + 1), "error");
	assert_string_equal(scan_verdict_name(UINT32_MAX), "error");

	assert_string_equal(scan_reason_name(SCAN_REASON_NONE), "");
	assert_string_equal(scan_reason_name(SCAN_REASON_ENCRYPTED), "encrypted");
	assert_string_equal(scan_reason_name(SCAN_REASON_LIMIT), "limit");
	assert_string_equal(scan_reason_name(SCAN_REASON_TIMEOUT), "timeout");
	assert_string_equal(scan_reason_name(SCAN_REASON_CRASHED), "crashed");
	assert_string_equal(scan_reason_name(SCAN_REASON_INTEGRITY), "integrity");
	assert_string_equal(scan_reason_name(SCAN_REASON_ENGINE), "engine");
	assert_string_equal(scan_reason_name(SCAN_REASON_ENGINE + 1), "engine");
	assert_string_equal(scan_reason_name(UINT32_MAX), "engine");
}

static void
test_strlcpy(void **state)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "abc", sizeof(buf));
	assert_string_equal(buf, "abc");

	/* exactly fits: 7 characters and the terminator */
	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "1234567", sizeof(buf));
	assert_string_equal(buf, "1234567");

	/* one too many, and far too many: cut and terminated */
	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "12345678", sizeof(buf));
	assert_string_equal(buf, "1234567");
	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "a much longer signature name", sizeof(buf));
	assert_string_equal(buf, "a much ");

	/* a smaller size than the buffer: nothing written past it */
	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "abcdef", 4);
	assert_memory_equal(buf, "abc\0XXXX", 8);

	/* size 1 gives an empty string; size 0 writes nothing at all */
	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "abc", 1);
	assert_memory_equal(buf, "\0XXXXXXX", 8);
	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "abc", 0);
	assert_memory_equal(buf, "XXXXXXXX", 8);

	memset(buf, 'X', sizeof(buf));
	scan_strlcpy(buf, "", sizeof(buf));
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip_config, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_ready, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_loadfail, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_result, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_result_text_checked, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_job_fd, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_job_without_fd, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fd_on_other_types, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_size, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_oversize, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_many_fds, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_cmsg, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_empty_with_fd, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_peer_close, fx_setup, fx_teardown),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_strlcpy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
