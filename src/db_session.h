/*
 * db_session.h - what a staff login reads and writes (db_session.c):
 * a user's credentials and lockout, browser sessions, TOTP enrolment.
 * Every change records its audit event in its own transaction.
 */
#ifndef OKURU_DB_SESSION_H
#define OKURU_DB_SESSION_H

#include <stdint.h>

#include "auth.h"
#include "auth_pw.h"
#include "db.h"
#include "keys.h"

struct audit_actor;

/* A user as a login sees them: disabled ones too (the answer must not differ). */
struct db_login {
	struct db_user user;
	int disabled;
	char pw_hash[AUTH_PW_STRBYTES];
	int totp_enrolled;
	unsigned char totp_wrapped[KEYS_WRAPPEDBYTES];
	char totp_key_id[KEYS_IDLEN + 1];
	int64_t totp_last_step;
	int failed_logins;
	int64_t locked_until;
};

struct db_session {
	char id[AUTH_TOKEN_IDLEN + 1];
	int64_t user_id;
	unsigned char hash[AUTH_HASHBYTES];
	char method[16]; /* password, proxy, certificate */
	char stage[8];	 /* full, enroll */
	int64_t created, last_seen;
};

/* A new session and what the login changed with it, in one transaction. */
struct db_session_new {
	const struct db_session *s;
	const char *ip, *user_agent;
	int64_t totp_step;     /* > 0: the TOTP step used, never accepted again */
	const char *pw_rehash; /* non-NULL: a stronger hash of the same password */
};

int db_login_get(struct db *db, const char *name, struct db_login *l);
int db_login_by_dn(struct db *db, const char *dn, struct db_login *l);
/*
 * db_login_failed - one more failed login for user ID (REASON in the
 * record); at MAX failures in a row the account locks for LOCK seconds
 * (auth.locked). *locked_until gets the lock's end, or 0.
 */
/*
 * db_login_reserve - count an attempt before checking it (DB_CONFLICT when
 * locked or MAX are counted); db_login_release gives back one that was
 * never judged (the check failed to run, the account is disabled).
 */
int db_login_reserve(struct db *db, int64_t id, int max, int64_t now, int64_t *locked_until);
int db_login_release(struct db *db, int64_t id);
int db_login_failed(struct db *db, int64_t id, const char *name, const char *reason,
		    const char *method, int max, int64_t lock, const struct audit_actor *who,
		    int64_t now, int64_t *locked_until);
int db_session_create(struct db *db, const struct db_session_new *n, const struct audit_actor *who,
		      int64_t now);
/* db_session_get - a live session (not ended) of an enabled user */
int db_session_get(struct db *db, const char *id, struct db_session *s, struct db_user *u);
int db_session_touch(struct db *db, const char *id, int64_t now);
/* db_session_end - logout (auth.logout) or expiry (auth.session_expired, WHY in detail) */
int db_session_end(struct db *db, const char *id, const char *event, const char *why,
		   const struct audit_actor *who, int64_t now);
/* db_session_end_all - every live session of user ID; *n how many */
int db_session_end_all(struct db *db, int64_t user_id, const char *name,
		       const struct audit_actor *who, int64_t now, int *n);
/* TOTP enrolment belongs to the session SID that began it */
int db_totp_pending_set(struct db *db, int64_t user_id, const char *name, const char *sid,
			const unsigned char wrapped[KEYS_WRAPPEDBYTES], const char *key_id,
			const struct audit_actor *who, int64_t now);
int db_totp_pending_get(struct db *db, int64_t user_id, const char *sid,
			unsigned char wrapped[KEYS_WRAPPEDBYTES], char key_id[KEYS_IDLEN + 1]);
/*
 * db_totp_confirm - the pending secret WRAPPED (the one whose code was
 * checked, still pending for SID) becomes the user's; SID goes to stage full
 */
int db_totp_confirm(struct db *db, int64_t user_id, const char *name, const char *sid,
		    const unsigned char wrapped[KEYS_WRAPPEDBYTES], int64_t step,
		    const struct audit_actor *who, int64_t now);

#endif
