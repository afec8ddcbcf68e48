/*
 * db_int.h - what the db_*.c files share: the connection, its lock and the
 * statement helpers. Not for use outside the database layer.
 */
#ifndef OKURU_DB_INT_H
#define OKURU_DB_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct db {
	sqlite3 *h;
	pthread_mutex_t lock;
};

void db_lock(struct db *db);
void db_unlock(struct db *db);
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
int db_exec_locked(struct db *db, const char *sql);
void db_copy_text(char *dst, size_t dstsz, sqlite3_stmt *st, int col);
int db_begin(struct db *db);
int db_finish_locked(struct db *db, int r);
int db_step_done(struct db *db, sqlite3_stmt *st);
int db_int_locked(struct db *db, const char *sql, const char *p1, int64_t p2, int64_t *out);
/* db_exists - 1 when sql (text ?1, and ?2 unless p2 is NULL) finds a row, 0 if not, -1 on error */
int db_exists(struct db *db, const char *sql, const char *p1, const char *p2);
struct db_user;
void db_user_row(sqlite3_stmt *st, int col, struct db_user *u);
struct audit_actor;
struct json_t;
/* db_record_locked - db_audit_record_locked, but a NULL detail is an error (DB_ERROR) */
int db_record_locked(struct db *db, const struct audit_actor *who, const char *event,
		     const char *object_kind, const char *object_id, const char *outcome,
		     struct json_t *detail, int64_t now);
int db_text_locked(struct db *db, const char *sql, const char *p1, const char *p2, char *out,
		   size_t outlen);

/* db_retention_init_locked - register okuru_due() (db_retention.c) on a new connection */
int db_retention_init_locked(struct db *db);

struct db_file;
/* db_file_insert_locked - db_file_insert inside the caller's transaction (db_uploads.c) */
int db_file_insert_locked(struct db *db, const struct db_file *f, int max_files, int64_t max_bytes,
			  const struct audit_actor *who, char *why, size_t whylen);

/* db_upload_link_bytes_locked - a link's files' sizes plus its unfinished uploads' lengths,
 * the upload except_id left out (db_uploads.c) */
int db_upload_link_bytes_locked(struct db *db, const char *link_id, const char *except_id,
				int64_t *bytes);

struct db_mail;
/* db_mail_insert_locked - queue a message inside the caller's transaction */
int db_mail_insert_locked(struct db *db, const struct db_mail *m, int64_t now);
int db_mail_queue_locked(struct db *db, const struct db_mail *m, int64_t now, int64_t not_before,
			 int held);
int db_links_cut_locked(struct db *db, const char *transfer_id, const char *link_id);
/* ENDED (may be NULL): how many links were still live and are ended now */
int db_transfer_links_end_locked(struct db *db, const char *transfer_id, int64_t now, int *ended);

struct db_audit_row;
/* db_audit_rows_locked - step an audit SELECT into cb, finalize it (db_audit.c) */
int db_audit_rows_locked(sqlite3_stmt *st, int (*cb)(const struct db_audit_row *r, void *arg),
			 void *arg);

#endif
