/*
 * db_outbox.c - the outbox: messages queued in the same transaction as the
 * state change that caused them, read back by the mailer, and their
 * outcome. A message's sealed body is erased once it is sent or has failed
 * for good, so the database keeps no link or code longer than needed.
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

/* db_mail_audit_locked - a record about outbox row id by the system (takes detail) */
static int
db_mail_audit_locked(struct db *db, const char *event, int64_t id, const char *outcome,
		     json_t *detail, int64_t now)
{
	char oid[24];

	if (detail == NULL)
		return DB_ERROR; /* a record without its detail would say too little */
	snprintf(oid, sizeof(oid), "%lld", (long long)id);
	return db_audit_record_locked(db, &audit_system, event, "mail", oid, outcome, detail, now);
}

/*
 * db_mail_audited - whether mail of KIND is put in the audit log. A signed
 * checkpoint's mail to the auditors is not: its record would move the head
 * the checkpoint certifies, and the next interval would sign and mail
 * another, for ever. Its sending is in the outbox table and okurud's log.
 */
static int
db_mail_audited(const char *kind)
{
	return strcmp(kind, "checkpoint") != 0;
}

/* db_mail_insert_locked - queue m; the caller holds the lock and a transaction */
int
db_mail_insert_locked(struct db *db, const struct db_mail *m, int64_t now)
{
	return db_mail_queue_locked(db, m, now, now, 0);
}

/*
 * db_mail_queue_locked - queue m to go out not before not_before; a held
 * message waits for its transfer's approval whatever the time. Every
 * queued message is recorded ("mail.queued", by the system: whoever caused
 * it is named by the record of that cause) in the caller's transaction.
 */
int
db_mail_queue_locked(struct db *db, const struct db_mail *m, int64_t now, int64_t not_before,
		     int held)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO outbox (created, kind, to_addr, transfer_id, link_id, message_id, "
		    "key_id, wrapped, sealed, state, next_attempt, held) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?10, ?11)");

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 10, not_before);
	sqlite3_bind_int(st, 11, held ? 1 : 0);
	sqlite3_bind_text(st, 2, m->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, m->to, -1, SQLITE_TRANSIENT);
	if (m->transfer_id[0] != '\0')
		sqlite3_bind_text(st, 4, m->transfer_id, -1, SQLITE_TRANSIENT);
	if (m->link_id[0] != '\0')
		sqlite3_bind_text(st, 5, m->link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, m->message_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, m->key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 8, m->wrapped, KEYS_WRAPPEDBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 9, m->sealed, (int)m->sealed_len, SQLITE_TRANSIENT);
	if (db_step_done(db, st) != DB_OK)
		return DB_ERROR;
	if (!db_mail_audited(m->kind))
		return DB_OK;
	return db_mail_audit_locked(db, "mail.queued", sqlite3_last_insert_rowid(db->h), "ok",
				    json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "transfer",
					      m->transfer_id, "recipient", m->to, "kind", m->kind,
					      "message_id", m->message_id, "held", held,
					      "not_before", jsonutil_time(not_before)),
				    now);
}

#define DB_OUTBOX_COLS                                                                  \
	"id, created, kind, to_addr, ifnull(transfer_id, ''), ifnull(link_id, ''), "     \
	"message_id, ifnull(key_id, ''), wrapped, sealed, state, attempts, next_attempt, " \
	"last_error, last_code, sent_at, tls"

static int
db_outbox_row(sqlite3_stmt *st, struct db_outbox *o, int with_body)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	o->created = sqlite3_column_int64(st, 1);
	db_copy_text(o->kind, sizeof(o->kind), st, 2);
	db_copy_text(o->to, sizeof(o->to), st, 3);
	db_copy_text(o->transfer_id, sizeof(o->transfer_id), st, 4);
	db_copy_text(o->link_id, sizeof(o->link_id), st, 5);
	db_copy_text(o->message_id, sizeof(o->message_id), st, 6);
	db_copy_text(o->key_id, sizeof(o->key_id), st, 7);
	if (sqlite3_column_bytes(st, 8) == KEYS_WRAPPEDBYTES)
		memcpy(o->wrapped, sqlite3_column_blob(st, 8), KEYS_WRAPPEDBYTES);
	if (with_body && sqlite3_column_bytes(st, 9) > 0) {
		o->sealed_len = (size_t)sqlite3_column_bytes(st, 9);
		o->sealed = malloc(o->sealed_len);
		if (o->sealed == NULL)
			return DB_ERROR;
		memcpy(o->sealed, sqlite3_column_blob(st, 9), o->sealed_len);
	}
	db_copy_text(o->state, sizeof(o->state), st, 10);
	o->attempts = sqlite3_column_int(st, 11);
	o->next_attempt = sqlite3_column_int64(st, 12);
	db_copy_text(o->last_error, sizeof(o->last_error), st, 13);
	o->last_code = sqlite3_column_int(st, 14);
	o->sent_at = sqlite3_column_int64(st, 15);
	db_copy_text(o->tls, sizeof(o->tls), st, 16);
	return DB_OK;
}

void
db_outbox_free(struct db_outbox *o)
{
	if (o->sealed != NULL) {
		memset(o->sealed, 0, o->sealed_len);
		free(o->sealed);
	}
	o->sealed = NULL;
	o->sealed_len = 0;
}

/*
 * db_outbox_one - the first row a query finds. The query binds ?1 to t1
 * when given (else to n1) and ?2 to t2 when given.
 */
static int
db_outbox_one(struct db *db, const char *sql, const char *t1, int64_t n1, const char *t2,
	      int with_body, struct db_outbox *o)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, sql);
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	if (t1 != NULL)
		sqlite3_bind_text(st, 1, t1, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, n1);
	if (t2 != NULL)
		sqlite3_bind_text(st, 2, t2, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		r = db_outbox_row(st, o, with_body);
	else
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/*
 * db_outbox_due - the oldest queued message whose time has come. A link
 * mail is due only while its transfer is sent and released, checked in the
 * same statement (see db_transfer_revoke for why that closes the race with
 * a recall).
 */
int
db_outbox_due(struct db *db, int64_t now, struct db_outbox *o)
{
	return db_outbox_one(db, "SELECT " DB_OUTBOX_COLS " FROM outbox "
				 "WHERE state = 'queued' AND held = 0 AND next_attempt <= ?1 "
				 "AND (kind != 'link' OR transfer_id IN (SELECT id FROM transfers "
				 "WHERE state = 'sent' AND release_at <= ?1)) "
				 "ORDER BY next_attempt, id LIMIT 1",
			     NULL, now, NULL, 1, o);
}

/* db_outbox_next_time - when the next queued message is due (DB_NOTFOUND: none) */
int
db_outbox_next_time(struct db *db, int64_t *t)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT min(next_attempt) FROM outbox WHERE state = 'queued' "
			    "AND held = 0");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*t = sqlite3_column_int64(st, 0);
		r = DB_OK;
	} else {
		r = r == SQLITE_ROW ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/*
 * db_outbox_result - record an attempt. state "sent" or "failed" is final:
 * the sealed body and its wrapped key are erased. notify, when given, is
 * queued in the same transaction (the sender learns of a failure). A row
 * cancelled while it was being delivered (its link revoked) stays as the
 * revocation left it.
 */
int
db_outbox_result(struct db *db, int64_t id, const char *state, int attempts, int64_t next_attempt,
		 int code, const char *error, const char *tls, int64_t now,
		 const struct db_mail *notify)
{
	int final = strcmp(state, "queued") != 0, sent = strcmp(state, "sent") == 0;
	const char *event = sent ? "mail.delivered" : final ? "mail.failed" : "mail.deferred";
	const char *outcome = sent ? "ok" : final ? "failed" : "deferred";
	char kind[16] = "", to[DB_EMAILMAX + 1] = "", tid[UTIL_IDLEN + 1] = "",
	     msgid[DB_MSGIDMAX] = "";
	sqlite3_stmt *st;
	json_t *d;
	int r, changed;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	/* What the audit record says about the message, read before the update. */
	st = db_prepare(db, "SELECT kind, to_addr, ifnull(transfer_id, ''), message_id "
			    "FROM outbox WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_copy_text(kind, sizeof(kind), st, 0);
		db_copy_text(to, sizeof(to), st, 1);
		db_copy_text(tid, sizeof(tid), st, 2);
		db_copy_text(msgid, sizeof(msgid), st, 3);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return db_finish_locked(db, DB_ERROR);
	st = db_prepare(db, final ? "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt = ?4, "
				    "last_code = ?5, last_error = ?6, tls = ?7, "
				    "sent_at = CASE WHEN ?2 = 'sent' THEN ?8 ELSE 0 END, "
				    "sealed = NULL, wrapped = NULL WHERE id = ?1 AND state = 'queued'"
				  : "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt = ?4, "
				    "last_code = ?5, last_error = ?6, tls = ?7 "
				    "WHERE id = ?1 AND state = 'queued'");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, attempts);
	sqlite3_bind_int64(st, 4, next_attempt);
	sqlite3_bind_int(st, 5, code);
	sqlite3_bind_text(st, 6, error ? error : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, tls ? tls : "", -1, SQLITE_TRANSIENT);
	if (final)
		sqlite3_bind_int64(st, 8, now);
	r = db_step_done(db, st);
	/* No row changed: cancelled meanwhile; then nobody is told of a failure. */
	changed = r == DB_OK && sqlite3_changes(db->h) > 0;
	if (changed && db_mail_audited(kind)) {
		d = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "transfer", tid, "recipient", to,
			      "kind", kind, "message_id", msgid, "code", code, "attempts",
			      attempts);
		if (d != NULL && sent)
			json_object_set_new(d, "tls", jsonutil_text(tls));
		if (d != NULL && !sent)
			json_object_set_new(d, "error", jsonutil_text(error));
		if (d != NULL && !final)
			json_object_set_new(d, "next_attempt", jsonutil_time(next_attempt));
		r = db_mail_audit_locked(db, event, id, outcome, d, now);
	}
	if (r == DB_OK && notify != NULL && changed)
		r = db_mail_insert_locked(db, notify, now);
	return db_finish_locked(db, r);
}

/* db_outbox_latest - the newest message of a kind for a link (no body) */
int
db_outbox_latest(struct db *db, const char *link_id, const char *kind, struct db_outbox *o)
{
	return db_outbox_one(db, "SELECT " DB_OUTBOX_COLS " FROM outbox "
				 "WHERE link_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
			     link_id, 0, kind, 0, o);
}

/* db_outbox_queued - how many messages wait for delivery */
int
db_outbox_queued(struct db *db, int *n)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT count(*) FROM outbox WHERE state = 'queued'");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	db_unlock(db);
	return r == SQLITE_ROW ? DB_OK : DB_ERROR;
}
