/*
 * session.c - resolve, check and start browser sessions (session.h).
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db_session.h"
#include "http.h"
#include "log.h"
#include "session.h"
#include "util.h"

int
session_resolve(struct server *srv, struct MHD_Connection *c, struct req *rq, const char **why)
{
	const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
	unsigned char have[AUTH_HASHBYTES];
	char id[AUTH_TOKEN_IDLEN + 1];
	struct db_session s;
	struct db_user u;
	int64_t now = util_now();
	int r;

	*why = "no_session";
	if (v == NULL)
		return AUTH_DENIED;
	*why = "malformed";
	if (auth_session_parse(v, id, have) != 0)
		return AUTH_DENIED;
	*why = "unknown";
	r = db_session_get(srv->db, id, &s, &u);
	if (r == DB_ERROR)
		return AUTH_ERROR;
	if (r != DB_OK)
		return AUTH_DENIED;
	*why = "mismatch";
	r = sodium_memcmp(s.hash, have, AUTH_HASHBYTES) == 0;
	sodium_memzero(have, sizeof(have));
	if (!r)
		return AUTH_DENIED;
	if (now - s.created >= srv->conf.auth_session_max)
		*why = "expired";
	else if (now - s.last_seen >= srv->conf.auth_session_idle)
		*why = "idle";
	else
		*why = NULL;
	if (*why != NULL) {
		struct audit_actor who = rq->who;
		who.name = u.name;
		r = db_session_end(srv->db, id, "auth.session_expired", *why, &who, now);
		return r == DB_ERROR ? AUTH_ERROR : AUTH_DENIED;
	}
	if (now - s.last_seen >= SESSION_TOUCH_INTERVAL &&
	    db_session_touch(srv->db, id, now) != DB_OK)
		return AUTH_ERROR;
	rq->user = u;
	rq->sess.active = 1;
	memcpy(rq->sess.id, id, sizeof(rq->sess.id));
	snprintf(rq->sess.stage, sizeof(rq->sess.stage), "%s", s.stage);
	snprintf(rq->sess.method, sizeof(rq->sess.method), "%s", s.method);
	snprintf(rq->sess.cookie, sizeof(rq->sess.cookie), "%s", v);
	rq->sess.created = s.created;
	return AUTH_OK;
}

int
session_csrf_ok(struct MHD_Connection *c, const struct req *rq)
{
	const char *sent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SESSION_CSRF_HEADER);

	return rq->sess.active && auth_csrf_ok(rq->sess.cookie, sent);
}

int
session_origin_ok(struct server *srv, struct MHD_Connection *c)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

	return o == NULL || strcasecmp(o, srv->conf.public_origin) == 0;
}

int
session_start(struct server *srv, struct req *rq, const struct db_login *l, const char *method,
	      const char *stage, int64_t totp_step, const char *rehash, char token[AUTH_TOKEN_MAX])
{
	struct db_session s;
	struct db_session_new n;
	int r;

	memset(&s, 0, sizeof(s));
	auth_session_new(token, s.id, s.hash);
	s.user_id = l->user.id;
	snprintf(s.method, sizeof(s.method), "%s", method);
	snprintf(s.stage, sizeof(s.stage), "%s", stage);
	n = (struct db_session_new){.s = &s,
				    .ip = rq->ip,
				    .user_agent = rq->ua,
				    .totp_step = totp_step,
				    .pw_rehash = rehash};
	http_actor_set(rq, "user", l->user.name);
	r = db_session_create(srv->db, &n, &rq->who, util_now());
	sodium_memzero(s.hash, sizeof(s.hash));
	if (r != DB_OK) {
		sodium_memzero(token, AUTH_TOKEN_MAX);
		return r;
	}
	log_event(LOG_LVL_INFO, "auth.login", "user=%s method=%s stage=%s session=%s ip=%s",
		  l->user.name, method, stage, s.id, rq->ip);
	return DB_OK;
}

int
session_cookie_set(struct server *srv, struct MHD_Response *r, const char *token)
{
	char h[256];
	int ok;

	/* Max-Age matches the absolute timeout: the browser forgets it no later than we do. */
	if (token != NULL)
		snprintf(h, sizeof(h),
			 SESSION_COOKIE
			 "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d",
			 token, srv->conf.auth_session_max);
	else
		snprintf(h, sizeof(h),
			 SESSION_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
	ok = MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, h) == MHD_YES;
	sodium_memzero(h, sizeof(h));
	return ok ? 0 : -1;
}
