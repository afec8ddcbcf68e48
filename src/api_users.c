/*
 * api_users.c - staff accounts over the API, for admins only:
 *   GET  /api/v1/admin/users        {"users": [...]} every account's state
 *   POST /api/v1/admin/users        {name, email, role, groups?, password} → 201
 *   GET  /api/v1/admin/users/NAME   one account
 *   POST /api/v1/admin/users/NAME   {"action": "disable"|"enable"|"unlock"|
 *                                   "totp_reset"|"end_sessions"} or
 *                                   {"action": "password", "password": "..."} → 200
 * An account is shown by user_state_json (user.c): whether a password and
 * a TOTP secret exist, never either of them. A new user meets exactly the
 * rules of okuructl user add (user_fields_check) and the password rule of
 * okuructl user passwd. The changes and their audit records are db_users.c's;
 * the actor is the admin making the request. An admin may not disable
 * their own account: the last admin could lock everyone out.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth_pw.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "user.h"
#include "util.h"

#define API_USERS "/api/v1/admin/users"

/* api_users_name - "" for the collection, the NAME of .../users/NAME, else NULL */
static const char *
api_users_name(const char *url)
{
	size_t n = strlen(API_USERS);

	if (strncmp(url, API_USERS, n) != 0)
		return NULL;
	if (url[n] == '\0')
		return "";
	if (url[n] != '/' || url[n + 1] == '\0' || strchr(url + n + 1, '/') != NULL)
		return NULL;
	return url + n + 1;
}

int
api_users_route(const char *url)
{
	return api_users_name(url) != NULL;
}

/* api_users_body - the request body as a JSON object, or NULL */
static json_t *
api_users_body(const struct req *rq)
{
	json_t *in;

	if (rq->bodylen == 0 || jsonutil_depth_ok(rq->body, rq->bodylen, 3) != 0)
		return NULL;
	in = json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(in)) {
		json_decref(in);
		return NULL;
	}
	return in;
}

/*
 * api_users_free - drop the parsed body, wiping the password jansson
 * copied out of it (the raw body is wiped with the request, http.c)
 */
static void
api_users_free(json_t *in)
{
	json_t *pw = json_object_get(in, "password");

	if (json_is_string(pw))
		sodium_memzero((char *)json_string_value(pw), json_string_length(pw));
	json_decref(in);
}

/* api_users_pw_hash - check PW for NAME and hash it; else 0 with WHY (WHYLEN) set */
static int
api_users_pw_hash(const char *pw, const char *name, char hash[AUTH_PW_STRBYTES], char *why,
		  size_t whylen)
{
	const char *bad;

	if (pw == NULL) {
		snprintf(why, whylen, "password must be a string");
		return 0;
	}
	if (auth_pw_check(pw, name, USER_PW_MIN_CHARS, &bad) != 0) {
		snprintf(why, whylen, "password: %s (at least %d characters)", bad,
			 USER_PW_MIN_CHARS);
		return 0;
	}
	if (auth_pw_hash(pw, hash) != 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 1;
}

/* api_users_respond - STATUS with the account called NAME */
static enum MHD_Result
api_users_respond(struct server *srv, struct MHD_Connection *c, const char *name, unsigned status)
{
	struct db_user_state s;
	json_t *o;
	int r = db_users_get(srv->db, name, &s);

	if (r == DB_NOTFOUND)
		return http_error(c, 404, "no such user");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	if ((o = user_state_json(&s, util_now())) == NULL)
		return http_error(c, 500, "internal error");
	return api_json(c, status, o);
}

/* The list being built, and the time "locked" is judged at. */
struct api_users_list {
	json_t *a;
	int64_t now;
};

static int
api_users_list_cb(const struct db_user_state *s, void *arg)
{
	struct api_users_list *l = arg;

	return json_array_append_new(l->a, user_state_json(s, l->now)) != 0;
}

/* api_users_list - every account, by name */
static enum MHD_Result
api_users_list(struct server *srv, struct MHD_Connection *c)
{
	struct api_users_list l = {json_array(), util_now()};
	int r;

	if (l.a == NULL)
		return http_error(c, 500, "internal error");
	r = db_users_list(srv->db, api_users_list_cb, &l);
	if (r != DB_OK) {
		json_decref(l.a);
		return http_error(c, 503, "database unavailable");
	}
	return api_json(c, 200, json_pack("{so}", "users", l.a));
}

/* api_users_create - POST /api/v1/admin/users */
static enum MHD_Result
api_users_create(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	const char *key, *name, *email, *role, *field, *bad;
	const char *groups[DB_MAXGROUPS + 1]; /* one more is refused by user_fields_check */
	char why[160], hash[AUTH_PW_STRBYTES];
	json_t *in = api_users_body(rq), *v, *gs;
	size_t ng = 0, i;
	int r;

	if (in == NULL)
		return http_error(c, 400,
				  "a JSON object {\"name\", \"email\", \"role\", "
				  "\"groups\", \"password\"} is required");
	json_object_foreach(in, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "email") != 0 &&
		    strcmp(key, "role") != 0 && strcmp(key, "groups") != 0 &&
		    strcmp(key, "password") != 0) {
			api_users_free(in);
			return http_error(c, 400,
					  "unknown field (allowed: name, email, role, "
					  "groups, password)");
		}
	}
	name = json_string_value(json_object_get(in, "name"));
	email = json_string_value(json_object_get(in, "email"));
	role = json_string_value(json_object_get(in, "role"));
	bad = name == NULL    ? "name must be a string"
	      : email == NULL ? "email must be a string"
	      : role == NULL  ? "role must be a string"
			      : NULL;
	gs = json_object_get(in, "groups");
	if (bad == NULL && gs != NULL && !json_is_array(gs))
		bad = "groups must be an array of group names";
	json_array_foreach(gs, i, v)
	{
		if (bad != NULL)
			break;
		if (!json_is_string(v))
			bad = "groups must be an array of group names";
		else if (ng <= DB_MAXGROUPS)
			groups[ng++] = json_string_value(v);
	}
	if (bad != NULL || user_fields_check(name, email, role, groups, ng, &field, &bad) != 0) {
		api_users_free(in);
		return http_error(c, 400, bad);
	}
	r = api_users_pw_hash(json_string_value(json_object_get(in, "password")), name, hash, why,
			      sizeof(why));
	if (r != 1) {
		api_users_free(in);
		return http_error(c, r == 0 ? 400 : 503, why);
	}
	r = db_users_create(srv->db, name, email, role, groups, ng, hash, util_now(), &rq->who,
			    NULL);
	sodium_memzero(hash, sizeof(hash));
	if (r == DB_OK)
		log_event(LOG_LVL_INFO, "user.added", "user=%s role=%s by=%s", name, role,
			  rq->user.name);
	if (r == DB_CONFLICT) {
		api_users_free(in);
		return http_error(c, 409, "a user with that name already exists");
	}
	if (r != DB_OK) {
		api_users_free(in);
		return http_error(c, 503, "database unavailable");
	}
	/* name points into IN: answer before freeing it */
	{
		enum MHD_Result ret = api_users_respond(srv, c, name, 201);
		api_users_free(in);
		return ret;
	}
}

/* api_users_act - POST /api/v1/admin/users/NAME {"action": ...} */
static enum MHD_Result
api_users_act(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *name)
{
	static const char *const actions[] = {"disable",    "enable",	    "unlock",
					      "totp_reset", "end_sessions", "password"};
	const char *key, *action, *why = NULL;
	char msg[160], hash[AUTH_PW_STRBYTES];
	json_t *in = api_users_body(rq), *v;
	int64_t now = util_now();
	size_t a;
	int r;

	if (in == NULL)
		return http_error(c, 400, "a JSON object {\"action\": ...} is required");
	json_object_foreach(in, key, v)
	{
		if (strcmp(key, "action") != 0 && strcmp(key, "password") != 0) {
			api_users_free(in);
			return http_error(c, 400, "unknown field (allowed: action, password)");
		}
	}
	action = json_string_value(json_object_get(in, "action"));
	for (a = 0; action != NULL && a < sizeof(actions) / sizeof(actions[0]); a++)
		if (strcmp(action, actions[a]) == 0)
			break;
	if (action == NULL || a == sizeof(actions) / sizeof(actions[0])) {
		api_users_free(in);
		return http_error(c, 400,
				  "action must be disable, enable, unlock, totp_reset, "
				  "end_sessions or password");
	}
	if ((strcmp(action, "password") == 0) != (json_object_get(in, "password") != NULL)) {
		api_users_free(in);
		return http_error(c, 400, "password is given exactly when action is \"password\"");
	}
	if (strcmp(action, "disable") == 0 && strcmp(name, rq->user.name) == 0) {
		api_users_free(in);
		return http_error(c, 409, "an admin cannot disable their own account");
	}
	if (strcmp(action, "password") == 0) {
		r = api_users_pw_hash(json_string_value(json_object_get(in, "password")), name,
				      hash, msg, sizeof(msg));
		if (r != 1) {
			api_users_free(in);
			return http_error(c, r == 0 ? 400 : 503, msg);
		}
		r = db_users_password(srv->db, name, hash, now, &rq->who, NULL);
		sodium_memzero(hash, sizeof(hash));
	} else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
		r = db_users_disable(srv->db, name, strcmp(action, "disable") == 0, now, &rq->who,
				     NULL, &why);
	} else if (strcmp(action, "unlock") == 0) {
		r = db_users_unlock(srv->db, name, now, &rq->who);
	} else if (strcmp(action, "totp_reset") == 0) {
		r = db_users_totp_reset(srv->db, name, now, &rq->who, NULL);
	} else {
		r = db_users_end_sessions(srv->db, name, now, &rq->who, NULL);
	}
	if (r == DB_OK)
		log_event(LOG_LVL_INFO, "user.admin", "user=%s action=%s by=%s", name, action,
			  rq->user.name);
	api_users_free(in);
	if (r == DB_NOTFOUND)
		return http_error(c, 404, "no such user");
	if (r == DB_CONFLICT)
		return http_error(c, 409, why != NULL ? why : "conflict");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	return api_users_respond(srv, c, name, 200);
}

/* api_users_handle - route an admin's request about accounts */
enum MHD_Result
api_users_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *url,
		 const char *method, const char *data, size_t *data_size, int first)
{
	const char *name = api_users_name(url);
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	enum MHD_Result ret;

	if (strcmp(rq->user.role, "admin") != 0) {
		http_body_done(rq);
		return http_error(c, 403, "only admins may manage users");
	}
	if (is_get) {
		http_body_done(rq);
		if (name[0] == '\0')
			return api_users_list(srv, c);
		if (!user_name_ok(name))
			return http_error(c, 404, "no such user");
		return api_users_respond(srv, c, name, 200);
	}
	if (strcmp(method, "POST") != 0) {
		http_body_done(rq);
		return api_method_not_allowed(c, "GET, HEAD, POST");
	}
	if (!api_body_ready(srv, c, rq, first, data, data_size, &ret))
		return ret;
	if (name[0] == '\0')
		return api_users_create(srv, c, rq);
	if (!user_name_ok(name))
		return http_error(c, 404, "no such user");
	return api_users_act(srv, c, rq, name);
}
