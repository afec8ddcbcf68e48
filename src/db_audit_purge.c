/*
 * db_audit_purge.c - the audit log's retention (policy retention.audit_days):
 * plan which leading records are old enough to go, and remove them in one
 * transaction that first anchors what stays to what goes: a signed purge
 * anchor (audit_anchors) for the removed range, and an audit.purged record
 * naming it. okuructl audit verify accepts a log that starts after seq 1
 * only on anchors from seq 1 on (ctl_audit.c), so a head deleted by hand
 * is reported.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "log.h"

/*
 * The delete triggers of migration 5, dropped and re-created around the
 * purge's own DELETEs. They guard against accidents (a stray DELETE from
 * okuru's own connection); the hash chain and the signed checkpoints are
 * the protection against someone who can drop them, and the purge leaves
 * both intact: a signed anchor for what went and a record saying so. Same text as migration 5, so the schema reads
 * the same after a purge.
 */
static const char db_audit_purge_drop[] = "DROP TRIGGER audit_no_delete;"
					  "DROP TRIGGER audit_checkpoints_no_delete;";
static const char db_audit_purge_restore[] =
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
    "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
    "  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;";

/* db_audit_purge_plan_locked - records first..through are older than cutoff (through 0: none) */
static int
db_audit_purge_plan_locked(struct db *db, int64_t cutoff, int64_t keep_from,
			   struct db_audit_purge *p)
{
	sqlite3_stmt *st;
	int64_t first, head, young;
	int r;

	memset(p, 0, sizeof(*p));
	p->cutoff = cutoff;
	st = db_prepare(db, "SELECT MIN(seq), MAX(seq), "
			    "(SELECT MIN(seq) FROM audit WHERE at >= ?1) FROM audit");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, cutoff);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_finalize(st);
		return DB_ERROR;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_finalize(st);
		return DB_OK; /* an empty log */
	}
	first = sqlite3_column_int64(st, 0);
	head = sqlite3_column_int64(st, 1);
	young = sqlite3_column_type(st, 2) == SQLITE_NULL ? head + 1 : sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	p->first_seq = first;
	/*
	 * Everything before the first young record, but never the newest
	 * record (the chain must keep a head) and never a record not yet
	 * forwarded (keep_from: the syslog forwarder's next seq).
	 */
	p->through_seq = young - 1;
	if (p->through_seq > head - 1)
		p->through_seq = head - 1;
	if (keep_from > 0 && p->through_seq > keep_from - 1)
		p->through_seq = keep_from - 1;
	if (p->through_seq < first) {
		p->through_seq = 0;
		return DB_OK;
	}
	p->records = p->through_seq - first + 1;
	st = db_prepare(db, "SELECT at, hash FROM audit WHERE seq = ?1");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, p->through_seq);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW || sqlite3_column_bytes(st, 1) != AUDIT_HASHBYTES) {
		sqlite3_finalize(st);
		return DB_ERROR;
	}
	p->through_at = sqlite3_column_int64(st, 0);
	memcpy(p->through_hash, sqlite3_column_blob(st, 1), AUDIT_HASHBYTES);
	sqlite3_finalize(st);
	return DB_OK;
}

int
db_audit_purge_plan(struct db *db, int64_t cutoff, int64_t keep_from, struct db_audit_purge *p)
{
	int r;

	db_lock(db);
	r = db_audit_purge_plan_locked(db, cutoff, keep_from, p);
	db_unlock(db);
	return r;
}

/*
 * db_audit_anchor_locked - the purge anchor: a statement signed under its
 * own label that first..through went at now under audit_days. verify
 * accepts a log starting after seq 1 only on an unbroken series of these
 * from seq 1; an ordinary checkpoint cannot serve (ctl_audit.c).
 */
static int
db_audit_anchor_locked(struct db *db, const struct audit_signer *s, int64_t now, int audit_days,
		       const struct db_audit_purge *p)
{
	struct audit_anchor a = {.first_seq = p->first_seq,
				 .through_seq = p->through_seq,
				 .through_at = p->through_at,
				 .purged_at = now,
				 .audit_days = audit_days};
	sqlite3_stmt *st;

	memcpy(a.through_hash, p->through_hash, AUDIT_HASHBYTES);
	audit_anchor_sign(s, &a);
	st = db_prepare(db, "INSERT INTO audit_anchors (first_seq, through_seq, through_hash, "
			    "through_at, purged_at, audit_days, key_id, signature) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, a.first_seq);
	sqlite3_bind_int64(st, 2, a.through_seq);
	sqlite3_bind_blob(st, 3, a.through_hash, AUDIT_HASHBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, a.through_at);
	sqlite3_bind_int64(st, 5, a.purged_at);
	sqlite3_bind_int64(st, 6, a.audit_days);
	sqlite3_bind_text(st, 7, a.key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 8, a.sig, AUDIT_SIGBYTES, SQLITE_TRANSIENT);
	return db_step_done(db, st);
}

int
db_audit_anchor_each(struct db *db, int (*cb)(const struct audit_anchor *a, void *arg),
		     void *arg)
{
	struct audit_anchor a;
	sqlite3_stmt *st;
	int r, rc = DB_OK;

	db_lock(db);
	st = db_prepare(db, "SELECT first_seq, through_seq, through_hash, through_at, purged_at, "
			    "audit_days, key_id, signature FROM audit_anchors ORDER BY through_seq");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		if (sqlite3_column_bytes(st, 2) != AUDIT_HASHBYTES ||
		    sqlite3_column_bytes(st, 7) != AUDIT_SIGBYTES) {
			rc = DB_ERROR;
			break;
		}
		a.first_seq = sqlite3_column_int64(st, 0);
		a.through_seq = sqlite3_column_int64(st, 1);
		memcpy(a.through_hash, sqlite3_column_blob(st, 2), AUDIT_HASHBYTES);
		a.through_at = sqlite3_column_int64(st, 3);
		a.purged_at = sqlite3_column_int64(st, 4);
		a.audit_days = sqlite3_column_int64(st, 5);
		db_copy_text(a.key_id, sizeof(a.key_id), st, 6);
		memcpy(a.sig, sqlite3_column_blob(st, 7), AUDIT_SIGBYTES);
		rc = cb(&a, arg);
		if (rc != 0)
			break;
	}
	if (rc == DB_OK && r != SQLITE_DONE)
		rc = DB_ERROR;
	sqlite3_finalize(st);
	db_unlock(db);
	return rc;
}

/* db_audit_purge_delete_locked - the rows themselves, the triggers lifted for these two DELETEs */
static int
db_audit_purge_delete_locked(struct db *db, int64_t through)
{
	sqlite3_stmt *st;

	if (db_exec_locked(db, db_audit_purge_drop) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "DELETE FROM audit WHERE seq <= ?1");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, through);
	if (db_step_done(db, st) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "DELETE FROM audit_checkpoints WHERE seq <= ?1");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, through);
	if (db_step_done(db, st) != DB_OK)
		return DB_ERROR;
	return db_exec_locked(db, db_audit_purge_restore);
}

int
db_audit_purge(struct db *db, const struct audit_signer *s, const struct audit_actor *who,
	       int audit_days, int64_t now, int64_t keep_from, struct db_audit_purge *p)
{
	char hex[2 * AUDIT_HASHBYTES + 1], through[24];
	json_t *detail;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_audit_purge_plan_locked(db, now - (int64_t)audit_days * 86400, keep_from, p);
	if (r == DB_OK && p->through_seq == 0)
		r = DB_NOTFOUND; /* nothing old enough: rolled back, nothing written */
	if (r != DB_OK)
		return db_finish_locked(db, r);
	/* In this order: the anchor and the record exist before anything goes. */
	r = db_audit_anchor_locked(db, s, now, audit_days, p);
	if (r == DB_OK) {
		sodium_bin2hex(hex, sizeof(hex), p->through_hash, AUDIT_HASHBYTES);
		detail = json_pack("{sI sI ss sI si}", "first_seq", (json_int_t)p->first_seq,
				   "through_seq", (json_int_t)p->through_seq, "through_hash", hex,
				   "records", (json_int_t)p->records, "audit_days", audit_days);
		snprintf(through, sizeof(through), "%lld", (long long)p->through_seq);
		r = detail == NULL ? DB_ERROR
				   : db_audit_record_locked(db, who, "audit.purged", "audit",
							    through, "ok", detail, now);
	}
	if (r == DB_OK)
		r = db_audit_purge_delete_locked(db, p->through_seq);
	return db_finish_locked(db, r == DB_OK ? DB_OK : DB_ERROR);
}
