/*
 * api_preview.c - the answer to a dry run of a send:
 *   POST /api/v1/transfers/ID/send {"dry_run": true, "recipients": [...], ...}
 * api_send (api_send.c) takes every step of a real send up to the policy's
 * decision and the sender's choices within it (the same checks, the same
 * evaluation, approvers looked up), then answers with this instead of
 * storing anything: no link, no mail, no audit record, since nothing
 * changed. The outcome is said in the web UI's words (allow, delay,
 * approve, deny); "policy" is the decision as a real send keeps it.
 */
#include "config.h"

#include <jansson.h>

#include "http.h"
#include "jsonutil.h"
#include "policy.h"

static const char *
api_preview_outcome(enum policy_outcome o)
{
	switch (o) {
	case POLICY_SEND:
		return "allow";
	case POLICY_HOLD:
		return "delay";
	case POLICY_APPROVE:
		return "approve";
	default:
		return "deny"; /* denied by a rule, or blocked by a file's verdict */
	}
}

json_t *
api_preview_json(const struct policy_decision *d, enum policy_outcome o, const char *why,
		 json_t *pj, int expires_days, int64_t now)
{
	int refused = o == POLICY_DENIED || o == POLICY_BLOCKED;
	int64_t release = now + (int64_t)d->delay_minutes * 60;
	json_t *rules = json_object(), *out;

	for (int i = 0; rules != NULL && i < POLICY_NPARTS; i++)
		if (json_object_set_new(rules, policy_part_name((enum policy_part)i),
					json_string(d->rule[i])) != 0) {
			json_decref(rules);
			rules = NULL;
		}
	if (rules == NULL || pj == NULL) {
		json_decref(rules);
		json_decref(pj);
		return NULL;
	}
	out = json_pack(
	    "{s:b, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:o, s:o, s:o}", "dry_run", 1, "outcome",
	    api_preview_outcome(o), "policy_outcome", policy_outcome_name(o), "reason", why,
	    "rules", rules, "release", refused ? json_null() : jsonutil_time(release), "expires",
	    refused || expires_days <= 0 ? json_null()
					 : jsonutil_time(release + (int64_t)expires_days * 86400),
	    "approvals_needed", o == POLICY_APPROVE ? d->approvals : 0, "approval_group",
	    o == POLICY_APPROVE ? json_string(d->approval_group) : json_null(), "approval_expires",
	    o == POLICY_APPROVE ? jsonutil_time(now + (int64_t)d->approval_hours * 3600)
				: json_null(),
	    "policy", pj);
	if (out != NULL && d->deny)
		json_object_set_new(out, "message", json_string(d->deny_message));
	/* The staff app: the send delay in minutes, as the sender is told it before sending. */
	if (out != NULL && json_object_set_new(out, "delay_minutes",
					       json_integer(refused ? 0 : d->delay_minutes)) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
