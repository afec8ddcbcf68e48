/*
 * db_retention.c - what retention changes in the database: the transfers
 * that are due (through okuru_due(), retention_compute as an SQL function,
 * so there is one definition of "due"), purging a transfer's content
 * (crypto-shredding: its data keys are erased in one commit) and later its
 * records, and legal holds.
 *
 * Each purge is one transaction that re-reads the transfer and checks that
 * it is still due and that no legal hold is active, so a hold placed while
 * the purger works wins. Blobs are removed by the caller after the commit
 * (see purger.c): files wait in state "purging" until their blob is gone,
 * then become "purged"; a transfer's records go only when none is left
 * "purging".
 */
#include "config.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "jsonutil.h"
#include "log.h"
#include "retention.h"

#define DB_RET_COLS                                                                                \
	"t.id, t.state, t.created, t.expires_at, t.revoked_at, t.ended_at, t.retention_days, "     \
	"t.content_purged_at"
/* okuru_due(0: content, 1: records, ...) with the policy in ?1..?3 */
#define DB_DUE_ARGS                                                                                \
	"t.state, t.created, t.expires_at, t.revoked_at, t.ended_at, t.retention_days, ?1, ?2, "   \
	"?3)"
#define DB_CONTENT_DUE "okuru_due(0, " DB_DUE_ARGS
#define DB_METADATA_DUE "okuru_due(1, " DB_DUE_ARGS

/*
 * db_due_fn - okuru_due(what, state, created, expires_at, revoked_at,
 * ended_at, retention_days, content_days, max_expiry_days, metadata_days):
 * when content (what 0) or records (what 1) are due, or NULL for never.
 */
static void
db_due_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *state = sqlite3_value_text(argv[1]);
	struct retention_input in;
	struct retention_policy p;
	struct retention_due d;

	if (argc != 10 || state == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	in = (struct retention_input){.state = (const char *)state,
				      .created = sqlite3_value_int64(argv[2]),
				      .expires_at = sqlite3_value_int64(argv[3]),
				      .revoked_at = sqlite3_value_int64(argv[4]),
				      .ended_at = sqlite3_value_int64(argv[5]),
				      .retention_days = sqlite3_value_int(argv[6])};
	p = (struct retention_policy){.content_days = sqlite3_value_int(argv[7]),
				      .max_expiry_days = sqlite3_value_int(argv[8]),
				      .metadata_days = sqlite3_value_int(argv[9])};
	retention_compute(&in, &p, &d);
	if (d.end == 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx,
				     sqlite3_value_int(argv[0]) ? d.metadata_due : d.content_due);
}

/* db_retention_init_locked - register okuru_due() on a new connection (db_open) */
int
db_retention_init_locked(struct db *db)
{
	/* DIRECTONLY: usable in our statements, never from a schema object. */
	return sqlite3_create_function_v2(db->h, "okuru_due", 10,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
					  NULL, db_due_fn, NULL, NULL, NULL) == SQLITE_OK
		   ? DB_OK
		   : DB_ERROR;
}

static void
db_policy_bind(sqlite3_stmt *st, const struct retention_policy *p)
{
	sqlite3_bind_int(st, 1, p->content_days);
	sqlite3_bind_int(st, 2, p->max_expiry_days);
	sqlite3_bind_int(st, 3, p->metadata_days);
}

/* db_ret_row - DB_RET_COLS, then (optionally) the active hold's placed_at, placer, reason */
static void
db_ret_row(sqlite3_stmt *st, struct db_retention_row *r)
{
	memset(r, 0, sizeof(*r));
	db_copy_text(r->id, sizeof(r->id), st, 0);
	db_copy_text(r->state, sizeof(r->state), st, 1);
	r->created = sqlite3_column_int64(st, 2);
	r->expires_at = sqlite3_column_int64(st, 3);
	r->revoked_at = sqlite3_column_int64(st, 4);
	r->ended_at = sqlite3_column_int64(st, 5);
	r->retention_days = sqlite3_column_int(st, 6);
	r->content_purged_at = sqlite3_column_int64(st, 7);
	if (sqlite3_column_count(st) < 11 || sqlite3_column_type(st, 8) == SQLITE_NULL)
		return;
	r->held = 1;
	r->hold_at = sqlite3_column_int64(st, 8);
	db_copy_text(r->hold_by, sizeof(r->hold_by), st, 9);
	db_copy_text(r->hold_reason, sizeof(r->hold_reason), st, 10);
}

/* db_retention_input - the fields retention_compute reads, from a row */
void
db_retention_input(const struct db_retention_row *r, struct retention_input *in)
{
	*in = (struct retention_input){.state = r->state,
				       .created = r->created,
				       .expires_at = r->expires_at,
				       .revoked_at = r->revoked_at,
				       .ended_at = r->ended_at,
				       .retention_days = r->retention_days};
}

#define DB_RET_SELECT                                                                              \
	"SELECT " DB_RET_COLS ", h.placed_at, ifnull(u.name, ''), ifnull(h.reason, '') "           \
	"FROM transfers t LEFT JOIN legal_holds h ON h.transfer_id = t.id AND h.lifted_at = 0 "    \
	"LEFT JOIN users u ON u.id = h.placed_by "

static int
db_retention_get_locked(struct db *db, const char *tid, struct db_retention_row *r)
{
	sqlite3_stmt *st = db_prepare(db, DB_RET_SELECT "WHERE t.id = ?1");
	int rc;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_ret_row(st, r);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
}

/* db_retention_get - one transfer's retention fields and its active hold, if any */
int
db_retention_get(struct db *db, const char *tid, struct db_retention_row *r)
{
	int rc;

	db_lock(db);
	rc = db_retention_get_locked(db, tid, r);
	db_unlock(db);
	return rc;
}

/* Content not yet purged and due, or records due once the content is gone or due too. */
#define DB_RET_DUE                                                                                 \
	DB_RET_SELECT "WHERE ((t.content_purged_at = 0 AND " DB_CONTENT_DUE                        \
		      " <= ?4) OR (" DB_METADATA_DUE                                               \
		      " <= ?4 AND (t.content_purged_at > 0 OR " DB_CONTENT_DUE " <= ?4))) "        \
		      "AND (?5 OR h.id IS NULL) ORDER BY t.rowid LIMIT ?6"

/*
 * db_retention_due - the transfers whose content (not yet purged) or whose
 * records are due at `at` under policy p, oldest first, at most limit;
 * with with_held also those an active legal hold keeps (r->held). Records
 * count as due only once the content is gone or due too. cb runs under
 * the db lock.
 */
int
db_retention_due(struct db *db, const struct retention_policy *p, int64_t at, int with_held,
		 int limit, db_retention_cb cb, void *arg)
{
	struct db_retention_row r;
	sqlite3_stmt *st;
	int rc;

	db_lock(db);
	st = db_prepare(db, DB_RET_DUE);
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	db_policy_bind(st, p);
	sqlite3_bind_int64(st, 4, at);
	sqlite3_bind_int(st, 5, with_held ? 1 : 0);
	sqlite3_bind_int(st, 6, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_ret_row(st, &r);
		if (cb(&r, arg) != 0) {
			rc = SQLITE_ABORT;
			break;
		}
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_exec_tid_locked - run one write statement with the transfer id in ?1 and now in ?2 */
static int
db_exec_tid_locked(struct db *db, const char *sql, const char *tid, int64_t now)
{
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, now);
	return db_step_done(db, st);
}

static int
db_purge_insert_locked(struct db *db, const char *tid, const char *what, const struct db_purge *pg,
		       int64_t now)
{
	sqlite3_stmt *st =
	    db_prepare(db, "INSERT INTO purges (at, transfer_id, what, files, bytes, "
			   "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, tid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, what, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, pg->files);
	sqlite3_bind_int64(st, 5, pg->bytes);
	sqlite3_bind_text(st, 6, pg->reason, -1, SQLITE_TRANSIENT);
	return db_step_done(db, st);
}

/*
 * db_purge_audit_locked - "purge.content" or "purge.metadata" by WHO in the
 * purge's transaction. The audit log itself is never purged: it keeps the
 * transfer's id after its records are gone.
 */
static int
db_purge_audit_locked(struct db *db, const struct audit_actor *who, const char *tid,
		      const char *what, const struct db_purge *pg, int64_t now)
{
	char event[24];
	json_t *d =
	    json_pack("{s:s, s:I, s:I, s:o}", "transfer", tid, "files", (json_int_t)pg->files,
		      "bytes", (json_int_t)pg->bytes, "reason", jsonutil_text(pg->reason));

	if (d == NULL)
		return DB_ERROR;
	snprintf(event, sizeof(event), "purge.%s", what);
	return db_audit_record_locked(db, who, event, "transfer", tid, "ok", d, now);
}

/*
 * db_purge_check_locked - inside the purge's transaction: the transfer
 * exists, what is to be purged is due at now, and no hold is active.
 * DB_NOTFOUND when there is nothing to do; DB_CONFLICT (pg->blocked) when a
 * hold or unremoved blobs stop it.
 */
static int
db_purge_check_locked(struct db *db, const char *tid, const struct retention_policy *p, int64_t now,
		      int metadata, struct db_purge *pg)
{
	struct db_retention_row r;
	struct retention_input in;
	struct retention_due d;
	int64_t n = 0;
	int rc = db_retention_get_locked(db, tid, &r);

	if (rc != DB_OK)
		return rc;
	db_retention_input(&r, &in);
	retention_compute(&in, p, &d);
	if (d.end == 0)
		return DB_NOTFOUND;
	if (metadata ? (r.content_purged_at == 0 || d.metadata_due > now)
		     : (r.content_purged_at != 0 || d.content_due > now))
		return DB_NOTFOUND;
	if (r.held) {
		pg->blocked = "legal hold";
		return DB_CONFLICT;
	}
	if (metadata) {
		rc = db_int_locked(db,
				   "SELECT count(*) FROM files WHERE transfer_id = ?1 "
				   "AND state = 'purging'",
				   tid, 0, &n);
		if (rc != DB_OK)
			return rc;
		if (n > 0) {
			pg->blocked = "blobs not removed yet";
			return DB_CONFLICT;
		}
	}
	retention_describe(&d, metadata, pg->reason, sizeof(pg->reason));
	return DB_OK;
}

/* db_purge_count_locked - how many files and bytes (of those with shredded_max or less) */
static int
db_purge_count_locked(struct db *db, const char *tid, int shredded_max, struct db_purge *pg)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*), coalesce(sum(size), 0) FROM files "
					  "WHERE transfer_id = ?1 AND shredded <= ?2");
	int rc;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, shredded_max);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		pg->files = sqlite3_column_int64(st, 0);
		pg->bytes = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? DB_OK : DB_ERROR;
}

/*
 * db_purge_content - crypto-shred a transfer whose content is due, in one
 * commit: every data key erased (files shredded, state "purging" until
 * their blobs are removed), queued mail cancelled, links still live cut
 * off, content_purged_at set, and a purges row. DB_NOTFOUND: nothing is
 * due (any more); DB_CONFLICT: pg->blocked says why not.
 */
int
db_purge_content(struct db *db, const char *tid, const struct retention_policy *p, int64_t now,
		 struct db_purge *pg, const struct audit_actor *who)
{
	static const char *const sql[] = {
	    "UPDATE files SET wrapped_key = x'', key_id = '', shredded = 1, state = 'purging' "
	    "WHERE transfer_id = ?1 AND shredded = 0",
	    "UPDATE outbox SET state = 'failed', sealed = NULL, wrapped = NULL, "
	    "last_error = 'purged' WHERE state = 'queued' AND (transfer_id = ?1 OR link_id IN "
	    "(SELECT id FROM links WHERE transfer_id = ?1))",
	    "DELETE FROM link_sessions WHERE link_id IN (SELECT id FROM links WHERE "
	    "transfer_id = ?1)",
	    /* Only links still live: an expired one keeps showing "expired". */
	    "UPDATE links SET revoked_at = ?2 WHERE transfer_id = ?1 AND revoked_at = 0 "
	    "AND expires_at > ?2",
	    "UPDATE transfers SET content_purged_at = ?2 WHERE id = ?1",
	};
	int rc;

	memset(pg, 0, sizeof(*pg));
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	rc = db_purge_check_locked(db, tid, p, now, 0, pg);
	if (rc == DB_OK)
		rc = db_purge_count_locked(db, tid, 0, pg);
	for (size_t i = 0; rc == DB_OK && i < sizeof(sql) / sizeof(sql[0]); i++)
		rc = db_exec_tid_locked(db, sql[i], tid, now);
	if (rc == DB_OK)
		rc = db_purge_insert_locked(db, tid, "content", pg, now);
	if (rc == DB_OK)
		rc = db_purge_audit_locked(db, who, tid, "content", pg, now);
	return db_finish_locked(db, rc);
}

/*
 * db_purge_metadata - delete a transfer's records, after its content, from
 * every table that refers to it, and keep one purges row. A table added
 * later that refers to a transfer, a file or a link must be added here:
 * until it is, the foreign key stops the purge (DB_CONFLICT) rather than
 * leaving rows behind.
 */
int
db_purge_metadata(struct db *db, const char *tid, const struct retention_policy *p, int64_t now,
		  struct db_purge *pg, const struct audit_actor *who)
{
#define DB_LINKS_OF "(SELECT id FROM links WHERE transfer_id = ?1)"
#define DB_FILES_OF "(SELECT id FROM files WHERE transfer_id = ?1)"
	static const char *const sql[] = {
	    "DELETE FROM download_progress WHERE link_id IN " DB_LINKS_OF
	    " OR file_id IN " DB_FILES_OF,
	    "DELETE FROM downloads WHERE link_id IN " DB_LINKS_OF " OR file_id IN " DB_FILES_OF,
	    "DELETE FROM link_sessions WHERE link_id IN " DB_LINKS_OF,
	    "DELETE FROM link_attempts WHERE link_id IN " DB_LINKS_OF,
	    "DELETE FROM outbox WHERE transfer_id = ?1 OR link_id IN " DB_LINKS_OF,
	    "DELETE FROM approvals WHERE transfer_id = ?1",
	    "DELETE FROM scans WHERE file_id IN " DB_FILES_OF,
	    "DELETE FROM links WHERE transfer_id = ?1",
	    "DELETE FROM files WHERE transfer_id = ?1",
	    "DELETE FROM legal_holds WHERE transfer_id = ?1",
	    "DELETE FROM transfers WHERE id = ?1",
	};
#undef DB_LINKS_OF
#undef DB_FILES_OF
	int rc;

	memset(pg, 0, sizeof(*pg));
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	rc = db_purge_check_locked(db, tid, p, now, 1, pg);
	if (rc == DB_OK)
		rc = db_purge_count_locked(db, tid, 1, pg);
	for (size_t i = 0; rc == DB_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
		rc = db_exec_tid_locked(db, sql[i], tid, now);
		if (rc == DB_CONFLICT)
			pg->blocked = "a row still refers to the transfer";
	}
	if (rc == DB_OK)
		rc = db_purge_insert_locked(db, tid, "metadata", pg, now);
	if (rc == DB_OK)
		rc = db_purge_audit_locked(db, who, tid, "metadata", pg, now);
	return db_finish_locked(db, rc);
}

/* db_purge_pending - files whose blob still has to be removed (tid NULL: all), at most limit */
int
db_purge_pending(struct db *db, const char *tid, int limit, db_id_cb cb, void *arg)
{
	sqlite3_stmt *st;
	char id[UTIL_IDLEN + 1];
	int rc;

	db_lock(db);
	st = db_prepare(db, "SELECT id FROM files WHERE state = 'purging' "
			    "AND (?1 IS NULL OR transfer_id = ?1) ORDER BY rowid LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	if (tid != NULL)
		sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_copy_text(id, sizeof(id), st, 0);
		if (cb(id, arg) != 0) {
			rc = SQLITE_ABORT;
			break;
		}
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_purge_blob_done - the file's blob is gone: purging → purged */
int
db_purge_blob_done(struct db *db, const char *file_id)
{
	int rc;

	db_lock(db);
	rc = db_exec_tid_locked(db,
				"UPDATE files SET state = 'purged' WHERE id = ?1 "
				"AND state = 'purging'",
				file_id, 0);
	db_unlock(db);
	return rc;
}

/* ---- legal hold ------------------------------------------------------------ */

/*
 * db_hold_place - put a transfer under legal hold. DB_NOTFOUND: no such
 * transfer (its records may have been purged); DB_CONFLICT: a hold is
 * already active (one at a time).
 */
/*
 * db_hold_audit_locked - hold.placed or hold.lifted: the reason, and the
 * user the hold is in the name of (okuructl's --by; the actor for the API).
 */
static int
db_hold_audit_locked(struct db *db, const char *event, const char *tid, int64_t user_id,
		     const char *reason, int64_t now, const struct audit_actor *who)
{
	char by[DB_NAMEMAX + 1], idtext[24];

	snprintf(idtext, sizeof(idtext), "%lld", (long long)user_id);
	if (db_text_locked(db, "SELECT name FROM users WHERE id = CAST(?1 AS INTEGER)", idtext,
			   NULL, by, sizeof(by)) != DB_OK)
		return DB_ERROR;
	return db_record_locked(db, who, event, "transfer", tid, "ok",
				json_pack("{s:s, s:s}", "reason", reason, "by", by), now);
}

int
db_hold_place(struct db *db, const char *tid, int64_t user_id, const char *reason, int64_t now,
	      const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	rc = db_int_locked(db, "SELECT 1 FROM transfers WHERE id = ?1", tid, 0, &n);
	if (rc != DB_OK)
		return db_finish_locked(db, rc);
	rc = db_int_locked(db,
			   "SELECT count(*) FROM legal_holds WHERE transfer_id = ?1 "
			   "AND lifted_at = 0",
			   tid, 0, &n);
	if (rc == DB_OK && n > 0)
		rc = DB_CONFLICT;
	if (rc != DB_OK)
		return db_finish_locked(db, rc);
	st = db_prepare(db, "INSERT INTO legal_holds (transfer_id, placed_by, placed_at, reason) "
			    "VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
	rc = db_step_done(db, st);
	if (rc == DB_CONFLICT)
		rc = DB_ERROR; /* a constraint here is a bad user id, not a second hold */
	if (rc == DB_OK)
		rc = db_hold_audit_locked(db, "hold.placed", tid, user_id, reason, now, who);
	return db_finish_locked(db, rc);
}

/* db_hold_lift - end the active hold. DB_NOTFOUND: no such transfer; DB_CONFLICT: no hold */
int
db_hold_lift(struct db *db, const char *tid, int64_t user_id, const char *reason, int64_t now,
	     const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	rc = db_int_locked(db, "SELECT 1 FROM transfers WHERE id = ?1", tid, 0, &n);
	if (rc != DB_OK)
		return db_finish_locked(db, rc);
	st = db_prepare(db, "UPDATE legal_holds SET lifted_by = ?2, lifted_at = ?3, "
			    "lift_reason = ?4 WHERE transfer_id = ?1 AND lifted_at = 0");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
	rc = db_step_done(db, st);
	if (rc == DB_OK && sqlite3_changes(db->h) == 0)
		rc = DB_CONFLICT;
	else if (rc == DB_CONFLICT)
		rc = DB_ERROR;
	if (rc == DB_OK)
		rc = db_hold_audit_locked(db, "hold.lifted", tid, user_id, reason, now, who);
	return db_finish_locked(db, rc);
}

/* db_hold_list - a transfer's holds (tid NULL: every hold), oldest first; cb under the lock */
int
db_hold_list(struct db *db, const char *tid, db_hold_cb cb, void *arg)
{
	struct db_hold h;
	sqlite3_stmt *st;
	int rc;

	db_lock(db);
	st = db_prepare(db, "SELECT h.id, h.transfer_id, ifnull(p.name, '?'), h.placed_at, "
			    "h.reason, ifnull(l.name, ''), h.lifted_at, h.lift_reason "
			    "FROM legal_holds h LEFT JOIN users p ON p.id = h.placed_by "
			    "LEFT JOIN users l ON l.id = h.lifted_by "
			    "WHERE ?1 IS NULL OR h.transfer_id = ?1 ORDER BY h.id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	if (tid != NULL)
		sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&h, 0, sizeof(h));
		h.id = sqlite3_column_int64(st, 0);
		db_copy_text(h.transfer_id, sizeof(h.transfer_id), st, 1);
		db_copy_text(h.placed_by, sizeof(h.placed_by), st, 2);
		h.placed_at = sqlite3_column_int64(st, 3);
		db_copy_text(h.reason, sizeof(h.reason), st, 4);
		db_copy_text(h.lifted_by, sizeof(h.lifted_by), st, 5);
		h.lifted_at = sqlite3_column_int64(st, 6);
		db_copy_text(h.lift_reason, sizeof(h.lift_reason), st, 7);
		if (cb(&h, arg) != 0) {
			rc = SQLITE_ABORT;
			break;
		}
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}
