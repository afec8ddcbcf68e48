/*
 * db_policy.c - what the policy needs from the database: users' groups,
 * the approvers who may act on a transfer, their votes, and the moves a
 * vote or the clock makes (pending → sent, rejected or lapsed).
 *
 * A pending transfer already has its links and sealed link mails; the
 * mails are held (outbox.held = 1) and no link works (recipient.c checks
 * the state). Approval releases the mails; rejection and lapse cancel
 * them, in the same transaction that changes the state.
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

/*
 * db_user_group - add (add = 1) or remove a user's membership of grp. A
 * user has at most DB_MAXGROUPS groups: one more is DB_CONFLICT, so that
 * no group a rule names can fall outside what the policy is shown.
 */
int
db_user_group(struct db *db, int64_t user_id, const char *grp, int add)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	if (add) {
		st = db_prepare(db, "SELECT count(*) FROM user_groups WHERE user_id = ?1 AND grp != ?2");
		if (st == NULL)
			return db_finish_locked(db, DB_ERROR);
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, grp, -1, SQLITE_TRANSIENT);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (r != SQLITE_ROW)
			return db_finish_locked(db, DB_ERROR);
		if (n >= DB_MAXGROUPS)
			return db_finish_locked(db, DB_CONFLICT);
	}
	st = db_prepare(db, add ? "INSERT OR IGNORE INTO user_groups (user_id, grp) VALUES (?1, ?2)"
				: "DELETE FROM user_groups WHERE user_id = ?1 AND grp = ?2");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, grp, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r == DB_OK && !add && sqlite3_changes(db->h) == 0)
		r = DB_NOTFOUND;
	return db_finish_locked(db, r);
}

/* db_user_groups - the groups of a user, sorted, at most DB_MAXGROUPS */
int
db_user_groups(struct db *db, int64_t user_id, char groups[][DB_GROUPMAX + 1], size_t *n)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	db_lock(db);
	/* One more than fits is an error, never a silent cut: a rule could name it. */
	st = db_prepare(db, "SELECT grp FROM user_groups WHERE user_id = ?1 ORDER BY grp LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int(st, 2, DB_MAXGROUPS + 1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < DB_MAXGROUPS)
		db_copy_text(groups[(*n)++], DB_GROUPMAX + 1, st, 0);
	sqlite3_finalize(st);
	db_unlock(db);
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/*
 * db_approvers - every enabled user who may approve for group ("" = any
 * approver): role approver or admin, member of the group.
 */
int
db_approvers(struct db *db, const char *group, db_user_cb cb, void *arg)
{
	sqlite3_stmt *st;
	struct db_user u;
	int r, stop = 0;

	db_lock(db);
	st = db_prepare(db, "SELECT id, name, email, role FROM users WHERE disabled = 0 "
			    "AND role IN ('approver', 'admin') AND (?1 = '' OR id IN "
			    "(SELECT user_id FROM user_groups WHERE grp = ?1)) ORDER BY id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	while (!stop && (r = sqlite3_step(st)) == SQLITE_ROW) {
		u.id = sqlite3_column_int64(st, 0);
		db_copy_text(u.name, sizeof(u.name), st, 1);
		db_copy_text(u.email, sizeof(u.email), st, 2);
		db_copy_text(u.role, sizeof(u.role), st, 3);
		stop = cb(&u, arg) != 0;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	if (stop)
		return DB_ERROR;
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_pending - the transfers waiting for approval, oldest first */
int
db_pending(struct db *db, db_id_cb cb, void *arg)
{
	sqlite3_stmt *st;
	char id[UTIL_IDLEN + 1];
	int r, stop = 0;

	db_lock(db);
	st = db_prepare(db, "SELECT id FROM transfers WHERE state = 'pending' ORDER BY sent_at, id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	/* Collected under the lock, handed out after: cb may query the db. */
	{
		char (*ids)[UTIL_IDLEN + 1] = NULL;
		size_t n = 0;
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			void *nv = realloc(ids, (n + 1) * sizeof(*ids));
			if (nv == NULL) {
				r = SQLITE_NOMEM;
				break;
			}
			ids = nv;
			db_copy_text(ids[n++], sizeof(ids[0]), st, 0);
		}
		sqlite3_finalize(st);
		db_unlock(db);
		for (size_t i = 0; r == SQLITE_DONE && !stop && i < n; i++) {
			memcpy(id, ids[i], sizeof(id));
			stop = cb(id, arg) != 0;
		}
		free(ids);
	}
	if (stop)
		return DB_ERROR;
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_votes - a transfer's approval votes, in order */
int
db_votes(struct db *db, const char *transfer_id, db_vote_cb cb, void *arg)
{
	sqlite3_stmt *st;
	struct db_vote v;
	int r, stop = 0;

	db_lock(db);
	st = db_prepare(db, "SELECT a.approver_id, u.name, a.decision, a.comment, a.at "
			    "FROM approvals a JOIN users u ON u.id = a.approver_id "
			    "WHERE a.transfer_id = ?1 ORDER BY a.at, a.id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	while (!stop && (r = sqlite3_step(st)) == SQLITE_ROW) {
		v.approver_id = sqlite3_column_int64(st, 0);
		db_copy_text(v.approver, sizeof(v.approver), st, 1);
		db_copy_text(v.decision, sizeof(v.decision), st, 2);
		db_copy_text(v.comment, sizeof(v.comment), st, 3);
		v.at = sqlite3_column_int64(st, 4);
		stop = cb(&v, arg) != 0;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	if (stop)
		return DB_ERROR;
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_transfer_policy - the stored decision (JSON text, malloc'd; "" if none) */
int
db_transfer_policy(struct db *db, const char *transfer_id, char **json, int64_t *at)
{
	sqlite3_stmt *st;
	int r;

	*json = NULL;
	db_lock(db);
	st = db_prepare(db, "SELECT policy, policy_at FROM transfers WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*json = strdup(t ? (const char *)t : "");
		*at = sqlite3_column_int64(st, 1);
		r = *json ? DB_OK : DB_ERROR;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/* db_held_end_locked - a pending transfer ends unsent: state, links, held mails */
static int
db_held_end_locked(struct db *db, const char *transfer_id, const char *state, int64_t now,
		   int *ended)
{
	sqlite3_stmt *st;
	int r;

	st = db_prepare(db, "UPDATE transfers SET state = ?2, ended_at = ?3 "
			    "WHERE id = ?1 AND state = 'pending'");
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	r = db_step_done(db, st);
	return r == DB_OK ? db_transfer_links_end_locked(db, transfer_id, now, ended) : r;
}

/*
 * db_release_locked - approval is complete: the transfer is sent, its link
 * mails go out at the end of the send delay (or now, if that has passed)
 * and its links live expiry_days from then.
 */
static int
db_release_locked(struct db *db, const char *transfer_id, int64_t now)
{
	static const char *const sql[] = {
		"UPDATE transfers SET state = 'sent', release_at = max(release_at, ?2), "
		"expires_at = max(release_at, ?2) + expiry_days * 86400 "
		"WHERE id = ?1 AND state = 'pending'",
		"UPDATE links SET expires_at = (SELECT expires_at FROM transfers WHERE id = ?1) "
		"WHERE transfer_id = ?1 AND kind = 'download'",
		"UPDATE outbox SET held = 0, created = max(created, ?2), "
		"next_attempt = (SELECT release_at FROM transfers WHERE id = ?1) "
		"WHERE transfer_id = ?1 AND kind = 'link' AND state = 'queued' AND held = 1",
	};
	int r = DB_OK;

	for (size_t i = 0; r == DB_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = db_prepare(db, sql[i]);
		if (st == NULL)
			return DB_ERROR;
		sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
		if (i != 1)
			sqlite3_bind_int64(st, 2, now);
		r = db_step_done(db, st);
	}
	return r;
}

/*
 * db_vote - record an approver's vote and make its consequence, atomically.
 * Refused (DB_CONFLICT, why says which) when the transfer is no longer
 * pending, its approval request has expired, or this approver has voted.
 * A rejection ends the transfer; the vote that completes the approvals
 * releases it. *outcome: "rejected", "approved" (released) or "recorded"
 * (more approvals needed). The notice for the sender is queued only when
 * the outcome is final: notify_reject for a rejection, notify_approve for
 * a release.
 */
int
db_vote(struct db *db, const char *transfer_id, int64_t approver_id, int approve,
	const char *comment, int64_t now, const struct db_mail *notify_approve,
	const struct db_mail *notify_reject, const struct audit_actor *who, const char **outcome,
	char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int64_t pending = 0, approves = 0, needed = 0, may = 0;
	char vote_id[24];
	int r, ended = 0;

	*outcome = "recorded";
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	if (db_int_locked(db, "SELECT count(*) FROM transfers WHERE id = ?1 AND state = 'pending' "
			      "AND approval_expires > ?2", transfer_id, now, &pending) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	if (pending == 0) {
		snprintf(why, whylen, "the transfer is not waiting for approval (any more)");
		return db_finish_locked(db, DB_CONFLICT);
	}
	if (db_int_locked(db, "SELECT approvals_needed FROM transfers WHERE id = ?1", transfer_id,
			  0, &needed) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	/*
	 * Who may vote is checked again here, where it cannot change under
	 * us: role, enabled, the group, and not the owner or whoever pressed
	 * send unless self-approval is allowed.
	 */
	if (db_int_locked(db, "SELECT count(*) FROM users u, transfers t WHERE t.id = ?1 "
			      "AND u.id = ?2 AND u.disabled = 0 AND u.role IN ('approver', 'admin') "
			      "AND (t.approval_group = '' OR EXISTS (SELECT 1 FROM user_groups g "
			      "WHERE g.user_id = u.id AND g.grp = t.approval_group)) "
			      "AND (t.approval_self = 1 OR (u.id != t.owner_id AND u.id != t.sent_by))",
			  transfer_id, approver_id, &may) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	if (may == 0) {
		snprintf(why, whylen, "you may not decide on this transfer (any more)");
		return db_finish_locked(db, DB_CONFLICT);
	}
	st = db_prepare(db, "INSERT INTO approvals (transfer_id, approver_id, decision, comment, at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, approver_id);
	sqlite3_bind_text(st, 3, approve ? "approve" : "reject", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, comment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	r = db_step_done(db, st);
	if (r == DB_CONFLICT) {
		snprintf(why, whylen, "you have already decided on this transfer");
		return db_finish_locked(db, DB_CONFLICT);
	}
	if (r != DB_OK)
		return db_finish_locked(db, r);
	/* The vote is the approvals row; the approver is the record's actor. */
	snprintf(vote_id, sizeof(vote_id), "%lld", (long long)sqlite3_last_insert_rowid(db->h));
	r = db_record_locked(
	    db, who, approve ? "approval.approved" : "approval.rejected", "approval", vote_id, "ok",
	    json_pack("{s:s, s:s}", "transfer", transfer_id, "comment", comment), now);
	if (r != DB_OK)
		return db_finish_locked(db, r);
	if (!approve) {
		*outcome = "rejected";
		r = db_held_end_locked(db, transfer_id, "rejected", now, &ended);
		if (r == DB_OK)
			r = db_record_locked(db, who, "transfer.rejected", "transfer", transfer_id,
					     "ok", json_pack("{s:i}", "links_ended", ended), now);
		if (r == DB_OK && notify_reject != NULL)
			r = db_mail_insert_locked(db, notify_reject, now);
		return db_finish_locked(db, r);
	}
	if (db_int_locked(db, "SELECT count(*) FROM approvals WHERE transfer_id = ?1 "
			      "AND decision = 'approve'", transfer_id, 0, &approves) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	if (approves >= needed) {
		int64_t release = 0, expires = 0;
		*outcome = "approved";
		r = db_release_locked(db, transfer_id, now);
		if (r == DB_OK)
			r = db_int_locked(db, "SELECT release_at FROM transfers WHERE id = ?1",
					  transfer_id, 0, &release);
		if (r == DB_OK)
			r = db_int_locked(db, "SELECT expires_at FROM transfers WHERE id = ?1",
					  transfer_id, 0, &expires);
		if (r == DB_OK)
			r = db_record_locked(
			    db, who, "transfer.approved", "transfer", transfer_id, "ok",
			    json_pack("{s:I, s:I, s:I}", "approvals", (json_int_t)approves,
				      "release_at", (json_int_t)release, "expires_at",
				      (json_int_t)expires),
			    now);
		if (r == DB_OK && notify_approve != NULL)
			r = db_mail_insert_locked(db, notify_approve, now);
	}
	return db_finish_locked(db, r);
}

/* db_lapsed - pending transfers whose approval request expired by now */
int
db_lapsed(struct db *db, int64_t now, char ids[][UTIL_IDLEN + 1], size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	db_lock(db);
	st = db_prepare(db, "SELECT id FROM transfers WHERE state = 'pending' "
			    "AND approval_expires <= ?1 ORDER BY approval_expires LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		db_copy_text(ids[(*n)++], UTIL_IDLEN + 1, st, 0);
	sqlite3_finalize(st);
	db_unlock(db);
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_lapse - end one expired approval request, with the sender's notice */
int
db_lapse(struct db *db, const char *transfer_id, int64_t now, const struct db_mail *notify)
{
	int64_t due = 0;
	int r, ended = 0;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	if (db_int_locked(db, "SELECT count(*) FROM transfers WHERE id = ?1 AND state = 'pending' "
			      "AND approval_expires <= ?2", transfer_id, now, &due) != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	if (due == 0) /* decided or recalled meanwhile */
		return db_finish_locked(db, DB_NOTFOUND);
	r = db_held_end_locked(db, transfer_id, "lapsed", now, &ended);
	/* Nobody decided: the clock did. */
	if (r == DB_OK)
		r = db_record_locked(db, &audit_system, "transfer.lapsed", "transfer", transfer_id,
				     "ok", json_pack("{s:i}", "links_ended", ended), now);
	if (r == DB_OK && notify != NULL)
		r = db_mail_insert_locked(db, notify, now);
	return db_finish_locked(db, r);
}
