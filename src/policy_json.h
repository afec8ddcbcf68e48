/*
 * policy_json.h - a policy decision as JSON (see policy_json.c).
 */
#ifndef OKURU_POLICY_JSON_H
#define OKURU_POLICY_JSON_H

#include <jansson.h>

#include "policy.h"

json_t *policy_json(const struct policy_decision *d, enum policy_outcome o, const char *why,
		    const char *file);
char *policy_json_text(const struct policy_decision *d, enum policy_outcome o, const char *why,
		       const char *file);

/* policy_json_audit - outcome, reason, policy file and each part's rule, from the stored text */
json_t *policy_json_audit(const char *text);

#endif
