/*
 * policy.c - load and evaluate the policy file (see policy.h and
 * okuru-policy(5)). libconfig parses; this file checks every value and
 * reports "file:line: what is wrong" for the first problem found. Patterns
 * (domains, addresses, types, extensions, senders) are fnmatch(3) globs,
 * compared without regard to case. extension_types maps a file name
 * extension to the media types its content may have; a file whose
 * detected type is none of them is a "type mismatch".
 */
#include "config.h"

#include <fnmatch.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgerr.h"
#include "policy.h"
#include "policy_int.h"
#include "util.h"

#define POLICY_MAXRULES 1000
#define POLICY_MAXLIST 1000
#define POLICY_MAXEXT 1000 /* extensions in extension_types */

static const char *const policy_parts[POLICY_NPARTS] = {
	"deny", "approval", "delay", "expiry", "downloads", "verification", "unscannable",
	"encrypted", "retention",
};

const char *
policy_part_name(enum policy_part part)
{
	return policy_parts[part];
}

static void
policy_list_free(struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
policy_rule_free(struct policy_rule *r)
{
	struct policy_list *lists[] = {&r->m.senders, &r->m.roles, &r->m.groups, &r->m.domains,
				       &r->m.domains_not, &r->m.addresses, &r->m.types,
				       &r->m.extensions, &r->m.verdicts};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		policy_list_free(lists[i]);
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		policy_rule_free(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->nexttypes_lists; i++)
		policy_list_free(&p->exttypes_lists[i]);
	free(p->exttypes_lists);
	free(p->exttypes);
	free(p->path);
	free(p);
}

/* The reading context: the file name for messages and the error buffer. */
struct policy_ctx {
	const char *file;
	char *err;
	size_t errlen;
	size_t nexttypes; /* extensions in extension_types, read before the rules */
};

static int
policy_int(struct policy_ctx *x, const config_setting_t *s, const char *name, int min, int max,
	   int *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfgerr_set(x->err, x->errlen, x->file, s, "%s must be an integer", name);
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return cfgerr_set(x->err, x->errlen, x->file, s, "%s must be %d to %d", name, min,
				   max);
	*out = (int)v;
	return 0;
}

static int
policy_bool(struct policy_ctx *x, const config_setting_t *s, const char *name, int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfgerr_set(x->err, x->errlen, x->file, s, "%s must be true or false", name);
	*out = config_setting_get_bool(s);
	return 0;
}

static int
policy_bytes(struct policy_ctx *x, const config_setting_t *s, const char *name, int64_t *out)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    util_bytes_parse(config_setting_get_string(s), 1LL << 50, out) == 0)
		return 0;
	if ((config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) &&
	    config_setting_get_int64(s) >= 0) {
		*out = config_setting_get_int64(s);
		return 0;
	}
	return cfgerr_set(x->err, x->errlen, x->file, s,
			   "%s must be a byte count, like 1048576 or \"10M\" (units K, M, G, T)",
			   name);
}

/* policy_name_ok - ids and group names: [A-Za-z0-9._-]+, bounded */
int
policy_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_IDMAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int
policy_string(struct policy_ctx *x, const config_setting_t *s, const char *name, size_t max,
	      const char **out)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfgerr_set(x->err, x->errlen, x->file, s, "%s must be a string", name);
	v = config_setting_get_string(s);
	if (strlen(v) == 0 || strlen(v) > max)
		return cfgerr_set(x->err, x->errlen, x->file, s, "%s must be 1 to %zu bytes", name,
				   max);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cfgerr_set(x->err, x->errlen, x->file, s,
					   "%s must not contain control characters", name);
	*out = v;
	return 0;
}

/*
 * policy_list - a list of 1 to POLICY_MAXLIST strings; with allow_empty an
 * entry may be "" (types: a file whose type is unknown).
 */
static int
policy_list(struct policy_ctx *x, const config_setting_t *s, const char *name,
	    struct policy_list *l, int allow_empty)
{
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
		return cfgerr_set(x->err, x->errlen, x->file, s,
				   "%s must be a list of strings, like [\"a\", \"b\"]", name);
	n = config_setting_length(s);
	if (n < 1 || n > POLICY_MAXLIST)
		return cfgerr_set(x->err, x->errlen, x->file, s, "%s must list 1 to %d patterns",
				   name, POLICY_MAXLIST);
	l->v = calloc((size_t)n, sizeof(*l->v));
	if (l->v == NULL)
		return cfgerr_set(x->err, x->errlen, x->file, s, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = "";
		if (!(allow_empty && config_setting_type(e) == CONFIG_TYPE_STRING &&
		      config_setting_get_string(e)[0] == '\0') &&
		    policy_string(x, e, name, 254, &v) != 0)
			return -1;
		l->v[i] = strdup(v);
		if (l->v[i] == NULL)
			return cfgerr_set(x->err, x->errlen, x->file, s, "out of memory");
		l->n++;
	}
	return 0;
}

static int
policy_verification(struct policy_ctx *x, const config_setting_t *s, char out[16])
{
	const char *v;

	if (policy_string(x, s, "verification", 15, &v) != 0)
		return -1;
	if (strcmp(v, "email-otp") != 0 && strcmp(v, "passphrase") != 0 && strcmp(v, "none") != 0)
		return cfgerr_set(x->err, x->errlen, x->file, s,
				   "verification must be \"email-otp\", \"passphrase\" or \"none\"");
	snprintf(out, 16, "%s", v);
	return 0;
}

static int
policy_match_read(struct policy_ctx *x, const config_setting_t *g, struct policy_match *m)
{
	int n = config_setting_length(g);

	if (config_setting_is_group(g) != CONFIG_TRUE)
		return cfgerr_set(x->err, x->errlen, x->file, g, "match must be a group { ... }");
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		struct {
			const char *name;
			struct policy_list *l;
		} lists[] = {{"senders", &m->senders},
			     {"roles", &m->roles},
			     {"groups", &m->groups},
			     {"recipient_domains", &m->domains},
			     {"recipient_domains_not", &m->domains_not},
			     {"recipient_addresses", &m->addresses},
			     {"types", &m->types},
			     {"extensions", &m->extensions},
			     {"verdicts", &m->verdicts}};
		struct {
			const char *name;
			int *v;
		} ints[] = {{"min_recipients", &m->min_recipients},
			    {"max_recipients", &m->max_recipients},
			    {"min_files", &m->min_files},
			    {"max_files", &m->max_files}};
		int done = 0;

		for (size_t j = 0; !done && j < sizeof(lists) / sizeof(lists[0]); j++)
			if (strcmp(k, lists[j].name) == 0) {
				if (policy_list(x, s, k, lists[j].l, lists[j].l == &m->types) != 0)
					return -1;
				done = 1;
			}
		for (size_t j = 0; !done && j < sizeof(ints) / sizeof(ints[0]); j++)
			if (strcmp(k, ints[j].name) == 0) {
				if (policy_int(x, s, k, 0, 100000, ints[j].v) != 0)
					return -1;
				done = 1;
			}
		if (done)
			continue;
		if (strcmp(k, "min_file_size") == 0) {
			if (policy_bytes(x, s, k, &m->min_file_size) != 0)
				return -1;
		} else if (strcmp(k, "min_total_size") == 0) {
			if (policy_bytes(x, s, k, &m->min_total_size) != 0)
				return -1;
		} else if (strcmp(k, "encrypted") == 0) {
			if (policy_bool(x, s, k, &m->encrypted) != 0)
				return -1;
		} else if (strcmp(k, "type_mismatch") == 0) {
			if (policy_bool(x, s, k, &m->type_mismatch) != 0)
				return -1;
			if (x->nexttypes == 0)
				return cfgerr_set(x->err, x->errlen, x->file, s,
						   "type_mismatch needs an extension_types table");
		} else {
			return cfgerr_set(x->err, x->errlen, x->file, s,
					   "unknown condition \"%s\" in match", k);
		}
	}
	for (size_t i = 0; i < m->verdicts.n; i++) {
		const char *v = m->verdicts.v[i];
		if (strcmp(v, "clean") != 0 && strcmp(v, "unscannable") != 0 &&
		    strcmp(v, "infected") != 0 && strcmp(v, "error") != 0)
			return cfgerr_set(x->err, x->errlen, x->file, g,
					   "verdicts may name clean, unscannable, infected, error");
	}
	return 0;
}

static int
policy_approval_read(struct policy_ctx *x, const config_setting_t *g, struct policy_rule *r)
{
	int n = config_setting_length(g), have_group = 0;

	if (config_setting_is_group(g) != CONFIG_TRUE)
		return cfgerr_set(x->err, x->errlen, x->file, g, "approval must be a group { ... }");
	r->has_approval = 1;
	r->approvals = 1;
	r->approval_self = 0;
	r->approval_hours = 48;
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s), *v;
		if (strcmp(k, "group") == 0) {
			if (policy_string(x, s, k, POLICY_IDMAX, &v) != 0)
				return -1;
			if (!policy_name_ok(v))
				return cfgerr_set(x->err, x->errlen, x->file, s,
						   "approval.group must be letters, digits, . _ -");
			snprintf(r->approval_group, sizeof(r->approval_group), "%s", v);
			have_group = 1;
		} else if (strcmp(k, "count") == 0) {
			if (policy_int(x, s, "approval.count", 0, 10, &r->approvals) != 0)
				return -1;
		} else if (strcmp(k, "self") == 0) {
			if (policy_bool(x, s, "approval.self", &r->approval_self) != 0)
				return -1;
		} else if (strcmp(k, "expire_hours") == 0) {
			if (policy_int(x, s, "approval.expire_hours", 1, 24 * 90, &r->approval_hours) != 0)
				return -1;
		} else {
			return cfgerr_set(x->err, x->errlen, x->file, s,
					   "unknown setting \"%s\" in approval (allowed: group, "
					   "count, self, expire_hours)", k);
		}
	}
	if (r->approvals > 0 && !have_group)
		return cfgerr_set(x->err, x->errlen, x->file, g,
				   "approval needs a group (who may approve)");
	return 0;
}

/* policy_actions_read - the decisions a rule, or the defaults group, makes */
static int
policy_actions_read(struct policy_ctx *x, const config_setting_t *s, struct policy_rule *r,
		    int is_default)
{
	const char *k = config_setting_name(s), *v;

	if (!is_default && strcmp(k, "deny") == 0) {
		if (policy_string(x, s, k, 255, &v) != 0)
			return -1;
		r->has_deny = 1;
		snprintf(r->deny_message, sizeof(r->deny_message), "%s", v);
	} else if (!is_default && strcmp(k, "allow") == 0) {
		int b = 0;
		if (policy_bool(x, s, k, &b) != 0)
			return -1;
		if (!b)
			return cfgerr_set(x->err, x->errlen, x->file, s,
					   "allow can only be true (to deny, write deny = \"why\")");
		r->has_deny = 2;
	} else if (!is_default && strcmp(k, "approval") == 0) {
		return policy_approval_read(x, s, r);
	} else if (strcmp(k, "delay_minutes") == 0) {
		return policy_int(x, s, k, 0, 24 * 60, &r->delay_minutes);
	} else if (strcmp(k, "expiry_days") == 0) {
		return policy_int(x, s, k, 1, 3650, &r->expiry_days);
	} else if (strcmp(k, "max_expiry_days") == 0) {
		return policy_int(x, s, k, 1, 3650, &r->max_expiry_days);
	} else if (strcmp(k, "download_limit") == 0) {
		return policy_int(x, s, k, 1, 1000, &r->download_limit);
	} else if (strcmp(k, "verification") == 0) {
		return policy_verification(x, s, r->verification);
	} else if (strcmp(k, "allow_unscannable") == 0) {
		return policy_bool(x, s, k, &r->allow_unscannable);
	} else if (strcmp(k, "allow_encrypted") == 0) {
		return policy_bool(x, s, k, &r->allow_encrypted);
	} else if (strcmp(k, "retention_days") == 0) {
		return policy_int(x, s, k, 0, 36500, &r->retention_days);
	} else {
		return 1; /* not an action */
	}
	return 0;
}

static void
policy_rule_init(struct policy_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->delay_minutes = r->expiry_days = r->max_expiry_days = r->download_limit = POLICY_UNSET;
	r->allow_unscannable = r->allow_encrypted = r->retention_days = POLICY_UNSET;
	r->m.min_recipients = r->m.max_recipients = r->m.min_files = r->m.max_files = POLICY_UNSET;
	r->m.encrypted = r->m.type_mismatch = POLICY_UNSET;
	r->m.min_file_size = r->m.min_total_size = POLICY_UNSET;
}

static int
policy_rule_read(struct policy_ctx *x, const config_setting_t *g, struct policy *p)
{
	struct policy_rule *r = &p->rules[p->nrules];
	int n = config_setting_length(g), a;

	policy_rule_init(r);
	p->nrules++; /* counted now, so policy_free frees what was read */
	if (config_setting_is_group(g) != CONFIG_TRUE)
		return cfgerr_set(x->err, x->errlen, x->file, g, "each rule must be a group { ... }");
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s), *v;
		if (strcmp(k, "id") == 0) {
			if (policy_string(x, s, k, POLICY_IDMAX, &v) != 0)
				return -1;
			if (!policy_name_ok(v) || strcmp(v, "default") == 0)
				return cfgerr_set(x->err, x->errlen, x->file, s,
						   "id must be letters, digits, . _ - (at most %d), "
						   "and not \"default\"", POLICY_IDMAX);
			for (size_t j = 0; j + 1 < p->nrules; j++)
				if (strcmp(p->rules[j].id, v) == 0)
					return cfgerr_set(x->err, x->errlen, x->file, s,
							   "rule id \"%s\" is used twice", v);
			snprintf(r->id, sizeof(r->id), "%s", v);
		} else if (strcmp(k, "match") == 0) {
			if (policy_match_read(x, s, &r->m) != 0)
				return -1;
		} else if (strcmp(k, "comment") == 0) {
			if (policy_string(x, s, k, 1000, &v) != 0)
				return -1;
		} else if ((a = policy_actions_read(x, s, r, 0)) != 0) {
			if (a < 0)
				return -1;
			return cfgerr_set(x->err, x->errlen, x->file, s,
					   "unknown setting \"%s\" in a rule", k);
		}
	}
	if (r->id[0] == '\0')
		return cfgerr_set(x->err, x->errlen, x->file, g, "a rule needs an id");
	if (r->has_deny == 1 && (r->has_approval || r->delay_minutes != POLICY_UNSET))
		return cfgerr_set(x->err, x->errlen, x->file, g,
				   "rule %s denies: approval or a delay would never apply", r->id);
	return 0;
}

static int
policy_exttype_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy_exttype *)a)->ext,
		      ((const struct policy_exttype *)b)->ext);
}

/* policy_printable - s is 1 to max bytes of printable ASCII (safe to quote in an error) */
static int
policy_printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* policy_ext_ok - an extension as extension_types lists it: [a-z0-9_-], bounded */
static int
policy_ext_ok(const char *e)
{
	size_t n = strlen(e);

	if (n == 0 || n > POLICY_EXTMAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((e[i] >= 'a' && e[i] <= 'z') || (e[i] >= '0' && e[i] <= '9') || e[i] == '-' ||
		      e[i] == '_'))
			return 0;
	return 1;
}

/* policy_exttype_read - one { extensions = [...]; types = [...]; } of extension_types */
static int
policy_exttype_read(struct policy_ctx *x, const config_setting_t *g, struct policy *p,
		    struct policy_list *types)
{
	const config_setting_t *exts = NULL, *ts = NULL;
	int n = config_setting_length(g);

	if (config_setting_is_group(g) != CONFIG_TRUE)
		return cfgerr_set(x->err, x->errlen, x->file, g,
				   "each entry of extension_types must be a group { extensions "
				   "= [...]; types = [...]; }");
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		if (strcmp(k, "extensions") == 0)
			exts = s;
		else if (strcmp(k, "types") == 0)
			ts = s;
		else
			return cfgerr_set(x->err, x->errlen, x->file, s,
					   "unknown setting \"%s\" in extension_types (allowed: "
					   "extensions, types)", k);
	}
	if (exts == NULL || ts == NULL)
		return cfgerr_set(x->err, x->errlen, x->file, g,
				   "each entry of extension_types needs extensions and types");
	if (policy_list(x, ts, "extension_types types", types, 0) != 0)
		return -1;
	if (config_setting_type(exts) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(exts) != CONFIG_TYPE_LIST)
		return cfgerr_set(x->err, x->errlen, x->file, exts,
				   "extension_types extensions must be a list of strings, like "
				   "[\"jpg\", \"jpeg\"]");
	n = config_setting_length(exts);
	if (n < 1)
		return cfgerr_set(x->err, x->errlen, x->file, exts,
				   "extension_types extensions must list at least one extension");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(exts, (unsigned)i);
		const char *v;
		struct policy_exttype *et;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !policy_ext_ok(v = config_setting_get_string(e))) {
			char shown[48] = "a value";
			if (config_setting_type(e) == CONFIG_TYPE_STRING &&
			    policy_printable(config_setting_get_string(e), 40))
				snprintf(shown, sizeof(shown), "\"%s\"",
					 config_setting_get_string(e));
			return cfgerr_set(x->err, x->errlen, x->file, exts,
					   "extension_types: %s is not an extension: lower-case "
					   "letters, digits, - and _, without the dot, at most %d "
					   "(like \"pdf\" or \"7z\")", shown, POLICY_EXTMAX);
		}
		for (size_t j = 0; j < p->nexttypes; j++)
			if (strcmp(p->exttypes[j].ext, v) == 0)
				return cfgerr_set(x->err, x->errlen, x->file, exts,
						   "extension_types: %s is listed twice", v);
		if (p->nexttypes == POLICY_MAXEXT)
			return cfgerr_set(x->err, x->errlen, x->file, exts,
					   "extension_types: at most %d extensions", POLICY_MAXEXT);
		et = &p->exttypes[p->nexttypes++];
		memcpy(et->ext, v, strlen(v) + 1);
		et->types = types;
	}
	return 0;
}

/*
 * policy_exttypes_read - extension_types = ( { extensions = ["pdf"];
 * types = ["application/pdf"]; }, ... ); a list, not a group keyed by
 * extension, because libconfig names cannot start with a digit (7z).
 */
static int
policy_exttypes_read(struct policy_ctx *x, const config_setting_t *l, struct policy *p)
{
	int n;

	if (config_setting_type(l) != CONFIG_TYPE_LIST)
		return cfgerr_set(x->err, x->errlen, x->file, l,
				   "extension_types must be a list ( { extensions = [...]; "
				   "types = [...]; }, ... )");
	n = config_setting_length(l);
	if (n > POLICY_MAXEXT)
		return cfgerr_set(x->err, x->errlen, x->file, l,
				   "extension_types: at most %d extensions", POLICY_MAXEXT);
	p->exttypes = calloc(POLICY_MAXEXT, sizeof(*p->exttypes));
	p->exttypes_lists = calloc(n > 0 ? (size_t)n : 1, sizeof(*p->exttypes_lists));
	if (p->exttypes == NULL || p->exttypes_lists == NULL)
		return cfgerr_set(x->err, x->errlen, x->file, l, "out of memory");
	for (int i = 0; i < n; i++) {
		struct policy_list *types = &p->exttypes_lists[p->nexttypes_lists++];
		if (policy_exttype_read(x, config_setting_get_elem(l, (unsigned)i), p, types) != 0)
			return -1;
	}
	qsort(p->exttypes, p->nexttypes, sizeof(*p->exttypes), policy_exttype_cmp);
	x->nexttypes = p->nexttypes;
	return 0;
}

static int
policy_defaults_read(struct policy_ctx *x, const config_setting_t *g, struct policy_decision *d)
{
	struct policy_rule r;
	int n, a;

	policy_rule_init(&r);
	if (g != NULL) {
		if (config_setting_is_group(g) != CONFIG_TRUE)
			return cfgerr_set(x->err, x->errlen, x->file, g, "defaults must be a group");
		n = config_setting_length(g);
		for (int i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
			if ((a = policy_actions_read(x, s, &r, 1)) != 0) {
				if (a < 0)
					return -1;
				return cfgerr_set(x->err, x->errlen, x->file, s,
						   "unknown setting \"%s\" in defaults (deny, allow "
						   "and approval belong in rules)",
						   config_setting_name(s));
			}
		}
	}
	memset(d, 0, sizeof(*d));
#define DEF(field, value) d->field = r.field != POLICY_UNSET ? r.field : (value)
	DEF(delay_minutes, 0);
	DEF(expiry_days, 7);
	DEF(max_expiry_days, 30);
	DEF(download_limit, 5);
	DEF(allow_unscannable, 0);
	DEF(allow_encrypted, 0);
	DEF(retention_days, 30);
#undef DEF
	snprintf(d->verification, sizeof(d->verification), "%s",
		 r.verification[0] ? r.verification : "email-otp");
	if (d->expiry_days > d->max_expiry_days)
		return cfgerr_set(x->err, x->errlen, x->file, g,
				   "defaults: expiry_days exceeds max_expiry_days");
	for (int i = 0; i < POLICY_NPARTS; i++) {
		snprintf(d->rule[i], sizeof(d->rule[i]), "default");
		snprintf(d->why[i], sizeof(d->why[i]), "no rule decided it");
	}
	return 0;
}

int
policy_load(const char *path, struct policy **out, char *err, size_t errlen)
{
	struct policy_ctx x = {.file = path, .err = err, .errlen = errlen};
	config_t cf;
	config_setting_t *root, *rules, *s;
	struct policy *p;
	int n, rc = -1, version = 0;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->path = strdup(path)) == NULL) {
		free(p);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	p->loaded_at = util_now();
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
				 config_error_text(&cf));
		goto out;
	}
	root = config_root_setting(&cf);
	n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		const char *k = config_setting_name(config_setting_get_elem(root, (unsigned)i));
		if (strcmp(k, "version") != 0 && strcmp(k, "defaults") != 0 &&
		    strcmp(k, "retention") != 0 && strcmp(k, "extension_types") != 0 &&
		    strcmp(k, "rules") != 0) {
			cfgerr_set(err, errlen, path, config_setting_get_elem(root, (unsigned)i),
				    "unknown setting \"%s\" (allowed: version, defaults, retention, "
				    "extension_types, rules)", k);
			goto out;
		}
	}
	s = config_lookup(&cf, "version");
	if (s == NULL) {
		cfgerr_set(err, errlen, path, NULL, "version = 1; is required");
		goto out;
	}
	if (policy_int(&x, s, "version", 1, 1, &version) != 0)
		goto out;
	if (policy_defaults_read(&x, config_lookup(&cf, "defaults"), &p->defaults) != 0)
		goto out;
	p->retention.content_days = p->defaults.retention_days;
	p->retention.metadata_days = 3650;
	p->retention.audit_days = 3650;
	s = config_lookup(&cf, "retention");
	if (s != NULL) {
		if (config_setting_is_group(s) != CONFIG_TRUE) {
			cfgerr_set(err, errlen, path, s, "retention must be a group");
			goto out;
		}
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *k = config_setting_name(e);
			int *field = strcmp(k, "metadata_days") == 0 ? &p->retention.metadata_days
				     : strcmp(k, "audit_days") == 0  ? &p->retention.audit_days
								      : NULL;
			if (field == NULL) {
				cfgerr_set(err, errlen, path, e,
					    "unknown setting \"%s\" in retention (allowed: "
					    "metadata_days, audit_days)", k);
				goto out;
			}
			if (policy_int(&x, e, k, 1, 36500, field) != 0)
				goto out;
		}
		if (p->retention.audit_days < p->retention.metadata_days) {
			cfgerr_set(err, errlen, path, s,
				    "retention: audit_days must not be shorter than metadata_days");
			goto out;
		}
	}
	s = config_lookup(&cf, "extension_types");
	if (s != NULL && policy_exttypes_read(&x, s, p) != 0)
		goto out;
	rules = config_lookup(&cf, "rules");
	n = rules ? config_setting_length(rules) : 0;
	if (rules != NULL && config_setting_type(rules) != CONFIG_TYPE_LIST) {
		cfgerr_set(err, errlen, path, rules, "rules must be a list ( { ... }, { ... } )");
		goto out;
	}
	if (n > POLICY_MAXRULES) {
		cfgerr_set(err, errlen, path, rules, "at most %d rules", POLICY_MAXRULES);
		goto out;
	}
	p->rules = calloc(n > 0 ? (size_t)n : 1, sizeof(*p->rules));
	if (p->rules == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (policy_rule_read(&x, config_setting_get_elem(rules, (unsigned)i), p) != 0)
			goto out;
	rc = 0;
out:
	config_destroy(&cf);
	if (rc != 0)
		policy_free(p);
	else
		*out = p;
	return rc;
}

size_t
policy_nrules(const struct policy *p)
{
	return p->nrules;
}

void
policy_retention(const struct policy *p, struct policy_retention *r)
{
	*r = p->retention;
}

const char *
policy_path(const struct policy *p)
{
	return p->path;
}

void
policy_defaults(const struct policy *p, struct policy_decision *d)
{
	*d = p->defaults;
}

static const char *const policy_outcomes[] = {"send", "hold", "approval", "blocked", "denied"};

const char *
policy_outcome_name(enum policy_outcome o)
{
	return policy_outcomes[o];
}

/* policy_part_value - one decision in words, as explain and the API show it */
void
policy_part_value(const struct policy_decision *d, enum policy_part part, char *v, size_t len)
{
	switch (part) {
	case POLICY_DENY: snprintf(v, len, "%s", d->deny ? "deny" : "allow"); break;
	case POLICY_APPROVAL:
		if (d->approvals > 0)
			snprintf(v, len, "%d from %s, %s, %dh", d->approvals, d->approval_group,
				 d->approval_self ? "self allowed" : "not self", d->approval_hours);
		else
			snprintf(v, len, "none");
		break;
	case POLICY_DELAY: snprintf(v, len, "%d minutes", d->delay_minutes); break;
	case POLICY_EXPIRY:
		snprintf(v, len, "%d days (at most %d)", d->expiry_days, d->max_expiry_days);
		break;
	case POLICY_DOWNLOADS:
		snprintf(v, len, "%d per recipient and file", d->download_limit);
		break;
	case POLICY_VERIFICATION: snprintf(v, len, "%s", d->verification); break;
	case POLICY_UNSCANNABLE:
		snprintf(v, len, "%s", d->allow_unscannable ? "allowed" : "blocked");
		break;
	case POLICY_ENCRYPTED:
		snprintf(v, len, "%s", d->allow_encrypted ? "allowed" : "blocked");
		break;
	case POLICY_RETENTION: snprintf(v, len, "%d days after the end", d->retention_days); break;
	default: snprintf(v, len, "?"); break;
	}
}

/* ---- evaluation --------------------------------------------------------- */

static const char *
policy_glob(const struct policy_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], s, FNM_CASEFOLD) == 0)
			return l->v[i];
	return NULL;
}

static const char *
policy_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}

static const char *
policy_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && dot != name ? dot + 1 : "";
}

/*
 * policy_type_mismatch - 1 when the content of f contradicts its name: its
 * extension (after the last dot, any case) is in extension_types and its
 * detected type matches none of the globs listed there. Never for a file
 * whose type is unknown (""), an empty file (nothing in it can contradict
 * its name) or an extension the table does not list. why (may be NULL)
 * says which, in the words of the other conditions.
 */
int
policy_type_mismatch(const struct policy *p, const struct policy_file *f, char *why, size_t whylen)
{
	struct policy_exttype key;
	const struct policy_exttype *et;
	const char *ext = policy_ext(f->name);
	size_t n = strlen(ext);

	if (f->type == NULL || f->type[0] == '\0' || f->size == 0 || n == 0 || n > POLICY_EXTMAX ||
	    p->nexttypes == 0)
		return 0;
	for (size_t i = 0; i <= n; i++)
		key.ext[i] = ext[i] >= 'A' && ext[i] <= 'Z' ? (char)(ext[i] - 'A' + 'a') : ext[i];
	et = bsearch(&key, p->exttypes, p->nexttypes, sizeof(*p->exttypes), policy_exttype_cmp);
	if (et == NULL || policy_glob(et->types, f->type) != NULL)
		return 0;
	if (why != NULL)
		snprintf(why, whylen, "file %s is %s, not a type extension_types lists for .%s",
			 f->name, f->type, et->ext);
	return 1;
}

/* policy_why_add - append "; " and one formatted reason to why */
static void __attribute__((format(printf, 3, 4)))
policy_why_add(char *why, size_t whylen, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n > 0 && n + 2 < whylen) {
		memcpy(why + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why + n, whylen - n, fmt, ap);
	va_end(ap);
	/* Cut short, it must still be UTF-8: names are Japanese as often as not. */
	util_utf8_trim(why);
}

/*
 * policy_matches - 1 when every condition of m holds for rq, with why
 * naming one witness per condition; a rule without conditions matches all.
 */
static int
policy_matches(const struct policy *p, const struct policy_match *m,
	       const struct policy_request *rq, char *why, size_t whylen)
{
	const char *pat;
	int64_t total = 0;
	int found;

	why[0] = '\0';
#define ADD(...) policy_why_add(why, whylen, __VA_ARGS__)
	if (m->senders.n > 0) {
		if ((pat = policy_glob(&m->senders, rq->sender)) == NULL)
			return 0;
		ADD("sender %s matches \"%s\"", rq->sender, pat);
	}
	if (m->roles.n > 0) {
		if ((pat = policy_glob(&m->roles, rq->sender_role)) == NULL)
			return 0;
		ADD("sender role %s matches \"%s\"", rq->sender_role, pat);
	}
	if (m->groups.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->ngroups; i++)
			if ((pat = policy_glob(&m->groups, rq->sender_groups[i])) != NULL) {
				ADD("sender group %s matches \"%s\"", rq->sender_groups[i], pat);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->domains.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nrecipients; i++)
			if ((pat = policy_glob(&m->domains, policy_domain(rq->recipients[i]))) != NULL) {
				ADD("recipient %s matches recipient_domains \"%s\"", rq->recipients[i],
				    pat);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->domains_not.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nrecipients; i++)
			if (policy_glob(&m->domains_not, policy_domain(rq->recipients[i])) == NULL) {
				ADD("recipient %s is outside recipient_domains_not", rq->recipients[i]);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->addresses.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nrecipients; i++)
			if ((pat = policy_glob(&m->addresses, rq->recipients[i])) != NULL) {
				ADD("recipient %s matches recipient_addresses \"%s\"",
				    rq->recipients[i], pat);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->min_recipients != POLICY_UNSET) {
		if (rq->nrecipients < (size_t)m->min_recipients)
			return 0;
		ADD("%zu recipients, at least %d", rq->nrecipients, m->min_recipients);
	}
	if (m->max_recipients != POLICY_UNSET) {
		if (rq->nrecipients > (size_t)m->max_recipients)
			return 0;
		ADD("%zu recipients, at most %d", rq->nrecipients, m->max_recipients);
	}
	if (m->min_files != POLICY_UNSET) {
		if (rq->nfiles < (size_t)m->min_files)
			return 0;
		ADD("%zu files, at least %d", rq->nfiles, m->min_files);
	}
	if (m->max_files != POLICY_UNSET) {
		if (rq->nfiles > (size_t)m->max_files)
			return 0;
		ADD("%zu files, at most %d", rq->nfiles, m->max_files);
	}
	for (size_t i = 0; i < rq->nfiles; i++)
		total += rq->files[i].size;
	if (m->min_file_size != POLICY_UNSET) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nfiles; i++)
			if (rq->files[i].size >= m->min_file_size) {
				ADD("file %s has %lld bytes, at least %lld", rq->files[i].name,
				    (long long)rq->files[i].size, (long long)m->min_file_size);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->min_total_size != POLICY_UNSET) {
		if (total < m->min_total_size)
			return 0;
		ADD("%lld bytes in all, at least %lld", (long long)total,
		    (long long)m->min_total_size);
	}
	if (m->types.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nfiles; i++)
			if ((pat = policy_glob(&m->types, rq->files[i].type)) != NULL) {
				if (rq->files[i].type[0] == '\0')
					ADD("file %s has no detected type, matches types \"%s\"",
					    rq->files[i].name, pat);
				else
					ADD("file %s is %s, matches types \"%s\"",
					    rq->files[i].name, rq->files[i].type, pat);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->extensions.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nfiles; i++)
			if ((pat = policy_glob(&m->extensions, policy_ext(rq->files[i].name))) != NULL) {
				ADD("file %s matches extensions \"%s\"", rq->files[i].name, pat);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->verdicts.n > 0) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nfiles; i++)
			if ((pat = policy_glob(&m->verdicts, rq->files[i].verdict)) != NULL) {
				ADD("file %s is %s", rq->files[i].name, rq->files[i].verdict);
				found = 1;
			}
		if (!found)
			return 0;
	}
	if (m->encrypted != POLICY_UNSET) {
		found = 0;
		for (size_t i = 0; !found && i < rq->nfiles; i++)
			if (rq->files[i].encrypted) {
				ADD("file %s is encrypted", rq->files[i].name);
				found = 1;
			}
		if (found != m->encrypted)
			return 0;
		if (!m->encrypted)
			ADD("no file is encrypted");
	}
	if (m->type_mismatch != POLICY_UNSET) {
		char w[POLICY_WHYMAX];
		found = 0;
		for (size_t i = 0; !found && i < rq->nfiles; i++)
			found = policy_type_mismatch(p, &rq->files[i], w, sizeof(w));
		if (found != m->type_mismatch)
			return 0;
		if (found)
			ADD("%s", w);
		else
			ADD("no file's content contradicts its extension");
	}
	if (why[0] == '\0')
		snprintf(why, whylen, "the rule has no conditions");
#undef ADD
	return 1;
}

/* policy_take - part is decided by rule r (if not yet decided) */
static int
policy_take(struct policy_decision *d, int *decided, enum policy_part part,
	    const struct policy_rule *r, const char *why)
{
	if (decided[part])
		return 0;
	decided[part] = 1;
	snprintf(d->rule[part], sizeof(d->rule[part]), "%s", r->id);
	snprintf(d->why[part], sizeof(d->why[part]), "%s", why);
	util_utf8_trim(d->why[part]);
	return 1;
}

/*
 * policy_eval - decide rq. Each part (deny, approval, delay, ...) is made
 * by the first matching rule that says something about it, else by the
 * defaults. Encrypted content is never allowed by allow_unscannable: only
 * allow_encrypted, which a rule must name.
 */
void
policy_eval(const struct policy *p, const struct policy_request *rq, struct policy_decision *d)
{
	int decided[POLICY_NPARTS] = {0};
	char why[POLICY_WHYMAX];

	*d = p->defaults;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];
		if (!policy_matches(p, &r->m, rq, why, sizeof(why)))
			continue;
		if (r->has_deny && policy_take(d, decided, POLICY_DENY, r, why)) {
			d->deny = r->has_deny == 1;
			snprintf(d->deny_message, sizeof(d->deny_message), "%s",
				 r->has_deny == 1 ? r->deny_message : "");
		}
		if (r->has_approval && policy_take(d, decided, POLICY_APPROVAL, r, why)) {
			d->approvals = r->approvals;
			d->approval_self = r->approval_self;
			d->approval_hours = r->approval_hours;
			snprintf(d->approval_group, sizeof(d->approval_group), "%s", r->approval_group);
		}
		if (r->delay_minutes != POLICY_UNSET && policy_take(d, decided, POLICY_DELAY, r, why))
			d->delay_minutes = r->delay_minutes;
		if ((r->expiry_days != POLICY_UNSET || r->max_expiry_days != POLICY_UNSET) &&
		    policy_take(d, decided, POLICY_EXPIRY, r, why)) {
			if (r->max_expiry_days != POLICY_UNSET)
				d->max_expiry_days = r->max_expiry_days;
			if (r->expiry_days != POLICY_UNSET)
				d->expiry_days = r->expiry_days;
			if (d->expiry_days > d->max_expiry_days)
				d->expiry_days = d->max_expiry_days;
		}
		if (r->download_limit != POLICY_UNSET &&
		    policy_take(d, decided, POLICY_DOWNLOADS, r, why))
			d->download_limit = r->download_limit;
		if (r->verification[0] != '\0' && policy_take(d, decided, POLICY_VERIFICATION, r, why))
			snprintf(d->verification, sizeof(d->verification), "%s", r->verification);
		if (r->allow_unscannable != POLICY_UNSET &&
		    policy_take(d, decided, POLICY_UNSCANNABLE, r, why))
			d->allow_unscannable = r->allow_unscannable;
		if (r->allow_encrypted != POLICY_UNSET &&
		    policy_take(d, decided, POLICY_ENCRYPTED, r, why))
			d->allow_encrypted = r->allow_encrypted;
		if (r->retention_days != POLICY_UNSET &&
		    policy_take(d, decided, POLICY_RETENTION, r, why))
			d->retention_days = r->retention_days;
	}
}

/*
 * policy_block_find - content that was not scanned clean stops a send
 * unless a decision lets it pass: encrypted content only with
 * allow_encrypted, other unscannable content with allow_unscannable;
 * infected or failed scans never pass, encrypted or not.
 */
int
policy_block_find(const struct policy_decision *d, const struct policy_request *rq,
		  struct policy_block *b)
{
	for (size_t i = 0; i < rq->nfiles; i++) {
		const struct policy_file *f = &rq->files[i];
		const char *cause = NULL;

		if (strcmp(f->verdict, "clean") != 0 && strcmp(f->verdict, "unscannable") != 0)
			cause = strcmp(f->verdict, "infected") == 0 ? "infected"
				: f->verdict[0] ? "failed"
						: "pending";
		else if (f->encrypted)
			cause = d->allow_encrypted ? NULL : "encrypted";
		else if (strcmp(f->verdict, "unscannable") == 0 && !d->allow_unscannable)
			cause = "unscannable";
		if (cause != NULL) {
			*b = (struct policy_block){.file = i, .cause = cause};
			return 1;
		}
	}
	return 0;
}

/* policy_outcome - what happens to this send (why says so in English) */
enum policy_outcome
policy_outcome(const struct policy_decision *d, const struct policy_request *rq, char *why,
	       size_t whylen)
{
	struct policy_block b;

	if (d->deny) {
		snprintf(why, whylen, "%s", d->deny_message);
		return POLICY_DENIED;
	}
	if (policy_block_find(d, rq, &b)) {
		const struct policy_file *f = &rq->files[b.file];

		if (strcmp(b.cause, "encrypted") == 0)
			snprintf(why, whylen, "file %s is encrypted; no rule allows encrypted files",
				 f->name);
		else if (strcmp(b.cause, "unscannable") == 0)
			snprintf(why, whylen, "file %s could not be scanned; no rule allows that",
				 f->name);
		else
			snprintf(why, whylen, "file %s is %s", f->name,
				 f->verdict[0] ? f->verdict : "not scanned yet");
		return POLICY_BLOCKED;
	}
	if (d->approvals > 0) {
		snprintf(why, whylen, "%d approval%s from group %s%s", d->approvals,
			 d->approvals == 1 ? "" : "s", d->approval_group,
			 d->approval_self ? "" : " (not the sender)");
		return POLICY_APPROVE;
	}
	if (d->delay_minutes > 0) {
		snprintf(why, whylen, "held %d minutes before mailing; the sender can recall it",
			 d->delay_minutes);
		return POLICY_HOLD;
	}
	snprintf(why, whylen, "mailed at once");
	return POLICY_SEND;
}
