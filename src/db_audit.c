/*
 * db_audit.c - the audit log's SQL: append a record to the chain (reading
 * the head and inserting in one transaction, under the db lock, so appends
 * are serialised), read records and checkpoints back. The hash and the
 * signatures are computed in audit.c.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "log.h"

static const char *
db_audit_s(const char *s)
{
	return s ? s : "";
}

/* db_audit_head_locked - seq, time and hash of the last record, or 0s and zeros */
static int
db_audit_head_locked(struct db *db, int64_t *seq, int64_t *at, unsigned char hash[AUDIT_HASHBYTES])
{
	sqlite3_stmt *st = db_prepare(db, "SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1");
	int r, rc = DB_ERROR;

	*seq = 0;
	*at = 0;
	memset(hash, 0, AUDIT_HASHBYTES);
	if (st == NULL)
		return DB_ERROR;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = DB_OK;
	} else if (r == SQLITE_ROW && sqlite3_column_bytes(st, 1) == AUDIT_HASHBYTES) {
		*seq = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), AUDIT_HASHBYTES);
		*at = sqlite3_column_int64(st, 2);
		rc = DB_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_audit_append_locked(struct db *db, const struct audit_event *ev, int64_t now, int64_t *seq)
{
	unsigned char prev[AUDIT_HASHBYTES], hash[AUDIT_HASHBYTES];
	int64_t last, last_at;
	sqlite3_stmt *st;
	int r;

	if (audit_event_ok(ev) != 0) {
		log_event(LOG_LVL_ERR, "audit.refused", "event=%s why=\"invalid field\"",
			  ev->event ? ev->event : "-");
		return DB_ERROR;
	}
	if (db_audit_head_locked(db, &last, &last_at, prev) != DB_OK)
		return DB_ERROR;
	/*
	 * Time never goes back along the chain: a caller's clock read before
	 * it got the lock, or a clock stepped back, takes the last record's
	 * time. So a time range is a run of consecutive seqs (db_audit_query.c).
	 */
	if (now < last_at)
		now = last_at;
	audit_hash(last + 1, now, ev, prev, hash);
	st = db_prepare(db, "INSERT INTO audit (seq, at, actor_kind, actor, ip, user_agent, event, "
			    "object_kind, object_id, outcome, detail, prev, hash, "
			    "transfer_ref, recipient_ref) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
			    "coalesce(json_extract(?11, '$.transfer'), ''), "
			    "coalesce(json_extract(?11, '$.recipient'), ''))");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, last + 1);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, db_audit_s(ev->actor_kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, db_audit_s(ev->actor), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, db_audit_s(ev->ip), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, db_audit_s(ev->user_agent), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, db_audit_s(ev->event), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, db_audit_s(ev->object_kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, db_audit_s(ev->object_id), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, db_audit_s(ev->outcome), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, ev->detail ? ev->detail : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, prev, AUDIT_HASHBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 13, hash, AUDIT_HASHBYTES, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r == DB_OK && seq != NULL)
		*seq = last + 1;
	return r == DB_OK ? DB_OK : DB_ERROR;
}

int
db_audit_append(struct db *db, const struct audit_event *ev, int64_t now, int64_t *seq)
{
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	return db_finish_locked(db, db_audit_append_locked(db, ev, now, seq));
}

int
db_audit_record_locked(struct db *db, const struct audit_actor *who, const char *event,
		       const char *object_kind, const char *object_id, const char *outcome,
		       json_t *detail, int64_t now)
{
	struct audit_event ev = {.actor_kind = who->kind,
				 .actor = who->name,
				 .ip = who->ip,
				 .user_agent = who->user_agent,
				 .event = event,
				 .object_kind = object_kind,
				 .object_id = object_id,
				 .outcome = outcome};
	char *d = NULL;
	int r;

	/*
	 * What GET /api/v1/audit filters on is always in detail: a transfer
	 * object's id as "transfer", a recipient actor's address as
	 * "recipient" (unless the caller named one), so each filter is one
	 * indexed expression (db_audit_query.c).
	 */
	if (detail == NULL && (detail = json_object()) == NULL)
		return DB_ERROR;
	if (object_kind != NULL && strcmp(object_kind, "transfer") == 0 && object_id != NULL &&
	    json_object_get(detail, "transfer") == NULL &&
	    json_object_set_new(detail, "transfer", json_string(object_id)) != 0) {
		json_decref(detail);
		return DB_ERROR;
	}
	if (who->kind != NULL && strcmp(who->kind, "recipient") == 0 && who->name != NULL &&
	    who->name[0] != '\0' && json_object_get(detail, "recipient") == NULL &&
	    json_object_set_new(detail, "recipient", json_string(who->name)) != 0) {
		json_decref(detail);
		return DB_ERROR;
	}
	/* Sorted keys: the stored text, and so the hash, does not depend on insertion order. */
	if ((d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(detail);
		return DB_ERROR;
	}
	json_decref(detail);
	ev.detail = d;
	r = db_audit_append_locked(db, &ev, now, NULL);
	free(d);
	return r;
}

int
db_audit_record(struct db *db, const struct audit_actor *who, const char *event,
		const char *object_kind, const char *object_id, const char *outcome,
		json_t *detail, int64_t now)
{
	if (db_begin(db) != DB_OK) {
		json_decref(detail);
		return DB_ERROR;
	}
	return db_finish_locked(db, db_audit_record_locked(db, who, event, object_kind, object_id,
							   outcome, detail, now));
}

/*
 * db_audit_record_bounded - db_audit_record for what anyone can cause
 * without credentials (a bad token, an unknown link, a failed login): at
 * most FLOOD's quota a minute, the first record of a new minute saying how
 * many were left out. DETAIL is consumed. Nothing changed either way, so a
 * failure is only logged.
 */
void
db_audit_record_bounded(struct db *db, struct audit_flood *flood, const struct audit_actor *who,
			const char *event, const char *object_kind, const char *object_id,
			json_t *detail, int64_t now)
{
	int left_out;

	if (!audit_flood_take(flood, now, &left_out)) {
		json_decref(detail);
		return;
	}
	if (detail != NULL && left_out > 0)
		json_object_set_new(detail, "not_recorded", json_integer(left_out));
	if (db_audit_record(db, who, event, object_kind, object_id, "failed", detail, now) !=
	    DB_OK)
		log_event(LOG_LVL_ERR, "audit.unrecorded", "event=%s", event);
}

int
db_audit_head(struct db *db, int64_t *seq, unsigned char hash[AUDIT_HASHBYTES])
{
	int64_t at;
	int r;

	db_lock(db);
	r = db_audit_head_locked(db, seq, &at, hash);
	db_unlock(db);
	return r;
}

static const char *
db_audit_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static const unsigned char *
db_audit_blob32(sqlite3_stmt *st, int col)
{
	const void *b = sqlite3_column_blob(st, col);

	return b != NULL && sqlite3_column_bytes(st, col) == AUDIT_HASHBYTES ? b : NULL;
}

int
db_audit_each(struct db *db, int (*cb)(const struct db_audit_row *r, void *arg), void *arg)
{
	return db_audit_each_after(db, 0, -1, cb, arg);
}

/*
 * db_audit_rows_locked - step ST (columns seq, at, actor_kind, actor, ip,
 * user_agent, event, object_kind, object_id, outcome, detail, prev, hash)
 * one row at a time into CB, then finalize it; a non-zero CB return stops
 * the walk and is returned. The readers of the log share it.
 */
int
db_audit_rows_locked(sqlite3_stmt *st, int (*cb)(const struct db_audit_row *r, void *arg),
		     void *arg)
{
	struct db_audit_row row;
	int r, rc = DB_OK;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		row.seq = sqlite3_column_int64(st, 0);
		row.at = sqlite3_column_int64(st, 1);
		row.actor_kind = db_audit_col(st, 2);
		row.actor = db_audit_col(st, 3);
		row.ip = db_audit_col(st, 4);
		row.user_agent = db_audit_col(st, 5);
		row.event = db_audit_col(st, 6);
		row.object_kind = db_audit_col(st, 7);
		row.object_id = db_audit_col(st, 8);
		row.outcome = db_audit_col(st, 9);
		row.detail = db_audit_col(st, 10);
		row.prev = db_audit_blob32(st, 11);
		row.hash = db_audit_blob32(st, 12);
		rc = cb(&row, arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = DB_ERROR;
	sqlite3_finalize(st);
	return rc;
}

int
db_audit_each_after(struct db *db, int64_t after, int limit,
		    int (*cb)(const struct db_audit_row *r, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	db_lock(db);
	st = db_prepare(db, "SELECT seq, at, actor_kind, actor, ip, user_agent, event, "
			    "object_kind, object_id, outcome, detail, prev, hash "
			    "FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	rc = db_audit_rows_locked(st, cb, arg);
	db_unlock(db);
	return rc;
}

/* db_audit_cp_row - a checkpoint row; -1 when a column has the wrong size */
static int
db_audit_cp_row(sqlite3_stmt *st, struct audit_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->seq = sqlite3_column_int64(st, 0);
	cp->at = sqlite3_column_int64(st, 2);
	db_copy_text(cp->key_id, sizeof(cp->key_id), st, 3);
	if (sqlite3_column_bytes(st, 1) != AUDIT_HASHBYTES ||
	    sqlite3_column_bytes(st, 4) != AUDIT_SIGBYTES)
		return -1;
	memcpy(cp->hash, sqlite3_column_blob(st, 1), AUDIT_HASHBYTES);
	memcpy(cp->sig, sqlite3_column_blob(st, 4), AUDIT_SIGBYTES);
	return 0;
}

int
db_audit_checkpoint_last(struct db *db, struct audit_checkpoint *cp)
{
	sqlite3_stmt *st;
	int r, rc = DB_ERROR;

	db_lock(db);
	/* By seq: an audit purge stores its anchor (an older seq) after newer checkpoints. */
	st = db_prepare(db, "SELECT seq, hash, at, key_id, signature FROM audit_checkpoints "
			    "ORDER BY seq DESC, id DESC LIMIT 1");
	if (st != NULL) {
		r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else if (r == SQLITE_ROW && db_audit_cp_row(st, cp) == 0)
			rc = DB_OK;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return rc;
}

int
db_audit_checkpoint_each(struct db *db, int (*cb)(const struct audit_checkpoint *cp, void *arg),
			 void *arg)
{
	struct audit_checkpoint cp;
	sqlite3_stmt *st;
	int r, rc = DB_OK;

	db_lock(db);
	st = db_prepare(db, "SELECT seq, hash, at, key_id, signature FROM audit_checkpoints "
			    "ORDER BY id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (db_audit_cp_row(st, &cp) != 0)
			memset(cp.sig, 0, sizeof(cp.sig)); /* will not verify: reported */
		rc = cb(&cp, arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = DB_ERROR;
	sqlite3_finalize(st);
	db_unlock(db);
	return rc;
}
