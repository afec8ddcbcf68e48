/*
 * sandbox.h - confine a scanner worker before it touches hostile data.
 *
 * Three layers, applied in this order by the worker itself:
 *   sandbox_rlimits   address space, CPU seconds, file size, descriptors,
 *                     no core dumps (before the engine loads, so the
 *                     engine counts against them)
 *   sandbox_landlock  file system: read/write beneath the private temp
 *                     directory only, nothing else (Linux 5.13+; reported,
 *                     not fatal, when the kernel lacks it)
 *   sandbox_seccomp   PR_SET_NO_NEW_PRIVS and an allowlist of system calls:
 *                     no socket, connect, exec, fork, ptrace or kill; the
 *                     process dies with SIGSYS on anything else
 */
#ifndef OKURU_SANDBOX_H
#define OKURU_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

struct sandbox_limits {
	uint64_t memory;    /* RLIMIT_AS bytes, 0 = leave as is */
	uint64_t cpu;       /* RLIMIT_CPU seconds, 0 = leave as is */
	uint64_t file_size; /* RLIMIT_FSIZE bytes, 0 = leave as is */
	unsigned nofile;    /* RLIMIT_NOFILE */
};

int sandbox_rlimits(const struct sandbox_limits *l, char *err, size_t errlen);

/* 1 when in force, 0 when the kernel has no Landlock, -1 on error */
int sandbox_landlock(const char *rw_dir, char *err, size_t errlen);

/* channel: the only descriptor sendmsg/recvmsg may use */
int sandbox_seccomp(int channel, char *err, size_t errlen);

/* sandbox_address_limit_ok - 0 under AddressSanitizer (its shadow needs TiBs) */
int sandbox_address_limit_ok(void);

#endif
