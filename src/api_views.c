/*
 * api_views.c - GET /api/v1/transfers: the calling user's own transfers
 * ("my transfers" for every role), newest first, a page at a time:
 *   GET /api/v1/transfers?limit=&before=&state=
 * limit is 1..200 (50 when absent); before is the "next" of the previous
 * page, an opaque cursor; state keeps only transfers shown in that state
 * (db_views_state_ok). Every parameter is checked; a bad, unknown or
 * repeated one is a 400 that names it. Each item is a summary: the files
 * with their scan verdicts, and per recipient the mail, verification and
 * download state, and for a request (origin "request") the counterparty
 * asked and how far they got; GET /api/v1/transfers/ID has the whole
 * record. A page costs four statements whatever its size (db_views.c), on
 * the read-only connection.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_views.h"
#include "http.h"
#include "jsonutil.h"
#include "util.h"

#define API_VIEWS_LIMIT 50
#define API_VIEWS_CURSORMAX 64

struct api_views_args {
	int limit;
	const char *state;
	struct db_view_cursor cur;
	unsigned seen;
	char why[200];
};

static const char *const api_views_params[] = {"limit", "before", "state"};

static void
api_views_bad(struct api_views_args *a, const char *key, const char *msg)
{
	if (a->why[0] == '\0')
		snprintf(a->why, sizeof(a->why), "parameter %s: %s", key, msg);
}

/*
 * api_views_cursor_parse - "CREATED.ID" as api_views_cursor_make writes it;
 * 0, or -1. Opaque to clients: only what this file wrote is accepted.
 */
static int
api_views_cursor_parse(const char *s, struct db_view_cursor *c)
{
	size_t n = strspn(s, "0123456789");
	int64_t v = 0;

	if (n == 0 || n > 15 || s[n] != '.' || !util_id_valid(s + n + 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	c->created = v;
	memcpy(c->id, s + n + 1, UTIL_IDLEN + 1);
	return 0;
}

static void
api_views_cursor_make(const struct db_view_cursor *c, char out[API_VIEWS_CURSORMAX])
{
	snprintf(out, API_VIEWS_CURSORMAX, "%" PRId64 ".%s", c->created, c->id);
}

/* api_views_arg - one query parameter (MHD_KeyValueIterator) */
static enum MHD_Result
api_views_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_views_args *a = cls;
	size_t i, n = sizeof(api_views_params) / sizeof(api_views_params[0]);

	(void)kind;
	for (i = 0; i < n && strcmp(key, api_views_params[i]) != 0; i++)
		;
	if (i == n) {
		/* Not echoed: the name may be any bytes. */
		if (a->why[0] == '\0')
			snprintf(a->why, sizeof(a->why),
				 "unknown parameter (allowed: limit, before, state)");
		return MHD_NO;
	}
	if (a->seen & (1u << i)) {
		api_views_bad(a, key, "given more than once");
		return MHD_NO;
	}
	a->seen |= 1u << i;
	if (value == NULL || value[0] == '\0' || strlen(value) >= API_VIEWS_CURSORMAX) {
		api_views_bad(a, key, "needs a short value");
		return MHD_NO;
	}
	if (i == 0) {
		char *end;
		long v;
		errno = 0;
		v = strtol(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' || v < 1 ||
		    v > DB_VIEWS_PAGEMAX) {
			api_views_bad(a, key, "must be a whole number from 1 to 200");
			return MHD_NO;
		}
		a->limit = (int)v;
	} else if (i == 1) {
		if (api_views_cursor_parse(value, &a->cur) != 0) {
			api_views_bad(a, key, "must be the \"next\" of a previous page");
			return MHD_NO;
		}
	} else {
		if (!db_views_state_ok(value)) {
			api_views_bad(
			    a, key,
			    "must be one of draft, pending, held, sent, expired, revoked, "
			    "recalled, rejected, lapsed");
			return MHD_NO;
		}
		a->state = value;
	}
	return MHD_YES;
}

struct api_views_page {
	json_t *items; /* the answer's array */
	json_t *byid;  /* id -> item, borrowed references */
	int64_t now;
};

static int
api_views_transfer_cb(const struct db_view_transfer *t, void *arg)
{
	struct api_views_page *p = arg;
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:I, s:[], s:[]}", "id",
		      t->id, "subject", t->subject, "state", t->state, "origin", t->origin,
		      "created", jsonutil_time(t->created), "sent", jsonutil_time(t->sent_at),
		      "expires", jsonutil_time(t->expires_at), "release",
		      jsonutil_time(t->release_at), "revoked", jsonutil_time(t->revoked_at),
		      "file_count", 0, "total_bytes", (json_int_t)0, "files", "recipients");

	if (o == NULL || json_object_set(p->byid, t->id, o) != 0) {
		json_decref(o);
		return -1;
	}
	return json_array_append_new(p->items, o) != 0 ? -1 : 0;
}

static int
api_views_file_cb(const struct db_view_file *f, void *arg)
{
	struct api_views_page *p = arg;
	json_t *t = json_object_get(p->byid, f->transfer_id), *o, *scan;

	if (t == NULL)
		return -1;
	scan = f->scanned_at == 0 ? json_null()
				  : json_pack("{s:s, s:s, s:o}", "verdict", f->verdict, "reason",
					      f->reason, "scanned", jsonutil_time(f->scanned_at));
	o = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o}", "id", f->id, "name", f->name, "size",
		      (json_int_t)f->size, "state", f->state, "scan", scan, "type",
		      f->type[0] ? json_string(f->type) : json_null());
	if (o == NULL || json_array_append_new(json_object_get(t, "files"), o) != 0)
		return -1;
	json_object_set_new(t, "file_count",
			    json_integer(json_integer_value(json_object_get(t, "file_count")) + 1));
	json_object_set_new(t, "total_bytes",
			    json_integer(json_integer_value(json_object_get(t, "total_bytes")) +
					 (json_int_t)f->size));
	return 0;
}

static int
api_views_recipient_cb(const struct db_view_recipient *r, void *arg)
{
	struct api_views_page *p = arg;
	json_t *t = json_object_get(p->byid, r->transfer_id), *o;
	int64_t nfiles;
	const char *link = r->revoked_at	     ? "revoked"
			   : r->expires_at <= p->now ? "expired"
						     : "active";

	if (t == NULL)
		return -1;
	/* Files come first (db_views_transfers), so the count is complete here. */
	nfiles = json_integer_value(json_object_get(t, "file_count"));
	o = json_pack("{s:s, s:s, s:s, s:s?, s:o, s:I, s:I, s:o}", "id", r->id, "address",
		      r->address, "link", link, "mail", r->mail, "verified",
		      jsonutil_time(r->verified_at), "downloads", (json_int_t)r->downloads,
		      "files_completed", (json_int_t)r->files_completed, "completed",
		      nfiles > 0 && r->files_completed >= nfiles ? jsonutil_time(r->completed_at)
								 : json_null());
	if (o == NULL || json_array_append_new(json_object_get(t, "recipients"), o) != 0)
		return -1;
	return 0;
}

/*
 * api_views_request_cb - requests in the app: a request's upload link as
 * "request", named and stated as GET /api/v1/transfers/ID has it
 */
static int
api_views_request_cb(const struct db_view_request *q, void *arg)
{
	struct api_views_page *p = arg;
	json_t *t = json_object_get(p->byid, q->transfer_id), *o;
	const char *link = q->revoked_at	     ? "revoked"
			   : q->completed_at	     ? "completed"
			   : q->expires_at <= p->now ? "expired"
						     : "active";

	if (t == NULL)
		return -1;
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", q->id, "address", q->address, "link",
		      link, "expires", jsonutil_time(q->expires_at), "verified",
		      jsonutil_time(q->verified_at), "completed", jsonutil_time(q->completed_at));
	return o == NULL || json_object_set_new(t, "request", o) != 0 ? -1 : 0;
}

/* api_views_transfers - GET /api/v1/transfers */
enum MHD_Result
api_views_transfers(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	struct api_views_args a;
	struct api_views_page p = {.items = json_array(), .byid = json_object(), .now = util_now()};
	struct db_view_cbs cb = {api_views_transfer_cb, api_views_file_cb, api_views_recipient_cb,
				 &p, api_views_request_cb};
	struct db_view_cursor next;
	char cursor[API_VIEWS_CURSORMAX];
	int more = 0, r;

	memset(&a, 0, sizeof(a));
	a.limit = API_VIEWS_LIMIT;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, api_views_arg, &a);
	if (a.why[0] != '\0' || p.items == NULL || p.byid == NULL) {
		json_decref(p.items);
		json_decref(p.byid);
		return a.why[0] != '\0' ? http_error(c, 400, a.why)
					: http_error(c, 500, "internal error");
	}
	r = db_views_transfers(srv->db_read, rq->user.id, a.state, p.now, &a.cur, a.limit, &cb,
			       &more, &next);
	json_decref(p.byid);
	if (r != DB_OK) {
		json_decref(p.items);
		return http_error(c, 503, "database unavailable");
	}
	api_views_cursor_make(&next, cursor);
	return api_json(
	    c, 200, json_pack("{s:o, s:s?}", "transfers", p.items, "next", more ? cursor : NULL));
}
