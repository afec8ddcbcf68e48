/*
 * db_audit_purge.c - the audit log's retention (policy retention.audit_days):
 * plan which leading records are old enough to go, and remove them in one
 * transaction that first anchors what stays to what goes: a signed
 * checkpoint at the last removed record, and an audit.purged record
 * naming it. okuructl audit verify accepts a log that starts after seq 1
 * only with both (ctl_audit.c), so a head deleted by hand is reported.
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
 * both intact: a signed checkpoint at the last removed record and a
 * record saying what went. Same text as migration 5, so the schema reads
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

/* db_audit_anchor_locked - a checkpoint at p->through_seq that verifies with the signer's key */
static int
db_audit_anchor_locked(struct db *db, const struct audit_signer *s, int64_t now,
		       const struct db_audit_purge *p)
{
	struct audit_checkpoint cp;
	sqlite3_stmt *st;
	int r, found = 0;

	st = db_prepare(db, "SELECT seq, hash, at, key_id, signature FROM audit_checkpoints "
			    "WHERE seq = ?1");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, p->through_seq);
	while (!found && (r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&cp, 0, sizeof(cp));
		cp.seq = sqlite3_column_int64(st, 0);
		cp.at = sqlite3_column_int64(st, 2);
		db_copy_text(cp.key_id, sizeof(cp.key_id), st, 3);
		if (sqlite3_column_bytes(st, 1) != AUDIT_HASHBYTES ||
		    sqlite3_column_bytes(st, 4) != AUDIT_SIGBYTES)
			continue;
		memcpy(cp.hash, sqlite3_column_blob(st, 1), AUDIT_HASHBYTES);
		memcpy(cp.sig, sqlite3_column_blob(st, 4), AUDIT_SIGBYTES);
		found = sodium_memcmp(cp.hash, p->through_hash, AUDIT_HASHBYTES) == 0 &&
			audit_checkpoint_verify(audit_signer_pk(s), &cp) == 0;
	}
	sqlite3_finalize(st);
	if (found)
		return DB_OK;
	memset(&cp, 0, sizeof(cp));
	cp.seq = p->through_seq;
	cp.at = now;
	memcpy(cp.hash, p->through_hash, AUDIT_HASHBYTES);
	audit_checkpoint_sign(s, &cp);
	st = db_prepare(db, "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, cp.seq);
	sqlite3_bind_blob(st, 2, cp.hash, AUDIT_HASHBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, cp.at);
	sqlite3_bind_text(st, 4, cp.key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 5, cp.sig, AUDIT_SIGBYTES, SQLITE_TRANSIENT);
	return db_step_done(db, st);
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
	st = db_prepare(db, "DELETE FROM audit_checkpoints WHERE seq < ?1");
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
	r = db_audit_anchor_locked(db, s, now, p);
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
