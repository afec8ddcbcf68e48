/*
 * db_links.c - what sending stores: a transfer's send settings, its links
 * (one per recipient, or a counterparty's upload link), verification codes
 * and sessions, attempts on links, downloads and their progress. Every
 * multi-step change is one transaction, and the mail it causes is queued
 * in that same transaction (db_outbox.c), so a crash never leaves a link
 * without its mail or a mail without its link.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "jsonutil.h"
#include "log.h"
#include "policy_json.h"

/* db_changes_or - DB_OK when the last write touched a row, else r */
static int
db_changes_or(struct db *db, int rc, int r)
{
	return rc == DB_OK && sqlite3_changes(db->h) == 0 ? r : rc;
}

/*
 * db_policy_decided_locked - record policy.decided for a transfer from the
 * decision's stored text; ACTION says what was decided on (send, request).
 */
static int
db_policy_decided_locked(struct db *db, const struct audit_actor *who, const char *tid,
			 const char *policy, const char *action, int64_t now)
{
	json_t *d = policy_json_audit(policy);
	const char *o = json_string_value(json_object_get(d, "outcome"));
	char outcome[16];

	/* The outcome is copied: d goes with the record. */
	if (o == NULL || json_object_set_new(d, "action", json_string(action)) != 0) {
		json_decref(d);
		return DB_ERROR;
	}
	snprintf(outcome, sizeof(outcome), "%s", o);
	return db_audit_record_locked(db, who, "policy.decided", "transfer", tid, outcome, d, now);
}

/* db_ids_json - "a,b,c" as a JSON array of strings */
static json_t *
db_ids_json(const char *ids)
{
	json_t *a = json_array();
	const char *p = ids ? ids : "";

	while (a != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");
		if (json_array_append_new(a, json_stringn(p, n)) != 0) {
			json_decref(a);
			return NULL;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return a;
}

/*
 * db_send_audit_locked - the records of a send: the decision, the send
 * itself (recipients, files, settings; never the message or passphrase)
 * and one link.created per recipient.
 */
static int
db_send_audit_locked(struct db *db, const struct db_send *s, const struct db_link *links,
		     size_t nlinks, const struct audit_actor *who)
{
	json_t *rcpts = json_array(), *d;
	int r;

	r = db_policy_decided_locked(db, who, s->transfer_id, s->policy, "send", s->sent_at);
	for (size_t i = 0; r == DB_OK && rcpts != NULL && i < nlinks; i++)
		if (json_array_append_new(rcpts, json_string(links[i].address)) != 0)
			r = DB_ERROR;
	if (r != DB_OK || rcpts == NULL) {
		json_decref(rcpts);
		return DB_ERROR;
	}
	d = json_pack("{s:o, s:o*, s:I, s:i, s:s, s:I, s:i, s:s}", "recipients", rcpts, "files",
		      db_ids_json(s->file_ids), "expires_at", (json_int_t)s->expires_at,
		      "download_limit", s->download_limit, "verification", s->verification,
		      "release_at", (json_int_t)s->release_at, "approvals_needed",
		      s->approvals_needed, "state", s->approvals_needed > 0 ? "pending" : "sent");
	if (d == NULL || json_object_get(d, "files") == NULL) {
		json_decref(d);
		return DB_ERROR;
	}
	r = db_record_locked(db, who, "transfer.sent", "transfer", s->transfer_id, "ok", d,
			     s->sent_at);
	for (size_t i = 0; r == DB_OK && i < nlinks; i++) {
		d = json_pack("{s:s, s:s, s:s, s:I}", "transfer", s->transfer_id, "recipient",
			      links[i].address, "link", links[i].id, "expires_at",
			      (json_int_t)links[i].expires_at);
		r = db_record_locked(db, who, "link.created", "link", links[i].id, "ok", d,
				     s->sent_at);
	}
	return r;
}

int
db_transfer_sendinfo(struct db *db, const char *id, struct db_sendinfo *si)
{
	sqlite3_stmt *st;
	int r;

	memset(si, 0, sizeof(*si));
	db_lock(db);
	st = db_prepare(db, "SELECT origin, sent_at, expires_at, download_limit, verification, "
			    "passphrase, revoked_at, state, release_at, ended_at, allow_unscannable, "
			    "allow_encrypted, expiry_days, approvals_needed, approval_group, "
			    "approval_self, approval_expires, retention_days, owner_id, "
			    "content_purged_at, max_expiry_days, sent_by FROM transfers WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_copy_text(si->origin, sizeof(si->origin), st, 0);
		si->sent_at = sqlite3_column_int64(st, 1);
		si->expires_at = sqlite3_column_int64(st, 2);
		si->download_limit = sqlite3_column_int(st, 3);
		db_copy_text(si->verification, sizeof(si->verification), st, 4);
		db_copy_text(si->passphrase, sizeof(si->passphrase), st, 5);
		si->revoked_at = sqlite3_column_int64(st, 6);
		db_copy_text(si->state, sizeof(si->state), st, 7);
		si->release_at = sqlite3_column_int64(st, 8);
		si->ended_at = sqlite3_column_int64(st, 9);
		si->allow_unscannable = sqlite3_column_int(st, 10);
		si->allow_encrypted = sqlite3_column_int(st, 11);
		si->expiry_days = sqlite3_column_int(st, 12);
		si->approvals_needed = sqlite3_column_int(st, 13);
		db_copy_text(si->approval_group, sizeof(si->approval_group), st, 14);
		si->approval_self = sqlite3_column_int(st, 15);
		si->approval_expires = sqlite3_column_int64(st, 16);
		si->retention_days = sqlite3_column_int(st, 17);
		si->owner_id = sqlite3_column_int64(st, 18);
		si->content_purged_at = sqlite3_column_int64(st, 19);
		si->max_expiry_days = sqlite3_column_int(st, 20);
		si->sent_by = sqlite3_column_int64(st, 21);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

static int
db_link_insert_locked(struct db *db, const struct db_link *l)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO links (id, kind, transfer_id, address, token_hash, created, "
		    "expires_at, max_files, max_bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, l->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, l->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, l->transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, l->address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 5, l->token_hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, l->created);
	sqlite3_bind_int64(st, 7, l->expires_at);
	sqlite3_bind_int(st, 8, l->max_files);
	sqlite3_bind_int64(st, 9, l->max_bytes);
	return db_step_done(db, st);
}

/*
 * db_transfer_send - draft → sent (or pending, waiting for approval) with
 * its links, their mails and the policy decision, at once. DB_CONFLICT (why
 * says which) when the transfer is no longer a draft, has no files, or has
 * a file the scanner has not passed and the decision does not let through:
 * checked inside the transaction, so nothing can change between the check
 * and the links.
 */
int
db_transfer_send(struct db *db, const struct db_send *s, const struct db_link *links, size_t nlinks,
		 const struct db_mail *mails, size_t nmails, const struct audit_actor *who,
		 char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int64_t nfiles = 0, unclean = 0;
	char state[16] = "";
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "SELECT state FROM transfers WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, s->transfer_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		db_copy_text(state, sizeof(state), st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return db_finish_locked(db, r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR);
	if (strcmp(state, "draft") != 0) {
		snprintf(why, whylen, "the transfer was already sent (state %s)", state);
		return db_finish_locked(db, DB_CONFLICT);
	}
	if (db_int_locked(db, "SELECT count(*) FROM files WHERE transfer_id = ?1", s->transfer_id,
			    0, &nfiles) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	/*
	 * Clean files pass; unscannable ones only as the decision allows
	 * (encrypted ones by their own permission); infected or failed never.
	 */
	st = db_prepare(db, "SELECT count(*) FROM files WHERE transfer_id = ?1 AND NOT ("
			    "state = 'clean' OR (state = 'unscannable' AND CASE "
			    "WHEN scan_reason = 'encrypted' THEN ?2 ELSE ?3 END))");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, s->transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, s->allow_encrypted ? 1 : 0);
	sqlite3_bind_int(st, 3, s->allow_unscannable ? 1 : 0);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		unclean = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return db_finish_locked(db, DB_ERROR);
	if (nfiles == 0) {
		snprintf(why, whylen, "the transfer has no files");
		return db_finish_locked(db, DB_CONFLICT);
	}
	if (unclean > 0) {
		snprintf(why, whylen, "%lld of %lld files have not passed the virus scan",
			 (long long)unclean, (long long)nfiles);
		return db_finish_locked(db, DB_CONFLICT);
	}
	/* What is sent is exactly what the policy decided on: no file came in since. */
	st = db_prepare(db, "SELECT ifnull(group_concat(id, ','), '') = ?2 FROM "
			    "(SELECT id FROM files WHERE transfer_id = ?1 ORDER BY id)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, s->transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, s->file_ids ? s->file_ids : "", -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	r = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (r < 0)
		return db_finish_locked(db, DB_ERROR);
	if (r == 0) {
		snprintf(why, whylen, "the files changed while the transfer was being sent: "
				      "send it again");
		return db_finish_locked(db, DB_CONFLICT);
	}
	st = db_prepare(db, "UPDATE transfers SET state = ?8, sent_at = ?2, expires_at = ?3, "
			    "download_limit = ?4, verification = ?5, passphrase = ?6, "
			    "message = coalesce(?7, message), release_at = ?9, expiry_days = ?10, "
			    "approvals_needed = ?11, approval_group = ?12, approval_self = ?13, "
			    "approval_expires = ?14, retention_days = ?15, allow_unscannable = ?16, "
			    "allow_encrypted = ?17, policy = ?18, policy_at = ?2, max_expiry_days = ?19, "
			    "sent_by = ?20 WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, s->transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, s->sent_at);
	sqlite3_bind_int64(st, 3, s->expires_at);
	sqlite3_bind_int(st, 4, s->download_limit);
	sqlite3_bind_text(st, 5, s->verification, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, s->passphrase, -1, SQLITE_TRANSIENT);
	if (s->message != NULL)
		sqlite3_bind_text(st, 7, s->message, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, s->approvals_needed > 0 ? "pending" : "sent", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, s->release_at);
	sqlite3_bind_int(st, 10, s->expiry_days);
	sqlite3_bind_int(st, 11, s->approvals_needed);
	sqlite3_bind_text(st, 12, s->approval_group ? s->approval_group : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 13, s->approval_self);
	sqlite3_bind_int64(st, 14, s->approval_expires);
	sqlite3_bind_int(st, 15, s->retention_days);
	sqlite3_bind_int(st, 16, s->allow_unscannable);
	sqlite3_bind_int(st, 17, s->allow_encrypted);
	sqlite3_bind_text(st, 18, s->policy ? s->policy : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 19, s->max_expiry_days);
	sqlite3_bind_int64(st, 20, s->sent_by);
	r = db_step_done(db, st);
	for (size_t i = 0; r == DB_OK && i < nlinks; i++)
		r = db_link_insert_locked(db, &links[i]);
	if (r == DB_CONFLICT)
		snprintf(why, whylen, "a recipient appears twice");
	/* Recorded before the mails, so the log reads in causal order: decided, sent, queued. */
	if (r == DB_OK)
		r = db_send_audit_locked(db, s, links, nlinks, who);
	/*
	 * Link mails wait for the delay, and for the approvers when there are
	 * any; their give-up time counts from the release, not from the send.
	 */
	for (size_t i = 0; r == DB_OK && i < nmails; i++)
		r = strcmp(mails[i].kind, "link") == 0
			    ? db_mail_queue_locked(db, &mails[i], s->release_at, s->release_at,
						   s->approvals_needed > 0)
			    : db_mail_insert_locked(db, &mails[i], s->sent_at);
	return db_finish_locked(db, r);
}

/*
 * db_transfer_refused - keep the decision that refused a send (the draft
 * stays) with its policy.decided and transfer.send_refused records.
 */
int
db_transfer_refused(struct db *db, const char *transfer_id, const char *policy, int64_t now,
		    const struct audit_actor *who)
{
	sqlite3_stmt *st;
	json_t *pj;
	const char *o;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "UPDATE transfers SET policy = ?2, policy_at = ?3 "
			    "WHERE id = ?1 AND state = 'draft'");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, policy, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	r = db_step_done(db, st);
	if (r == DB_OK)
		r = db_policy_decided_locked(db, who, transfer_id, policy, "send", now);
	if (r == DB_OK) {
		/* The refusal's outcome and reason are the decision's (denied or blocked). */
		pj = json_loads(policy, 0, NULL);
		o = json_string_value(json_object_get(pj, "outcome"));
		r = o == NULL
			? DB_ERROR
			: db_record_locked(
			      db, who, "transfer.send_refused", "transfer", transfer_id, o,
			      json_pack("{s:O}", "reason", json_object_get(pj, "reason")), now);
		json_decref(pj); /* after the record: o points into it */
	}
	return db_finish_locked(db, r);
}

/* db_links_cut_locked - end sessions and cancel unsent mail of revoked links */
int
db_links_cut_locked(struct db *db, const char *transfer_id, const char *link_id)
{
	static const char *const sql[] = {
		"DELETE FROM link_sessions WHERE link_id IN (SELECT id FROM links "
		"WHERE transfer_id = ?1 AND (?2 IS NULL OR id = ?2))",
		"UPDATE outbox SET state = 'failed', last_error = 'revoked before it was sent', "
		"sealed = NULL, wrapped = NULL WHERE state = 'queued' "
		"AND kind IN ('link', 'otp', 'request') AND link_id IN "
		"(SELECT id FROM links WHERE transfer_id = ?1 AND (?2 IS NULL OR id = ?2))",
		/* The whole transfer ends: approvers are not asked about it any more. */
		"UPDATE outbox SET state = 'failed', last_error = 'the transfer ended before it was "
		"sent', sealed = NULL, wrapped = NULL WHERE state = 'queued' AND kind = 'approval' "
		"AND transfer_id = ?1 AND ?2 IS NULL",
	};
	int r = DB_OK;

	for (size_t i = 0; r == DB_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = db_prepare(db, sql[i]);
		if (st == NULL)
			return DB_ERROR;
		sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
		if (link_id != NULL)
			sqlite3_bind_text(st, 2, link_id, -1, SQLITE_TRANSIENT);
		r = db_step_done(db, st);
	}
	return r;
}

/*
 * db_transfer_links_end_locked - every link of a transfer that is ending
 * is revoked now, its sessions end and its unsent mail is cancelled.
 */
int
db_transfer_links_end_locked(struct db *db, const char *transfer_id, int64_t now, int *ended)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE links SET revoked_at = ?2 "
					  "WHERE transfer_id = ?1 AND revoked_at = 0");
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	r = db_step_done(db, st);
	if (r == DB_OK && ended != NULL)
		*ended = sqlite3_changes(db->h);
	return r == DB_OK ? db_links_cut_locked(db, transfer_id, NULL) : r;
}

/*
 * db_transfer_revoke - every link of the transfer stops working now. Before
 * any link mail could leave (waiting for approval, or inside the send
 * delay) that is a recall: *recalled says so, and no mail ever goes.
 */
int
db_transfer_revoke(struct db *db, const char *transfer_id, int *recalled,
		   const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int r, ended = 0;
	int64_t rec = 0, now;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	/*
	 * The time is read under the lock. The mailer takes a link mail only
	 * under the same lock and only once the transfer is released
	 * (db_outbox_due): so either it took the mail before this, and now is
	 * past the release (a revoke: the mail may be out), or it will find
	 * the transfer recalled and its mail cancelled.
	 */
	now = util_now();
	if (db_int_locked(db, "SELECT state = 'pending' OR (state = 'sent' AND release_at > ?2) "
			      "FROM transfers WHERE id = ?1", transfer_id, now, &rec) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	*recalled = rec != 0;
	st = db_prepare(db, "UPDATE transfers SET state = ?3, revoked_at = ?2, ended_at = ?2 "
			    "WHERE id = ?1 AND state IN ('draft', 'pending', 'sent')");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, rec ? "recalled" : "revoked", -1, SQLITE_STATIC);
	r = db_changes_or(db, db_step_done(db, st), DB_CONFLICT);
	if (r == DB_OK)
		r = db_transfer_links_end_locked(db, transfer_id, now, &ended);
	if (r == DB_OK)
		r = db_record_locked(db, who, rec ? "transfer.recalled" : "transfer.revoked",
				     "transfer", transfer_id, "ok",
				     json_pack("{s:i}", "links_ended", ended), now);
	return db_finish_locked(db, r);
}

/* db_transfer_extend - a sent transfer's links live until expires_at */
int
db_transfer_extend(struct db *db, const char *transfer_id, int64_t expires_at,
		   const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int64_t old = 0;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_int_locked(db, "SELECT expires_at FROM transfers WHERE id = ?1", transfer_id, 0,
			  &old);
	if (r != DB_OK)
		return db_finish_locked(db, r == DB_NOTFOUND ? DB_CONFLICT : r);
	/* Content purged (retention): nothing left to extend the links to. */
	st = db_prepare(db, "UPDATE transfers SET expires_at = ?2 WHERE id = ?1 AND state = 'sent' "
			    "AND content_purged_at = 0");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, expires_at);
	r = db_changes_or(db, db_step_done(db, st), DB_CONFLICT);
	if (r == DB_OK) {
		st = db_prepare(db, "UPDATE links SET expires_at = ?2 "
				    "WHERE transfer_id = ?1 AND kind = 'download'");
		if (st == NULL)
			return db_finish_locked(db, DB_ERROR);
		sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, expires_at);
		r = db_step_done(db, st);
	}
	if (r == DB_OK)
		r = db_record_locked(db, who, "transfer.extended", "transfer", transfer_id, "ok",
				     json_pack("{s:I, s:I}", "old_expires_at", (json_int_t)old,
					       "expires_at", (json_int_t)expires_at),
				     util_now());
	return db_finish_locked(db, r);
}

/* db_request_create - a request-files transfer, its upload link and mail */
int
db_request_create(struct db *db, const struct db_transfer *t, const struct db_link *l,
		  const struct db_mail *m, const char *policy, int retention_days,
		  const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "INSERT INTO transfers (id, owner_id, subject, message, state, created, "
			    "origin, expires_at, policy, policy_at, retention_days) "
			    "VALUES (?1, ?2, ?3, ?4, 'draft', ?5, 'request', ?6, ?7, ?5, ?8)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, t->owner_id);
	sqlite3_bind_text(st, 3, t->subject ? t->subject : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, t->message ? t->message : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, t->created);
	sqlite3_bind_int64(st, 6, l->expires_at);
	sqlite3_bind_text(st, 7, policy, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, retention_days);
	r = db_step_done(db, st);
	if (r == DB_OK)
		r = db_link_insert_locked(db, l);
	if (r == DB_OK)
		r = db_mail_insert_locked(db, m, t->created);
	if (r == DB_OK)
		r = db_policy_decided_locked(db, who, t->id, policy, "request", t->created);
	if (r == DB_OK)
		r = db_record_locked(db, who, "request.created", "transfer", t->id, "ok",
				     json_pack("{s:s, s:s, s:I, s:i, s:I}", "recipient", l->address,
					       "link", l->id, "expires_at",
					       (json_int_t)l->expires_at, "max_files", l->max_files,
					       "max_bytes", (json_int_t)l->max_bytes),
				     t->created);
	return db_finish_locked(db, r);
}

/* db_request_done - the counterparty has finished; staff are told once */
int
db_request_done(struct db *db, const char *link_id, const char *transfer_id, int64_t now,
		const struct db_mail *m, const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "UPDATE links SET completed_at = ?2 "
			    "WHERE id = ?1 AND kind = 'upload' AND completed_at = 0");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	r = db_changes_or(db, db_step_done(db, st), DB_CONFLICT);
	if (r == DB_OK)
		r = db_audit_record_locked(db, who, "request.completed", "link", link_id, "ok",
					   json_pack("{s:s}", "transfer", transfer_id), now);
	if (r == DB_OK && m != NULL)
		r = db_mail_insert_locked(db, m, now);
	return db_finish_locked(db, r);
}

#define DB_LINK_COLS                                                                     \
	"id, kind, transfer_id, address, token_hash, created, expires_at, revoked_at, "   \
	"verified_at, otp_expires, otp_failures, locked_until, max_files, max_bytes, "    \
	"completed_at"

static void
db_link_row(sqlite3_stmt *st, struct db_link *l)
{
	memset(l, 0, sizeof(*l));
	db_copy_text(l->id, sizeof(l->id), st, 0);
	db_copy_text(l->kind, sizeof(l->kind), st, 1);
	db_copy_text(l->transfer_id, sizeof(l->transfer_id), st, 2);
	db_copy_text(l->address, sizeof(l->address), st, 3);
	if (sqlite3_column_bytes(st, 4) == 32)
		memcpy(l->token_hash, sqlite3_column_blob(st, 4), 32);
	l->created = sqlite3_column_int64(st, 5);
	l->expires_at = sqlite3_column_int64(st, 6);
	l->revoked_at = sqlite3_column_int64(st, 7);
	l->verified_at = sqlite3_column_int64(st, 8);
	l->otp_expires = sqlite3_column_int64(st, 9);
	l->otp_failures = sqlite3_column_int(st, 10);
	l->locked_until = sqlite3_column_int64(st, 11);
	l->max_files = sqlite3_column_int(st, 12);
	l->max_bytes = sqlite3_column_int64(st, 13);
	l->completed_at = sqlite3_column_int64(st, 14);
}

static int
db_link_one(struct db *db, const char *sql, const void *p1, int p1blob, const char *p2,
	    struct db_link *l)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, sql);
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	if (p1blob)
		sqlite3_bind_blob(st, 1, p1, 32, SQLITE_TRANSIENT);
	else
		sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
	if (p2 != NULL)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_link_row(st, l);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/* db_link_by_hash - the link a token hashes to (the caller compares again) */
int
db_link_by_hash(struct db *db, const unsigned char hash[32], struct db_link *l)
{
	return db_link_one(db, "SELECT " DB_LINK_COLS " FROM links WHERE token_hash = ?1", hash, 1,
			   NULL, l);
}

int
db_link_get(struct db *db, const char *transfer_id, const char *link_id, struct db_link *l)
{
	return db_link_one(db, "SELECT " DB_LINK_COLS " FROM links WHERE transfer_id = ?1 AND id = ?2",
			   transfer_id, 0, link_id, l);
}

int
db_link_list(struct db *db, const char *transfer_id, const char *kind, db_link_cb cb, void *arg)
{
	struct db_link *rows = NULL, *nr;
	size_t n = 0;
	sqlite3_stmt *st;
	int r;

	/* Copy out first: the callback may query the database itself. */
	db_lock(db);
	st = db_prepare(db, "SELECT " DB_LINK_COLS " FROM links WHERE transfer_id = ?1 "
			    "AND kind = ?2 ORDER BY created, address");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nr = realloc(rows, (n + 1) * sizeof(*rows));
		if (nr == NULL)
			break;
		rows = nr;
		db_link_row(st, &rows[n++]);
	}
	sqlite3_finalize(st);
	db_unlock(db);
	if (r != SQLITE_DONE) {
		free(rows);
		return DB_ERROR;
	}
	r = DB_OK;
	for (size_t i = 0; i < n && r == DB_OK; i++)
		if (cb(&rows[i], arg) != 0)
			r = DB_ERROR;
	free(rows);
	return r;
}

/* db_link_revoke - one recipient's link stops working now */
int
db_link_revoke(struct db *db, const char *transfer_id, const char *link_id, int64_t now,
	       const struct audit_actor *who)
{
	char addr[DB_EMAILMAX + 1] = "";
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "UPDATE links SET revoked_at = ?3 "
			    "WHERE transfer_id = ?1 AND id = ?2 AND revoked_at = 0");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	r = db_changes_or(db, db_step_done(db, st), DB_NOTFOUND);
	if (r == DB_OK)
		r = db_links_cut_locked(db, transfer_id, link_id);
	if (r == DB_OK)
		r = db_text_locked(db, "SELECT address FROM links WHERE id = ?1", link_id, NULL,
				   addr, sizeof(addr));
	if (r == DB_OK)
		r = db_record_locked(
		    db, who, "link.revoked", "link", link_id, "ok",
		    json_pack("{s:s, s:s}", "transfer", transfer_id, "recipient", addr), now);
	return db_finish_locked(db, r);
}

/* db_link_attempt - record one use of a link, good or bad; link_id NULL if unknown */
int
db_link_attempt(struct db *db, const char *link_id, const char *action, const char *outcome,
		const char *ip, const char *user_agent)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "INSERT INTO link_attempts (at, link_id, action, outcome, ip, user_agent) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, substr(?6, 1, 256))");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, util_now());
	if (link_id != NULL)
		sqlite3_bind_text(st, 2, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, ip ? ip : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, user_agent ? user_agent : "", -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	db_unlock(db);
	return r;
}

/*
 * db_otp_issue - store a new code's hash (replacing any earlier one) and
 * queue its mail. DB_CONFLICT when per_hour codes were already sent in the
 * last hour: each code is a mail, and mail must not become a weapon.
 */
int
db_otp_issue(struct db *db, const char *link_id, const unsigned char hash[32], int64_t expires,
	     int per_hour, int64_t now, const struct db_mail *m, const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	if (db_int_locked(db, "SELECT count(*) FROM outbox WHERE link_id = ?1 AND kind = 'otp' "
				"AND created > ?2", link_id, now - 3600, &n) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	if (n >= per_hour)
		return db_finish_locked(db, DB_CONFLICT);
	st = db_prepare(db, "UPDATE links SET otp_hash = ?2, otp_expires = ?3 WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, expires);
	r = db_changes_or(db, db_step_done(db, st), DB_NOTFOUND);
	if (r == DB_OK)
		r = db_mail_insert_locked(db, m, now);
	if (r == DB_OK)
		r = db_audit_record_locked(db, who, "otp.requested", "link", link_id, "ok",
					   json_pack("{s:s, s:s, s:o}", "transfer", m->transfer_id,
						     "recipient", m->to, "expires",
						     jsonutil_time(expires)),
					   now);
	return db_finish_locked(db, r);
}

/* db_link_locked - 1 (with until) while a link is locked after failed attempts */
int
db_link_locked(struct db *db, const char *link_id, int64_t now, int64_t *until)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT locked_until FROM links WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*until = sqlite3_column_int64(st, 0);
		r = *until > now ? 1 : 0;
	} else {
		r = DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/*
 * db_verify_audit_locked - "otp.VERB" or "passphrase.VERB" about a link in
 * the attempt's transaction; EXTRA (taken, may be NULL) adds detail keys.
 * Never the code or the passphrase.
 */
static int
db_verify_audit_locked(struct db *db, const struct audit_actor *who, const char *link_id, int otp,
		       const char *verb, const char *outcome, const char *tid, const char *addr,
		       json_t *extra, int64_t now)
{
	char event[32];
	json_t *d = json_pack("{s:s, s:s}", "transfer", tid, "recipient", addr);

	if (d == NULL || (extra != NULL && json_object_update(d, extra) != 0)) {
		json_decref(d);
		json_decref(extra);
		return DB_ERROR;
	}
	json_decref(extra);
	snprintf(event, sizeof(event), "%s.%s", otp ? "otp" : "passphrase", verb);
	return db_audit_record_locked(db, who, event, "link", link_id, outcome, d, now);
}

/*
 * db_link_verify - one verification attempt, decided and recorded at once.
 * With code_hash, it is compared (in constant time) with the live code;
 * without, external_ok is the caller's passphrase check. Success uses the
 * code up and stores the new session; max_attempts failures lock the link
 * for lock_secs and void the code.
 */
int
db_link_verify(struct db *db, const char *link_id, const unsigned char *code_hash, int external_ok,
	       int max_attempts, int lock_secs, int64_t now, const unsigned char session_hash[32],
	       int64_t session_expires, enum db_verify *out, int *left,
	       const struct audit_actor *who)
{
	sqlite3_stmt *st;
	unsigned char have[32];
	char tid[UTIL_IDLEN + 1] = "", addr[DB_EMAILMAX + 1] = "";
	int has_code = 0, failures = 0, ok, r;
	int64_t expires = 0, locked = 0;

	*left = 0;
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "SELECT otp_hash, otp_expires, otp_failures, locked_until, "
			    "transfer_id, address FROM links WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		has_code = sqlite3_column_bytes(st, 0) == 32;
		if (has_code)
			memcpy(have, sqlite3_column_blob(st, 0), 32);
		expires = sqlite3_column_int64(st, 1);
		failures = sqlite3_column_int(st, 2);
		locked = sqlite3_column_int64(st, 3);
		db_copy_text(tid, sizeof(tid), st, 4);
		db_copy_text(addr, sizeof(addr), st, 5);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return db_finish_locked(db, r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR);
	if (locked > now) {
		*out = DB_VERIFY_LOCKED;
		return db_finish_locked(
		    db, db_verify_audit_locked(
			    db, who, link_id, code_hash != NULL, "failed", "locked", tid, addr,
			    json_pack("{s:o}", "locked_until", jsonutil_time(locked)), now));
	}
	if (code_hash != NULL) {
		if (!has_code || expires <= now) {
			*out = DB_VERIFY_NOCODE;
			return db_finish_locked(db, db_verify_audit_locked(db, who, link_id, 1,
									   "failed", "no_code", tid,
									   addr, NULL, now));
		}
		ok = sodium_memcmp(have, code_hash, 32) == 0;
	} else {
		ok = external_ok;
	}
	sodium_memzero(have, sizeof(have));
	if (ok) {
		st = db_prepare(db, "UPDATE links SET otp_hash = NULL, otp_expires = 0, "
				    "otp_failures = 0, verified_at = CASE WHEN verified_at = 0 "
				    "THEN ?2 ELSE verified_at END WHERE id = ?1");
		if (st == NULL)
			return db_finish_locked(db, DB_ERROR);
		sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		r = db_step_done(db, st);
		if (r == DB_OK) {
			st = db_prepare(db, "INSERT INTO link_sessions (hash, link_id, created, expires) "
					    "VALUES (?1, ?2, ?3, ?4)");
			if (st == NULL)
				return db_finish_locked(db, DB_ERROR);
			sqlite3_bind_blob(st, 1, session_hash, 32, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, link_id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, now);
			sqlite3_bind_int64(st, 4, session_expires);
			r = db_step_done(db, st);
		}
		if (r == DB_OK)
			r = db_verify_audit_locked(db, who, link_id, code_hash != NULL, "verified",
						   "ok", tid, addr, NULL, now);
		*out = DB_VERIFY_OK;
		return db_finish_locked(db, r);
	}
	failures++;
	if (failures >= max_attempts) {
		st = db_prepare(db, "UPDATE links SET otp_hash = NULL, otp_expires = 0, "
				    "otp_failures = 0, locked_until = ?2 WHERE id = ?1");
		*out = DB_VERIFY_LOCKED;
	} else {
		st = db_prepare(db, "UPDATE links SET otp_failures = ?3 WHERE id = ?1");
		*out = DB_VERIFY_WRONG;
		*left = max_attempts - failures;
	}
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	if (*out == DB_VERIFY_LOCKED)
		sqlite3_bind_int64(st, 2, now + lock_secs);
	else
		sqlite3_bind_int(st, 3, failures);
	r = db_step_done(db, st);
	if (r == DB_OK && *out == DB_VERIFY_LOCKED)
		r = db_verify_audit_locked(
		    db, who, link_id, code_hash != NULL, "locked", "locked", tid, addr,
		    json_pack("{s:i, s:o}", "failures", failures, "locked_until",
			      jsonutil_time(now + lock_secs)),
		    now);
	else if (r == DB_OK)
		r = db_verify_audit_locked(db, who, link_id, code_hash != NULL, "failed", "failed",
					   tid, addr, json_pack("{s:i}", "attempts_left", *left),
					   now);
	return db_finish_locked(db, r);
}

/* db_session_check - DB_OK when the session is live and belongs to link_id */
int
db_session_check(struct db *db, const unsigned char hash[32], const char *link_id, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT link_id, expires FROM link_sessions WHERE hash = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const unsigned char *l = sqlite3_column_text(st, 0);
		r = (l != NULL && strcmp((const char *)l, link_id) == 0 &&
		     sqlite3_column_int64(st, 1) > now)
			    ? DB_OK
			    : DB_NOTFOUND;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/* The byte and count record of one recipient's downloads of one file. */
struct db_progress {
	int64_t have;	   /* bytes 0..have sent in order since the last completion */
	int64_t completed; /* whole downloads counted */
	int64_t served;	   /* bytes charged against the limit (booked at start) */
	int64_t sent;	   /* bytes actually handed over */
};

static int
db_progress_get_locked(struct db *db, const char *link_id, const char *file_id,
		       struct db_progress *p)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT have, completed, served, sent FROM "
					  "download_progress WHERE link_id = ?1 AND file_id = ?2");
	int r;

	memset(p, 0, sizeof(*p));
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, file_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		p->have = sqlite3_column_int64(st, 0);
		p->completed = sqlite3_column_int64(st, 1);
		p->served = sqlite3_column_int64(st, 2);
		p->sent = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

static int
db_progress_put_locked(struct db *db, const char *link_id, const char *file_id,
		       const struct db_progress *p, int64_t first)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO download_progress (link_id, file_id, have, completed, served, sent, "
		    "first_completed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		    "ON CONFLICT (link_id, file_id) DO UPDATE SET have = ?3, completed = ?4, "
		    "served = ?5, sent = ?6, first_completed = CASE WHEN first_completed = 0 "
		    "THEN ?7 ELSE first_completed END");

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, file_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, p->have);
	sqlite3_bind_int64(st, 4, p->completed);
	sqlite3_bind_int64(st, 5, p->served);
	sqlite3_bind_int64(st, 6, p->sent);
	sqlite3_bind_int64(st, 7, first);
	return db_step_done(db, st);
}

/*
 * db_download_allowance - the bytes a recipient may be sent of a file in
 * all: limit copies, plus a quarter of one and a chunk for resumes that
 * fetch some bytes twice. Bounded, so neither parallel nor out-of-order
 * requests get more than that.
 */
static int64_t
db_download_allowance(int limit, int64_t size)
{
	return (int64_t)limit * size + size / 4 + 65536;
}

/* db_download_usable - may one more response of this file start? */
static int
db_download_usable(const struct db_progress *p, int limit, int64_t size)
{
	return p->completed < limit &&
	       (size == 0 || p->served < db_download_allowance(limit, size));
}

/*
 * db_download_reserve - book len bytes of a download before any is sent.
 * A recipient may be sent at most db_download_allowance bytes of a file in
 * all: charged when a response starts, in one transaction, so parallel or
 * out-of-order requests cannot fetch more; the unsent rest is refunded
 * when the response ends (db_download_record). DB_CONFLICT when used up.
 */
int
db_download_reserve(struct db *db, const char *link_id, const char *file_id, int limit,
		    int64_t size, int64_t len)
{
	struct db_progress p;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_progress_get_locked(db, link_id, file_id, &p);
	if (r != DB_OK)
		return db_finish_locked(db, r);
	if (p.completed >= limit || (size > 0 && p.served + len > db_download_allowance(limit, size)))
		return db_finish_locked(db, DB_CONFLICT);
	p.served += len;
	return db_finish_locked(db, db_progress_put_locked(db, link_id, file_id, &p, 0));
}

/*
 * db_download_audit_locked - "file.downloaded" for one response: outcome
 * "ok" when it sent all it was asked for, else "partial"; counted says how
 * many whole downloads of the file this recipient has had so far.
 */
static int
db_download_audit_locked(struct db *db, const struct db_download *d, int64_t counted,
			 const struct audit_actor *who)
{
	char tid[UTIL_IDLEN + 1] = "", addr[DB_EMAILMAX + 1] = "", name[256] = "";
	sqlite3_stmt *st = db_prepare(db, "SELECT l.transfer_id, l.address, f.name FROM links l, "
					  "files f WHERE l.id = ?1 AND f.id = ?2");
	json_t *j;
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, d->link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d->file_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_copy_text(tid, sizeof(tid), st, 0);
		db_copy_text(addr, sizeof(addr), st, 1);
		db_copy_text(name, sizeof(name), st, 2);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return DB_ERROR;
	j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:b, s:I, s:o}", "transfer", tid,
		      "recipient", addr, "link", d->link_id, "file", d->file_id, "name",
		      jsonutil_text(name), "range_start", (json_int_t)d->range_start, "length",
		      (json_int_t)d->length, "bytes", (json_int_t)d->bytes, "complete", d->complete,
		      "downloads", (json_int_t)counted, "started", jsonutil_time(d->started));
	if (j == NULL)
		return DB_ERROR;
	return db_audit_record_locked(db, who, "file.downloaded", "file", d->file_id,
				      d->complete ? "ok" : "partial", j, d->finished);
}

/*
 * db_download_record - one response, as sent. Its unsent bytes are
 * refunded. A file counts as downloaded once its bytes from 0 to the end
 * were sent in order (in one response or resumed with Range), or once the
 * bytes sent reach another whole file's worth (ranges out of order); a
 * stray range alone does not count. The first counted download per
 * recipient and file queues the sender's receipt (*first says so).
 */
int
db_download_record(struct db *db, const struct db_download *d, int64_t size,
		   const struct db_mail *receipt, int *first, const struct audit_actor *who)
{
	struct db_progress p;
	sqlite3_stmt *st;
	int64_t before;
	int r;

	*first = 0;
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "INSERT INTO downloads (link_id, file_id, started, finished, ip, "
			    "user_agent, range_start, length, bytes, complete) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, substr(?6, 1, 256), ?7, ?8, ?9, ?10)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, d->link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d->file_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, d->started);
	sqlite3_bind_int64(st, 4, d->finished);
	sqlite3_bind_text(st, 5, d->ip ? d->ip : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, d->user_agent ? d->user_agent : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, d->range_start);
	sqlite3_bind_int64(st, 8, d->length);
	sqlite3_bind_int64(st, 9, d->bytes);
	sqlite3_bind_int(st, 10, d->complete);
	r = db_step_done(db, st);
	if (r == DB_OK)
		r = db_progress_get_locked(db, d->link_id, d->file_id, &p);
	if (r != DB_OK)
		return db_finish_locked(db, r);
	before = p.completed;
	p.served -= d->length - d->bytes; /* refund what was booked but not sent */
	if (p.served < 0)
		p.served = 0;
	p.sent += d->bytes;
	if (d->complete && d->range_start <= p.have && d->range_start + d->length > p.have)
		p.have = d->range_start + d->length;
	if (d->complete && size == 0) {
		p.completed++;
	} else if (size > 0 && p.have >= size) {
		p.completed++;
		p.have = 0;
	} else if (size > 0 && p.sent >= (p.completed + 1) * size) {
		p.completed++;
	}
	*first = before == 0 && p.completed > 0;
	r = db_progress_put_locked(db, d->link_id, d->file_id, &p, *first ? d->finished : 0);
	if (r == DB_OK)
		r = db_download_audit_locked(db, d, p.completed, who);
	if (r == DB_OK && *first && receipt != NULL)
		r = db_mail_insert_locked(db, receipt, d->finished);
	if (r != DB_OK)
		*first = 0;
	return db_finish_locked(db, r);
}

/* db_download_state - downloads counted, and whether one more may start */
int
db_download_state(struct db *db, const char *link_id, const char *file_id, int limit,
		  int64_t size, int *completed, int *usable)
{
	struct db_progress p;
	int r;

	db_lock(db);
	r = db_progress_get_locked(db, link_id, file_id, &p);
	db_unlock(db);
	*completed = (int)p.completed;
	*usable = db_download_usable(&p, limit, size);
	return r;
}

int
db_download_list(struct db *db, const char *link_id, db_download_cb cb, void *arg)
{
	struct db_download_row *rows = NULL, *nr;
	size_t n = 0;
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT file_id, started, finished, ip, user_agent, range_start, length, "
			    "bytes, complete FROM downloads WHERE link_id = ?1 ORDER BY id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nr = realloc(rows, (n + 1) * sizeof(*rows));
		if (nr == NULL)
			break;
		rows = nr;
		memset(&rows[n], 0, sizeof(rows[n]));
		db_copy_text(rows[n].file_id, sizeof(rows[n].file_id), st, 0);
		rows[n].started = sqlite3_column_int64(st, 1);
		rows[n].finished = sqlite3_column_int64(st, 2);
		db_copy_text(rows[n].ip, sizeof(rows[n].ip), st, 3);
		db_copy_text(rows[n].user_agent, sizeof(rows[n].user_agent), st, 4);
		rows[n].range_start = sqlite3_column_int64(st, 5);
		rows[n].length = sqlite3_column_int64(st, 6);
		rows[n].bytes = sqlite3_column_int64(st, 7);
		rows[n].complete = sqlite3_column_int(st, 8);
		n++;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	if (r != SQLITE_DONE) {
		free(rows);
		return DB_ERROR;
	}
	r = DB_OK;
	for (size_t i = 0; i < n && r == DB_OK; i++)
		if (cb(&rows[i], arg) != 0)
			r = DB_ERROR;
	free(rows);
	return r;
}
