/*
 * api_approval.c - the approvers' API:
 *
 *   GET  /api/v1/approvals      the transfers waiting for this user's decision
 *                               (auditors: every pending transfer, read-only),
 *                               each with its owner's name and address
 *   POST /api/v1/approvals/ID   {"decision": "approve"|"reject", "comment": "..."}
 *
 * Who may decide is the policy's answer stored on the transfer (group,
 * self-approval), checked again here against the caller; the vote and its
 * consequence are one transaction (db_vote).
 */
#include "config.h"

#include <jansson.h>
#include <string.h>

#include "approval.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "outbox.h"
#include "util.h"

#define API_COMMENT_MAX 1000

struct api_pending_ctx {
	struct server *srv;
	const struct db_user *user;
	json_t *arr;
	int failed;
};

static int
api_voted_cb(const struct db_vote *v, void *arg)
{
	int64_t *who = arg;

	if (v->approver_id == who[0])
		who[1] = 1;
	return 0;
}

/* api_may_decide - 1 if u may still vote on tid, 0 if not, -1 on error */
static int
api_may_decide(struct server *srv, const struct db_user *u, const char *tid,
	       struct db_sendinfo *si)
{
	int64_t who[2] = {u->id, 0};
	int e;

	if (db_transfer_sendinfo(srv->db, tid, si) != DB_OK)
		return -1;
	if (strcmp(si->state, "pending") != 0)
		return 0;
	e = approval_eligible(srv, u, si);
	if (e <= 0)
		return e;
	if (db_votes(srv->db, tid, api_voted_cb, who) != DB_OK)
		return -1;
	return who[1] ? 0 : 1;
}

static int
api_pending_cb(const char *tid, void *arg)
{
	struct api_pending_ctx *x = arg;
	struct db_sendinfo si;
	struct db_user owner;
	json_t *o;
	int may = 0;

	if (strcmp(x->user->role, "auditor") != 0) {
		may = api_may_decide(x->srv, x->user, tid, &si);
		if (may < 0) {
			x->failed = 1;
			return -1;
		}
		if (may == 0)
			return 0;
	} else if (db_transfer_sendinfo(x->srv->db, tid, &si) != DB_OK) {
		x->failed = 1;
		return -1;
	}
	o = api_transfer_json(x->srv, tid);
	/*
	 * Whose send it is: the approver decides on a person's request, not an
	 * id. An owner that cannot be read fails the whole list (503), closed:
	 * an inbox missing an entry would look complete.
	 */
	if (o == NULL || db_user_get(x->srv->db, si.owner_id, &owner) != DB_OK ||
	    json_object_set_new(o, "owner", jsonutil_text(owner.name)) != 0 ||
	    json_object_set_new(o, "owner_email", jsonutil_text(owner.email)) != 0) {
		json_decref(o);
		x->failed = 1;
		return -1;
	}
	json_object_set_new(o, "may_decide", json_boolean(may));
	return json_array_append_new(x->arr, o) != 0;
}

/* api_approvals_list - GET /api/v1/approvals */
enum MHD_Result
api_approvals_list(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	struct api_pending_ctx x = {.srv = srv, .user = &rq->user, .arr = json_array()};

	if (strcmp(rq->user.role, "approver") != 0 && strcmp(rq->user.role, "admin") != 0 &&
	    strcmp(rq->user.role, "auditor") != 0) {
		json_decref(x.arr);
		return http_error(c, 403, "only approvers, admins and auditors see approvals");
	}
	if (x.arr == NULL || db_pending(srv->db, api_pending_cb, &x) != DB_OK || x.failed) {
		json_decref(x.arr);
		return http_error(c, 503, "database unavailable");
	}
	return api_json(c, 200, json_pack("{s:o}", "pending", x.arr));
}

/* api_approval_decide - POST /api/v1/approvals/ID */
enum MHD_Result
api_approval_decide(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid)
{
	struct db_sendinfo si;
	struct db_mail ok_notice, no_notice;
	json_t *in, *v;
	const char *key, *decision = NULL, *comment = "", *outcome = "recorded";
	char why[300];
	int approve, may, r, have_ok = 0, have_no = 0;
	enum MHD_Result ret;

	if (strcmp(rq->user.role, "approver") != 0 && strcmp(rq->user.role, "admin") != 0)
		return http_error(c, 403, "only approvers and admins decide on approvals");
	if (!util_id_valid(tid))
		return http_error(c, 404, "no such transfer waiting for approval");
	in = rq->bodylen > 0 && jsonutil_depth_ok(rq->body, rq->bodylen, 2) == 0
		     ? json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, NULL)
		     : NULL;
	if (!json_is_object(in)) {
		json_decref(in);
		return http_error(c, 400, "send {\"decision\": \"approve\" or \"reject\", "
					  "\"comment\": \"...\"}");
	}
	json_object_foreach(in, key, v) {
		if (strcmp(key, "decision") == 0) {
			decision = json_string_value(v);
		} else if (strcmp(key, "comment") == 0) {
			comment = json_string_value(v);
			if (comment == NULL || strlen(comment) > API_COMMENT_MAX ||
			    jsonutil_has_controls(comment, 1)) {
				json_decref(in);
				return http_error(c, 400, "comment must be a string of at most 1000 "
							  "bytes without control characters");
			}
		} else {
			snprintf(why, sizeof(why), "unknown field \"%.40s\" (allowed: decision, "
						   "comment)", key);
			json_decref(in);
			return http_error(c, 400, why);
		}
	}
	if (decision == NULL ||
	    (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
		json_decref(in);
		return http_error(c, 400, "decision must be \"approve\" or \"reject\"");
	}
	approve = strcmp(decision, "approve") == 0;
	if (!approve && comment[0] == '\0') {
		json_decref(in);
		return http_error(c, 400, "a rejection needs a comment for the sender");
	}
	r = db_transfer_sendinfo(srv->db, tid, &si);
	if (r == DB_NOTFOUND) {
		json_decref(in);
		return http_error(c, 404, "no such transfer waiting for approval");
	}
	may = r == DB_OK ? api_may_decide(srv, &rq->user, tid, &si) : -1;
	if (may < 0) {
		json_decref(in);
		return http_error(c, 503, "database unavailable");
	}
	if (may == 0) {
		json_decref(in);
		if (strcmp(si.state, "pending") != 0)
			return http_error(c, 409, "the transfer is not waiting for approval (any "
						  "more)");
		if ((si.owner_id == rq->user.id || si.sent_by == rq->user.id) && !si.approval_self)
			return http_error(c, 403, "you cannot approve your own transfer (the policy "
						  "does not allow it)");
		if (approval_eligible(srv, &rq->user, &si) == 1)
			return http_error(c, 409, "you have already decided on this transfer");
		snprintf(why, sizeof(why), "only members of group %s decide on this transfer",
			 si.approval_group);
		return http_error(c, 403, why);
	}
	/* Both notices are ready; the transaction queues the one its outcome needs. */
	have_ok = approve && approval_notice(srv, tid, "approved", rq->user.name, comment,
					     &ok_notice) == 0;
	have_no = !approve && approval_notice(srv, tid, "rejected", rq->user.name, comment,
					      &no_notice) == 0;
	why[0] = '\0';
	r = db_vote(srv->db, tid, rq->user.id, approve, comment, util_now(),
		    have_ok ? &ok_notice : NULL, have_no ? &no_notice : NULL, &rq->who, &outcome,
		    why, sizeof(why));
	if (have_ok)
		outbox_mail_free(&ok_notice);
	if (have_no)
		outbox_mail_free(&no_notice);
	/* decision and comment point into in: it goes last. */
	if (r == DB_OK)
		log_event(LOG_LVL_INFO, "approval.vote",
			  "transfer=%s approver=%s decision=%s outcome=%s", tid, rq->user.name,
			  decision, outcome);
	json_decref(in);
	if (r == DB_CONFLICT)
		return http_error(c, 409, why[0] ? why : "the decision cannot be recorded");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	if (srv->mailer != NULL)
		mailer_kick(srv->mailer);
	{
		json_t *o = api_transfer_json(srv, tid);
		if (o == NULL)
			return http_error(c, 503, "database unavailable");
		json_object_set_new(o, "decision", json_string(outcome));
		ret = api_json(c, 200, o);
	}
	return ret;
}
