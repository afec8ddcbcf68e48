/*
 * sandbox.c - rlimits, Landlock and a seccomp allowlist for scanner workers.
 *
 * libclamav parses hostile formats and has had remote code execution bugs
 * (HFS+, OLE2, ARJ, PDF parsers). A worker that is taken over must find
 * itself with: one data key, one read-only descriptor, a temp directory in
 * memory, no way to open anything else, no network, no way to start a
 * program, and a bounded amount of memory and CPU.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

int
sandbox_address_limit_ok(void)
{
#ifdef SANDBOX_ASAN
	return 0;
#else
	return 1;
#endif
}

static int
sandbox_setrlimit(int res, uint64_t v, const char *name, char *err, size_t errlen)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (setrlimit(res, &rl) != 0) {
		snprintf(err, errlen, "setrlimit %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_rlimits(const struct sandbox_limits *l, char *err, size_t errlen)
{
	if (sandbox_setrlimit(RLIMIT_CORE, 0, "RLIMIT_CORE", err, errlen) != 0)
		return -1;
	if (l->memory > 0 && sandbox_address_limit_ok() &&
	    sandbox_setrlimit(RLIMIT_AS, l->memory, "RLIMIT_AS", err, errlen) != 0)
		return -1;
	if (l->cpu > 0) {
		/* SIGXCPU at the soft limit says why; SIGKILL 10 s later if ignored. */
		struct rlimit rl = {(rlim_t)l->cpu, (rlim_t)l->cpu + 10};
		if (setrlimit(RLIMIT_CPU, &rl) != 0) {
			snprintf(err, errlen, "setrlimit RLIMIT_CPU: %s", strerror(errno));
			return -1;
		}
	}
	if (l->file_size > 0 &&
	    sandbox_setrlimit(RLIMIT_FSIZE, l->file_size, "RLIMIT_FSIZE", err, errlen) != 0)
		return -1;
	if (l->nofile > 0 &&
	    sandbox_setrlimit(RLIMIT_NOFILE, l->nofile, "RLIMIT_NOFILE", err, errlen) != 0)
		return -1;
	return 0;
}

/* Access rights newer than the oldest kernel headers we build against. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

int
sandbox_landlock(const char *rw_dir, char *err, size_t errlen)
{
	struct landlock_ruleset_attr ra;
	struct landlock_path_beneath_attr pb;
	long abi;
	uint64_t handled, allowed;
	int rs, dir;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0; /* ENOSYS or disabled at boot: seccomp still holds */
	handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		  LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		  LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
		  LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		  LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		  LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		handled |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	/* What libclamav does with extracted members: create, read, remove. */
	allowed = handled & (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
			     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
			     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
			     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER |
			     LANDLOCK_ACCESS_FS_TRUNCATE);
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = handled;
	rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs < 0) {
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		return -1;
	}
	dir = open(rw_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		snprintf(err, errlen, "%s: %s", rw_dir, strerror(errno));
		close(rs);
		return -1;
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = allowed;
	pb.parent_fd = dir;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		snprintf(err, errlen, "landlock: %s", strerror(errno));
		close(dir);
		close(rs);
		return -1;
	}
	close(dir);
	close(rs);
	return 1;
}

/*
 * The allowlist: what libclamav, glibc's allocator and stdio, GnuTLS's and
 * libsodium's ciphers need to scan a descriptor and use the temp directory.
 * Found by tracing real scans (plain, nested archives, encrypted archives,
 * documents); anything else kills the process, which okurud sees as a crash
 * and records as "not clean". libmagic's magic_buffer (scan_type.c) needs
 * nothing more: it works on memory only, its database is loaded before the
 * filter, and it never decompresses (which could fork).
 */
static const int sandbox_allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(stat),
	SCMP_SYS(lstat), SCMP_SYS(fstatfs), SCMP_SYS(statfs),
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(getdents64), SCMP_SYS(ftruncate),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(umask),
	SCMP_SYS(getcwd), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getrandom),
	SCMP_SYS(getrusage), SCMP_SYS(getrlimit), SCMP_SYS(sysinfo),
	SCMP_SYS(uname), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

int
sandbox_seccomp(int channel, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* Not dumpable: other processes of the same user cannot ptrace it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	/* Every thread (there should be one), and no other-ABI syscalls. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sandbox_allowed[i], 0);
	/*
	 * libclamav chmods its own temp directories; Landlock does not cover
	 * mode changes, and a chmod could open the master key file to other
	 * users. Refused with EPERM, which libclamav tolerates.
	 */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(chmod), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchmodat), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchmod), 0);
	/*
	 * fcntl: descriptor flags and duplication only. F_SETOWN/F_SETSIG with
	 * O_ASYNC would let the worker signal okurud (same uid), so O_ASYNC
	 * cannot be set either. No dup2/dup3: fd 3 must stay okurud's socket.
	 */
	{
		static const int cmds[] = {F_GETFD, F_SETFD, F_GETFL, F_DUPFD, F_DUPFD_CLOEXEC};
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && r == 0; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
					     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]));
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 2,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)F_SETFL),
				     SCMP_A2(SCMP_CMP_MASKED_EQ, O_ASYNC, 0));
	/* Its own limits, read only: prlimit64(0, res, NULL, old). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
				     SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
	/* Talk only over the channel okurud gave us. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)channel));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)channel));
	/* Memory, but never executable: no code can be staged and run. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* isatty() on stderr; no other ioctl. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)TCGETS));
	/* abort() signals itself; no signal to anyone else (okurud shares our uid). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r != 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(-r));
		return -1;
	}
	return 0;
}
