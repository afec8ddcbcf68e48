/*
 * db_views.c - the read-only views of db_views.h.
 *
 * A page of transfers is three constant statements whatever its size: the
 * page itself, then the files and the recipients of the transfers on it,
 * whose ids are bound as one JSON array and unpacked by json_each(), so
 * the number of statements does not grow with the page. A fourth gives
 * the upload links of the page's requests (reverse uploads). They run inside
 * one read transaction so the three see the same snapshot.
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "db_views.h"

/*
 * The state a transfer is shown in, as api_send_json shows it: a sent
 * transfer inside its send delay is "held", one past its expiry "expired".
 */
#define DB_VIEWS_SHOWN                                                                             \
	"(CASE WHEN state = 'sent' AND release_at > ?6 THEN 'held' "                               \
	"WHEN state = 'sent' AND expires_at <= ?6 THEN 'expired' ELSE state END)"

static const char db_views_page_sql[] =
    "SELECT id, subject, " DB_VIEWS_SHOWN ", origin, created, sent_at, expires_at, release_at, "
    "revoked_at FROM transfers WHERE owner_id = ?1 "
    "AND (?2 IS NULL OR " DB_VIEWS_SHOWN " = ?2) "
    "AND (?4 IS NULL OR created < ?3 OR (created = ?3 AND id < ?4)) "
    "ORDER BY created DESC, id DESC LIMIT ?5";

static const char db_views_files_sql[] =
    "SELECT transfer_id, id, name, size, state, scan_verdict, scan_reason, detected_type, "
    "scanned_at FROM files WHERE transfer_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY transfer_id, created, rowid";

/* A recipient's mail is the newest "link" message, as api_send_json shows it. */
static const char db_views_recipients_sql[] =
    "SELECT l.transfer_id, l.id, l.address, l.expires_at, l.revoked_at, l.verified_at, "
    "(SELECT o.state FROM outbox o WHERE o.link_id = l.id AND o.kind = 'link' "
    " ORDER BY o.id DESC LIMIT 1), "
    "(SELECT coalesce(sum(p.completed), 0) FROM download_progress p WHERE p.link_id = l.id), "
    "(SELECT count(*) FROM download_progress p WHERE p.link_id = l.id AND p.completed > 0), "
    "(SELECT coalesce(max(p.first_completed), 0) FROM download_progress p "
    " WHERE p.link_id = l.id AND p.completed > 0) "
    "FROM links l WHERE l.kind = 'download' "
    "AND l.transfer_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY l.transfer_id, l.created, l.address";

/* Requests in the app: a request's upload link, for its state in the list. */
static const char db_views_requests_sql[] =
    "SELECT transfer_id, id, address, expires_at, revoked_at, verified_at, completed_at "
    "FROM links WHERE kind = 'upload' AND transfer_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY transfer_id, created, id";

static const char *const db_views_states[] = {
    "draft", "pending", "held", "sent", "expired", "revoked", "recalled", "rejected", "lapsed",
};

int
db_views_state_ok(const char *s)
{
	for (size_t i = 0; i < sizeof(db_views_states) / sizeof(db_views_states[0]); i++)
		if (strcmp(s, db_views_states[i]) == 0)
			return 1;
	return 0;
}

static const char *
db_views_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? (const char *)t : "";
}

/* db_views_page_locked - statement 1: the page's transfers; their ids go into IDS */
static int
db_views_page_locked(struct db *db, int64_t owner, const char *state, int64_t now,
		     const struct db_view_cursor *cur, int limit, const struct db_view_cbs *cb,
		     json_t *ids, int *more, struct db_view_cursor *next)
{
	sqlite3_stmt *st = db_prepare(db, db_views_page_sql);
	int r, rc = DB_OK, n = 0;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, owner);
	if (state != NULL)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, cur->created);
	if (cur->id[0] != '\0')
		sqlite3_bind_text(st, 4, cur->id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int(st, 5, limit + 1); /* one more: is there a next page? */
	sqlite3_bind_int64(st, 6, now);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_view_transfer t;
		if (n == limit) {
			*more = 1;
			break;
		}
		t = (struct db_view_transfer){.id = db_views_text(st, 0),
					      .subject = db_views_text(st, 1),
					      .state = db_views_text(st, 2),
					      .origin = db_views_text(st, 3),
					      .created = sqlite3_column_int64(st, 4),
					      .sent_at = sqlite3_column_int64(st, 5),
					      .expires_at = sqlite3_column_int64(st, 6),
					      .release_at = sqlite3_column_int64(st, 7),
					      .revoked_at = sqlite3_column_int64(st, 8)};
		if (json_array_append_new(ids, json_string(t.id)) != 0) {
			rc = DB_ERROR;
			break;
		}
		next->created = t.created;
		memcpy(next->id, t.id, strnlen(t.id, UTIL_IDLEN));
		next->id[strnlen(t.id, UTIL_IDLEN)] = '\0';
		n++;
		if ((rc = cb->transfer(&t, cb->arg)) != 0)
			break;
	}
	if (rc == DB_OK && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = DB_ERROR;
	sqlite3_finalize(st);
	return rc;
}

/* db_views_file_row - a row of statement 2 (a file of the page's transfers) to cb->file */
static int
db_views_file_row(sqlite3_stmt *st, const struct db_view_cbs *cb)
{
	struct db_view_file f = {.transfer_id = db_views_text(st, 0),
				 .id = db_views_text(st, 1),
				 .name = db_views_text(st, 2),
				 .size = sqlite3_column_int64(st, 3),
				 .state = db_views_text(st, 4),
				 .verdict = db_views_text(st, 5),
				 .reason = db_views_text(st, 6),
				 .type = db_views_text(st, 7),
				 .scanned_at = sqlite3_column_int64(st, 8)};
	return cb->file(&f, cb->arg);
}

/* db_views_recipient_row - a row of statement 3 (a recipient) to cb->recipient */
static int
db_views_recipient_row(sqlite3_stmt *st, const struct db_view_cbs *cb)
{
	struct db_view_recipient x = {
	    .transfer_id = db_views_text(st, 0),
	    .id = db_views_text(st, 1),
	    .address = db_views_text(st, 2),
	    .expires_at = sqlite3_column_int64(st, 3),
	    .revoked_at = sqlite3_column_int64(st, 4),
	    .verified_at = sqlite3_column_int64(st, 5),
	    .mail = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : db_views_text(st, 6),
	    .downloads = sqlite3_column_int64(st, 7),
	    .files_completed = sqlite3_column_int64(st, 8),
	    .completed_at = sqlite3_column_int64(st, 9)};
	return cb->recipient(&x, cb->arg);
}

/* db_views_request_row - a row of statement 4 (a request's upload link) to cb->request */
static int
db_views_request_row(sqlite3_stmt *st, const struct db_view_cbs *cb)
{
	struct db_view_request q = {.transfer_id = db_views_text(st, 0),
				    .id = db_views_text(st, 1),
				    .address = db_views_text(st, 2),
				    .expires_at = sqlite3_column_int64(st, 3),
				    .revoked_at = sqlite3_column_int64(st, 4),
				    .verified_at = sqlite3_column_int64(st, 5),
				    .completed_at = sqlite3_column_int64(st, 6)};
	return cb->request(&q, cb->arg);
}

/*
 * db_views_each_locked - statements 2 to 4: sql with the page's transfer
 * ids bound as one JSON array, each row handed to row until one says stop
 */
static int
db_views_each_locked(struct db *db, const char *sql, const char *ids,
		     int (*row)(sqlite3_stmt *, const struct db_view_cbs *),
		     const struct db_view_cbs *cb)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int r, rc = DB_OK;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = row(st, cb)) != 0)
			break;
	if (rc == DB_OK && r != SQLITE_DONE)
		rc = DB_ERROR;
	sqlite3_finalize(st);
	return rc;
}

int
db_views_transfers(struct db *db, int64_t owner, const char *state, int64_t now,
		   const struct db_view_cursor *cur, int limit, const struct db_view_cbs *cb,
		   int *more, struct db_view_cursor *next)
{
	json_t *ids = json_array();
	char *idtext = NULL;
	int rc;

	*more = 0;
	memset(next, 0, sizeof(*next));
	if (ids == NULL || limit < 1 || limit > DB_VIEWS_PAGEMAX) {
		json_decref(ids);
		return DB_ERROR;
	}
	db_lock(db);
	/* A deferred BEGIN: on the read-only connection it only pins a snapshot. */
	if (db_exec_locked(db, "BEGIN") != DB_OK) {
		db_unlock(db);
		json_decref(ids);
		return DB_ERROR;
	}
	rc = db_views_page_locked(db, owner, state, now, cur, limit, cb, ids, more, next);
	if (rc == DB_OK && json_array_size(ids) > 0) {
		idtext = json_dumps(ids, JSON_COMPACT);
		rc = idtext == NULL ? DB_ERROR
				    : db_views_each_locked(db, db_views_files_sql, idtext,
							   db_views_file_row, cb);
		if (rc == DB_OK)
			rc = db_views_each_locked(db, db_views_recipients_sql, idtext,
						  db_views_recipient_row, cb);
		if (rc == DB_OK && cb->request != NULL)
			rc = db_views_each_locked(db, db_views_requests_sql, idtext,
						  db_views_request_row, cb);
	}
	/* Nothing was written: COMMIT and ROLLBACK are the same here; ROLLBACK cannot fail. */
	db_exec_locked(db, "ROLLBACK");
	db_unlock(db);
	free(idtext);
	json_decref(ids);
	return rc;
}

int
db_views_outbox(struct db *db, struct db_view_outbox *o)
{
	sqlite3_stmt *st;
	int r;

	memset(o, 0, sizeof(*o));
	db_lock(db);
	st = db_prepare(db, "SELECT coalesce(sum(state = 'queued' AND held = 0), 0), "
			    "coalesce(sum(state = 'queued' AND held != 0), 0), "
			    "coalesce(sum(state = 'sent'), 0), coalesce(sum(state = 'failed'), 0) "
			    "FROM outbox");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		o->queued = sqlite3_column_int64(st, 0);
		o->held = sqlite3_column_int64(st, 1);
		o->sent = sqlite3_column_int64(st, 2);
		o->failed = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r == SQLITE_ROW ? DB_OK : DB_ERROR;
}
