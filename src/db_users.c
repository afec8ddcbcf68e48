/*
 * db_users.c - administration of staff accounts: create, set a password,
 * reset TOTP, disable and enable, unlock, map a TLS client certificate's
 * subject, end sessions, and the state of every account as an
 * administrator sees it (never the password hash or the TOTP secret).
 *
 * Login itself (checking a password or a code, creating sessions, TOTP
 * enrolment) is session.c's and db_session.c's. Each change here commits
 * with its audit record; a change that takes away a way in (a new
 * password, a reset second factor, a disabled account) ends the user's
 * live sessions in the same transaction, so no cookie outlives it.
 * A certificate subject maps to at most one enabled user.
 */
#include "config.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "jsonutil.h"

/* What the mutations need to know about a user before they change it. */
struct db_users_row {
	int64_t id;
	int disabled;
	int totp_enrolled, totp_pending;
	int failed_logins;
	int64_t locked_until;
	char cert_dn[DB_CERTDNMAX + 1];
};

/* db_users_row_locked - the user called NAME, disabled or not */
static int
db_users_row_locked(struct db *db, const char *name, struct db_users_row *u)
{
	sqlite3_stmt *st = db_prepare(
	    db, "SELECT id, disabled, totp_wrapped IS NOT NULL, totp_pending IS NOT NULL, "
		"failed_logins, locked_until, cert_dn FROM users WHERE name = ?1");
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		u->id = sqlite3_column_int64(st, 0);
		u->disabled = sqlite3_column_int(st, 1) != 0;
		u->totp_enrolled = sqlite3_column_int(st, 2);
		u->totp_pending = sqlite3_column_int(st, 3);
		u->failed_logins = sqlite3_column_int(st, 4);
		u->locked_until = sqlite3_column_int64(st, 5);
		db_copy_text(u->cert_dn, sizeof(u->cert_dn), st, 6);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? DB_OK : r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
}

/* db_users_begin - begin a transaction and read NAME's row; on failure nothing is left open */
static int
db_users_begin(struct db *db, const char *name, struct db_users_row *u)
{
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_users_row_locked(db, name, u);
	if (r != DB_OK)
		return db_finish_locked(db, r);
	return DB_OK;
}

/* db_users_sessions_end_locked - end every live session of USER_ID; *ended how many */
static int
db_users_sessions_end_locked(struct db *db, int64_t user_id, int64_t now, int64_t *ended)
{
	sqlite3_stmt *st =
	    db_prepare(db, "UPDATE sessions SET ended = ?2 WHERE user_id = ?1 AND ended = 0");
	int r;

	*ended = 0;
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, user_id);
	/* ended = 0 means live: a clock at 0 must still end it */
	sqlite3_bind_int64(st, 2, now > 0 ? now : 1);
	r = db_step_done(db, st);
	if (r == DB_OK)
		*ended = sqlite3_changes(db->h);
	return r;
}

/*
 * db_users_end_commit - the last steps of a change that logs the user out:
 * end their sessions, record EVENT with detail (taken) plus
 * "sessions_ended", and commit, or roll back when r (the change so far) or
 * any step failed. *ended (may be NULL) is how many sessions ended.
 */
static int
db_users_end_commit(struct db *db, int r, int64_t user_id, const char *name, const char *event,
		    json_t *detail, int64_t now, const struct audit_actor *who, int64_t *ended)
{
	int64_t n = 0;

	if (r == DB_OK)
		r = db_users_sessions_end_locked(db, user_id, now, &n);
	if (r == DB_OK &&
	    (detail == NULL || json_object_set_new(detail, "sessions_ended", json_integer(n)) != 0))
		r = DB_ERROR;
	if (r == DB_OK) {
		r = db_record_locked(db, who, event, "user", name, "ok", detail, now);
		detail = NULL; /* the record took it */
	}
	json_decref(detail);
	r = db_finish_locked(db, r);
	if (ended != NULL)
		*ended = r == DB_OK ? n : 0;
	return r;
}

/*
 * db_users_set_locked - run one UPDATE of users: ?1 the user's id, and
 * when the statement goes that far, ?2 an integer and ?3 a text.
 */
static int
db_users_set_locked(struct db *db, const char *sql, int64_t id, int64_t i2, const char *t3)
{
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, i2);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_text(st, 3, t3, -1, SQLITE_TRANSIENT);
	return db_step_done(db, st);
}

/* db_users_dn_taken_locked - 1 when an enabled user other than ID has DN */
static int
db_users_dn_taken_locked(struct db *db, const char *dn, int64_t id, int *taken)
{
	int64_t n = 0;
	int r = db_int_locked(db,
			      "SELECT count(*) FROM users WHERE cert_dn = ?1 AND cert_dn != '' "
			      "AND disabled = 0 AND id != ?2",
			      dn, id, &n);

	*taken = n > 0;
	return r;
}

int
db_users_create(struct db *db, const char *name, const char *email, const char *role,
		const char *const *groups, size_t ngroups, const char *pw_hash, int64_t now,
		const struct audit_actor *who, int64_t *id)
{
	sqlite3_stmt *st;
	json_t *gs;
	int64_t uid;
	int r;

	if (ngroups > DB_MAXGROUPS)
		return DB_CONFLICT;
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "INSERT INTO users (name, email, role, created, pw_hash, pw_changed) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, pw_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, pw_hash[0] != '\0' ? now : 0);
	r = db_step_done(db, st); /* a taken name is DB_CONFLICT (UNIQUE) */
	if (r != DB_OK)
		return db_finish_locked(db, r);
	uid = sqlite3_last_insert_rowid(db->h);
	for (size_t g = 0; g < ngroups && r == DB_OK; g++) {
		st = db_prepare(db,
				"INSERT OR IGNORE INTO user_groups (user_id, grp) VALUES (?1, ?2)");
		if (st == NULL)
			return db_finish_locked(db, DB_ERROR);
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_text(st, 2, groups[g], -1, SQLITE_TRANSIENT);
		r = db_step_done(db, st);
	}
	if (r != DB_OK)
		return db_finish_locked(db, DB_ERROR);
	/* The record okuructl user add has always made; the password is a record of its own. */
	gs = json_array();
	for (size_t g = 0; gs != NULL && g < ngroups; g++)
		if (json_array_append_new(gs, json_string(groups[g])) != 0) {
			json_decref(gs);
			gs = NULL;
		}
	r = db_record_locked(db, who, "user.added", "user", name, "ok",
			     gs == NULL ? NULL
					: json_pack("{sssssIso}", "role", role, "email", email,
						    "id", (json_int_t)uid, "groups", gs),
			     now);
	if (r == DB_OK && pw_hash[0] != '\0')
		r = db_record_locked(db, who, "user.password_set", "user", name, "ok",
				     json_pack("{sI}", "sessions_ended", (json_int_t)0), now);
	r = db_finish_locked(db, r);
	if (r == DB_OK && id != NULL)
		*id = uid;
	return r;
}

/* db_users_state_row - a users row from the state SELECT, and its groups */
static int
db_users_state_row(struct db *db, sqlite3_stmt *st, struct db_user_state *s)
{
	sqlite3_stmt *g;
	int r;

	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	db_copy_text(s->name, sizeof(s->name), st, 1);
	db_copy_text(s->email, sizeof(s->email), st, 2);
	db_copy_text(s->role, sizeof(s->role), st, 3);
	s->disabled = sqlite3_column_int(st, 4) != 0;
	s->has_password = sqlite3_column_int(st, 5);
	s->pw_changed = sqlite3_column_int64(st, 6);
	s->totp_enrolled = sqlite3_column_int(st, 7);
	s->totp_pending = sqlite3_column_int(st, 8);
	s->failed_logins = sqlite3_column_int(st, 9);
	s->locked_until = sqlite3_column_int64(st, 10);
	db_copy_text(s->cert_dn, sizeof(s->cert_dn), st, 11);
	s->sessions = sqlite3_column_int64(st, 12);
	s->created = sqlite3_column_int64(st, 13);
	g = db_prepare(db, "SELECT grp FROM user_groups WHERE user_id = ?1 ORDER BY grp LIMIT ?2");
	if (g == NULL)
		return DB_ERROR;
	sqlite3_bind_int64(g, 1, s->id);
	sqlite3_bind_int(g, 2, DB_MAXGROUPS);
	while ((r = sqlite3_step(g)) == SQLITE_ROW)
		db_copy_text(s->groups[s->ngroups++], DB_GROUPMAX + 1, g, 0);
	sqlite3_finalize(g);
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

#define DB_USERS_STATE                                                                             \
	"SELECT id, name, email, role, disabled, pw_hash != '', pw_changed, "                      \
	"totp_wrapped IS NOT NULL, totp_pending IS NOT NULL, failed_logins, locked_until, "        \
	"cert_dn, (SELECT count(*) FROM sessions WHERE user_id = users.id AND ended = 0), "        \
	"created FROM users "

/* db_users_get - the state of the user called NAME, disabled or not */
int
db_users_get(struct db *db, const char *name, struct db_user_state *s)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, DB_USERS_STATE "WHERE name = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		r = db_users_state_row(db, st, s);
	else
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

int
db_users_list(struct db *db, db_user_state_cb cb, void *arg)
{
	struct db_user_state s;
	sqlite3_stmt *st;
	int r, stop = 0;

	db_lock(db);
	st = db_prepare(db, DB_USERS_STATE "ORDER BY name");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	while (!stop && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (db_users_state_row(db, st, &s) != DB_OK) {
			r = SQLITE_ERROR;
			break;
		}
		stop = cb(&s, arg) != 0;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	if (stop)
		return DB_ERROR;
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_users_password - a new Argon2id string (auth_pw_hash); ends the sessions */
int
db_users_password(struct db *db, const char *name, const char *pw_hash, int64_t now,
		  const struct audit_actor *who, int64_t *ended)
{
	struct db_users_row u;
	int r;

	if (pw_hash == NULL || pw_hash[0] == '\0')
		return DB_ERROR;
	if ((r = db_users_begin(db, name, &u)) != DB_OK)
		return r;
	r = db_users_set_locked(db, "UPDATE users SET pw_changed = ?2, pw_hash = ?3 WHERE id = ?1",
				u.id, now, pw_hash);
	return db_users_end_commit(db, r, u.id, name, "user.password_set", json_object(), now, who,
				   ended);
}

/*
 * db_users_totp_reset - forget the TOTP secret and any enrolment begun:
 * the user enrols again at the next login. Ends the sessions.
 */
int
db_users_totp_reset(struct db *db, const char *name, int64_t now, const struct audit_actor *who,
		    int64_t *ended)
{
	struct db_users_row u;
	int r;

	if ((r = db_users_begin(db, name, &u)) != DB_OK)
		return r;
	r = db_users_set_locked(db,
				"UPDATE users SET totp_wrapped = NULL, totp_key_id = '', "
				"totp_pending = NULL, totp_pending_key_id = '', totp_last_step = 0 "
				"WHERE id = ?1",
				u.id, 0, NULL);
	return db_users_end_commit(
	    db, r, u.id, name, "user.totp_reset",
	    json_pack("{sbsb}", "was_enrolled", u.totp_enrolled, "was_pending", u.totp_pending),
	    now, who, ended);
}

/*
 * db_users_disable - disable (no login, no API token, no session) or
 * enable again. Enabling is refused while another enabled user holds the
 * same certificate subject: the mapping must stay one to one.
 */
int
db_users_disable(struct db *db, const char *name, int disable, int64_t now,
		 const struct audit_actor *who, int64_t *ended, const char **why)
{
	struct db_users_row u;
	int r, taken = 0;

	if (why != NULL)
		*why = NULL;
	if ((r = db_users_begin(db, name, &u)) != DB_OK)
		return r;
	if (u.disabled == (disable != 0)) {
		if (why != NULL)
			*why = disable ? "the user is already disabled"
				       : "the user is already enabled";
		return db_finish_locked(db, DB_CONFLICT);
	}
	if (!disable && u.cert_dn[0] != '\0') {
		if (db_users_dn_taken_locked(db, u.cert_dn, u.id, &taken) != DB_OK)
			return db_finish_locked(db, DB_ERROR);
		if (taken) {
			if (why != NULL)
				*why = "another enabled user has this user's certificate subject";
			return db_finish_locked(db, DB_CONFLICT);
		}
	}
	r = db_users_set_locked(db, "UPDATE users SET disabled = ?2 WHERE id = ?1", u.id,
				disable != 0, NULL);
	if (disable)
		return db_users_end_commit(db, r, u.id, name, "user.disabled", json_object(), now,
					   who, ended);
	if (r == DB_OK)
		r = db_record_locked(db, who, "user.enabled", "user", name, "ok", json_object(),
				     now);
	if (ended != NULL)
		*ended = 0;
	return db_finish_locked(db, r);
}

/* db_users_unlock - end a lockout and forget the failed logins that led to it */
int
db_users_unlock(struct db *db, const char *name, int64_t now, const struct audit_actor *who)
{
	struct db_users_row u;
	int r;

	if ((r = db_users_begin(db, name, &u)) != DB_OK)
		return r;
	r = db_users_set_locked(db,
				"UPDATE users SET failed_logins = 0, locked_until = 0 "
				"WHERE id = ?1",
				u.id, 0, NULL);
	if (r == DB_OK)
		r = db_record_locked(db, who, "user.unlocked", "user", name, "ok",
				     json_pack("{siso}", "failed_logins", u.failed_logins,
					       "locked_until", jsonutil_time(u.locked_until)),
				     now);
	return db_finish_locked(db, r);
}

/* db_users_cert - map the certificate subject DN to the user, or with "" unmap it */
int
db_users_cert(struct db *db, const char *name, const char *dn, int64_t now,
	      const struct audit_actor *who, const char **why)
{
	struct db_users_row u;
	int r, taken = 0;

	if (why != NULL)
		*why = NULL;
	if ((r = db_users_begin(db, name, &u)) != DB_OK)
		return r;
	if (dn[0] != '\0') {
		if (db_users_dn_taken_locked(db, dn, u.id, &taken) != DB_OK)
			return db_finish_locked(db, DB_ERROR);
		if (taken) {
			if (why != NULL)
				*why = "the certificate subject is mapped to another user";
			return db_finish_locked(db, DB_CONFLICT);
		}
	}
	r = db_users_set_locked(db, "UPDATE users SET cert_dn = ?3 WHERE id = ?1", u.id, 0, dn);
	/* The old mapping was a way in: its sessions end with it. */
	if (r == DB_OK && strcmp(dn, u.cert_dn) != 0)
		r = db_users_set_locked(db,
					"UPDATE sessions SET ended = ?2 WHERE user_id = ?1 "
					"AND ended = 0 AND method = 'certificate'",
					u.id, now, NULL);
	if (r == DB_OK)
		r = db_record_locked(db, who, dn[0] != '\0' ? "user.cert_set" : "user.cert_cleared",
				     "user", name, "ok",
				     json_pack("{s:s?, s:s?}", "dn", dn[0] != '\0' ? dn : NULL,
					       "previous", u.cert_dn[0] != '\0' ? u.cert_dn : NULL),
				     now);
	return db_finish_locked(db, r);
}

/* db_users_end_sessions - log the user out everywhere */
int
db_users_end_sessions(struct db *db, const char *name, int64_t now, const struct audit_actor *who,
		      int64_t *ended)
{
	struct db_users_row u;
	int r;

	if ((r = db_users_begin(db, name, &u)) != DB_OK)
		return r;
	return db_users_end_commit(db, DB_OK, u.id, name, "user.sessions_ended", json_object(), now,
				   who, ended);
}
