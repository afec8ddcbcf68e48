/*
 * scanner.h - okurud's pool of scanner workers and its queue.
 *
 * The queue is the database: a file is "uploaded" when its blob and row are
 * durable, "scanning" while a worker has it, and then clean, infected,
 * unscannable or error. One thread owns the workers: it hands out jobs,
 * records verdicts, kills a worker that overruns the timeout, replaces
 * workers that die, and replaces all of them (one at a time, new engine
 * first) when the signature directory changes or on SIGHUP.
 */
#ifndef OKURU_SCANNER_H
#define OKURU_SCANNER_H

#include <stdint.h>

#include "conf.h"
#include "scan_proto.h"

struct db;
struct keyring;
struct scanner;

struct scanner_env {
	struct db *db;
	const struct keyring *keys;
	const char *storage_dir;
	int log_level;
};

/* What /healthz shows. */
struct scanner_info {
	int ok;		/* at least one worker has an engine loaded */
	int workers_ready;
	int workers_busy;
	int workers_target;
	uint32_t signatures;
	int official;
	int landlock;
	char engine[32];
	char db_version[SCAN_VERSIONMAX];
	int64_t loaded_at;
	char last_error[SCAN_DETAILMAX];
};

/*
 * scanner_start - start the first worker and wait until its engine is
 * loaded; fails (with the worker's reason) when no signatures load, so
 * okurud refuses to start. Then the pool runs in its own thread.
 */
int scanner_start(const struct conf *c, const struct scanner_env *env, struct scanner **out,
		  char *err, size_t errlen);

/* scanner_kick - a file is waiting (called after an upload commits) */
void scanner_kick(struct scanner *s);

/* scanner_reload - SIGHUP: new settings, and every worker replaced */
void scanner_reload(struct scanner *s, const struct conf *c);

void scanner_info(struct scanner *s, struct scanner_info *out);

/* scanner_stop - kill the workers; files being scanned are re-queued at next start */
void scanner_stop(struct scanner *s);

#endif
