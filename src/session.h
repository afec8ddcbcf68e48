/*
 * session.h - browser sessions of staff: the cookie, its timeouts and the
 * CSRF check (session.c); the endpoints that make and end them are in
 * api_session.c.
 *
 * The cookie is "__Host-okuru" (the prefix makes browsers refuse it unless
 * Secure, Path=/ and without Domain), HttpOnly, SameSite=Strict. Its value
 * has the shape of an API token with the "oks_" prefix (auth.h); the
 * database keeps the id and a hash. A state-changing request must also
 * carry X-CSRF-Token, a keyed hash of the cookie (auth_csrf) that only our
 * own pages are given.
 */
#ifndef OKURU_SESSION_H
#define OKURU_SESSION_H

#include <microhttpd.h>
#include <stdint.h>

#include "auth.h"

#define SESSION_COOKIE "__Host-okuru"
#define SESSION_CSRF_HEADER "X-CSRF-Token"
/* last_seen is written at most this often: idle time has this resolution */
#define SESSION_TOUCH_INTERVAL 60

struct server;
struct req;
struct db_login;

/*
 * session_resolve - the request's session cookie, if any: AUTH_OK with
 * rq->user and rq->sess set; AUTH_DENIED with *why ("no_session",
 * "malformed", "unknown", "mismatch", "idle", "expired"); AUTH_ERROR when
 * the database fails. An idle or expired session is ended (and recorded).
 */
int session_resolve(struct server *srv, struct MHD_Connection *c, struct req *rq, const char **why);
/* session_csrf_ok - the request carries the CSRF token of its session cookie */
int session_csrf_ok(struct MHD_Connection *c, const struct req *rq);
/* session_origin_ok - no Origin header, or our own public origin */
int session_origin_ok(struct server *srv, struct MHD_Connection *c);
/*
 * session_start - a new session for L after a successful login by METHOD:
 * the row, its audit record, the cookie value in TOKEN.
 */
int session_start(struct server *srv, struct req *rq, const struct db_login *l, const char *method,
		  const char *stage, int64_t totp_step, const char *rehash,
		  char token[AUTH_TOKEN_MAX]);
/* session_cookie_set - Set-Cookie for TOKEN, or one that removes it (TOKEN NULL) */
int session_cookie_set(struct server *srv, struct MHD_Response *r, const char *token);

#endif
