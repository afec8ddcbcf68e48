/*
 * db_session.c - staff logins in the database: credentials and lockout
 * (users, schema 9), browser sessions (sessions) and TOTP enrolment. A
 * session row holds the cookie's id and a hash of the whole cookie, never
 * the cookie; the TOTP secret is wrapped by the master keyring, never in
 * the clear. Each change commits with its audit record.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "audit.h"
#include "db_int.h"
#include "db_session.h"

#define DB_LOGIN_COLS                                                                              \
	"SELECT id, name, email, role, disabled, pw_hash, totp_wrapped, totp_key_id, "             \
	"totp_last_step, failed_logins, locked_until FROM users "

static int
db_login_row(sqlite3_stmt *st, struct db_login *l)
{
	const void *w;

	memset(l, 0, sizeof(*l));
	db_user_row(st, 0, &l->user);
	l->disabled = sqlite3_column_int(st, 4) != 0;
	db_copy_text(l->pw_hash, sizeof(l->pw_hash), st, 5);
	w = sqlite3_column_blob(st, 6);
	if (w != NULL && sqlite3_column_bytes(st, 6) == (int)KEYS_WRAPPEDBYTES) {
		memcpy(l->totp_wrapped, w, KEYS_WRAPPEDBYTES);
		l->totp_enrolled = 1;
	} else if (w != NULL) {
		return DB_ERROR; /* a wrapped secret of the wrong size: fail closed */
	}
	db_copy_text(l->totp_key_id, sizeof(l->totp_key_id), st, 7);
	l->totp_last_step = sqlite3_column_int64(st, 8);
	l->failed_logins = sqlite3_column_int(st, 9);
	l->locked_until = sqlite3_column_int64(st, 10);
	return DB_OK;
}

static int
db_login_query(struct db *db, const char *sql, const char *key, struct db_login *l)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, sql);
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		r = db_login_row(st, l);
	else
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/* db_login_get - the user NAME as a password login sees them */
int
db_login_get(struct db *db, const char *name, struct db_login *l)
{
	return db_login_query(db, DB_LOGIN_COLS "WHERE name = ?1", name, l);
}

/* db_login_by_dn - the enabled user a client certificate's subject maps to */
int
db_login_by_dn(struct db *db, const char *dn, struct db_login *l)
{
	if (dn[0] == '\0')
		return DB_NOTFOUND;
	return db_login_query(db, DB_LOGIN_COLS "WHERE cert_dn = ?1 AND disabled = 0", dn, l);
}

/*
 * db_login_reserve - count a login attempt on user ID before its password
 * is checked: refused (DB_CONFLICT, *locked_until set) when the account is
 * locked, or when MAX attempts are already counted and not yet answered by
 * a success. Counting first is what bounds guesses sent in parallel: each
 * takes a slot before any Argon2id work, and a success gives the count back
 * (db_session_create). A lock that has run out starts the count again.
 */
int
db_login_reserve(struct db *db, int64_t id, int max, int64_t now, int64_t *locked_until)
{
	sqlite3_stmt *st;
	int r;

	*locked_until = 0;
	db_lock(db);
	st = db_prepare(db,
			"UPDATE users SET "
			"failed_logins = CASE WHEN locked_until != 0 AND locked_until <= ?2 "
			"  THEN 1 ELSE failed_logins + 1 END, "
			"locked_until = CASE WHEN locked_until <= ?2 THEN 0 ELSE locked_until END "
			"WHERE id = ?1 AND locked_until <= ?2 AND "
			"(failed_logins < ?3 OR locked_until != 0)");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, max);
	r = db_step_done(db, st);
	if (r == DB_OK && sqlite3_changes(db->h) != 1)
		r = DB_CONFLICT;
	if (r == DB_CONFLICT &&
	    (st = db_prepare(db, "SELECT locked_until FROM users WHERE id = ?1")) != NULL) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			*locked_until = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	db_unlock(db);
	return r;
}

/* db_login_release - give back an attempt db_login_reserve counted that was never judged */
int
db_login_release(struct db *db, int64_t id)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "UPDATE users SET failed_logins = max(failed_logins - 1, 0) "
			    "WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, id);
	r = db_step_done(db, st);
	db_unlock(db);
	return r;
}

int
db_login_failed(struct db *db, int64_t id, const char *name, const char *reason, const char *method,
		int max, int64_t lock, const struct audit_actor *who, int64_t now,
		int64_t *locked_until)
{
	sqlite3_stmt *st;
	int r, failed = 0;

	*locked_until = 0;
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	/* The attempt was counted by db_login_reserve; here it is recorded. */
	st = db_prepare(db, "SELECT failed_logins, locked_until FROM users WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		failed = sqlite3_column_int(st, 0);
		*locked_until = sqlite3_column_int64(st, 1);
	}
	r = r == SQLITE_ROW ? DB_OK : DB_ERROR;
	sqlite3_finalize(st);
	if (r == DB_OK)
		r = db_record_locked(db, who, "auth.login_failed", "user", name, "failed",
				     json_pack("{s:s, s:s, s:i}", "reason", reason, "method",
					       method, "failures", failed),
				     now);
	if (r == DB_OK && failed >= max && *locked_until <= now) {
		*locked_until = now + lock;
		st = db_prepare(db, "UPDATE users SET locked_until = ?2, failed_logins = 0 "
				    "WHERE id = ?1");
		if (st == NULL)
			return db_finish_locked(db, DB_ERROR);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, *locked_until);
		r = db_step_done(db, st);
		if (r == DB_OK)
			r = db_record_locked(db, who, "auth.locked", "user", name, "locked",
					     json_pack("{s:i, s:I}", "failures", failed, "until",
						       (json_int_t)*locked_until),
					     now);
	} else if (*locked_until <= now) {
		*locked_until = 0;
	}
	return db_finish_locked(db, r);
}

int
db_session_create(struct db *db, const struct db_session_new *n, const struct audit_actor *who,
		  int64_t now)
{
	const struct db_session *s = n->s;
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db,
			"INSERT INTO sessions (id, user_id, hash, method, stage, created, "
			"last_seen, ip, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, s->user_id);
	sqlite3_bind_blob(st, 3, s->hash, AUTH_HASHBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, s->method, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, s->stage, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_text(st, 7, n->ip ? n->ip : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, n->user_agent ? n->user_agent : "", -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	/* A login that got in clears the count, and uses up its TOTP step. */
	/*
	 * The TOTP step is taken here, compared as it is written: of two logins
	 * racing with one code only the first gets in (DB_CONFLICT for the
	 * other), and none gets in once the account has been locked meanwhile.
	 */
	if (r == DB_OK &&
	    (st = db_prepare(db,
			     "UPDATE users SET failed_logins = 0, "
			     "totp_last_step = max(totp_last_step, ?2), "
			     "pw_hash = coalesce(?3, pw_hash) WHERE id = ?1 AND locked_until <= ?4 "
			     "AND (?2 = 0 OR totp_last_step < ?2)")) == NULL)
		r = DB_ERROR;
	if (r == DB_OK) {
		sqlite3_bind_int64(st, 1, s->user_id);
		sqlite3_bind_int64(st, 2, n->totp_step);
		if (n->pw_rehash != NULL)
			sqlite3_bind_text(st, 3, n->pw_rehash, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int64(st, 4, now);
		r = db_step_done(db, st);
		if (r == DB_OK && sqlite3_changes(db->h) != 1)
			r = DB_CONFLICT;
	}
	if (r == DB_OK)
		r = db_record_locked(db, who, "auth.login", "session", s->id, "ok",
				     json_pack("{s:s, s:s, s:b}", "method", s->method, "stage",
					       s->stage, "totp", n->totp_step > 0),
				     now);
	return db_finish_locked(db, r);
}

int
db_session_get(struct db *db, const char *id, struct db_session *s, struct db_user *u)
{
	sqlite3_stmt *st;
	int r;

	memset(s, 0, sizeof(*s));
	db_lock(db);
	st = db_prepare(db,
			"SELECT u.id, u.name, u.email, u.role, s.hash, s.method, s.stage, "
			"s.created, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id "
			"WHERE s.id = ?1 AND s.ended = 0 AND u.disabled = 0");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_bytes(st, 4) == (int)AUTH_HASHBYTES) {
		db_user_row(st, 0, u);
		snprintf(s->id, sizeof(s->id), "%s", id);
		s->user_id = u->id;
		memcpy(s->hash, sqlite3_column_blob(st, 4), AUTH_HASHBYTES);
		db_copy_text(s->method, sizeof(s->method), st, 5);
		db_copy_text(s->stage, sizeof(s->stage), st, 6);
		s->created = sqlite3_column_int64(st, 7);
		s->last_seen = sqlite3_column_int64(st, 8);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/* db_session_touch - the session was used at NOW (no audit record: every request is one) */
int
db_session_touch(struct db *db, const char *id, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "UPDATE sessions SET last_seen = ?2 WHERE id = ?1 AND ended = 0");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	r = db_step_done(db, st);
	db_unlock(db);
	return r;
}

int
db_session_end(struct db *db, const char *id, const char *event, const char *why,
	       const struct audit_actor *who, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "UPDATE sessions SET ended = ?2 WHERE id = ?1 AND ended = 0");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	r = db_step_done(db, st);
	if (r == DB_OK && sqlite3_changes(db->h) == 0)
		r = DB_NOTFOUND; /* ended already (another tab logged out): nothing to record */
	if (r == DB_OK)
		r = db_record_locked(db, who, event, "session", id, "ok",
				     json_pack("{s:s}", "reason", why), now);
	return db_finish_locked(db, r);
}

int
db_session_end_all(struct db *db, int64_t user_id, const char *name, const struct audit_actor *who,
		   int64_t now, int *n)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "UPDATE sessions SET ended = ?2 WHERE user_id = ?1 AND ended = 0");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, now);
	r = db_step_done(db, st);
	if (r == DB_OK) {
		*n = sqlite3_changes(db->h);
		r = db_record_locked(db, who, "auth.sessions_ended", "user", name, "ok",
				     json_pack("{s:i}", "sessions", *n), now);
	}
	return db_finish_locked(db, r);
}

int
db_totp_pending_set(struct db *db, int64_t user_id, const char *name, const char *sid,
		    const unsigned char wrapped[KEYS_WRAPPEDBYTES], const char *key_id,
		    const struct audit_actor *who, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "UPDATE users SET totp_pending = ?2, totp_pending_key_id = ?3, "
			    "totp_pending_session = ?4 WHERE id = ?1");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_blob(st, 2, wrapped, KEYS_WRAPPEDBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, sid, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r == DB_OK)
		r = db_audit_record_locked(db, who, "totp.enrolment_started", "user", name, "ok",
					   NULL, now);
	return db_finish_locked(db, r);
}

int
db_totp_pending_get(struct db *db, int64_t user_id, const char *sid,
		    unsigned char wrapped[KEYS_WRAPPEDBYTES], char key_id[KEYS_IDLEN + 1])
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	/* Only the session that began the enrolment sees its secret. */
	st = db_prepare(db, "SELECT totp_pending, totp_pending_key_id FROM users "
			    "WHERE id = ?1 AND totp_pending_session = ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, sid, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL) {
		r = DB_NOTFOUND;
	} else if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)KEYS_WRAPPEDBYTES) {
		memcpy(wrapped, sqlite3_column_blob(st, 0), KEYS_WRAPPEDBYTES);
		db_copy_text(key_id, KEYS_IDLEN + 1, st, 1);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

int
db_totp_confirm(struct db *db, int64_t user_id, const char *name, const char *sid,
		const unsigned char wrapped[KEYS_WRAPPEDBYTES], int64_t step,
		const struct audit_actor *who, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db,
			"UPDATE users SET totp_wrapped = totp_pending, "
			"totp_key_id = totp_pending_key_id, totp_pending = NULL, "
			"totp_pending_key_id = '', totp_pending_session = '', totp_last_step = ?2 "
			"WHERE id = ?1 AND totp_pending = ?3 AND totp_pending_session = ?4");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, step);
	sqlite3_bind_blob(st, 3, wrapped, KEYS_WRAPPEDBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, sid, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r == DB_OK && sqlite3_changes(db->h) != 1)
		r = DB_NOTFOUND;
	if (r == DB_OK &&
	    (st = db_prepare(db, "UPDATE sessions SET stage = 'full' "
				 "WHERE id = ?1 AND user_id = ?2 AND ended = 0")) == NULL)
		r = DB_ERROR;
	if (r == DB_OK) {
		sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, user_id);
		r = db_step_done(db, st);
	}
	if (r == DB_OK)
		r = db_audit_record_locked(db, who, "totp.enrolled", "user", name, "ok", NULL, now);
	return db_finish_locked(db, r);
}
