/*
 * db_uploads.c - the uploads table: tus uploads begun and not finished
 * (schema migrations 10 and 11, protocol in api_tus.c). An upload is a
 * staff user's (owner_id) or, through a request's upload link, the
 * counterparty's (link_id); a link's unfinished uploads hold their
 * declared length against its max_bytes until they finish or end.
 *
 * A row exists from creation until the upload completes (the file row is
 * inserted and this one deleted in the same transaction, so a file never
 * has an upload row too), is terminated by its owner, or expires. Each
 * change records its audit event in its own transaction: upload.created,
 * upload.appended (one per PATCH, with the durable offset), and
 * upload.terminated or upload.expired; a completed upload is recorded as
 * file.uploaded, exactly like a PUT.
 */
#include "config.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"

#define DB_UPLOAD_COLS                                                                             \
	"id, transfer_id, ifnull(owner_id, 0), ifnull(link_id, ''), name, length, "                \
	"durable_offset, "                                                                         \
	"key_id, wrapped_key, staging, created, updated"
#define DB_UPLOAD_INSERT_COLS                                                                      \
	"id, transfer_id, owner_id, link_id, name, length, durable_offset, key_id, wrapped_key, "  \
	"staging, created, updated"

/* db_upload_row - the columns of DB_UPLOAD_COLS into u; -1 when a value is malformed */
static int
db_upload_row(sqlite3_stmt *st, struct db_upload *u)
{
	memset(u, 0, sizeof(*u));
	db_copy_text(u->id, sizeof(u->id), st, 0);
	db_copy_text(u->transfer_id, sizeof(u->transfer_id), st, 1);
	u->owner_id = sqlite3_column_int64(st, 2);
	db_copy_text(u->link_id, sizeof(u->link_id), st, 3);
	db_copy_text(u->name, sizeof(u->name), st, 4);
	u->length = sqlite3_column_int64(st, 5);
	u->offset = sqlite3_column_int64(st, 6);
	db_copy_text(u->key_id, sizeof(u->key_id), st, 7);
	if (sqlite3_column_bytes(st, 8) != KEYS_WRAPPEDBYTES)
		return -1;
	memcpy(u->wrapped, sqlite3_column_blob(st, 8), KEYS_WRAPPEDBYTES);
	db_copy_text(u->staging, sizeof(u->staging), st, 9);
	u->created = sqlite3_column_int64(st, 10);
	u->updated = sqlite3_column_int64(st, 11);
	return 0;
}

/* db_upload_detail - the audit detail every upload record starts from */
static json_t *
db_upload_detail(const struct db_upload *u)
{
	json_t *d = json_pack("{s:s, s:s, s:I, s:I}", "transfer", u->transfer_id, "name", u->name,
			      "length", (json_int_t)u->length, "offset", (json_int_t)u->offset);

	/* A counterparty's upload names its link, as file.uploaded does (upload_link). */
	if (d != NULL && u->link_id[0] != '\0' &&
	    json_object_set_new(d, "upload_link", json_string(u->link_id)) != 0) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

/*
 * db_upload_link_bytes_locked - what link_id has taken of its max_bytes:
 * the sizes of the files uploaded through it and the declared lengths of
 * its unfinished uploads but except_id (the one finishing, if any).
 */
int
db_upload_link_bytes_locked(struct db *db, const char *link_id, const char *except_id,
			    int64_t *bytes)
{
	sqlite3_stmt *st = db_prepare(
	    db, "SELECT (SELECT coalesce(sum(size), 0) FROM files WHERE uploader = ?1) + "
		"(SELECT coalesce(sum(length), 0) FROM uploads WHERE link_id = ?1 AND id != ?2)");
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, except_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*bytes = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? DB_OK : DB_ERROR;
}

int
db_upload_link_bytes(struct db *db, const char *link_id, int64_t *bytes)
{
	int r;

	db_lock(db);
	r = db_upload_link_bytes_locked(db, link_id, "", bytes);
	db_unlock(db);
	return r;
}

/* db_upload_get_locked - the row, DB_NOTFOUND, or DB_ERROR */
static int
db_upload_get_locked(struct db *db, const char *id, struct db_upload *u)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " DB_UPLOAD_COLS " FROM uploads WHERE id = ?1");
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		r = db_upload_row(st, u) == 0 ? DB_OK : DB_ERROR;
	else
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	sqlite3_finalize(st);
	return r;
}

/*
 * db_upload_create - a new upload, in one transaction with the checks a
 * racing request could slip past: the transfer is still a draft whose
 * content was not purged, no file of the transfer has the name, and its
 * files and unfinished uploads together stay under max_files (an upload
 * holds disk, so it counts). A name taken by another unfinished upload is
 * DB_CONFLICT by the table's constraint. A counterparty's upload
 * (u->link_id) also needs its link live and its declared length within
 * what the link has left of max_bytes: unfinished uploads hold their
 * length, so uploads begun in parallel cannot together pass the limit.
 * why says what conflicted (DB_TOOBIG for the bytes).
 */
int
db_upload_create(struct db *db, const struct db_upload *u, int max_files, int64_t max_bytes,
		 const struct audit_actor *who, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int64_t v = 0, n = 0, m = 0;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_int_locked(db,
			  "SELECT state = 'draft' AND content_purged_at = 0 FROM transfers "
			  "WHERE id = ?1",
			  u->transfer_id, 0, &v);
	if (r == DB_NOTFOUND || (r == DB_OK && v == 0)) {
		snprintf(why, whylen, "files can only be added to a draft transfer");
		r = DB_CONFLICT;
		goto done;
	}
	if (r == DB_OK && u->link_id[0] != '\0') {
		r = db_int_locked(db,
				  "SELECT revoked_at = 0 AND completed_at = 0 AND expires_at > ?2 "
				  "FROM links WHERE id = ?1 AND kind = 'upload'",
				  u->link_id, u->created, &v);
		if (r == DB_NOTFOUND || (r == DB_OK && v == 0)) {
			snprintf(why, whylen, "the upload link has ended");
			r = DB_CONFLICT;
			goto done;
		}
		if (r == DB_OK)
			r = db_upload_link_bytes_locked(db, u->link_id, "", &n);
		if (r == DB_OK && u->length > max_bytes - n) {
			snprintf(why, whylen,
				 "the upload request's byte limit is reached (%lld of %lld bytes "
				 "left, unfinished uploads included)",
				 (long long)(max_bytes > n ? max_bytes - n : 0),
				 (long long)max_bytes);
			r = DB_TOOBIG;
			goto done;
		}
	}
	if (r == DB_OK)
		r = db_int_locked(db, "SELECT count(*) FROM files WHERE transfer_id = ?1",
				  u->transfer_id, 0, &n);
	if (r == DB_OK)
		r = db_int_locked(db, "SELECT count(*) FROM uploads WHERE transfer_id = ?1",
				  u->transfer_id, 0, &m);
	if (r == DB_OK && n + m >= max_files) {
		snprintf(why, whylen,
			 "the transfer has the maximum number of files (%d, unfinished uploads "
			 "included)",
			 max_files);
		r = DB_CONFLICT;
	}
	if (r == DB_OK) {
		st = db_prepare(db, "SELECT 1 FROM files WHERE transfer_id = ?1 AND name = ?2");
		if (st == NULL) {
			r = DB_ERROR;
			goto done;
		}
		sqlite3_bind_text(st, 1, u->transfer_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, u->name, -1, SQLITE_TRANSIENT);
		r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r == SQLITE_ROW) {
			snprintf(why, whylen, "the transfer already has a file with this name");
			r = DB_CONFLICT;
		} else {
			r = r == SQLITE_DONE ? DB_OK : DB_ERROR;
		}
	}
	if (r != DB_OK)
		goto done;
	st =
	    db_prepare(db, "INSERT INTO uploads (" DB_UPLOAD_INSERT_COLS ") "
			   "VALUES (?1, ?2, nullif(?3, 0), nullif(?10, ''), ?4, ?5, 0, ?6, ?7, ?8, "
			   "?9, ?9)");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, u->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, u->transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, u->owner_id);
	sqlite3_bind_text(st, 10, u->link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, u->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, u->length);
	sqlite3_bind_text(st, 6, u->key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 7, u->wrapped, KEYS_WRAPPEDBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, u->staging, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, u->created);
	r = db_step_done(db, st);
	if (r == DB_CONFLICT)
		snprintf(why, whylen, "an upload of a file with this name is already in progress");
	if (r == DB_OK)
		r = db_record_locked(db, who, "upload.created", "upload", u->id, "ok",
				     db_upload_detail(u), u->created);
done:
	return db_finish_locked(db, r);
}

int
db_upload_get(struct db *db, const char *id, struct db_upload *u)
{
	int r;

	db_lock(db);
	r = db_upload_get_locked(db, id, u);
	db_unlock(db);
	return r;
}

/*
 * db_upload_progress - the staging file is durable up to offset: record
 * it, and when it happened (expiry counts from there). RECEIVED is what
 * this PATCH brought, CUT whether its connection ended early.
 */
int
db_upload_progress(struct db *db, const char *id, int64_t offset, int64_t received, int cut,
		   const struct audit_actor *who)
{
	struct db_upload u;
	sqlite3_stmt *st;
	json_t *d;
	int64_t now = util_now();
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_upload_get_locked(db, id, &u);
	if (r != DB_OK)
		goto done;
	st = db_prepare(db, "UPDATE uploads SET durable_offset = ?2, updated = ?3 WHERE id = ?1");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, offset);
	sqlite3_bind_int64(st, 3, now);
	r = db_step_done(db, st);
	if (r != DB_OK)
		goto done;
	d = db_upload_detail(&u);
	if (d != NULL && (json_object_set_new(d, "offset", json_integer(offset)) != 0 ||
			  json_object_set_new(d, "from", json_integer(u.offset)) != 0 ||
			  json_object_set_new(d, "received", json_integer(received)) != 0)) {
		json_decref(d);
		d = NULL;
	}
	r = db_record_locked(db, who, "upload.appended", "upload", id, cut ? "partial" : "ok", d,
			     now);
done:
	return db_finish_locked(db, r);
}

/*
 * db_upload_finish - the upload is complete and its blob committed: insert
 * the file exactly as db_file_insert does (same checks, file.uploaded; for
 * a counterparty's, f->uploader is the link and max_bytes its limit, its
 * other unfinished uploads counted) and delete the upload row, together. DB_CONFLICT (why filled)
 * when the transfer no longer takes the file; nothing changes then.
 */
int
db_upload_finish(struct db *db, const char *id, const struct db_file *f, int max_files,
		 int64_t max_bytes, const struct audit_actor *who, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_file_insert_locked(db, f, max_files, max_bytes, who, why, whylen);
	if (r == DB_OK) {
		st = db_prepare(db, "DELETE FROM uploads WHERE id = ?1");
		if (st == NULL) {
			r = DB_ERROR;
		} else {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
			r = db_step_done(db, st);
			if (r == DB_OK && sqlite3_changes(db->h) != 1)
				r = DB_NOTFOUND; /* terminated meanwhile: keep no file */
		}
	}
	return db_finish_locked(db, r);
}

/*
 * db_upload_remove - the row goes, with EVENT (detail REASON) in the same
 * transaction. With idle_before > 0 only if it was not updated since
 * (expiry: a PATCH may have come in after the listing); else DB_NOTFOUND.
 */
int
db_upload_remove(struct db *db, const char *id, const char *event, const char *reason,
		 int64_t idle_before, const struct audit_actor *who)
{
	struct db_upload u;
	sqlite3_stmt *st;
	json_t *d;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_upload_get_locked(db, id, &u);
	if (r == DB_OK && idle_before > 0 && u.updated >= idle_before)
		r = DB_NOTFOUND;
	if (r != DB_OK)
		goto done;
	st = db_prepare(db, "DELETE FROM uploads WHERE id = ?1");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r != DB_OK)
		goto done;
	d = db_upload_detail(&u);
	if (d != NULL && json_object_set_new(d, "reason", json_string(reason)) != 0) {
		json_decref(d);
		d = NULL;
	}
	r = db_record_locked(db, who, event, "upload", id, "ok", d, util_now());
done:
	return db_finish_locked(db, r);
}

/*
 * db_upload_each - step a SELECT of DB_UPLOAD_COLS into cb (a non-zero
 * return stops). The lock is held: cb must not call into the database.
 */
static int
db_upload_each(struct db *db, sqlite3_stmt *st, db_upload_cb cb, void *arg)
{
	struct db_upload u;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (db_upload_row(st, &u) != 0) {
			r = SQLITE_ERROR;
			break;
		}
		if (cb(&u, arg) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	(void)db;
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

int
db_upload_idle(struct db *db, int64_t before, int limit, db_upload_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT " DB_UPLOAD_COLS " FROM uploads WHERE updated < ?1 "
			    "ORDER BY updated LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	r = db_upload_each(db, st, cb, arg);
	db_unlock(db);
	return r;
}

int
db_upload_all(struct db *db, db_upload_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT " DB_UPLOAD_COLS " FROM uploads ORDER BY id");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	r = db_upload_each(db, st, cb, arg);
	db_unlock(db);
	return r;
}

int
db_upload_staging_exists(struct db *db, const char *staging)
{
	return db_exists(db, "SELECT 1 FROM uploads WHERE staging = ?1", staging, NULL);
}

/*
 * db_upload_link_ended - uploads whose link has ended (revoked, completed,
 * expired) or whose transfer takes no more files (sent, revoked, purged):
 * they can never finish.
 */
int
db_upload_link_ended(struct db *db, int64_t now, int limit, db_upload_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(
	    db, "SELECT " DB_UPLOAD_COLS " FROM uploads WHERE link_id IN "
		"(SELECT l.id FROM links l JOIN transfers t ON t.id = l.transfer_id "
		" WHERE l.kind = 'upload' AND (l.revoked_at != 0 OR l.completed_at != 0 "
		" OR l.expires_at <= ?1 OR t.state != 'draft' OR t.content_purged_at != 0)) "
		"ORDER BY id LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	r = db_upload_each(db, st, cb, arg);
	db_unlock(db);
	return r;
}

int
db_upload_of_link(struct db *db, const char *link_id, int limit, db_upload_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT " DB_UPLOAD_COLS " FROM uploads WHERE link_id = ?1 "
			    "ORDER BY id LIMIT ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, link_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, limit);
	r = db_upload_each(db, st, cb, arg);
	db_unlock(db);
	return r;
}
