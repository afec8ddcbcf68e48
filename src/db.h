/*
 * db.h - metadata in SQLite: users, API tokens, transfers, files.
 *
 * WAL with synchronous=FULL: a commit is on disk when it returns. Every
 * statement is a constant string prepared with bound parameters. One
 * connection per process, serialised by a mutex, so multi-statement
 * operations are atomic with respect to other threads.
 */
#ifndef OKURU_DB_H
#define OKURU_DB_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "util.h"

enum db_rc {
	DB_ERROR = -1,
	DB_OK = 0,
	DB_NOTFOUND = 1,
	DB_CONFLICT = 2,
};

#define DB_NAMEMAX 64
#define DB_EMAILMAX 254
#define DB_SCAN_DETAILMAX 256
#define DB_SCAN_VERSIONMAX 512

struct db;

struct db_user {
	int64_t id;
	char name[DB_NAMEMAX + 1];
	char email[DB_EMAILMAX + 1];
	char role[16];
};

struct db_transfer {
	char id[UTIL_IDLEN + 1];
	int64_t owner_id;
	char *subject;
	char *message;
	char state[16];
	int64_t created;
};

struct db_file {
	char id[UTIL_IDLEN + 1];
	char transfer_id[UTIL_IDLEN + 1];
	char name[256];
	int64_t size;
	char sha256[65];
	char state[16];
	char key_id[KEYS_IDLEN + 1];
	unsigned char wrapped[KEYS_WRAPPEDBYTES];
	int64_t created;
	/* the latest scan (empty until one finishes) */
	char scan_verdict[16];
	char scan_reason[16];
	char scan_detail[DB_SCAN_DETAILMAX];
	char scan_engine[32];
	char scan_db_version[DB_SCAN_VERSIONMAX];
	int64_t scanned_at;
	int64_t scan_ms;
	int shredded; /* data key erased: the content is gone for good */
};

/* One scan attempt, as recorded in the scans table. */
struct db_scan {
	const char *file_id;
	const char *verdict; /* clean, infected, unscannable, error */
	const char *reason;
	const char *detail;
	const char *engine;
	const char *db_version;
	int64_t finished;
	int64_t ms;
};

typedef int (*db_file_cb)(const struct db_file *f, void *arg);

int db_open(const char *path, int create, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);
int db_schema_version(struct db *db);
int db_ping(struct db *db);

int db_user_add(struct db *db, const char *name, const char *email, const char *role,
		int64_t *id);
int db_user_find(struct db *db, const char *name, struct db_user *u);
int db_token_add(struct db *db, int64_t user_id, const char *token_id,
		 const unsigned char hash[32]);
int db_token_lookup(struct db *db, const char *token_id, struct db_user *u,
		    unsigned char hash[32]);

int db_transfer_create(struct db *db, const struct db_transfer *t);
int db_transfer_get(struct db *db, const char *id, struct db_transfer *t);
void db_transfer_free(struct db_transfer *t);

int db_file_insert(struct db *db, const struct db_file *f, int max_files);
int db_file_get(struct db *db, const char *transfer_id, const char *file_id,
		struct db_file *f);
int db_file_name_taken(struct db *db, const char *transfer_id, const char *name);
int db_file_count(struct db *db, const char *transfer_id, int *n);
int db_file_list(struct db *db, const char *transfer_id, db_file_cb cb, void *arg);
int db_file_all(struct db *db, db_file_cb cb, void *arg);
int db_file_set_state(struct db *db, const char *file_id, const char *state);
int db_file_exists(struct db *db, const char *file_id);

int db_file_scan_requeue(struct db *db, int *n);
int db_file_scan_claim(struct db *db, struct db_file *f);
int db_file_scan_done(struct db *db, const struct db_scan *sc, int shred);
int db_file_queued(struct db *db, int *n);

#endif
