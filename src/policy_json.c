/*
 * policy_json.c - a policy decision as the JSON okuru keeps on the
 * transfer and shows to the sender, approvers and auditors: the outcome and
 * its reason, and for each part of the decision its value, the rule that
 * made it and why that rule matched.
 */
#include "config.h"

#include <jansson.h>

#include "policy.h"
#include "policy_json.h"

/*
 * policy_json_data - one part's decision as values ("data"), beside the
 * English "value": the staff app says it in the user's language from
 * these (docs/ARCHITECTURE.md, "The staff app").
 */
static json_t *
policy_json_data(const struct policy_decision *d, enum policy_part part)
{
	switch (part) {
	case POLICY_DENY: return json_pack("{s:b}", "deny", d->deny);
	case POLICY_APPROVAL:
		if (d->approvals <= 0)
			return json_pack("{s:i}", "count", 0);
		return json_pack("{s:i, s:s, s:b, s:i}", "count", d->approvals, "group",
				 d->approval_group, "self", d->approval_self, "hours",
				 d->approval_hours);
	case POLICY_DELAY: return json_pack("{s:i}", "minutes", d->delay_minutes);
	case POLICY_EXPIRY:
		return json_pack("{s:i, s:i}", "days", d->expiry_days, "max_days",
				 d->max_expiry_days);
	case POLICY_DOWNLOADS: return json_pack("{s:i}", "limit", d->download_limit);
	case POLICY_VERIFICATION: return json_pack("{s:s}", "mode", d->verification);
	case POLICY_UNSCANNABLE: return json_pack("{s:b}", "allowed", d->allow_unscannable);
	case POLICY_ENCRYPTED: return json_pack("{s:b}", "allowed", d->allow_encrypted);
	case POLICY_RETENTION: return json_pack("{s:i}", "days", d->retention_days);
	default: return json_object();
	}
}

json_t *
policy_json(const struct policy_decision *d, enum policy_outcome o, const char *why,
	    const char *file)
{
	json_t *parts = json_array(), *out;
	char v[200];

	if (parts == NULL)
		return NULL;
	for (int i = 0; i < POLICY_NPARTS; i++) {
		policy_part_value(d, (enum policy_part)i, v, sizeof(v));
		if (json_array_append_new(
			parts, json_pack("{s:s, s:s, s:o, s:s, s:s}", "part",
					 policy_part_name((enum policy_part)i), "value", v, "data",
					 policy_json_data(d, (enum policy_part)i), "rule",
					 d->rule[i], "why", d->why[i])) != 0) {
			json_decref(parts);
			return NULL;
		}
	}
	out = json_pack("{s:s, s:s, s:s, s:o}", "outcome", policy_outcome_name(o), "reason", why,
			"policy", file, "decisions", parts);
	if (out != NULL && d->deny)
		json_object_set_new(out, "message", json_string(d->deny_message));
	return out;
}

/* policy_json_text - the same, serialised compactly for the database */
char *
policy_json_text(const struct policy_decision *d, enum policy_outcome o, const char *why,
		 const char *file)
{
	json_t *j = policy_json(d, o, why, file);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	return s;
}

/*
 * policy_json_audit - the detail of a policy.decided audit record, from the
 * decision's stored text: outcome, reason, the policy file, and for each
 * part the rule that decided it ("rules": {part: rule id}). Not the "why"
 * texts: they repeat the rules and may quote file names at length.
 */
json_t *
policy_json_audit(const char *text)
{
	json_t *pj = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_t *rules = json_object(), *out = NULL, *v;
	size_t i;

	if (pj == NULL || rules == NULL)
		goto done;
	json_array_foreach(json_object_get(pj, "decisions"), i, v) {
		const char *part = json_string_value(json_object_get(v, "part"));
		json_t *rule = json_object_get(v, "rule");
		if (part == NULL || !json_is_string(rule) ||
		    json_object_set(rules, part, rule) != 0)
			goto done;
	}
	out = json_pack("{s:O, s:O, s:O, s:O}", "outcome", json_object_get(pj, "outcome"),
			"reason", json_object_get(pj, "reason"), "policy",
			json_object_get(pj, "policy"), "rules", rules);
done:
	json_decref(rules);
	json_decref(pj);
	return out;
}
