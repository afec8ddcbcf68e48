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
		if (json_array_append_new(parts, json_pack("{s:s, s:s, s:s, s:s}", "part",
							   policy_part_name((enum policy_part)i),
							   "value", v, "rule", d->rule[i], "why",
							   d->why[i])) != 0) {
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
