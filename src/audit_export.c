/*
 * audit_export.c - an audit record as JSON and as CSV. Pure formatting:
 * the records come from db_audit_query (db_audit_query.c).
 */
#include "config.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_export.h"
#include "util.h"

char *
audit_csv_field(const char *s)
{
	/* Excel starts a formula (or DDE) at these; an apostrophe makes it text. */
	int guard = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	size_t n = strlen(s), extra = 0;
	char *out, *p;

	for (const char *q = s; *q; q++)
		extra += *q == '"';
	out = malloc(n + extra + (size_t)guard + 3);
	if (out == NULL)
		return NULL;
	p = out;
	if (quote)
		*p++ = '"';
	if (guard)
		*p++ = '\'';
	for (const char *q = s; *q; q++) {
		if (*q == '"' && quote)
			*p++ = '"';
		*p++ = *q;
	}
	if (quote)
		*p++ = '"';
	*p = '\0';
	return out;
}

/* audit_csv_put - one field, then SEP */
static int
audit_csv_put(FILE *out, const char *s, const char *sep)
{
	char *f = audit_csv_field(s);
	int r;

	if (f == NULL)
		return -1;
	r = fputs(f, out) < 0 || fputs(sep, out) < 0 ? -1 : 0;
	free(f);
	return r;
}

int
audit_csv_row(FILE *out, const struct db_audit_row *r)
{
	char at[32], hex[AUDIT_HASHBYTES * 2 + 1] = "";
	const char *mid[] = {r->actor_kind,  r->actor,	   r->ip,      r->user_agent, r->event,
			     r->object_kind, r->object_id, r->outcome, r->detail};

	util_time_iso(r->at, at);
	if (r->hash != NULL)
		sodium_bin2hex(hex, sizeof(hex), r->hash, AUDIT_HASHBYTES);
	if (fprintf(out, "%" PRId64 ",%s,", r->seq, at) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(mid) / sizeof(mid[0]); i++) {
		if (audit_csv_put(out, mid[i], ",") != 0)
			return -1;
	}
	return audit_csv_put(out, hex, "\r\n");
}

json_t *
audit_row_json(const struct db_audit_row *r)
{
	char at[32], hex[AUDIT_HASHBYTES * 2 + 1];
	json_t *o, *detail;

	util_time_iso(r->at, at);
	detail = json_loads(r->detail, JSON_REJECT_DUPLICATES, NULL);
	if (detail == NULL) /* a damaged row: its text as a string (null if not UTF-8) */
		detail = json_string(r->detail);
	if (r->hash != NULL)
		sodium_bin2hex(hex, sizeof(hex), r->hash, AUDIT_HASHBYTES);
	o = json_pack("{sI ss ss ss ss ss ss ss ss ss so? so?}", "seq", (json_int_t)r->seq, "at", at,
		      "actor_kind", r->actor_kind, "actor", r->actor, "ip", r->ip, "user_agent",
		      r->user_agent, "event", r->event, "object_kind", r->object_kind, "object_id",
		      r->object_id, "outcome", r->outcome, "detail", detail, "hash",
		      r->hash != NULL ? json_string(hex) : NULL);
	return o;
}

int
audit_time_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = strspn(s, "0123456789");

	if (n > 0 && s[n] == '\0') {
		if (n > 12) /* beyond year 33658: a typo, not a time */
			return -1;
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (s[i] - '0');
		*out = v;
		return 0;
	}
	return util_time_parse(s, out);
}
