/*
 * api_audit.c - reading the audit log over the API, for auditors only:
 *   GET /api/v1/audit?from=&to=&actor=&recipient=&transfer=&event=&outcome=
 *                    &limit=&after=
 * Every parameter is optional and checked (400 names the bad one; an
 * unknown or repeated parameter is refused too, so a typo is not silently
 * "no filter"). Paging is by cursor: "after" is a seq, a page holds the
 * next "limit" matching records in seq order and "next" is the last seq
 * on it, or null when nothing matches beyond it, so pages do not shift
 * while the log grows. The query is db_audit_query (db_audit_query.c).
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_export.h"
#include "db_audit_query.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define API_AUDIT "/api/v1/audit"
#define API_AUDIT_LIMIT 100
#define API_AUDIT_LIMIT_MAX 1000

int
api_audit_route(const char *url)
{
	return strcmp(url, API_AUDIT) == 0;
}

struct api_audit_args {
	struct db_audit_filter f;
	int unpaged; /* the export (api_audit_views.c): no limit, no after */
	unsigned seen;
	const char *why; /* the first problem, or NULL */
	char whybuf[200];
};

static const char *const api_audit_params[] = {
    "from", "to", "actor", "recipient", "transfer", "event", "outcome", "limit", "after",
};

/* api_audit_number - a decimal integer in [min, max]; 0, or -1 */
static int
api_audit_number(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
api_audit_bad(struct api_audit_args *a, const char *key, const char *msg)
{
	if (a->why != NULL)
		return;
	snprintf(a->whybuf, sizeof(a->whybuf), "parameter %s: %s", key, msg);
	a->why = a->whybuf;
}

/* api_audit_arg - one query parameter (MHD_KeyValueIterator) */
static enum MHD_Result
api_audit_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_audit_args *a = cls;
	size_t i, n = sizeof(api_audit_params) / sizeof(api_audit_params[0]);
	int64_t v;

	(void)kind;
	for (i = 0; i < n && strcmp(key, api_audit_params[i]) != 0; i++)
		;
	if (a->unpaged && i < n && (strcmp(key, "limit") == 0 || strcmp(key, "after") == 0))
		i = n;
	if (i == n) {
		/* Not echoed: the name may be any bytes, and the answer is JSON. */
		if (a->why == NULL)
			a->why = a->unpaged
				     ? "unknown parameter (allowed: format, from, to, actor, "
				       "recipient, transfer, event, outcome)"
				     : "unknown parameter (allowed: from, to, actor, recipient, "
				       "transfer, event, outcome, limit, after)";
		return MHD_NO;
	}
	if (a->seen & (1u << i)) {
		api_audit_bad(a, key, "given more than once");
		return MHD_NO;
	}
	a->seen |= 1u << i;
	if (value == NULL || value[0] == '\0' || strlen(value) > AUDIT_FIELDMAX) {
		api_audit_bad(a, key, "needs a value");
		return MHD_NO;
	}
	if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
		if (audit_time_parse(value, &v) != 0) {
			api_audit_bad(a, key, "must be YYYY-MM-DDTHH:MM:SSZ (UTC) or Unix seconds");
			return MHD_NO;
		}
		if (key[0] == 'f') {
			a->f.has_from = 1;
			a->f.from = v;
		} else {
			a->f.has_to = 1;
			a->f.to = v;
		}
	} else if (strcmp(key, "limit") == 0) {
		if (api_audit_number(value, 1, API_AUDIT_LIMIT_MAX, &a->f.limit) != 0) {
			api_audit_bad(a, key, "must be a whole number from 1 to 1000");
			return MHD_NO;
		}
	} else if (strcmp(key, "after") == 0) {
		if (api_audit_number(value, 0, INT64_MAX, &a->f.after) != 0) {
			api_audit_bad(a, key, "must be a record number (seq, 0 or more)");
			return MHD_NO;
		}
	} else if (strcmp(key, "event") == 0) {
		if (!db_audit_filter_event_ok(value)) {
			api_audit_bad(a, key,
				      "must be an event name (user.added) or a prefix (user.*)");
			return MHD_NO;
		}
		a->f.event = value;
	} else if (strcmp(key, "transfer") == 0) {
		if (!util_id_valid(value)) {
			api_audit_bad(a, key, "must be a transfer id");
			return MHD_NO;
		}
		a->f.transfer = value;
	} else if (strcmp(key, "actor") == 0) {
		a->f.actor = value;
	} else if (strcmp(key, "recipient") == 0) {
		a->f.recipient = value;
	} else {
		a->f.outcome = value;
	}
	return MHD_YES;
}

/*
 * api_audit_filter_parse - the query's filters for the export
 * (api_audit_views.c): the parameters above less limit and after, which
 * its caller takes out first (SKIP names one more parameter left to the
 * caller, or NULL). 0, or -1 with why saying which parameter is wrong.
 * F's strings point into the connection's memory.
 */
struct api_audit_skip {
	struct api_audit_args *a;
	const char *skip;
};

static enum MHD_Result
api_audit_arg_skip(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_audit_skip *x = cls;

	if (x->skip != NULL && strcmp(key, x->skip) == 0)
		return MHD_YES;
	return api_audit_arg(x->a, kind, key, value);
}

int
api_audit_filter_parse(struct MHD_Connection *c, const char *skip, struct db_audit_filter *f,
		       char *why, size_t whylen)
{
	struct api_audit_args a;
	struct api_audit_skip x = {&a, skip};

	memset(&a, 0, sizeof(a));
	a.unpaged = 1;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, api_audit_arg_skip, &x);
	if (a.why == NULL && a.f.has_from && a.f.has_to && a.f.from >= a.f.to)
		a.why = "from must be before to";
	if (a.why != NULL) {
		snprintf(why, whylen, "%s", a.why);
		return -1;
	}
	*f = a.f;
	return 0;
}

struct api_audit_page {
	json_t *records;
	int64_t limit, n, last;
	int more;
};

#define API_AUDIT_STOP 2
#define API_AUDIT_NOMEM 3

static int
api_audit_row(const struct db_audit_row *r, void *arg)
{
	struct api_audit_page *p = arg;

	if (p->n == p->limit) { /* one beyond the page: there is a next one */
		p->more = 1;
		return API_AUDIT_STOP;
	}
	if (json_array_append_new(p->records, audit_row_json(r)) != 0)
		return API_AUDIT_NOMEM;
	p->n++;
	p->last = r->seq;
	return 0;
}

enum MHD_Result
api_audit_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *method)
{
	struct api_audit_args a;
	struct api_audit_page p;
	int r;

	http_body_done(rq);
	/* Separation of duties: the log is for auditors, not for admins or users. */
	if (strcmp(rq->user.role, "auditor") != 0)
		return http_error(c, 403, "only auditors may read the audit log");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return api_method_not_allowed(c, "GET, HEAD");
	memset(&a, 0, sizeof(a));
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, api_audit_arg, &a);
	if (a.why == NULL && a.f.has_from && a.f.has_to && a.f.from >= a.f.to)
		a.why = "from must be before to";
	if (a.why != NULL)
		return http_error(c, 400, a.why);
	if (a.f.limit == 0)
		a.f.limit = API_AUDIT_LIMIT;
	memset(&p, 0, sizeof(p));
	p.limit = a.f.limit;
	a.f.limit++; /* one more than the page, to know whether another follows */
	p.records = json_array();
	if (p.records == NULL)
		return http_error(c, 500, "internal error");
	r = db_audit_query(srv->db_read, &a.f, api_audit_row, &p);
	if (r != DB_OK && r != API_AUDIT_STOP) {
		json_decref(p.records);
		if (r == API_AUDIT_NOMEM)
			return http_error(c, 500, "internal error");
		return http_error(c, 503, "database unavailable");
	}
	return api_json(c, 200,
			json_pack("{so so?}", "records", p.records, "next",
				  p.more ? json_integer(p.last) : NULL));
}
