/*
 * test_sandbox.c - unit tests for the scanner worker's confinement
 * (sandbox.c). A sandbox cannot be undone, so every case forks a child that
 * applies it and then tries one thing; the parent reads the outcome from
 * waitpid(). A system call outside the seccomp allowlist must kill the
 * child with SIGSYS; anything else, the child reports as its exit code.
 *
 * Before each action the child writes a step number to a pipe, so a SIGSYS
 * is known to come from that action and not from the set-up before it,
 * and an allowed step that precedes a forbidden one is known to have
 * passed. The child uses only plain system calls after fork() and always
 * leaves with _exit(), never through cmocka or atexit handlers (the
 * AddressSanitizer build needs more system calls at a normal exit).
 *
 * Covered: socket, socketpair, connect, execve, execveat, fork, clone,
 * clone3, vfork, kill, ptrace, tgkill to another process (all SIGSYS), and
 * the whole process dies, not only the offending thread; tgkill to itself
 * is allowed; mmap and mprotect with PROT_EXEC are SIGSYS, without it
 * allowed; chmod, fchmod and fchmodat fail with EPERM; sendmsg and recvmsg
 * on the channel only, sendto and recvfrom on nothing; ioctl TCGETS only;
 * NoNewPrivs and one more filter in /proc/self/status; Landlock (create,
 * read, write, rename, remove beneath the directory, EACCES for anything
 * outside it; skipped only where the kernel has no Landlock); the rlimits,
 * set soft and hard, and 0 meaning "leave as is"; and a worker's ordinary
 * life under all three layers.
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
#include <linux/landlock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "tmpdir.h"

/* Exit codes a child uses for its own trouble, apart from the action's. */
#define CHILD_OK 0
#define CHILD_SURVIVED 70    /* a forbidden call returned instead of killing */
#define CHILD_NOLANDLOCK 77  /* sandbox_landlock() said the kernel lacks it */
#define CHILD_SECCOMP_ERR 90 /* sandbox_seccomp() failed */
#define CHILD_LANDLOCK_ERR 91
#define CHILD_RLIMITS_ERR 92

#define MIB (1024ULL * 1024ULL)

struct fx {
	int chan[2];	   /* chan[1] is the child's channel */
	int other[2];	   /* a socket pair the child holds but may not use */
	char dir[256];	   /* the child's read/write directory */
	char outside[256]; /* another directory, off limits under Landlock */
};

/* what happened to a child */
struct outcome {
	int status; /* from waitpid */
	int step;   /* the last step it reported, 0 for none */
};

typedef int (*child_fn)(struct fx *fx, int report);

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 2; i++) {
		if (fx->chan[i] >= 0)
			close(fx->chan[i]);
		if (fx->other[i] >= 0)
			close(fx->other[i]);
	}
	if (fx->dir[0] != '\0')
		tmpdir_remove(fx->dir);
	if (fx->outside[0] != '\0')
		tmpdir_remove(fx->outside);
	free(fx);
	return 0;
}

static int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->chan[0] = fx->chan[1] = fx->other[0] = fx->other[1] = -1;
	*state = fx;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fx->chan) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fx->other) != 0 ||
	    tmpdir_make(fx->dir, sizeof(fx->dir), "sandbox") != 0 ||
	    tmpdir_make(fx->outside, sizeof(fx->outside), "sandbox-out") != 0) {
		fx_teardown(state);
		return -1;
	}
	return 0;
}

/* path_in - dir/name into out */
static const char *
path_in(const char *dir, const char *name, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
	return out;
}

/* step - tell the parent the child has got as far as step n (child side) */
static void
step(int report, unsigned char n)
{
	ssize_t r = write(report, &n, 1);

	(void)r;
}

/* seccomp_on - the seccomp layer alone, on the fixture's channel (child side) */
static int
seccomp_on(struct fx *fx)
{
	char err[256];

	return sandbox_seccomp(fx->chan[1], err, sizeof(err));
}

/* run_child - fork, run fn in the child, and collect how it ended */
static struct outcome
run_child(struct fx *fx, child_fn fn)
{
	struct outcome o = {0, 0};
	struct rlimit rl;
	unsigned char b;
	int rep[2];
	pid_t pid;

	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(rep[0]);
		/* no core files from the children this test kills */
		if (getrlimit(RLIMIT_CORE, &rl) == 0) {
			rl.rlim_cur = 0;
			setrlimit(RLIMIT_CORE, &rl);
		}
		_exit(fn(fx, rep[1]));
	}
	close(rep[1]);
	while (read(rep[0], &b, 1) == 1)
		o.step = b;
	close(rep[0]);
	assert_int_equal(waitpid(pid, &o.status, 0), pid);
	return o;
}

/* describe - how a child ended, for a failure message */
static const char *
describe(const struct outcome *o, char *buf, size_t len)
{
	if (WIFEXITED(o->status))
		snprintf(buf, len, "exited %d after step %d", WEXITSTATUS(o->status), o->step);
	else if (WIFSIGNALED(o->status))
		snprintf(buf, len, "killed by signal %d (%s) after step %d", WTERMSIG(o->status),
			 strsignal(WTERMSIG(o->status)), o->step);
	else
		snprintf(buf, len, "status %#x after step %d", (unsigned)o->status, o->step);
	return buf;
}

/* expect_sigsys - the child was killed by the filter at step n */
static void
expect_sigsys(const struct outcome *o, int n)
{
	char buf[128];

	if (!WIFSIGNALED(o->status) || WTERMSIG(o->status) != SIGSYS || o->step != n)
		fail_msg("expected SIGSYS at step %d, child %s", n, describe(o, buf, sizeof(buf)));
}

/* expect_exit - the child exited with code after reaching step n */
static void
expect_exit(const struct outcome *o, int code, int n)
{
	char buf[128];

	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != code || o->step != n)
		fail_msg("expected exit %d after step %d, child %s", code, n,
			 describe(o, buf, sizeof(buf)));
}

/* ---- sockets ---- */

static int
child_socket_inet(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	socket(AF_INET, SOCK_STREAM, 0);
	return CHILD_SURVIVED;
}

static int
child_socket_unix(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	socket(AF_UNIX, SOCK_SEQPACKET, 0);
	return CHILD_SURVIVED;
}

static int
child_socketpair(struct fx *fx, int report)
{
	int sv[2];

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	return CHILD_SURVIVED;
}

/* test_socket - no new socket of any family; the same calls work unconfined */
static void
test_socket(void **state)
{
	struct fx *fx = *state;
	struct outcome o;
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	close(s);
	o = run_child(fx, child_socket_inet);
	expect_sigsys(&o, 1);
	o = run_child(fx, child_socket_unix);
	expect_sigsys(&o, 1);
	o = run_child(fx, child_socketpair);
	expect_sigsys(&o, 1);
}

/* ---- a forbidden call ends the whole process, not only its thread ---- */

/* thread_sleeper - outlives a killed main thread, if only the thread were killed */
static void *
thread_sleeper(void *arg)
{
	struct timespec ts = {2, 0};

	nanosleep(&ts, NULL);
	_exit(CHILD_SURVIVED);
}

/*
 * The thread is made before the filter (clone is forbidden after), so it
 * is not itself filtered: sandbox_seccomp() confines the calling thread
 * only. The main thread breaks the rule.
 */
static int
child_thread(struct fx *fx, int report)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_sleeper, NULL) != 0)
		return 1;
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	socket(AF_INET, SOCK_DGRAM, 0);
	pthread_join(t, NULL);
	return CHILD_SURVIVED;
}

static void
test_thread(void **state)
{
	struct outcome o = run_child(*state, child_thread);

	expect_sigsys(&o, 1);
}

/* ---- connect ---- */

static int
child_connect(struct fx *fx, int report)
{
	struct sockaddr_un sun;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/okuru-no-such-socket");
	step(report, 1);
	connect(fx->other[1], (struct sockaddr *)&sun, sizeof(sun));
	return CHILD_SURVIVED;
}

static void
test_connect(void **state)
{
	struct outcome o = run_child(*state, child_connect);

	expect_sigsys(&o, 1);
}

/* ---- exec ---- */

/*
 * /bin/true is what the worker would run; but once exec'd it would die of
 * SIGSYS anyway (the loader maps code), so a path that does not exist is
 * the case that tells: an exec let through returns ENOENT there.
 */
static int
child_execve(struct fx *fx, int report)
{
	char *const argv[] = {(char *)"true", NULL};
	char *const envp[] = {NULL};

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	execve("/bin/true", argv, envp);
	return CHILD_SURVIVED;
}

static int
child_execve_missing(struct fx *fx, int report)
{
	char path[PATH_MAX];
	char *const argv[] = {(char *)"missing", NULL};
	char *const envp[] = {NULL};

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	execve(path_in(fx->dir, "missing", path), argv, envp);
	return CHILD_SURVIVED;
}

static int
child_execveat_missing(struct fx *fx, int report)
{
	char path[PATH_MAX];
	char *const argv[] = {(char *)"missing", NULL};
	char *const envp[] = {NULL};

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	syscall(SYS_execveat, AT_FDCWD, path_in(fx->dir, "missing", path), argv, envp, 0);
	return CHILD_SURVIVED;
}

static void
test_exec(void **state)
{
	struct outcome o;

	o = run_child(*state, child_execve);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_execve_missing);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_execveat_missing);
	expect_sigsys(&o, 1);
}

/* ---- new processes ---- */

static int
child_fork(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	fork();
	return CHILD_SURVIVED; /* both of them, if fork() worked */
}

static int
child_clone(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	return CHILD_SURVIVED;
}

static int
child_clone3(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	/* a null argument: EFAULT or EINVAL if the call were let through */
	syscall(SYS_clone3, NULL, 0);
	return CHILD_SURVIVED;
}

static int
child_vfork(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	if (vfork() == 0)
		_exit(CHILD_SURVIVED);
	return CHILD_SURVIVED;
}

static void
test_fork(void **state)
{
	struct outcome o;

	o = run_child(*state, child_fork);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_clone);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_clone3);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_vfork);
	expect_sigsys(&o, 1);
}

/* ---- signals ---- */

static int
child_kill_parent(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	kill(getppid(), 0);
	return CHILD_SURVIVED;
}

static int
child_kill_self(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	kill(getpid(), 0);
	return CHILD_SURVIVED;
}

static int
child_tgkill(struct fx *fx, int report)
{
	pid_t parent = getppid();

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	/* to itself, as abort() does (signal 0: only the checks) */
	step(report, 1);
	if (syscall(SYS_tgkill, getpid(), gettid(), 0) != 0)
		return 1;
	/* to another process: the parent's main thread */
	step(report, 2);
	syscall(SYS_tgkill, parent, parent, 0);
	return CHILD_SURVIVED;
}

static void
test_kill(void **state)
{
	struct outcome o;

	o = run_child(*state, child_kill_parent);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_kill_self);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_tgkill);
	expect_sigsys(&o, 2);
}

/* ---- ptrace ---- */

static int
child_ptrace(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	/* TRACEME rather than ATTACH: harmless to the parent if it got through */
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return CHILD_SURVIVED;
}

static void
test_ptrace(void **state)
{
	struct outcome o = run_child(*state, child_ptrace);

	expect_sigsys(&o, 1);
}

/* ---- executable memory ---- */

/* child_mmap_exec - anonymous read/write memory, used; then some as code */
static int
child_mmap_exec(struct fx *fx, int report)
{
	unsigned char *p;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 0xc3, 65536);
	if (mprotect(p, 4096, PROT_READ) != 0)
		return 2;
	if (munmap(p, 65536) != 0)
		return 3;
	step(report, 2);
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return CHILD_SURVIVED;
}

static int
child_mprotect_exec(struct fx *fx, int report)
{
	unsigned char *p;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	p[0] = 0xc3; /* ret */
	step(report, 1);
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return CHILD_SURVIVED;
}

static int
child_mmap_file_exec(struct fx *fx, int report)
{
	int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1;
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	/* a read-only mapping of a file is fine; as code it is not */
	step(report, 1);
	if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		return 2;
	step(report, 2);
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	return CHILD_SURVIVED;
}

static void
test_mmap_exec(void **state)
{
	struct outcome o;

	o = run_child(*state, child_mmap_exec);
	expect_sigsys(&o, 2);
	o = run_child(*state, child_mprotect_exec);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_mmap_file_exec);
	expect_sigsys(&o, 2);
}

/* ---- chmod ---- */

/* child_chmod - each mode change is refused with EPERM; the exit code says which was not */
static int
child_chmod(struct fx *fx, int report)
{
	char path[PATH_MAX];
	int fd, dir;

	path_in(fx->dir, "f", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	dir = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || dir < 0)
		return 1;
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	errno = 0;
	if (chmod(path, 0666) != -1 || errno != EPERM)
		return 2;
	step(report, 2);
	errno = 0;
	if (fchmod(fd, 0666) != -1 || errno != EPERM)
		return 3;
	step(report, 3);
	errno = 0;
	if (fchmodat(dir, "f", 0666, 0) != -1 || errno != EPERM)
		return 4;
	step(report, 4);
	errno = 0;
	if (chmod(fx->dir, 0777) != -1 || errno != EPERM)
		return 5;
	return CHILD_OK;
}

static void
test_chmod(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	struct stat st;
	struct outcome o;
	int fd;

	path_in(fx->dir, "f", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	o = run_child(fx, child_chmod);
	expect_exit(&o, CHILD_OK, 4);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(fx->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

/* ---- the channel ---- */

/* child_channel - a message each way on the channel; then sendmsg elsewhere */
static int
child_channel(struct fx *fx, int report)
{
	struct msghdr mh;
	struct iovec iov;
	char b = 'p';

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &b;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	step(report, 1);
	if (recvmsg(fx->chan[1], &mh, 0) != 1 || b != 'p')
		return 1;
	b = 'c';
	step(report, 2);
	if (sendmsg(fx->chan[1], &mh, MSG_NOSIGNAL) != 1)
		return 2;
	step(report, 3);
	sendmsg(fx->other[1], &mh, MSG_NOSIGNAL);
	return CHILD_SURVIVED;
}

static int
child_recv_other(struct fx *fx, int report)
{
	struct msghdr mh;
	struct iovec iov;
	char b;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &b;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	step(report, 1);
	recvmsg(fx->other[1], &mh, MSG_DONTWAIT);
	return CHILD_SURVIVED;
}

/* child_sendto - send() and recv() are sendto and recvfrom: on no descriptor at all */
static int
child_sendto(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	send(fx->other[1], "x", 1, MSG_NOSIGNAL);
	return CHILD_SURVIVED;
}

static int
child_recvfrom(struct fx *fx, int report)
{
	char b;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	recv(fx->other[1], &b, 1, MSG_DONTWAIT);
	return CHILD_SURVIVED;
}

static void
test_channel(void **state)
{
	struct fx *fx = *state;
	struct outcome o;
	char b = 'p';

	assert_int_equal(send(fx->chan[0], &b, 1, 0), 1);
	o = run_child(fx, child_channel);
	expect_sigsys(&o, 3);
	assert_int_equal(recv(fx->chan[0], &b, 1, MSG_DONTWAIT), 1);
	assert_int_equal(b, 'c');
	/* nothing arrived on the other socket */
	errno = 0;
	assert_int_equal(recv(fx->other[0], &b, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);

	o = run_child(fx, child_recv_other);
	expect_sigsys(&o, 1);
	o = run_child(fx, child_sendto);
	expect_sigsys(&o, 1);
	o = run_child(fx, child_recvfrom);
	expect_sigsys(&o, 1);
}

/* ---- ioctl ---- */

static int
child_ioctl(struct fx *fx, int report)
{
	struct termios t;
	int n;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	/* isatty(): TCGETS, which fails with ENOTTY on a socket */
	step(report, 1);
	errno = 0;
	if (ioctl(fx->chan[1], TCGETS, &t) != -1 || errno != ENOTTY)
		return 1;
	step(report, 2);
	ioctl(fx->chan[1], FIONREAD, &n);
	return CHILD_SURVIVED;
}

static void
test_ioctl(void **state)
{
	struct outcome o = run_child(*state, child_ioctl);

	expect_sigsys(&o, 2);
}

/* ---- no new privileges, filter in force ---- */

/* status_field - the number after "name:" in /proc/self/status, -1 if absent */
static long
status_field(const char *name)
{
	char buf[8192], key[64];
	ssize_t n, got = 0;
	const char *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -2;
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	snprintf(key, sizeof(key), "\n%s:\t", name);
	p = strstr(buf, key);
	if (p == NULL)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

static int
child_status(struct fx *fx, int report)
{
	long filters = status_field("Seccomp_filters");

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	if (status_field("NoNewPrivs") != 1)
		return 1;
	if (status_field("Seccomp") != 2) /* SECCOMP_MODE_FILTER */
		return 2;
	/* exactly one more filter (the field exists since Linux 5.9) */
	if (filters >= 0 && status_field("Seccomp_filters") != filters + 1)
		return 3;
	return CHILD_OK;
}

static void
test_status(void **state)
{
	struct outcome o = run_child(*state, child_status);

	expect_exit(&o, CHILD_OK, 1);
}

/* ---- Landlock ---- */

/* landlock_abi - the kernel's Landlock ABI version, or < 1 without Landlock */
static long
landlock_abi(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

/* child_landlock - what the worker may do beneath its directory, and nothing outside */
static int
child_landlock(struct fx *fx, int report)
{
	char path[PATH_MAX], path2[PATH_MAX], err[256], buf[8];
	long abi = landlock_abi();
	int fd, r;

	/* 0 ("no Landlock") only where the kernel really has none */
	r = sandbox_landlock(fx->dir, err, sizeof(err));
	if (r == 0 && abi < 1)
		return CHILD_NOLANDLOCK;
	if (r != 1)
		return CHILD_LANDLOCK_ERR;
	/* create, write, read, remove a file beneath dir */
	step(report, 1);
	fd = open(path_in(fx->dir, "new", path), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	if (write(fd, "inside", 6) != 6 || pread(fd, buf, 6, 0) != 6 || memcmp(buf, "inside", 6))
		return 2;
	if (ftruncate(fd, 3) != 0)
		return 3;
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 3)
		return 4;
	close(fd);
	if (unlink(path) != 0)
		return 5;
	/* and a subdirectory, as libclamav makes for archive members */
	step(report, 2);
	if (mkdir(path_in(fx->dir, "sub", path), 0700) != 0)
		return 6;
	fd = open(path_in(fx->dir, "sub/m", path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return 7;
	close(fd);
	/* moved up a level: allowed from Landlock ABI 2 (REFER), always EXDEV before */
	if (rename(path, path_in(fx->dir, "m2", path2)) == 0)
		memcpy(path, path2, sizeof(path));
	else if (errno != EXDEV || abi >= 2)
		return 8;
	if (unlink(path) != 0 || rmdir(path_in(fx->dir, "sub", path)) != 0)
		return 9;
	/* outside: a file made beforehand cannot be read, nor one created */
	step(report, 3);
	errno = 0;
	if (open(path_in(fx->outside, "secret", path), O_RDONLY | O_CLOEXEC) != -1 ||
	    errno != EACCES)
		return 10;
	errno = 0;
	if (open(path, O_WRONLY | O_APPEND | O_CLOEXEC) != -1 || errno != EACCES)
		return 11;
	errno = 0;
	if (open(path_in(fx->outside, "new", path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		 0600) != -1 ||
	    errno != EACCES)
		return 12;
	errno = 0;
	if (unlink(path_in(fx->outside, "secret", path)) != -1 || errno != EACCES)
		return 13;
	errno = 0;
	if (open(fx->outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC) != -1 || errno != EACCES)
		return 14;
	/* truncation is a right of its own from ABI 3 */
	errno = 0;
	if (abi >= 3 &&
	    (truncate(path_in(fx->outside, "secret", path), 0) != -1 || errno != EACCES))
		return 17;
	/* nor anything else on the system */
	errno = 0;
	if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) != -1 || errno != EACCES)
		return 15;
	/* no symbolic link, even beneath dir */
	step(report, 4);
	errno = 0;
	if (symlink("/etc/passwd", path_in(fx->dir, "link", path)) != -1 || errno != EACCES)
		return 16;
	return CHILD_OK;
}

static void
test_landlock(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX], buf[16];
	struct outcome o;
	struct stat st;
	int fd;

	fd = open(path_in(fx->outside, "secret", path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		  0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret", 6), 6);
	close(fd);
	/* the same operations, unconfined, succeed (we are about to rely on them failing) */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);

	o = run_child(fx, child_landlock);
	if (WIFEXITED(o.status) && WEXITSTATUS(o.status) == CHILD_NOLANDLOCK) {
		skip();
		return;
	}
	expect_exit(&o, CHILD_OK, 4);
	/* the outside is as it was */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "secret", 6);
	close(fd);
	assert_int_equal(lstat(path_in(fx->outside, "new", path), &st), -1);
	assert_int_equal(lstat(path_in(fx->dir, "link", path), &st), -1);
	assert_int_equal(lstat(path_in(fx->dir, "new", path), &st), -1);
}

/* ---- rlimits ---- */

static int
rlimit_is(int res, rlim_t v)
{
	struct rlimit rl;

	return getrlimit(res, &rl) == 0 && rl.rlim_cur == v && rl.rlim_max == v;
}

/* child_rlimits - the limits are set, soft and hard, and hold */
static int
child_rlimits(struct fx *fx, int report)
{
	struct sandbox_limits l = {512 * MIB, 100, 4096, 16};
	struct rlimit core, as, after;
	char path[PATH_MAX], err[256], buf[8192];
	ssize_t n, total = 0;
	int fd, duped[16], nduped = 0;

	/* a core limit that is not 0 already, so that 0 afterwards means something */
	if (getrlimit(RLIMIT_CORE, &core) != 0 || getrlimit(RLIMIT_AS, &as) != 0)
		return 1;
	core.rlim_cur = core.rlim_max > 0 ? core.rlim_max : 0;
	if (setrlimit(RLIMIT_CORE, &core) != 0)
		return 1;
	if (sandbox_rlimits(&l, err, sizeof(err)) != 0)
		return CHILD_RLIMITS_ERR;
	step(report, 1);
	if (!rlimit_is(RLIMIT_NOFILE, 16))
		return 2;
	if (!rlimit_is(RLIMIT_FSIZE, 4096))
		return 3;
	/* CPU: SIGXCPU at the soft limit, a 10 s grace before the hard one */
	{
		struct rlimit cpu;
		if (getrlimit(RLIMIT_CPU, &cpu) != 0 || cpu.rlim_cur != 100 || cpu.rlim_max != 110)
			return 4;
	}
	if (!rlimit_is(RLIMIT_CORE, 0))
		return 5;
	/* under AddressSanitizer the address space is left alone */
	if (sandbox_address_limit_ok() && !rlimit_is(RLIMIT_AS, 512 * MIB))
		return 6;
	if (!sandbox_address_limit_ok() &&
	    (getrlimit(RLIMIT_AS, &after) != 0 || after.rlim_cur != as.rlim_cur ||
	     after.rlim_max != as.rlim_max))
		return 6;
	/* descriptors: every number up to 15 can be had, then EMFILE */
	step(report, 2);
	for (;;) {
		int d = dup(fx->chan[1]);

		if (d < 0)
			break;
		if (nduped == 16)
			return 7;
		duped[nduped++] = d;
	}
	if (errno != EMFILE || nduped == 0)
		return 7;
	for (int d = 0; d < 16; d++)
		if (fcntl(d, F_GETFD) == -1)
			return 7;
	for (int i = 0; i < nduped; i++)
		close(duped[i]);
	/* file size: 4096 bytes written of 8192, then EFBIG (SIGXFSZ ignored) */
	step(report, 3);
	signal(SIGXFSZ, SIG_IGN);
	fd = open(path_in(fx->dir, "big", path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return 8;
	memset(buf, 'b', sizeof(buf));
	while (total < (ssize_t)sizeof(buf) &&
	       (n = write(fd, buf + total, sizeof(buf) - (size_t)total)) > 0)
		total += n;
	if (total != 4096 || errno != EFBIG)
		return 9;
	errno = 0;
	if (write(fd, buf, 1) != -1 || errno != EFBIG)
		return 10;
	return CHILD_OK;
}

/* child_rlimits_zero - zero means leave as is, except that core dumps are always off */
static int
child_rlimits_zero(struct fx *fx, int report)
{
	struct sandbox_limits l = {0, 0, 0, 0};
	struct rlimit before[4], after;
	static const int res[4] = {RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE};
	char err[256];

	for (int i = 0; i < 4; i++)
		if (getrlimit(res[i], &before[i]) != 0)
			return 1;
	if (sandbox_rlimits(&l, err, sizeof(err)) != 0)
		return CHILD_RLIMITS_ERR;
	step(report, 1);
	for (int i = 0; i < 4; i++)
		if (getrlimit(res[i], &after) != 0 || after.rlim_cur != before[i].rlim_cur ||
		    after.rlim_max != before[i].rlim_max)
			return 2 + i;
	if (!rlimit_is(RLIMIT_CORE, 0))
		return 6;
	return CHILD_OK;
}

static void
test_rlimits(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	struct outcome o;
	struct stat st;

	o = run_child(fx, child_rlimits);
	expect_exit(&o, CHILD_OK, 3);
	assert_int_equal(stat(path_in(fx->dir, "big", path), &st), 0);
	assert_int_equal(st.st_size, 4096);
	o = run_child(fx, child_rlimits_zero);
	expect_exit(&o, CHILD_OK, 1);
}

/* ---- a worker's ordinary life under all three layers ---- */

static int
child_worker(struct fx *fx, int report)
{
	struct sandbox_limits l = {1024 * MIB, 60, 64 * MIB, 64};
	char path[PATH_MAX], err[256], buf[64], name[64];
	unsigned char rnd[32], *big;
	struct timespec ts;
	struct msghdr mh;
	struct iovec iov;
	struct stat st;
	int fd, ll;

	if (sandbox_rlimits(&l, err, sizeof(err)) != 0)
		return CHILD_RLIMITS_ERR;
	ll = sandbox_landlock(fx->dir, err, sizeof(err));
	if (ll < 0)
		return CHILD_LANDLOCK_ERR;
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	fd = open(path_in(fx->dir, "member", path), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	if (write(fd, "extracted", 9) != 9 || fsync(fd) != 0 || fstat(fd, &st) != 0 ||
	    st.st_size != 9)
		return 2;
	if (lseek(fd, 0, SEEK_SET) != 0 || read(fd, buf, 9) != 9 || memcmp(buf, "extracted", 9))
		return 3;
	close(fd);
	if (stat(path, &st) != 0 || unlink(path) != 0)
		return 4;
	step(report, 2);
	big = malloc(64 * MIB);
	if (big == NULL)
		return 5;
	memset(big, 0x5a, 64 * MIB);
	if (big[64 * MIB - 1] != 0x5a)
		return 6;
	free(big);
	step(report, 3);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 || clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 7;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 8;
	snprintf(name, sizeof(name), "pid %ld landlock %d", (long)getpid(), ll);
	step(report, 4);
	/* the verdict goes back over the channel, with sendmsg() as scan_proto does */
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = name;
	iov.iov_len = strlen(name);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (sendmsg(fx->chan[1], &mh, MSG_NOSIGNAL) != (ssize_t)strlen(name))
		return 9;
	return CHILD_OK;
}

static void
test_worker(void **state)
{
	struct fx *fx = *state;
	struct outcome o;
	char buf[64];
	ssize_t n;

	o = run_child(fx, child_worker);
	expect_exit(&o, CHILD_OK, 4);
	n = recv(fx->chan[0], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(strncmp(buf, "pid ", 4) == 0);
}

/* ---- routes around "no kill": fcntl async I/O, prlimit, dup2 ---- */

static int
child_fcntl_allowed(struct fx *fx, int report)
{
	int fl, fd;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	fl = fcntl(fx->chan[1], F_GETFL);
	if (fl < 0 || fcntl(fx->chan[1], F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fx->chan[1], F_GETFD) < 0 || fcntl(fx->chan[1], F_SETFD, FD_CLOEXEC) != 0)
		return 1;
	fd = fcntl(fx->chan[1], F_DUPFD_CLOEXEC, 20);
	if (fd < 20)
		return 2;
	close(fd);
	return 0;
}

static int
child_fcntl_setown(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	fcntl(fx->chan[1], F_SETOWN, getppid());
	return CHILD_SURVIVED;
}

static int
child_fcntl_async(struct fx *fx, int report)
{
	int fl = fcntl(fx->chan[1], F_GETFL);

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	fcntl(fx->chan[1], F_SETFL, fl | O_ASYNC);
	return CHILD_SURVIVED;
}

static int
child_prlimit(struct fx *fx, int report)
{
	struct rlimit rl;

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	/* its own limits, read only: what getrlimit() does */
	step(report, 1);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1;
	/* the parent's limits: refused */
	step(report, 2);
	rl.rlim_cur = 5;
	syscall(SYS_prlimit64, getppid(), RLIMIT_NOFILE, &rl, NULL);
	return CHILD_SURVIVED;
}

static int
child_setrlimit_self(struct fx *fx, int report)
{
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	step(report, 1);
	setrlimit(RLIMIT_CPU, &rl);
	return CHILD_SURVIVED;
}

static int
child_dup2(struct fx *fx, int report)
{
	if (seccomp_on(fx) != 0)
		return CHILD_SECCOMP_ERR;
	/* putting another socket under the channel's number */
	step(report, 1);
	dup2(fx->other[1], fx->chan[1]);
	return CHILD_SURVIVED;
}

static void
test_no_signal_routes(void **state)
{
	struct outcome o;

	o = run_child(*state, child_fcntl_allowed);
	expect_exit(&o, 0, 1);
	o = run_child(*state, child_fcntl_setown);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_fcntl_async);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_prlimit);
	expect_sigsys(&o, 2);
	o = run_child(*state, child_setrlimit_self);
	expect_sigsys(&o, 1);
	o = run_child(*state, child_dup2);
	expect_sigsys(&o, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_socket, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_thread, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_connect, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_exec, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fork, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_kill, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ptrace, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_mmap_exec, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_chmod, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_channel, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ioctl, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_no_signal_routes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_status, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_landlock, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rlimits, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_worker, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
