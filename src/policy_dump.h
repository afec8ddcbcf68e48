/*
 * policy_dump.h - a loaded policy shown back: its structure as JSON (the
 * admin status page) and the one-line summary "okuructl policy check"
 * prints.
 */
#ifndef OKURU_POLICY_DUMP_H
#define OKURU_POLICY_DUMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * policy_dump_json - P as JSON: version, defaults, retention,
 * extension_types and rules (each rule with only the conditions and
 * actions it sets). Equal JSON means an equal policy. NULL without memory.
 */
json_t *policy_dump_json(const struct policy *p);

/* policy_loaded_at - when P was read from its file (Unix seconds) */
int64_t policy_loaded_at(const struct policy *p);

/* policy_summary - "PATH: valid, N rules; content kept ..." as okuructl policy check says it */
void policy_summary(const struct policy *p, const char *path, char *out, size_t len);

#endif
