/*
 * scan_proto.h - the typed messages between okurud (or okuructl scan) and a
 * scanner worker, over one SOCK_SEQPACKET socket: one message per packet,
 * fixed layout, checked for exact size and type on receipt.
 *
 *   parent -> worker  CONFIG   once, first: signature dir, temp dir, limits
 *   worker -> parent  READY    engine loaded and sandbox applied
 *                     LOADFAIL engine could not be loaded (reason)
 *   parent -> worker  JOB      + one file descriptor (SCM_RIGHTS): the blob
 *                              and its data key, or a plain local file
 *   worker -> parent  RESULT   the verdict for that job, and the file's
 *                              media type as libmagic detected it
 *
 * The worker never gets a path into the storage area, the master key or a
 * database handle: only the descriptor and the one key it needs.
 */
#ifndef OKURU_SCAN_PROTO_H
#define OKURU_SCAN_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SCAN_PROTO_VERSION 2U
#define SCAN_PATHMAX 1024U
#define SCAN_DETAILMAX 256U
#define SCAN_VERSIONMAX 512U
#define SCAN_KEYBYTES 32U
#define SCAN_TYPEMAX 128U /* a media type, "type/subtype", with its NUL */

/* The worker's end of the socket, set up by the parent before exec. */
#define SCAN_WORKER_FD 3

enum scan_msg_type {
	SCAN_MSG_CONFIG = 1,
	SCAN_MSG_READY = 2,
	SCAN_MSG_LOADFAIL = 3,
	SCAN_MSG_JOB = 4,
	SCAN_MSG_RESULT = 5,
};

enum scan_verdict {
	SCAN_CLEAN = 1,
	SCAN_INFECTED = 2,
	SCAN_UNSCANNABLE = 3,
	SCAN_ERROR = 4,
};

/* Why a file is unscannable or in error (none for clean and infected). */
enum scan_reason {
	SCAN_REASON_NONE = 0,
	SCAN_REASON_ENCRYPTED = 1, /* encrypted archive or document */
	SCAN_REASON_LIMIT = 2,	   /* a size, recursion, file-count or time limit */
	SCAN_REASON_TIMEOUT = 3,   /* killed by okurud's wall-clock timeout */
	SCAN_REASON_CRASHED = 4,   /* the worker died during the scan */
	SCAN_REASON_INTEGRITY = 5, /* the blob failed authentication */
	SCAN_REASON_ENGINE = 6,	   /* libclamav returned an error */
};

#define SCAN_JOB_PLAIN 0x1U /* the descriptor is a plain local file, no key */

struct scan_msg_config {
	uint32_t type;
	uint32_t version;
	uint64_t max_scan_size;
	uint64_t max_file_size;
	uint32_t max_recursion;
	uint32_t max_files;
	uint32_t max_scan_time_ms;
	uint32_t allow_test_signatures;
	uint32_t log_level;
	uint32_t require_landlock;
	uint64_t memory_limit; /* RLIMIT_AS, bytes; 0 = none */
	uint64_t cpu_limit;    /* RLIMIT_CPU over the worker's life, seconds */
	char database[SCAN_PATHMAX];
	char tmpdir[SCAN_PATHMAX]; /* private, memory-backed, made by the parent */
};

struct scan_msg_ready {
	uint32_t type;
	uint32_t signatures;
	uint32_t official;  /* signed main and daily databases are loaded */
	uint32_t landlock;  /* the file system confinement is in force */
	uint32_t magic;	    /* libmagic's version, 544 for 5.44 */
	char engine[32];    /* "ClamAV 1.4.6" */
	char db_version[SCAN_VERSIONMAX];
};

struct scan_msg_loadfail {
	uint32_t type;
	uint32_t pad;
	char reason[SCAN_PATHMAX]; /* may quote a path */
};

struct scan_msg_job {
	uint32_t type;
	uint32_t flags;
	uint64_t id;
	uint64_t size; /* plaintext bytes */
	unsigned char key[SCAN_KEYBYTES];
};

#define SCAN_RESULT_RETIRING 0x1U /* the worker exits after this result */

struct scan_msg_result {
	uint32_t type;
	uint32_t verdict;
	uint64_t id;
	uint32_t reason;
	uint32_t ms;
	uint32_t flags;
	uint32_t pad;
	char detail[SCAN_DETAILMAX]; /* signature name or error text */
	/*
	 * The detected media type ("application/pdf"), whatever the verdict;
	 * "" when unknown. scan_proto_recv empties it unless it is a media
	 * type (scan_type_ok).
	 */
	char media_type[SCAN_TYPEMAX];
};

union scan_msg {
	uint32_t type;
	struct scan_msg_config config;
	struct scan_msg_ready ready;
	struct scan_msg_loadfail loadfail;
	struct scan_msg_job job;
	struct scan_msg_result result;
};

/* scan_proto_send - one message, with fd attached when fd >= 0; 0 or -1 */
int scan_proto_send(int sock, const void *msg, size_t len, int fd);

/*
 * scan_proto_recv - one message into m. Returns its length, 0 when the peer
 * closed, -1 on error. A message of the wrong size for its type, a
 * truncated one, or any descriptor where none belongs is an error (EPROTO).
 * A received descriptor is returned in *fd (close-on-exec), else -1.
 */
ssize_t scan_proto_recv(int sock, union scan_msg *m, int *fd);

const char *scan_verdict_name(uint32_t v);
const char *scan_reason_name(uint32_t r);

/*
 * scan_type_ok - 1 when s is a media type as okuru stores it: lower-case
 * "type/subtype" of RFC 6838 name characters (letters, digits and
 * ! # $ & - ^ _ . +), each part starting with a letter or digit, shorter
 * than SCAN_TYPEMAX. Nothing else from a worker reaches the database.
 */
int scan_type_ok(const char *s);

/* scan_strlcpy - bounded copy that always terminates (message fields) */
void scan_strlcpy(char *dst, const char *src, size_t size);

#endif
