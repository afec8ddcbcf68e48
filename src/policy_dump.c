/*
 * policy_dump.c - a loaded policy as JSON and as a one-line summary
 * (policy_dump.h). The JSON follows okuru-policy(5)'s names, so an admin
 * reads it against the file; a rule shows only what it sets.
 */
#include "config.h"

#include <stdio.h>

#include "policy_dump.h"
#include "policy_int.h"

/* policy_dump_array - L as a JSON array of strings; NULL without memory */
static json_t *
policy_dump_array(const struct policy_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* policy_dump_list - L under KEY, when not empty */
static int
policy_dump_list(json_t *o, const char *key, const struct policy_list *l)
{
	return l->n == 0 ? 0 : json_object_set_new(o, key, policy_dump_array(l));
}

/* policy_dump_int - V under KEY unless it is POLICY_UNSET */
static int
policy_dump_int(json_t *o, const char *key, int64_t v)
{
	return v == POLICY_UNSET ? 0 : json_object_set_new(o, key, json_integer(v));
}

static int
policy_dump_bool(json_t *o, const char *key, int v)
{
	return v == POLICY_UNSET ? 0 : json_object_set_new(o, key, json_boolean(v));
}

static json_t *
policy_dump_match(const struct policy_match *m)
{
	json_t *o = json_object();

	if (o == NULL || policy_dump_list(o, "senders", &m->senders) != 0 ||
	    policy_dump_list(o, "roles", &m->roles) != 0 ||
	    policy_dump_list(o, "groups", &m->groups) != 0 ||
	    policy_dump_list(o, "recipient_domains", &m->domains) != 0 ||
	    policy_dump_list(o, "recipient_domains_not", &m->domains_not) != 0 ||
	    policy_dump_list(o, "recipient_addresses", &m->addresses) != 0 ||
	    policy_dump_list(o, "types", &m->types) != 0 ||
	    policy_dump_list(o, "extensions", &m->extensions) != 0 ||
	    policy_dump_list(o, "verdicts", &m->verdicts) != 0 ||
	    policy_dump_int(o, "min_recipients", m->min_recipients) != 0 ||
	    policy_dump_int(o, "max_recipients", m->max_recipients) != 0 ||
	    policy_dump_int(o, "min_files", m->min_files) != 0 ||
	    policy_dump_int(o, "max_files", m->max_files) != 0 ||
	    policy_dump_int(o, "min_file_size", m->min_file_size) != 0 ||
	    policy_dump_int(o, "min_total_size", m->min_total_size) != 0 ||
	    policy_dump_bool(o, "encrypted", m->encrypted) != 0 ||
	    policy_dump_bool(o, "type_mismatch", m->type_mismatch) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
policy_dump_rule(const struct policy_rule *r)
{
	json_t *o = json_pack("{s:s, s:o*}", "id", r->id, "match", policy_dump_match(&r->m));
	int bad = o == NULL;

	if (!bad && r->has_deny == 1)
		bad = json_object_set_new(o, "deny", json_string(r->deny_message)) != 0;
	if (!bad && r->has_deny == 2)
		bad = json_object_set_new(o, "allow", json_true()) != 0;
	if (!bad && r->has_approval)
		bad = json_object_set_new(o, "approval",
					  json_pack("{s:s, s:i, s:b, s:i}", "group",
						    r->approval_group, "count", r->approvals,
						    "self", r->approval_self, "expire_hours",
						    r->approval_hours)) != 0;
	if (!bad && r->verification[0] != '\0')
		bad = json_object_set_new(o, "verification", json_string(r->verification)) != 0;
	if (bad || policy_dump_int(o, "delay_minutes", r->delay_minutes) != 0 ||
	    policy_dump_int(o, "expiry_days", r->expiry_days) != 0 ||
	    policy_dump_int(o, "max_expiry_days", r->max_expiry_days) != 0 ||
	    policy_dump_int(o, "download_limit", r->download_limit) != 0 ||
	    policy_dump_bool(o, "allow_unscannable", r->allow_unscannable) != 0 ||
	    policy_dump_bool(o, "allow_encrypted", r->allow_encrypted) != 0 ||
	    policy_dump_int(o, "retention_days", r->retention_days) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
policy_dump_json(const struct policy *p)
{
	const struct policy_decision *d = &p->defaults;
	json_t *rules = json_array(), *ext = json_object(), *o;

	if (rules == NULL || ext == NULL)
		goto fail;
	for (size_t i = 0; i < p->nrules; i++)
		if (json_array_append_new(rules, policy_dump_rule(&p->rules[i])) != 0)
			goto fail;
	for (size_t i = 0; i < p->nexttypes; i++)
		if (json_object_set_new(ext, p->exttypes[i].ext,
					policy_dump_array(p->exttypes[i].types)) != 0)
			goto fail;
	o = json_pack("{s:i, s:{s:i, s:i, s:i, s:i, s:s, s:b, s:b, s:i}, s:{s:i, s:i, s:i}, s:o, "
		      "s:o}",
		      "version", 1, "defaults", "delay_minutes", d->delay_minutes, "expiry_days",
		      d->expiry_days, "max_expiry_days", d->max_expiry_days, "download_limit",
		      d->download_limit, "verification", d->verification, "allow_unscannable",
		      d->allow_unscannable, "allow_encrypted", d->allow_encrypted, "retention_days",
		      d->retention_days, "retention", "content_days", p->retention.content_days,
		      "metadata_days", p->retention.metadata_days, "audit_days",
		      p->retention.audit_days, "extension_types", ext, "rules", rules);
	return o;
fail:
	json_decref(rules);
	json_decref(ext);
	return NULL;
}

int64_t
policy_loaded_at(const struct policy *p)
{
	return p->loaded_at;
}

void
policy_summary(const struct policy *p, const char *path, char *out, size_t len)
{
	snprintf(out, len,
		 "%s: valid, %zu rules; content kept %d days after a transfer ends by default, "
		 "metadata %d days, audit records %d days",
		 path, p->nrules, p->retention.content_days, p->retention.metadata_days,
		 p->retention.audit_days);
}
