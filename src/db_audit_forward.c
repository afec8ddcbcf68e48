/*
 * db_audit_forward.c - the syslog forwarder's SQL (audit_syslog.c): how
 * far it got (the one row of audit_forward, schema 7) and the records
 * after that, in seq order.
 */
#include "config.h"

#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"

int
db_audit_forward_get(struct db *db, int64_t *last_seq, int64_t *last_cp)
{
	sqlite3_stmt *st;
	int rc = DB_ERROR;

	*last_seq = 0;
	if (last_cp != NULL)
		*last_cp = 0;
	db_lock(db);
	st = db_prepare(db, "SELECT last_seq, last_checkpoint FROM audit_forward WHERE id = 1");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		*last_seq = sqlite3_column_int64(st, 0);
		if (last_cp != NULL)
			*last_cp = sqlite3_column_int64(st, 1);
		rc = DB_OK;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return rc;
}

/* db_audit_forward_update - one column of the row; never backwards (a purge relies on it) */
static int
db_audit_forward_update(struct db *db, const char *sql, int64_t v, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, sql);
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_int64(st, 2, now);
	r = db_step_done(db, st);
	db_unlock(db);
	return r;
}

int
db_audit_forward_set(struct db *db, int64_t last_seq, int64_t now)
{
	return db_audit_forward_update(db,
				       "UPDATE audit_forward SET last_seq = ?1, updated = ?2 "
				       "WHERE id = 1 AND last_seq < ?1",
				       last_seq, now);
}

int
db_audit_forward_cp_set(struct db *db, int64_t last_cp, int64_t now)
{
	return db_audit_forward_update(
	    db,
	    "UPDATE audit_forward SET last_checkpoint = ?1, updated = ?2 "
	    "WHERE id = 1 AND last_checkpoint < ?1",
	    last_cp, now);
}

int
db_audit_checkpoint_next(struct db *db, int64_t after_id, int64_t *id, struct audit_checkpoint *cp)
{
	sqlite3_stmt *st;
	int r, rc = DB_ERROR;

	memset(cp, 0, sizeof(*cp));
	db_lock(db);
	st = db_prepare(db, "SELECT id, seq, hash, at, key_id, signature FROM audit_checkpoints "
			    "WHERE id > ?1 ORDER BY id LIMIT 1");
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, after_id);
		r = sqlite3_step(st);
		if (r == SQLITE_DONE) {
			rc = DB_NOTFOUND;
		} else if (r == SQLITE_ROW) {
			*id = sqlite3_column_int64(st, 0);
			cp->seq = sqlite3_column_int64(st, 1);
			cp->at = sqlite3_column_int64(st, 3);
			db_copy_text(cp->key_id, sizeof(cp->key_id), st, 4);
			if (sqlite3_column_bytes(st, 2) == AUDIT_HASHBYTES &&
			    sqlite3_column_bytes(st, 5) == AUDIT_SIGBYTES) {
				memcpy(cp->hash, sqlite3_column_blob(st, 2), AUDIT_HASHBYTES);
				memcpy(cp->sig, sqlite3_column_blob(st, 5), AUDIT_SIGBYTES);
			}
			rc = DB_OK;
		}
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return rc;
}

int
db_audit_checkpoint_add_mail(struct db *db, const struct audit_checkpoint *cp,
			     const struct db_mail *m)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, cp->seq);
	sqlite3_bind_blob(st, 2, cp->hash, AUDIT_HASHBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cp->at);
	sqlite3_bind_text(st, 4, cp->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, cp->sig, AUDIT_SIGBYTES, SQLITE_STATIC);
	r = db_step_done(db, st);
	if (r == DB_OK && m != NULL)
		r = db_mail_insert_locked(db, m, cp->at);
	return db_finish_locked(db, r);
}
