/*
 * api_session.c - staff login in a browser, /api/v1/session:
 *
 *   POST   /api/v1/session              {user, password, code}: log in
 *   GET    /api/v1/session              who am I, and the CSRF token
 *   DELETE /api/v1/session              log out
 *   POST   /api/v1/session/end-all      log out everywhere
 *   POST   /api/v1/session/totp         begin TOTP enrolment: secret and URI
 *   GET    /api/v1/session/totp/qr.svg  the URI as a QR code
 *   POST   /api/v1/session/totp/confirm {code}: enrolment done
 *   POST   /api/v1/session/sso          single sign-on from a trusted proxy
 *   POST   /api/v1/session/certificate  log in with a TLS client certificate
 *
 * A login answers one way for an unknown user, a wrong password, a wrong or
 * missing code and a disabled account (401, the same words), and costs the
 * same Argon2id work each time; only a locked account is told so (429),
 * because its owner needs to know. Attempts are bounded per client address
 * (auth.login_per_minute) and per account (auth.lockout_failures).
 * See docs/ARCHITECTURE.md "Staff login".
 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "db_session.h"
#include "http.h"
#include "jsonutil.h"
#include "keys.h"
#include "log.h"
#include "qr.h"
#include "ratelimit.h"
#include "session.h"
#include "totp.h"
#include "util.h"

#define API_SESSION "/api/v1/session"
#define API_SESSION_FIELD_MAX 1024 /* a password is checked against 256 bytes; more is refused */
#define API_SESSION_DN_MAX 1024

static const char api_session_refused[] = "wrong user name, password or code";

int
api_session_route(const char *url)
{
	size_t n = strlen(API_SESSION);

	return strncmp(url, API_SESSION, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

/* api_session_name_ok - the shape of a user name (okuructl user add's rule) */
static int
api_session_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@") == n;
}

/*
 * api_session_unknown_audit - a login for a name we do not have, or from a
 * proxy or certificate we do not trust: bounded like auth.failed (anyone
 * can cause it). The name goes in only when it has a user name's shape.
 */
static void
api_session_unknown_audit(struct server *srv, struct req *rq, const char *name, const char *reason,
			  const char *method)
{
	static struct audit_flood flood = AUDIT_FLOOD_INIT;
	int named = name != NULL && api_session_name_ok(name);
	json_t *d = json_pack("{s:s, s:s}", "reason", reason, "method", method);

	if (d != NULL && named)
		json_object_set_new(d, "user", json_string(name));
	db_audit_record_bounded(srv->db, &flood, &rq->who, "auth.login_failed", "user",
				named ? name : "", d, util_now());
}

/* api_session_json - the session as the pages see it, with its CSRF token */
static json_t *
api_session_json(struct server *srv, const struct req *rq, const char *cookie, const char *stage,
		 const char *method, int64_t created)
{
	char csrf[AUTH_CSRF_MAX];
	json_t *o;

	o = json_pack("{s:{s:s, s:s, s:s}, s:s, s:s}", "user", "name", rq->user.name, "email",
		      rq->user.email, "role", rq->user.role, "method", method, "stage", stage);
	if (o == NULL || cookie == NULL)
		return o; /* an API token: no session, no CSRF token */
	auth_csrf(cookie, csrf);
	json_object_set_new(o, "csrf", json_string(csrf));
	sodium_memzero(csrf, sizeof(csrf));
	json_object_set_new(o, "idle_timeout", json_integer(srv->conf.auth_session_idle));
	json_object_set_new(o, "expires", jsonutil_time(created + srv->conf.auth_session_max));
	return o;
}

/* api_session_reply - 200 with the session JSON, setting (or clearing) the cookie */
static enum MHD_Result
api_session_reply(struct server *srv, struct MHD_Connection *c, unsigned status, json_t *o,
		  const char *set_cookie, int clear_cookie)
{
	struct MHD_Response *r = http_json_response(o);

	if (r == NULL)
		return http_error(c, 503, "out of memory");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if ((set_cookie != NULL || clear_cookie) && session_cookie_set(srv, r, set_cookie) != 0) {
		MHD_destroy_response(r);
		return http_error(c, 503, "out of memory");
	}
	return http_send(c, status, r);
}

/* api_session_locked - 429 for a locked account, with when to try again */
static enum MHD_Result
api_session_locked(struct MHD_Connection *c, int64_t until, int64_t now)
{
	char msg[160], ra[24];
	struct MHD_Response *r;

	snprintf(msg, sizeof(msg),
		 "too many failed logins: the account is locked for %lld more "
		 "minutes (an administrator can unlock it)",
		 (long long)((until - now + 59) / 60));
	r = http_json_response(
	    json_pack("{s:s, s:I}", "error", msg, "retry_after", (json_int_t)(until - now)));
	if (r == NULL)
		return http_error(c, 503, "out of memory");
	snprintf(ra, sizeof(ra), "%lld", (long long)(until - now));
	MHD_add_response_header(r, "Retry-After", ra);
	return http_send(c, 429, r);
}

/* api_session_totp_secret - unwrap user ID's TOTP data key; its head is the secret */
static int
api_session_totp_secret(struct server *srv, int64_t id, const unsigned char *wrapped,
			const char *key_id, unsigned char dk[KEYS_KEYBYTES])
{
	char ad[40];

	snprintf(ad, sizeof(ad), "totp:%lld", (long long)id);
	return keys_unwrap(srv->keys, key_id, ad, wrapped, KEYS_WRAPPEDBYTES, dk);
}

/* api_session_body - the request's JSON object (depth 2), or NULL */
static json_t *
api_session_body(const struct req *rq)
{
	if (rq->bodylen == 0 || jsonutil_depth_ok(rq->body, rq->bodylen, 2) != 0)
		return NULL;
	json_t *o = json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* api_session_field - a string field of at most API_SESSION_FIELD_MAX bytes, "" if absent */
static const char *
api_session_field(json_t *in, const char *key, int *bad)
{
	json_t *v = json_object_get(in, key);
	const char *s;

	if (v == NULL)
		return "";
	s = json_string_value(v);
	if (s == NULL || strlen(s) > API_SESSION_FIELD_MAX) {
		*bad = 1;
		return "";
	}
	return s;
}

/* api_session_wipe - forget a request body that held a password */
static void
api_session_wipe(struct req *rq, json_t *in)
{
	json_t *pw = in != NULL ? json_object_get(in, "password") : NULL;

	if (json_is_string(pw))
		sodium_memzero((char *)json_string_value(pw), strlen(json_string_value(pw)));
	if (rq->body != NULL)
		sodium_memzero(rq->body, rq->bodylen);
	json_decref(in);
}

/*
 * api_session_fail - a known user's failed login: counted, recorded, and
 * answered 401 (or 429 when this failure locked the account).
 */
static enum MHD_Result
api_session_fail(struct server *srv, struct MHD_Connection *c, struct req *rq,
		 const struct db_login *l, const char *reason)
{
	int64_t until, now = util_now();

	log_event(LOG_LVL_WARN, "auth.login_failed", "user=%s reason=%s ip=%s", l->user.name,
		  reason, rq->ip);
	if (db_login_failed(srv->db, l->user.id, l->user.name, reason, "password",
			    srv->conf.auth_lockout_failures, srv->conf.auth_lockout_time, &rq->who,
			    now, &until) != DB_OK)
		return http_error(c, 503, "database unavailable");
	if (until > 0) {
		log_event(LOG_LVL_WARN, "auth.locked", "user=%s until=%lld", l->user.name,
			  (long long)until);
		return api_session_locked(c, until, now);
	}
	return http_error(c, 401, api_session_refused);
}

/* api_session_open - a login succeeded: the session, its cookie, its JSON */
static enum MHD_Result
api_session_open(struct server *srv, struct MHD_Connection *c, struct req *rq,
		 const struct db_login *l, const char *method, const char *stage, int64_t step,
		 const char *rehash)
{
	char token[AUTH_TOKEN_MAX];
	enum MHD_Result ret;
	json_t *o;

	int r = session_start(srv, rq, l, method, stage, step, rehash, token);

	if (r == DB_CONFLICT) /* the code was used meanwhile, or the account locked */
		return http_error(c, 401, api_session_refused);
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	rq->user = l->user;
	o = api_session_json(srv, rq, token, stage, method, util_now());
	ret = api_session_reply(srv, c, 200, o, token, 0);
	sodium_memzero(token, sizeof(token));
	return ret;
}

/* api_session_login - POST /api/v1/session with a user name, password and code */
static enum MHD_Result
api_session_login(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	json_t *in = api_session_body(rq);
	const char *name, *pw, *code, *key, *stage = "full";
	char rehash[AUTH_PW_STRBYTES], codebuf[TOTP_DIGITS + 2];
	unsigned char dk[KEYS_KEYBYTES];
	struct db_login l;
	int64_t step = 0, until, now = util_now();
	int bad = 0, r, need_rehash = 0;
	json_t *v;
	enum MHD_Result ret;

	if (in == NULL) {
		api_session_wipe(rq, in);
		return http_error(c, 400, "send {\"user\": ..., \"password\": ..., \"code\": ...}");
	}
	json_object_foreach(in, key, v)
	{
		if (strcmp(key, "user") != 0 && strcmp(key, "password") != 0 &&
		    strcmp(key, "code") != 0)
			bad = 1;
	}
	name = api_session_field(in, "user", &bad);
	pw = api_session_field(in, "password", &bad);
	code = api_session_field(in, "code", &bad);
	/* Kept past the body's wiping; a longer code is wrong anyway (totp_verify). */
	snprintf(codebuf, sizeof(codebuf), "%s", code);
	if (bad || name[0] == '\0' || pw[0] == '\0') {
		api_session_wipe(rq, in);
		return http_error(c, 400,
				  "user and password are required strings (and code, from "
				  "the authenticator app, once it is set up); no other "
				  "fields");
	}
	r = db_login_get(srv->db, name, &l);
	if (r == DB_ERROR) {
		api_session_wipe(rq, in);
		return http_error(c, 503, "database unavailable");
	}
	if (r == DB_NOTFOUND) {
		/* As long as a wrong password takes: the answer must not tell. */
		(void)auth_pw_verify("", pw, &need_rehash);
		log_event(LOG_LVL_WARN, "auth.login_failed", "reason=unknown_user ip=%s", rq->ip);
		api_session_unknown_audit(srv, rq, name, "unknown_user", "password");
		api_session_wipe(rq, in);
		return http_error(c, 401, api_session_refused);
	}
	/* The attempt counts before any work: guesses sent in parallel cannot outrun the lock. */
	r = db_login_reserve(srv->db, l.user.id, srv->conf.auth_lockout_failures, now, &until);
	if (r != DB_OK) {
		api_session_wipe(rq, in);
		if (r != DB_CONFLICT)
			return http_error(c, 503, "database unavailable");
		api_session_unknown_audit(srv, rq, l.user.name, "locked", "password");
		return api_session_locked(c, until > now ? until : now + 60, now);
	}
	r = auth_pw_verify(l.pw_hash, pw, &need_rehash);
	if (r == 1 && l.totp_enrolled) {
		if (api_session_totp_secret(srv, l.user.id, l.totp_wrapped, l.totp_key_id, dk) !=
		    0) {
			log_event(LOG_LVL_ERR, "auth.totp_unwrap_failed", "user=%s", l.user.name);
			r = -1;
		} else {
			int t = totp_verify(dk, TOTP_SECRETBYTES, now, codebuf, l.totp_last_step,
					    &step);
			r = t < 0    ? -1
			    : t == 0 ? 2
				     : 1; /* 2: the password was right, the code not */
		}
		sodium_memzero(dk, sizeof(dk));
	}
	/* Only after the code, so its cost cannot tell a right password with a wrong code. */
	if (r == 1 && need_rehash && auth_pw_hash(pw, rehash) != 0)
		need_rehash = 0;
	api_session_wipe(rq, in); /* the password, and name and code with it, are gone */
	if (r < 0 || l.disabled) {
		/* Not a guess judged: the attempt is given back. */
		if (db_login_release(srv->db, l.user.id) != DB_OK)
			log_event(LOG_LVL_ERR, "auth.release_failed", "user=%s", l.user.name);
		if (r < 0)
			return http_error(c, 503, "password or second factor check unavailable");
		api_session_unknown_audit(srv, rq, l.user.name, "disabled", "password");
		return http_error(c, 401, api_session_refused);
	}
	if (r == 0)
		return api_session_fail(srv, c, rq, &l,
					l.pw_hash[0] ? "bad_password" : "no_password");
	if (r == 2)
		return api_session_fail(srv, c, rq, &l, codebuf[0] ? "bad_code" : "no_code");
	if (!l.totp_enrolled && srv->conf.auth_totp_required)
		stage = "enroll"; /* may do nothing but set up the authenticator app */
	ret = api_session_open(srv, c, rq, &l, "password", stage, step,
			       r == 1 && need_rehash ? rehash : NULL);
	sodium_memzero(rehash, sizeof(rehash));
	return ret;
}

/* api_session_whoami - GET /api/v1/session */
static enum MHD_Result
api_session_whoami(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	if (!rq->sess.active) /* an API token */
		return api_session_reply(
		    srv, c, 200, api_session_json(srv, rq, NULL, "full", "token", 0), NULL, 0);
	return api_session_reply(srv, c, 200,
				 api_session_json(srv, rq, rq->sess.cookie, rq->sess.stage,
						  rq->sess.method, rq->sess.created),
				 NULL, 0);
}

/* api_session_logout - DELETE /api/v1/session, or POST .../end-all for every session */
static enum MHD_Result
api_session_logout(struct server *srv, struct MHD_Connection *c, struct req *rq, int all)
{
	int n = 1, r;

	if (!rq->sess.active && !all)
		return http_error(c, 400, "an API token has no session to log out of");
	if (all)
		r = db_session_end_all(srv->db, rq->user.id, rq->user.name, &rq->who, util_now(),
				       &n);
	else
		r = db_session_end(srv->db, rq->sess.id, "auth.logout", "logout", &rq->who,
				   util_now());
	if (r == DB_ERROR)
		return http_error(c, 503, "database unavailable");
	log_event(LOG_LVL_INFO, all ? "auth.sessions_ended" : "auth.logout", "user=%s sessions=%d",
		  rq->user.name, n);
	return api_session_reply(srv, c, 200, json_pack("{s:b, s:i}", "ok", 1, "ended", n), NULL,
				 rq->sess.active);
}

/* api_session_pending - the secret of this session's enrolment in progress, and its wrapping */
static int
api_session_pending(struct server *srv, const struct req *rq, unsigned char dk[KEYS_KEYBYTES],
		    unsigned char wrapped[KEYS_WRAPPEDBYTES])
{
	char key_id[KEYS_IDLEN + 1];
	int r = db_totp_pending_get(srv->db, rq->user.id, rq->sess.id, wrapped, key_id);

	if (r != DB_OK)
		return r;
	return api_session_totp_secret(srv, rq->user.id, wrapped, key_id, dk) == 0 ? DB_OK
										   : DB_ERROR;
}

/* api_session_totp_uri - the otpauth:// URI of SECRET for this user */
static int
api_session_totp_uri(struct server *srv, const struct req *rq, const unsigned char *dk,
		     char uri[TOTP_URIMAX])
{
	return totp_uri(dk, TOTP_SECRETBYTES, srv->conf.auth_totp_issuer, rq->user.name, uri,
			TOTP_URIMAX);
}

/*
 * api_session_totp_begin - POST /api/v1/session/totp: a new secret, held
 * as pending (wrapped) until a code from it is confirmed; a second call
 * replaces it. Only a browser session enrols: it is the session that moves
 * to stage "full".
 */
static enum MHD_Result
api_session_totp_begin(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	unsigned char dk[KEYS_KEYBYTES], wrapped[KEYS_WRAPPEDBYTES];
	char key_id[KEYS_IDLEN + 1], ad[40], b32[TOTP_B32MAX], uri[TOTP_URIMAX];
	json_t *o;
	int r;

	if (!rq->sess.active)
		return http_error(c, 400, "the authenticator app is set up from a browser session");
	keys_data_key_new(dk);
	snprintf(ad, sizeof(ad), "totp:%lld", (long long)rq->user.id);
	r = keys_wrap(srv->keys, ad, dk, wrapped, key_id);
	if (r == 0)
		r = db_totp_pending_set(srv->db, rq->user.id, rq->user.name, rq->sess.id, wrapped,
					key_id, &rq->who, util_now()) == DB_OK
			? 0
			: -1;
	if (r == 0)
		r = totp_base32(dk, TOTP_SECRETBYTES, b32, sizeof(b32)) == 0 &&
			    api_session_totp_uri(srv, rq, dk, uri) == 0
			? 0
			: -1;
	sodium_memzero(dk, sizeof(dk));
	if (r != 0) {
		sodium_memzero(b32, sizeof(b32));
		sodium_memzero(uri, sizeof(uri));
		return http_error(c, 503, "could not start the enrolment");
	}
	o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "secret", b32, "uri", uri, "qr",
		      API_SESSION "/totp/qr.svg", "digits", TOTP_DIGITS, "period", TOTP_PERIOD);
	sodium_memzero(b32, sizeof(b32));
	sodium_memzero(uri, sizeof(uri));
	return api_session_reply(srv, c, 200, o, NULL, 0);
}

/* api_session_totp_qr - GET /api/v1/session/totp/qr.svg: the pending URI as a picture */
static enum MHD_Result
api_session_totp_qr(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	unsigned char dk[KEYS_KEYBYTES];
	char uri[TOTP_URIMAX];
	struct MHD_Response *r;
	char *svg = NULL;
	size_t n = 0;
	unsigned char wrapped[KEYS_WRAPPEDBYTES];
	int rc = rq->sess.active ? api_session_pending(srv, rq, dk, wrapped) : DB_NOTFOUND;

	if (rc == DB_NOTFOUND)
		return http_error(c, 404,
				  "no enrolment in progress: POST " API_SESSION "/totp first");
	if (rc != DB_OK)
		return http_error(c, 503, "database unavailable");
	if (api_session_totp_uri(srv, rq, dk, uri) == 0)
		svg = qr_svg(uri, &n);
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(uri, sizeof(uri));
	if (svg == NULL)
		return http_error(c, 503, "could not draw the QR code");
	r = MHD_create_response_from_buffer(n, svg, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(svg);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "image/svg+xml");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return http_send(c, 200, r);
}

/* api_session_totp_confirm - POST /api/v1/session/totp/confirm {code} */
static enum MHD_Result
api_session_totp_confirm(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	json_t *in = api_session_body(rq);
	const char *code = in != NULL ? json_string_value(json_object_get(in, "code")) : NULL;
	unsigned char dk[KEYS_KEYBYTES], wrapped[KEYS_WRAPPEDBYTES];
	int64_t step = 0, now = util_now();
	int r;

	if (code == NULL || json_object_size(in) != 1) {
		json_decref(in);
		return http_error(c, 400, "send {\"code\": \"the six digits the app shows\"}");
	}
	if (!rq->sess.active) {
		json_decref(in);
		return http_error(c, 400, "the authenticator app is set up from a browser session");
	}
	r = api_session_pending(srv, rq, dk, wrapped);
	if (r == DB_NOTFOUND) {
		json_decref(in);
		return http_error(c, 409,
				  "no enrolment in progress: POST " API_SESSION "/totp first");
	}
	if (r != DB_OK) {
		json_decref(in);
		return http_error(c, 503, "database unavailable");
	}
	r = totp_verify(dk, TOTP_SECRETBYTES, now, code, 0, &step);
	sodium_memzero(dk, sizeof(dk));
	json_decref(in);
	if (r < 0)
		return http_error(c, 503, "second factor unavailable");
	if (r == 0)
		return http_error(c, 400,
				  "the code does not match: check the phone's clock and "
				  "type the code the app shows now");
	r = db_totp_confirm(srv->db, rq->user.id, rq->user.name, rq->sess.id, wrapped, step,
			    &rq->who, now);
	if (r == DB_NOTFOUND)
		return http_error(c, 409, "the enrolment was replaced: start again");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	log_event(LOG_LVL_INFO, "totp.enrolled", "user=%s", rq->user.name);
	snprintf(rq->sess.stage, sizeof(rq->sess.stage), "full");
	return api_session_whoami(srv, c, rq);
}

/*
 * api_session_sso - POST /api/v1/session/sso: the user a trusted reverse
 * proxy names in auth.proxy_header. Only from auth.proxy_addresses; from
 * anywhere else the header is anyone's to forge.
 */
static enum MHD_Result
api_session_sso(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	const char *name;
	struct db_login l;
	int trusted = 0, r;

	if (srv->conf.auth_proxy_header[0] == '\0')
		return http_error(c, 404, "single sign-on is not configured (auth.proxy_header)");
	for (int i = 0; i < srv->conf.auth_proxy_naddrs; i++)
		if (strcmp(rq->ip, srv->conf.auth_proxy_addrs[i]) == 0)
			trusted = 1;
	if (!trusted) {
		log_event(LOG_LVL_WARN, "auth.login_failed", "reason=untrusted_proxy ip=%s",
			  rq->ip);
		api_session_unknown_audit(srv, rq, NULL, "untrusted_proxy", "proxy");
		return http_error(c, 403,
				  "single sign-on is only accepted through the configured "
				  "proxy");
	}
	name = MHD_lookup_connection_value(c, MHD_HEADER_KIND, srv->conf.auth_proxy_header);
	if (name == NULL || !api_session_name_ok(name)) {
		api_session_unknown_audit(srv, rq, NULL, "no_user_header", "proxy");
		return http_error(c, 401, "the proxy named no user");
	}
	r = db_login_get(srv->db, name, &l);
	if (r == DB_ERROR)
		return http_error(c, 503, "database unavailable");
	if (r != DB_OK || l.disabled) {
		api_session_unknown_audit(srv, rq, name, r != DB_OK ? "unknown_user" : "disabled",
					  "proxy");
		return http_error(c, 401, "the user the proxy named has no account here");
	}
	return api_session_open(srv, c, rq, &l, "proxy", "full", 0, NULL);
}

/*
 * api_session_cert_dn - the subject DN of the client's certificate, after
 * verifying its chain against auth.client_ca now. 0, or -1 with WHY.
 */
static int
api_session_cert_dn(struct server *srv, struct MHD_Connection *c, char *dn, size_t dnlen,
		    const char **why)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci != NULL ? (gnutls_session_t)ci->tls_session : NULL;
	gnutls_x509_crt_t chain[8];
	const gnutls_datum_t *raw;
	unsigned int n = 0, status = 0, max = 8;
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
					 (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	gnutls_datum_t d = {NULL, 0};
	int rc = -1;

	*why = "no_certificate";
	raw = s != NULL ? gnutls_certificate_get_peers(s, &n) : NULL;
	if (raw == NULL || n == 0)
		return -1;
	if (n > max)
		n = max;
	*why = "bad_certificate";
	if (gnutls_x509_crt_list_import(chain, &max, raw, GNUTLS_X509_FMT_DER, 0) < 0)
		return -1;
	n = max;
	/* For client authentication (extended key usage), chained to auth.client_ca, in date. */
	if (gnutls_x509_trust_list_verify_crt2(srv->client_trust, chain, n, &purpose, 1,
					       GNUTLS_VERIFY_DISABLE_CRL_CHECKS, &status,
					       NULL) == 0 &&
	    status == 0) {
		*why = "no_subject";
		if (gnutls_x509_crt_get_dn3(chain[0], &d, 0) == 0 && d.size > 0 && d.size < dnlen &&
		    d.size <= API_SESSION_DN_MAX) {
			memcpy(dn, d.data, d.size);
			dn[d.size] = '\0';
			rc = 0;
		}
		gnutls_free(d.data);
	} else {
		*why = "untrusted_certificate";
	}
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	return rc;
}

/* api_session_cert - POST /api/v1/session/certificate */
static enum MHD_Result
api_session_cert(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	char dn[API_SESSION_DN_MAX + 1];
	const char *why;
	struct db_login l;
	int r;

	if (srv->client_trust == NULL)
		return http_error(c, 404,
				  "client certificates are not configured (auth.client_ca)");
	if (api_session_cert_dn(srv, c, dn, sizeof(dn), &why) != 0) {
		log_event(LOG_LVL_WARN, "auth.login_failed", "reason=%s method=certificate ip=%s",
			  why, rq->ip);
		api_session_unknown_audit(srv, rq, NULL, why, "certificate");
		return http_error(c, 401, "no client certificate that this gateway trusts");
	}
	r = db_login_by_dn(srv->db, dn, &l);
	if (r == DB_ERROR)
		return http_error(c, 503, "database unavailable");
	if (r != DB_OK) {
		log_event(LOG_LVL_WARN, "auth.login_failed", "reason=unmapped_certificate ip=%s",
			  rq->ip);
		api_session_unknown_audit(srv, rq, NULL, "unmapped_certificate", "certificate");
		return http_error(c, 401, "the certificate is not mapped to a user");
	}
	return api_session_open(srv, c, rq, &l, "certificate", "full", 0, NULL);
}

/*
 * api_session_login_ready - a login POST: its body is JSON (no HTML form
 * can send that to us from another site without our consent), it comes
 * from our origin, and this address has attempts left this minute.
 */
static int
api_session_login_ready(struct server *srv, struct MHD_Connection *c, struct req *rq, int first,
			const char *data, size_t *data_size, enum MHD_Result *ret)
{
	const char *ct =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (first) {
		if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
			http_body_done(rq);
			*ret = http_error(c, 415, "Content-Type must be application/json");
			return 0;
		}
		if (!session_origin_ok(srv, c)) {
			http_body_done(rq);
			*ret = http_error(c, 403, "a login must come from this gateway's own page");
			return 0;
		}
		if (!ratelimit_take(srv->login_rate, rq->ip, srv->conf.auth_login_per_minute,
				    util_now())) {
			http_body_done(rq);
			log_event(LOG_LVL_WARN, "auth.rate_limited", "ip=%s", rq->ip);
			*ret = http_error(c, 429,
					  "too many login attempts from this address: wait "
					  "a minute");
			return 0;
		}
	}
	return api_body_ready(srv, c, rq, first, data, data_size, ret);
}

/* api_session_methods - 401 for GET /api/v1/session without credentials, naming the ways in */
static enum MHD_Result
api_session_methods(struct server *srv, struct MHD_Connection *c)
{
	json_t *m = json_array(), *o;

	if (m == NULL)
		return http_error(c, 503, "out of memory");
	json_array_append_new(m, json_string("password"));
	if (srv->conf.auth_proxy_header[0] != '\0')
		json_array_append_new(m, json_string("proxy"));
	if (srv->client_trust != NULL)
		json_array_append_new(m, json_string("certificate"));
	o = json_pack("{s:s, s:o, s:b}", "error", "not logged in", "methods", m, "totp_required",
		      srv->conf.auth_totp_required);
	return api_session_reply(srv, c, 401, o, NULL, 0);
}

enum MHD_Result
api_session_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *url,
		   const char *method, const char *data, size_t *data_size, int first)
{
	const char *sub = url + strlen(API_SESSION);
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int is_post = strcmp(method, "POST") == 0;
	enum MHD_Result ret;

	/* The three ways in: nobody is logged in yet. */
	if (is_post &&
	    (sub[0] == '\0' || strcmp(sub, "/sso") == 0 || strcmp(sub, "/certificate") == 0)) {
		if (!api_session_login_ready(srv, c, rq, first, data, data_size, &ret))
			return ret;
		if (sub[0] == '\0')
			return api_session_login(srv, c, rq);
		return sub[1] == 's' ? api_session_sso(srv, c, rq) : api_session_cert(srv, c, rq);
	}
	/* The login page asks which ways in there are before anyone is logged in. */
	if (is_get && sub[0] == '\0' &&
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) ==
		NULL &&
	    MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE) == NULL) {
		http_body_done(rq);
		return api_session_methods(srv, c);
	}
	if (first && !api_auth(srv, c, rq, !is_get, 1, &ret))
		return ret;
	if (is_post && !api_body_ready(srv, c, rq, first, data, data_size, &ret))
		return ret;
	if (!is_post)
		http_body_done(rq);
	if (sub[0] == '\0') {
		if (is_get)
			return api_session_whoami(srv, c, rq);
		if (strcmp(method, "DELETE") == 0)
			return api_session_logout(srv, c, rq, 0);
		return api_method_not_allowed(c, "GET, HEAD, POST, DELETE");
	}
	if (strcmp(sub, "/end-all") == 0)
		return is_post ? api_session_logout(srv, c, rq, 1)
			       : api_method_not_allowed(c, "POST");
	if (strcmp(sub, "/totp") == 0)
		return is_post ? api_session_totp_begin(srv, c, rq)
			       : api_method_not_allowed(c, "POST");
	if (strcmp(sub, "/totp/qr.svg") == 0)
		return is_get ? api_session_totp_qr(srv, c, rq)
			      : api_method_not_allowed(c, "GET, HEAD");
	if (strcmp(sub, "/totp/confirm") == 0)
		return is_post ? api_session_totp_confirm(srv, c, rq)
			       : api_method_not_allowed(c, "POST");
	if (strcmp(sub, "/sso") == 0 || strcmp(sub, "/certificate") == 0)
		return api_method_not_allowed(c, "POST");
	return http_error(c, 404, "not found");
}
