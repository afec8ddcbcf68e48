/*
 * api_audit_views.c - the audit log's export and its verification over the
 * API, for auditors only (separation of duties, as GET /api/v1/audit):
 *   GET /api/v1/audit/export?format=csv|jsonl&from=&to=&actor=&recipient=
 *                           &transfer=&event=&outcome=
 *   GET /api/v1/audit/verify
 * The export writes the same bytes as "okuructl audit export" with the
 * same filters (audit_export.c formats both): CSV with a byte order mark
 * and CRLF, or JSON Lines. It is streamed (MHD_create_response_from_callback)
 * in batches read by seq cursor from the read-only connection, so neither
 * the whole log nor the connection's lock is held at once; records
 * appended after the export began are left out, as a single query would.
 * The verification is audit_verify_run, the same as "okuructl audit
 * verify", one at a time (a second one meanwhile is answered 429).
 * Reading only: nothing is recorded.
 */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_export.h"
#include "audit_verify.h"
#include "db_audit_query.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "util.h"

#define API_AUDIT_EXPORT "/api/v1/audit/export"
#define API_AUDIT_VERIFY "/api/v1/audit/verify"
/* Records per read: a batch's text is all an export holds in memory. */
#define API_EXPORT_BATCH 256 /* small: t_views.sh crosses batch ends with a few hundred */
#define API_EXPORT_BLOCK (64 * 1024)

int
api_audit_views_route(const char *url)
{
	return strcmp(url, API_AUDIT_EXPORT) == 0 || strcmp(url, API_AUDIT_VERIFY) == 0;
}

/* ---- export ------------------------------------------------------------- */

struct api_export {
	struct db *db;
	struct db_audit_filter f; /* its strings are the copies below */
	char *actor, *recipient, *transfer, *event, *outcome;
	int jsonl;
	int64_t ceiling; /* the last record when the export began */
	int64_t rows;	 /* records in the batch being read */
	int done, failed;
	FILE *mem;
	char *buf; /* the text not yet handed to MHD */
	size_t len, off;
};

#define API_EXPORT_STOP 2
#define API_EXPORT_FAILED 3

static void
api_export_free(void *cls)
{
	struct api_export *x = cls;

	free(x->buf);
	free(x->actor);
	free(x->recipient);
	free(x->transfer);
	free(x->event);
	free(x->outcome);
	free(x);
}

/* api_export_row - one record, as ctl_audit_export.c writes it */
static int
api_export_row(const struct db_audit_row *r, void *arg)
{
	struct api_export *x = arg;
	json_t *o;
	int rc;

	if (r->seq > x->ceiling)
		return API_EXPORT_STOP;
	x->rows++;
	x->f.after = r->seq;
	if (!x->jsonl) {
		rc = audit_csv_row(x->mem, r);
	} else {
		o = audit_row_json(r);
		rc = o == NULL || json_dumpf(o, x->mem, JSON_COMPACT) != 0 ||
			     fputc('\n', x->mem) == EOF
			 ? -1
			 : 0;
		json_decref(o);
	}
	return rc != 0 ? API_EXPORT_FAILED : 0;
}

/* api_export_fill - the next batch's text into x->buf; 0, or -1 */
static int
api_export_fill(struct api_export *x)
{
	int r;

	free(x->buf);
	x->buf = NULL;
	x->len = x->off = 0;
	x->mem = open_memstream(&x->buf, &x->len);
	if (x->mem == NULL)
		return -1;
	x->rows = 0;
	x->f.limit = API_EXPORT_BATCH;
	r = db_audit_query(x->db, &x->f, api_export_row, x);
	if (fclose(x->mem) != 0)
		r = API_EXPORT_FAILED;
	x->mem = NULL;
	if (r == API_EXPORT_STOP || (r == DB_OK && x->rows < API_EXPORT_BATCH))
		x->done = 1;
	return r == DB_OK || r == API_EXPORT_STOP ? 0 : -1;
}

/* api_export_read - MHD's content reader: hand out the text, batch after batch */
static ssize_t
api_export_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct api_export *x = cls;
	size_t n;

	(void)pos;
	while (x->off == x->len) {
		if (x->done || x->failed)
			return x->failed ? MHD_CONTENT_READER_END_WITH_ERROR
					 : MHD_CONTENT_READER_END_OF_STREAM;
		if (api_export_fill(x) != 0) {
			/* The status line is gone: cutting the stream is all that is left. */
			log_event(LOG_LVL_ERR, "audit.export_failed", "after_seq=%lld",
				  (long long)x->f.after);
			x->failed = 1;
		}
	}
	n = x->len - x->off < max ? x->len - x->off : max;
	memcpy(out, x->buf + x->off, n);
	x->off += n;
	return (ssize_t)n;
}

/* api_export_copy - a copy of a filter string (NULL stays NULL); -1 without memory */
static int
api_export_copy(const char *s, char **dst, const char **field)
{
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	*field = *dst;
	return *dst == NULL ? -1 : 0;
}

/* api_export_name_time - a bound of the file name: 20260101T000000Z, or WORD when unset */
static void
api_export_name_time(int has, int64_t t, const char *word, char out[32])
{
	char iso[32];
	size_t o = 0;

	if (!has) {
		snprintf(out, 32, "%s", word);
		return;
	}
	util_time_iso(t, iso);
	for (const char *p = iso; *p && o < 31; p++)
		if (*p != '-' && *p != ':')
			out[o++] = *p;
	out[o] = '\0';
}

/* api_export_format_count - how many times "format" is given (MHD_KeyValueIterator) */
static enum MHD_Result
api_export_format_count(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	if (strcmp(key, "format") == 0)
		(*(int *)cls)++;
	return MHD_YES;
}

static enum MHD_Result
api_export(struct server *srv, struct MHD_Connection *c)
{
	const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	struct api_export *x;
	struct db_audit_filter f;
	struct MHD_Response *resp;
	unsigned char head[32];
	char why[200], from[32], to[32], disp[160];
	int jsonl, nformat = 0;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, api_export_format_count, &nformat);
	if (nformat > 1)
		return http_error(c, 400, "parameter format: given more than once");
	if (format == NULL || (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0))
		return http_error(c, 400, "parameter format: must be csv or jsonl");
	if (api_audit_filter_parse(c, "format", &f, why, sizeof(why)) != 0)
		return http_error(c, 400, why);
	jsonl = strcmp(format, "jsonl") == 0;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return http_error(c, 503, "out of memory");
	x->db = srv->db_read;
	x->jsonl = jsonl;
	x->f = f;
	x->f.after = 0;
	if (api_export_copy(f.actor, &x->actor, &x->f.actor) != 0 ||
	    api_export_copy(f.recipient, &x->recipient, &x->f.recipient) != 0 ||
	    api_export_copy(f.transfer, &x->transfer, &x->f.transfer) != 0 ||
	    api_export_copy(f.event, &x->event, &x->f.event) != 0 ||
	    api_export_copy(f.outcome, &x->outcome, &x->f.outcome) != 0) {
		api_export_free(x);
		return http_error(c, 503, "out of memory");
	}
	if (db_audit_head(srv->db_read, &x->ceiling, head) != DB_OK) {
		api_export_free(x);
		return http_error(c, 503, "database unavailable");
	}
	/* The header goes first, as okuructl writes it: a BOM for Excel, then the names. */
	if (!jsonl && (x->buf = strdup("\xEF\xBB\xBF" AUDIT_CSV_HEADER "\r\n")) == NULL) {
		api_export_free(x);
		return http_error(c, 503, "out of memory");
	}
	x->len = x->buf != NULL ? strlen(x->buf) : 0;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, API_EXPORT_BLOCK,
						 api_export_read, x, api_export_free);
	if (resp == NULL) {
		api_export_free(x);
		return MHD_NO;
	}
	api_export_name_time(f.has_from, f.from, "start", from);
	api_export_name_time(f.has_to, f.to, "end", to);
	snprintf(disp, sizeof(disp), "attachment; filename=\"okuru-audit-%s-%s.%s\"", from, to,
		 jsonl ? "jsonl" : "csv");
	MHD_add_response_header(resp, "Content-Type",
				jsonl ? "application/x-ndjson; charset=utf-8"
				      : "text/csv; charset=utf-8");
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "Cache-Control", "private, no-store");
	return http_send(c, 200, resp);
}

/* ---- verify ------------------------------------------------------------- */

/* One verification at a time: each reads the whole log. */
static pthread_mutex_t api_verify_lock = PTHREAD_MUTEX_INITIALIZER;

static json_t *
api_verify_json(const struct audit_verify_result *res, const char *key_id)
{
	char hex[2 * AUDIT_HASHBYTES + 1];
	json_t *cp = json_null(), *problems = json_array();

	if (res->has_last_checkpoint) {
		sodium_bin2hex(hex, sizeof(hex), res->last_checkpoint.hash, AUDIT_HASHBYTES);
		cp = json_pack("{s:I, s:o, s:s, s:s, s:s}", "seq",
			       (json_int_t)res->last_checkpoint.seq, "signed",
			       jsonutil_time(res->last_checkpoint.at), "hash", hex, "key_id",
			       res->last_checkpoint.key_id, "from", res->last_checkpoint_from);
	}
	if (problems != NULL && res->problem[0] != '\0')
		json_array_append_new(problems, jsonutil_text(res->problem));
	sodium_bin2hex(hex, sizeof(hex), res->last_hash, AUDIT_HASHBYTES);
	return json_pack("{s:b, s:I, s:I, s:I, s:s*, s:i, s:i, s:o*, s:o*, s:s}", "ok", res->ok,
			 "records", (json_int_t)res->records, "first_seq",
			 (json_int_t)res->first_seq, "last_seq", (json_int_t)res->last_seq,
			 "last_hash", res->records > 0 ? hex : NULL, "checkpoints",
			 (int)res->checkpoints, "anchors", (int)res->anchors, "last_checkpoint", cp,
			 "problems", problems, "public_key", key_id);
}

static enum MHD_Result
api_verify(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	struct audit_verify_result res;
	unsigned char pk[AUDIT_PKBYTES];
	char err[1024], id[AUDIT_KEYIDLEN + 1];
	int r;

	if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0)
		return http_error(c, 400, "verify takes no parameters");
	if (audit_pub_load(srv->conf.audit_public_key, pk, err, sizeof(err)) != 0) {
		log_event(LOG_LVL_ERR, "audit.verify_failed", "error=%s", err);
		return http_error(c, 503,
				  "the audit public key cannot be read (see the server log)");
	}
	if (pthread_mutex_trylock(&api_verify_lock) != 0)
		return http_error(c, 429, "a verification is already running; try again later");
	r = audit_verify_run(srv->db_read, pk, NULL, 0, &res);
	pthread_mutex_unlock(&api_verify_lock);
	if (r != 0) {
		log_event(LOG_LVL_ERR, "audit.verify_failed", "error=\"%s\"", res.problem);
		return http_error(c, 503, "database unavailable");
	}
	audit_key_id(pk, id);
	log_event(LOG_LVL_INFO, "audit.verified", "user=%s ok=%d records=%lld", rq->user.name,
		  res.ok, (long long)res.records);
	return api_json(c, 200, api_verify_json(&res, id));
}

enum MHD_Result
api_audit_views_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
		       const char *url, const char *method)
{
	http_body_done(rq);
	/* Separation of duties, as GET /api/v1/audit: auditors only. */
	if (strcmp(rq->user.role, "auditor") != 0)
		return http_error(c, 403, "only auditors may read the audit log");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return api_method_not_allowed(c, "GET, HEAD");
	if (strcmp(url, API_AUDIT_EXPORT) == 0)
		return api_export(srv, c);
	return api_verify(srv, c, rq);
}
