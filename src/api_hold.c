/*
 * api_hold.c - legal hold over the API, and a transfer's retention in its
 * JSON:
 *   POST /api/v1/transfers/ID/hold       {"reason": "..."}  place (201)
 *   POST /api/v1/transfers/ID/hold/lift  {"reason": "..."}  lift (200)
 * Only admins and auditors; this is the one write an auditor may make
 * (api_handle routes here before its read-only refusal). A held transfer
 * is never purged (db_retention.c); every hold and lift is kept with who,
 * when and why until the transfer's records are purged.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "retention.h"
#include "util.h"

#define API_HOLD_PREFIX "/api/v1/transfers/"

/* api_hold_route - 1 for .../transfers/ID/hold and .../hold/lift; lift says which */
static int
api_hold_parse(const char *url, char tid[UTIL_IDLEN + 1], int *lift)
{
	const char *p;

	if (strncmp(url, API_HOLD_PREFIX, strlen(API_HOLD_PREFIX)) != 0)
		return 0;
	p = url + strlen(API_HOLD_PREFIX);
	if (strlen(p) < UTIL_IDLEN || p[UTIL_IDLEN] != '/')
		return 0;
	memcpy(tid, p, UTIL_IDLEN);
	tid[UTIL_IDLEN] = '\0';
	if (!util_id_valid(tid))
		return 0;
	p += UTIL_IDLEN;
	if (strcmp(p, "/hold") == 0)
		*lift = 0;
	else if (strcmp(p, "/hold/lift") == 0)
		*lift = 1;
	else
		return 0;
	return 1;
}

int
api_hold_route(const char *url)
{
	char tid[UTIL_IDLEN + 1];
	int lift;

	return api_hold_parse(url, tid, &lift);
}

/* api_hold_reason - the body's reason, checked; NULL with why set */
static const char *
api_hold_reason(const struct req *rq, json_t **in, const char **why)
{
	const char *key, *reason;
	json_t *v;

	*in = NULL;
	*why = "a JSON object {\"reason\": \"...\"} is required";
	if (rq->bodylen == 0 || jsonutil_depth_ok(rq->body, rq->bodylen, 2) != 0)
		return NULL;
	*in = json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*in))
		return NULL;
	json_object_foreach(*in, key, v) {
		if (strcmp(key, "reason") != 0) {
			*why = "unknown field (allowed: reason)";
			return NULL;
		}
	}
	reason = json_string_value(json_object_get(*in, "reason"));
	if (reason == NULL || !retention_reason_ok(reason)) {
		*why = "reason must be a string of 1 to 1000 bytes without control characters";
		return NULL;
	}
	return reason;
}

/* api_hold_handle - place or lift a hold */
enum MHD_Result
api_hold_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *url,
		const char *method, const char *data, size_t *data_size, int first)
{
	char tid[UTIL_IDLEN + 1], q[1100];
	struct db_transfer t;
	const char *reason, *why;
	json_t *in;
	enum MHD_Result ret;
	int lift = 0, r;

	api_hold_parse(url, tid, &lift);
	if (strcmp(method, "POST") != 0) {
		http_body_done(rq);
		return api_method_not_allowed(c, "POST");
	}
	if (strcmp(rq->user.role, "admin") != 0 && strcmp(rq->user.role, "auditor") != 0) {
		http_body_done(rq);
		return http_error(c, 403,
				  "only admins and auditors may place or lift a legal hold");
	}
	if (!api_body_ready(srv, c, rq, first, data, data_size, &ret))
		return ret;
	reason = api_hold_reason(rq, &in, &why);
	if (reason == NULL) {
		json_decref(in);
		return http_error(c, 400, why);
	}
	r = api_transfer_load(srv, rq, tid, &t);
	if (r == DB_OK) {
		db_transfer_free(&t);
		r = lift ? db_hold_lift(srv->db, tid, rq->user.id, reason, util_now(), &rq->who)
			 : db_hold_place(srv->db, tid, rq->user.id, reason, util_now(), &rq->who);
	}
	if (r == DB_OK)
		log_event(LOG_LVL_INFO, lift ? "hold.lifted" : "hold.placed",
			  "transfer=%s user=%s role=%s reason=%s", tid, rq->user.name,
			  rq->user.role, log_quote(q, sizeof(q), reason));
	json_decref(in);
	if (r == DB_NOTFOUND)
		return http_error_code(c, 404, "not_found", "no such transfer");
	if (r == DB_CONFLICT)
		return http_error(c, 409,
				  lift ? "the transfer is not under legal hold"
				       : "the transfer is already under legal hold");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	return api_transfer_respond(srv, c, rq, tid, lift ? 200 : 201);
}

static int
api_hold_cb(const struct db_hold *h, void *arg)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:s*, s:o, s:s*}", "reason", h->reason, "placed_by",
		      h->placed_by, "placed_at", jsonutil_time(h->placed_at), "lifted_by",
		      h->lifted_at ? h->lifted_by : NULL, "lifted_at", jsonutil_time(h->lifted_at),
		      "lift_reason", h->lifted_at ? h->lift_reason : NULL);

	return o == NULL || json_array_append_new(arg, o) != 0;
}

/*
 * api_hold_json - add "legal_hold" (the active hold or null), "holds" (all,
 * oldest first) and "retention" (when content and records are due under
 * the policy in force, and when the content was purged) to a transfer.
 */
int
api_hold_json(struct server *srv, const char *tid, json_t *o)
{
	struct db_retention_row r;
	struct retention_input in;
	struct retention_policy rp;
	struct retention_due d;
	struct policy_decision pd;
	struct policy_retention pr;
	json_t *holds = json_array(), *active = json_null(), *ret;

	if (holds == NULL || db_hold_list(srv->db, tid, api_hold_cb, holds) != DB_OK ||
	    db_retention_get(srv->db, tid, &r) != DB_OK) {
		json_decref(holds);
		return -1;
	}
	if (r.held)
		active = json_pack("{s:s, s:s, s:o}", "reason", r.hold_reason, "placed_by",
				   r.hold_by, "placed_at", jsonutil_time(r.hold_at));
	http_policy_defaults(srv, &pd, &pr);
	rp = (struct retention_policy){.content_days = pd.retention_days,
				       .max_expiry_days = pd.max_expiry_days,
				       .metadata_days = pr.metadata_days};
	db_retention_input(&r, &in);
	retention_compute(&in, &rp, &d);
	ret = json_pack("{s:o, s:o, s:o}", "content_due", jsonutil_time(d.content_due),
			"content_purged", jsonutil_time(r.content_purged_at), "metadata_due",
			jsonutil_time(d.metadata_due));
	if (active == NULL || ret == NULL) {
		json_decref(holds);
		json_decref(active);
		json_decref(ret);
		return -1;
	}
	json_object_set_new(o, "legal_hold", active);
	json_object_set_new(o, "holds", holds);
	json_object_set_new(o, "retention", ret);
	return 0;
}
