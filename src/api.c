/*
 * api.c - the JSON API over HTTPS: routing, bearer authentication, transfer
 * creation, streaming upload (PUT, raw body, constant memory) into an
 * encrypted blob, and streaming download with Range.
 *
 * Upload path: first call (headers) authenticates, checks the transfer, the
 * name and the declared size, opens a staging file and a store_seal; each
 * body piece is hashed (SHA-256 of the plaintext) and sealed; the last call
 * seals the final chunk, commits the blob durably (blob.c), wraps the data
 * key and inserts the row, and only then answers 201.
 */
#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_tus.h"
#include "auth.h"
#include "blob.h"
#include "fname.h"
#include "http.h"
#include "jsonutil.h"
#include "keys.h"
#include "log.h"
#include "mailer.h"
#include "scanner.h"
#include "session.h"
#include "store.h"
#include "util.h"

#define API_PREFIX "/api/v1/transfers"
#define API_REQUESTS "/api/v1/requests"
#define API_APPROVALS "/api/v1/approvals"
#define API_SUBJECT_MAX 998
#define API_MESSAGE_MAX 10000
/* One storage chunk per read: the buffer MHD holds per download stays small. */
#define API_DOWNLOAD_BLOCK STORE_CHUNKBYTES

struct upload {
	int fd;
	char staging[PATH_MAX];
	struct store_seal seal;
	gnutls_hash_hd_t sha; /* GnuTLS: hardware SHA-256, ~6x libsodium's */
	unsigned char dk[KEYS_KEYBYTES];
	struct db_file f;
	uint64_t received;
	int64_t max;
	int max_files;
	int64_t max_bytes; /* an upload link's whole budget (checked at insert) */
	int failed;		/* stop storing; answer fail_status at the end */
	unsigned fail_status;
	const char *fail_msg;
	char fail_buf[96];
	uint64_t discarded;
	int committed;
};

/*
 * libmicrohttpd 0.9.75 accepts a response only before the body or after
 * all of it. When an upload fails part-way (a chunked body over the size
 * limit, a full disk), the rest of the body is read and dropped so the
 * client still gets its 413/507; past this much the connection is cut.
 */
#define API_DISCARD_MAX (64ULL * 1024 * 1024)

struct download {
	int fd;
	struct store_open o;
	uint64_t start;
	uint64_t len;
	char file_id[UTIL_IDLEN + 1];
	uint64_t *sent; /* the request's count of bytes handed to MHD */
};

enum MHD_Result
api_json(struct MHD_Connection *c, unsigned status, json_t *o)
{
	struct MHD_Response *r = http_json_response(o);

	if (r == NULL)
		return http_error(c, 500, "internal error");
	return http_send(c, status, r);
}

static const char *
api_user_log(const struct req *rq)
{
	return rq->user_ok ? rq->user.name : "-";
}

/* ---- transfers ---------------------------------------------------------- */

/* api_transfer_load - the transfer, if it exists and this user may see it */
int
api_transfer_load(struct server *srv, struct req *rq, const char *id, struct db_transfer *t)
{
	int r;

	if (!util_id_valid(id))
		return DB_NOTFOUND;
	r = db_transfer_get(srv->db, id, t);
	if (r != DB_OK)
		return r;
	/* Another user's transfer is answered exactly like a missing one. Admins
	 * and auditors see every transfer (auditors only read: api_handle). */
	if (t->owner_id != rq->user.id && strcmp(rq->user.role, "admin") != 0 &&
	    strcmp(rq->user.role, "auditor") != 0) {
		db_transfer_free(t);
		return DB_NOTFOUND;
	}
	return DB_OK;
}

static enum MHD_Result
api_transfer_create(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	struct db_transfer t;
	json_t *in = NULL, *v;
	json_error_t jerr;
	const char *key, *subject = "", *message = "";
	char why[200];
	int r;

	if (rq->bodylen > 0) {
		if (jsonutil_depth_ok(rq->body, rq->bodylen, 8) != 0)
			return http_error(c, 400, "JSON nested too deeply");
		in = json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, &jerr);
		if (in == NULL) {
			snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
			return http_error(c, 400, why);
		}
		if (!json_is_object(in)) {
			json_decref(in);
			return http_error(c, 400, "request body must be a JSON object");
		}
		json_object_foreach(in, key, v) {
			if (strcmp(key, "subject") != 0 && strcmp(key, "message") != 0) {
				json_decref(in);
				return http_error(c, 400, "unknown field (allowed: subject, message)");
			}
			if (!json_is_string(v)) {
				json_decref(in);
				return http_error(c, 400, "subject and message must be strings");
			}
		}
		if ((v = json_object_get(in, "subject")) != NULL)
			subject = json_string_value(v);
		if ((v = json_object_get(in, "message")) != NULL)
			message = json_string_value(v);
		if (strlen(subject) > API_SUBJECT_MAX || strlen(message) > API_MESSAGE_MAX ||
		    jsonutil_has_controls(subject, 0) || jsonutil_has_controls(message, 1)) {
			json_decref(in);
			return http_error(c, 400,
					  "subject (998 bytes, one line) or message (10000 bytes) "
					  "too long or contains control characters");
		}
	}
	memset(&t, 0, sizeof(t));
	util_id_new(t.id);
	t.owner_id = rq->user.id;
	t.subject = (char *)subject;
	t.message = (char *)message;
	t.created = util_now();
	r = db_transfer_create(srv->db, &t, &rq->who);
	json_decref(in);
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	log_event(LOG_LVL_INFO, "transfer.created", "transfer=%s user=%s", t.id, rq->user.name);
	{
		char loc[128];
		struct MHD_Response *resp =
			http_json_response(json_pack("{s:s, s:s}", "id", t.id, "state", "draft"));
		if (resp == NULL)
			return MHD_NO;
		snprintf(loc, sizeof(loc), API_PREFIX "/%s", t.id);
		MHD_add_response_header(resp, "Location", loc);
		return http_send(c, 201, resp);
	}
}

/*
 * api_scan_json - the latest scan of a file, or null while it waits.
 * "signature" names what libclamav matched (a virus, or the heuristic that
 * made the file unscannable); "message" explains an error.
 */
static json_t *
api_scan_json(const struct db_file *f)
{
	char when[32];
	json_t *o;
	int sig;

	if (f->scanned_at == 0)
		return json_null();
	util_time_iso(f->scanned_at, when);
	o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "verdict", f->scan_verdict, "engine",
		      f->scan_engine,
		      "signatures", f->scan_db_version, "scanned", when, "duration_ms",
		      (json_int_t)f->scan_ms);
	if (o == NULL)
		return NULL;
	sig = strcmp(f->scan_verdict, "infected") == 0 || strcmp(f->scan_verdict, "unscannable") == 0;
	if (f->scan_reason[0] != '\0')
		json_object_set_new(o, "reason", json_string(f->scan_reason));
	if (f->scan_detail[0] != '\0')
		json_object_set_new(o, sig ? "signature" : "message", json_string(f->scan_detail));
	if (f->shredded)
		json_object_set_new(o, "content", json_string("destroyed"));
	return o;
}

/*
 * api_file_json - a file object. "type" is the media type the scanner
 * detected from the content (libmagic), null until the scan or when it
 * could not be told; the name's extension plays no part in it.
 */
static json_t *
api_file_json(const struct db_file *f)
{
	char created[32];
	json_t *scan = api_scan_json(f);

	if (scan == NULL)
		return NULL;
	util_time_iso(f->created, created);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:o}", "id", f->id, "name", f->name,
			 "size", (json_int_t)f->size, "sha256", f->sha256, "state", f->state,
			 "created", created, "scan", scan, "type",
			 f->detected_type[0] ? json_string(f->detected_type) : json_null());
}

static int
api_file_list_cb(const struct db_file *f, void *arg)
{
	json_t *o = api_file_json(f);

	return o == NULL || json_array_append_new(arg, o) != 0;
}

enum MHD_Result
api_transfer_show(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *id)
{
	return api_transfer_respond(srv, c, rq, id, 200);
}

/*
 * api_transfer_json - a transfer as JSON, for whoever may see it (the
 * caller checked): its files, policy decision, approval and recipients.
 */
json_t *
api_transfer_json(struct server *srv, const char *id)
{
	struct db_transfer t;
	json_t *files, *o;
	char created[32];

	if (db_transfer_get(srv->db, id, &t) != DB_OK)
		return NULL;
	files = json_array();
	if (files == NULL || db_file_list(srv->db, t.id, api_file_list_cb, files) != DB_OK) {
		json_decref(files);
		db_transfer_free(&t);
		return NULL;
	}
	util_time_iso(t.created, created);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", t.id, "subject", t.subject,
		      "message", t.message, "state", t.state, "created", created, "files", files);
	db_transfer_free(&t);
	if (o != NULL && (api_send_json(srv, id, o) != 0 || api_hold_json(srv, id, o) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* api_transfer_respond - the transfer as JSON with the given status */
enum MHD_Result
api_transfer_respond(struct server *srv, struct MHD_Connection *c, struct req *rq,
		     const char *id, unsigned status)
{
	struct db_transfer t;
	json_t *o;
	int r = api_transfer_load(srv, rq, id, &t);

	if (r == DB_NOTFOUND)
		return http_error_code(c, 404, "not_found", "no such transfer");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	db_transfer_free(&t);
	o = api_transfer_json(srv, id);
	if (o == NULL)
		return http_error(c, 503, "database unavailable");
	return api_json(c, status, o);
}

/* ---- upload ------------------------------------------------------------- */

static void
api_upload_free(struct upload *up)
{
	if (up == NULL)
		return;
	store_seal_free(&up->seal);
	if (up->fd >= 0)
		close(up->fd);
	if (!up->committed && up->staging[0] != '\0')
		unlink(up->staging);
	sodium_memzero(up->dk, sizeof(up->dk));
	if (up->sha != NULL)
		gnutls_hash_deinit(up->sha, NULL);
	free(up);
}

/*
 * api_upload_refuse - answer an upload refused before its body. A client
 * that sent "Expect: 100-continue" waits for our word: answer now. Any
 * other is already sending, and an answer now would reach it as a broken
 * pipe (libmicrohttpd closes the connection): read and drop the body (up to
 * API_DISCARD_MAX) and answer at its end.
 */
enum MHD_Result
api_upload_refuse(struct MHD_Connection *c, struct req *rq, unsigned status, const char *msg)
{
	const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
	struct upload *up;

	if ((expect != NULL && strcasecmp(expect, "100-continue") == 0) || rq->up != NULL ||
	    (up = calloc(1, sizeof(*up))) == NULL) {
		http_body_done(rq);
		return http_error(c, status, msg);
	}
	up->fd = -1;
	up->seal.fd = -1;
	up->failed = 1;
	up->fail_status = status;
	snprintf(up->fail_buf, sizeof(up->fail_buf), "%s", msg);
	up->fail_msg = up->fail_buf;
	rq->up = up;
	return MHD_YES;
}

/*
 * api_upload_draft - may this user add files to transfer tid (a draft the
 * user may see)? 0, or the HTTP status to refuse with and *msg. Staff
 * uploads (PUT and tus) both ask.
 */
unsigned
api_upload_draft(struct server *srv, struct req *rq, const char *tid, const char **msg)
{
	struct db_transfer t;
	int r = api_transfer_load(srv, rq, tid, &t);

	if (r == DB_NOTFOUND) {
		*msg = "no such transfer";
		return 404;
	}
	if (r != DB_OK) {
		*msg = "database unavailable";
		return 503;
	}
	r = strcmp(t.state, "draft");
	db_transfer_free(&t);
	if (r != 0) {
		*msg = "files can only be added to a draft transfer";
		return 409;
	}
	return 0;
}

/* api_upload_begin - a staff upload: the transfer must be the user's draft */
static enum MHD_Result
api_upload_begin(struct server *srv, struct MHD_Connection *c, struct req *rq,
		 const char *tid, const char *rawname)
{
	struct limits l;
	const char *msg;
	unsigned status;

	http_limits(srv, &l);
	status = api_upload_draft(srv, rq, tid, &msg);
	if (status != 0)
		return api_upload_refuse(c, rq, status, msg);
	return api_upload_open(srv, c, rq, tid, rawname, l.max_file_size, l.max_files_per_transfer,
			       NULL, 0);
}

/*
 * api_upload_admit - the checks every upload makes before its first byte
 * (PUT, upload links, tus creation): may a file named rawname, of size
 * bytes (-1 when not declared), join transfer tid? The name is normalized
 * into name. 0, or the HTTP status to refuse with and *msg (kept in buf
 * when it needs one). max_size bounds this file, max_files the transfer.
 */
unsigned
api_upload_admit(struct server *srv, struct req *rq, const char *tid, const char *rawname,
		 int64_t size, int64_t max_size, int max_files, char name[FNAME_MAXBYTES + 1],
		 const char **msg, char *buf, size_t buflen)
{
	int r, n;

	if (fname_normalize(rawname, strlen(rawname), name, FNAME_MAXBYTES + 1, msg) != 0)
		return 400;
	if (size > max_size) {
		snprintf(buf, buflen, "file too large (limit %lld bytes)", (long long)max_size);
		*msg = buf;
		log_event(LOG_LVL_INFO, "upload.refused",
			  "transfer=%s user=%s reason=too_large size=%lld", tid, rq->user.name,
			  (long long)size);
		return 413;
	}
	r = db_file_name_taken(srv->db, tid, name);
	if (r < 0 || db_file_count(srv->db, tid, &n) != DB_OK) {
		*msg = "database unavailable";
		return 503;
	}
	if (r > 0) {
		*msg = "the transfer already has a file with this name";
		return 409;
	}
	if (n >= max_files) {
		*msg = "the transfer has the maximum number of files";
		return 409;
	}
	return 0;
}

/*
 * api_upload_open - headers are in and the caller may add to transfer tid:
 * check everything we can before any byte, then open the staging file.
 * max_size bounds this file, max_files the transfer.
 */
enum MHD_Result
api_upload_open(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid,
		const char *rawname, int64_t max_size, int max_files, const char *uploader,
		int64_t max_bytes)
{
	struct upload *up;
	const char *why, *cl;
	char name[FNAME_MAXBYTES + 1], msg[96];
	int64_t size = -1;
	unsigned status;

	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(cl, &end, 10);
		if (errno == 0 && *end == '\0')
			size = v > INT64_MAX ? INT64_MAX : (int64_t)v;
	}
	status = api_upload_admit(srv, rq, tid, rawname, size, max_size, max_files, name, &why, msg,
				  sizeof(msg));
	if (status != 0)
		return api_upload_refuse(c, rq, status, why);

	up = calloc(1, sizeof(*up));
	if (up == NULL)
		return http_error(c, 503, "out of memory");
	up->fd = -1;
	up->max = max_size;
	up->max_files = max_files;
	up->max_bytes = max_bytes;
	snprintf(up->f.uploader, sizeof(up->f.uploader), "%s", uploader ? uploader : "");
	up->seal.fd = -1;
	util_id_new(up->f.id);
	memcpy(up->f.transfer_id, tid, UTIL_IDLEN + 1);
	memcpy(up->f.name, name, strlen(name) + 1);
	up->fd = blob_staging_open(srv->conf.storage_dir, up->staging);
	if (up->fd < 0) {
		log_event(LOG_LVL_ERR, "upload.staging_failed", "error=\"%s\"", strerror(errno));
		up->staging[0] = '\0';
		api_upload_free(up);
		return http_error(c, 503, "storage unavailable");
	}
	keys_data_key_new(up->dk);
	if (gnutls_hash_init(&up->sha, GNUTLS_DIG_SHA256) != 0) {
		up->sha = NULL;
		api_upload_free(up);
		return http_error(c, 503, "hash unavailable");
	}
	if (store_seal_init(&up->seal, up->fd, store_cipher_default(), up->dk) != 0) {
		log_event(LOG_LVL_ERR, "upload.write_failed", "error=\"%s\"", strerror(errno));
		api_upload_free(up);
		return http_error(c, 503, "storage unavailable");
	}
	rq->up = up;
	return MHD_YES;
}

/*
 * api_upload_refused_record - file.upload_refused for an upload refused
 * after its body began (a limit, a name taken): nothing is stored, so the
 * record has a transaction of its own.
 */
static int
api_upload_refused_record(struct server *srv, const struct req *rq, const char *reason)
{
	const struct upload *up = rq->up;
	json_t *d = json_pack("{s:s, s:s, s:I, s:s}", "transfer", up->f.transfer_id, "name",
			      up->f.name, "received", (json_int_t)up->received, "reason", reason);

	if (d != NULL && up->f.uploader[0] != '\0' &&
	    json_object_set_new(d, "upload_link", json_string(up->f.uploader)) != 0) {
		json_decref(d);
		d = NULL;
	}
	if (d == NULL)
		return DB_ERROR;
	return db_audit_record(srv->db, &rq->who, "file.upload_refused", "file", up->f.id,
			       "refused", d, util_now());
}

static enum MHD_Result
api_upload_fail(struct req *rq, unsigned status, const char *msg)
{
	struct upload *up = rq->up;

	/* Stop storing at once; the staging file goes when the request ends. */
	up->failed = 1;
	up->fail_status = status;
	snprintf(up->fail_buf, sizeof(up->fail_buf), "%s", msg);
	up->fail_msg = up->fail_buf;
	store_seal_free(&up->seal);
	if (up->fd >= 0) {
		close(up->fd);
		up->fd = -1;
	}
	if (up->staging[0] != '\0') {
		unlink(up->staging);
		up->staging[0] = '\0';
	}
	return MHD_YES;
}

static enum MHD_Result
api_upload_data(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *data,
		size_t *size)
{
	struct upload *up = rq->up;
	size_t n = *size;

	*size = 0;
	http_body_progress(rq, n);
	if (up->failed) {
		up->discarded += n;
		return up->discarded > API_DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (up->received + n > (uint64_t)up->max) {
		char msg[96];
		snprintf(msg, sizeof(msg), "file too large (limit %lld bytes)", (long long)up->max);
		log_event(LOG_LVL_INFO, "upload.refused", "transfer=%s user=%s reason=too_large",
			  up->f.transfer_id, rq->user.name);
		if (api_upload_refused_record(srv, rq, msg) != DB_OK)
			return api_upload_fail(rq, 503, "database unavailable");
		return api_upload_fail(rq, 413, msg);
	}
	up->received += n;
	gnutls_hash(up->sha, data, n);
	if (store_seal_update(&up->seal, data, n) != 0) {
		int e = errno;
		log_event(LOG_LVL_ERR, "upload.write_failed", "transfer=%s error=\"%s\"",
			  up->f.transfer_id, strerror(e));
		return api_upload_fail(rq, e == ENOSPC ? 507 : 503, "storage write failed");
	}
	return MHD_YES;
}

/* api_upload_finish - the whole body is in: make it durable, then say 201 */
static enum MHD_Result
api_upload_finish(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	struct upload *up = rq->up;
	unsigned char digest[32];
	char loc[160], qname[600], why[160];
	json_t *o;
	int r;

	http_body_done(rq);
	if (up->failed)
		return http_error(c, up->fail_status, up->fail_msg);
	if (store_seal_final(&up->seal) != 0 ||
	    blob_commit(srv->conf.storage_dir, up->fd, up->staging, up->f.id) != 0) {
		int e = errno;
		log_event(LOG_LVL_ERR, "upload.commit_failed", "transfer=%s error=\"%s\"",
			  up->f.transfer_id, strerror(e));
		up->failed = 1;
		return http_error(c, e == ENOSPC ? 507 : 503, "storage write failed");
	}
	up->staging[0] = '\0'; /* renamed: nothing to unlink any more */
	gnutls_hash_deinit(up->sha, digest);
	up->sha = NULL;
	sodium_bin2hex(up->f.sha256, sizeof(up->f.sha256), digest, sizeof(digest));
	up->f.size = (int64_t)up->received;
	up->f.created = util_now();
	snprintf(up->f.state, sizeof(up->f.state), "uploaded");
	if (keys_wrap(srv->keys, up->f.id, up->dk, up->f.wrapped, up->f.key_id) != 0) {
		blob_remove(srv->conf.storage_dir, up->f.id);
		up->failed = 1;
		return http_error(c, 500, "key wrapping failed");
	}
	sodium_memzero(up->dk, sizeof(up->dk));
	r = db_file_insert(srv->db, &up->f, up->max_files, up->max_bytes, &rq->who, why,
			   sizeof(why));
	if (r != DB_OK) {
		/* No row, so the blob must go too; recovery would remove it anyway. */
		blob_remove(srv->conf.storage_dir, up->f.id);
		up->failed = 1;
		if (r == DB_CONFLICT && api_upload_refused_record(srv, rq, why) == DB_OK)
			return http_error(c, 409, why);
		return http_error(c, 503, "database unavailable");
	}
	up->committed = 1;
	scanner_kick(srv->scanner); /* durable: the scan can start */
	log_event(LOG_LVL_INFO, "upload.stored", "transfer=%s file=%s user=%s size=%" PRId64
		  " sha256=%s name=%s", up->f.transfer_id, up->f.id, rq->user.name, up->f.size,
		  up->f.sha256, log_quote(qname, sizeof(qname), up->f.name));
	o = api_file_json(&up->f);
	struct MHD_Response *resp = http_json_response(o);
	if (resp == NULL)
		return MHD_NO;
	snprintf(loc, sizeof(loc), API_PREFIX "/%s/files/%s", up->f.transfer_id, up->f.id);
	MHD_add_response_header(resp, "Location", loc);
	return http_send(c, 201, resp);
}

/* api_upload_step - a later call of an upload api_upload_open began */
enum MHD_Result
api_upload_step(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *data,
		size_t *data_size)
{
	if (rq->up == NULL)
		return MHD_NO;
	if (*data_size > 0)
		return api_upload_data(srv, c, rq, data, data_size);
	return api_upload_finish(srv, c, rq);
}

/*
 * api_file_remove - DELETE /api/v1/transfers/ID/files/FILE: a draft's file
 * taken out before sending (a blocked one, or the wrong one), row first,
 * then its blob.
 */
static enum MHD_Result
api_file_remove(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid,
		const char *fid)
{
	struct db_transfer t;
	int r = api_transfer_load(srv, rq, tid, &t);

	if (r == DB_NOTFOUND || !util_id_valid(fid))
		return http_error(c, 404, r == DB_NOTFOUND ? "no such transfer" : "no such file");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	r = strcmp(t.state, "draft");
	db_transfer_free(&t);
	if (r != 0)
		return http_error(c, 409, "files can only be removed from a draft transfer");
	r = db_file_remove(srv->db, tid, fid, &rq->who, util_now());
	if (r == DB_NOTFOUND)
		return http_error(c, 404, "no such file");
	if (r == DB_CONFLICT)
		return http_error(c, 409, "the file is being scanned: remove it when the scan ends");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	if (blob_remove(srv->conf.storage_dir, fid) != 0 && errno != ENOENT)
		log_event(LOG_LVL_ERR, "file.blob_remove_failed", "file=%s error=\"%s\"", fid,
			  strerror(errno));
	log_event(LOG_LVL_INFO, "file.removed", "transfer=%s file=%s user=%s", tid, fid,
		  rq->user.name);
	return api_transfer_respond(srv, c, rq, tid, 200);
}

/* ---- download ----------------------------------------------------------- */

static ssize_t
api_download_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct download *d = cls;
	ssize_t r;

	if (pos >= d->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > d->len - pos)
		max = (size_t)(d->len - pos);
	/* Chunk by chunk, so the verified bytes before a damaged chunk still go out. */
	size_t got = 0;
	while (got < max) {
		uint64_t off = d->start + pos + got;
		size_t want = STORE_CHUNKBYTES - (size_t)(off & (STORE_CHUNKBYTES - 1));
		if (want > max - got)
			want = max - got;
		r = store_open_read(&d->o, off, buf + got, want);
		if (r <= 0) {
			/* Headers are gone already: cutting the connection is the
			 * only honest answer; the client sees a short body, never
			 * wrong bytes. */
			log_event(LOG_LVL_ERR, "download.integrity_failed",
				  "file=%s chunk=%" PRIu64 " error=\"%s\"", d->file_id,
				  off >> STORE_CHUNK_SHIFT, r < 0 ? strerror(errno) : "short blob");
			break;
		}
		got += (size_t)r;
	}
	if (got == 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	/* Reads stop before the request's completion callback frees rq. */
	*d->sent += got;
	return (ssize_t)got;
}

static void
api_download_free(void *cls)
{
	struct download *d = cls;

	store_open_free(&d->o);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

/*
 * api_range - parse a single "bytes=" range against size.
 * Returns 1 with [*start, *start + *len) for a satisfiable range, 0 to serve
 * the whole file (no Range, several ranges, or syntax we ignore as RFC 9110
 * allows), -1 when unsatisfiable (416).
 */
static int
api_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
	const char *p;
	char *end;
	unsigned long long a, b;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	p = h + 6;
	while (*p == ' ')
		p++;
	if (*p == '-') {
		if (p[1] < '0' || p[1] > '9')
			return 0;
		errno = 0;
		b = strtoull(p + 1, &end, 10);
		if (errno != 0 || *end != '\0')
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	a = strtoull(p, &end, 10);
	if (errno != 0 || *end != '-')
		return 0;
	p = end + 1;
	if (*p == '\0') {
		b = size ? size - 1 : 0;
	} else {
		if (*p < '0' || *p > '9')
			return 0;
		b = strtoull(p, &end, 10);
		if (errno != 0 || *end != '\0' || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return 1;
}

/* api_disposition - RFC 6266 with an ASCII fallback and an RFC 5987 UTF-8 name */
static void
api_disposition(const char *name, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o;

	o = (size_t)snprintf(out, outsz, "attachment; filename=\"");
	/* One '_' per non-ASCII character (UTF-8 continuation bytes are skipped). */
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 2 < outsz; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		out[o++] = (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '%')
				   ? '_'
				   : (char)*p;
	}
	o += (size_t)snprintf(out + o, outsz - o, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < outsz; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p) != NULL) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static enum MHD_Result
api_download(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid,
	     const char *fid)
{
	struct db_transfer t;
	struct db_file f;
	int r;

	r = api_transfer_load(srv, rq, tid, &t);
	if (r == DB_NOTFOUND)
		return http_error(c, 404, "no such file");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	db_transfer_free(&t);
	/* Separation of duties: auditors see every transfer's metadata, never contents. */
	if (strcmp(rq->user.role, "auditor") == 0)
		return http_error(c, 403, "auditors read transfers' records, not their files");
	if (!util_id_valid(fid))
		return http_error(c, 404, "no such file");
	r = db_file_get(srv->db, tid, fid, &f);
	if (r == DB_NOTFOUND)
		return http_error(c, 404, "no such file");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	return api_file_send(srv, c, rq, &f, api_user_log(rq), 0, 0);
}

/*
 * api_file_send - stream a file the caller may have, with Range and
 * If-Range. Only a clean file leaves; rq->dl records what was asked and
 * counts what was handed over (for recipients' download accounting).
 */
enum MHD_Result
api_file_send(struct server *srv, struct MHD_Connection *c, struct req *rq,
	      const struct db_file *fp, const char *who, int allow_unscannable, int allow_encrypted)
{
	const struct db_file f = *fp;
	struct download *d;
	struct MHD_Response *resp;
	unsigned char dk[KEYS_KEYBYTES];
	char etag[UTIL_IDLEN + 3], disp[1200], cr[96];
	const char *range, *inm, *ifr;
	unsigned status = 200;
	unsigned char probe;
	int r;

	if (strcmp(f.state, "broken") == 0)
		return http_error(c, 410, "the stored file is damaged or missing");
	if (strcmp(f.state, "purging") == 0 || strcmp(f.state, "purged") == 0)
		return http_error(c, 410, "the file's content was purged at the end of its "
					  "retention period");
	/*
	 * Nothing leaves okuru that the scanner has not passed, unless the
	 * policy decided at send that this transfer's unscannable (or, by its
	 * own rule, encrypted) files may go.
	 */
	if (strcmp(f.state, "unscannable") == 0 && !f.shredded &&
	    (strcmp(f.scan_reason, "encrypted") == 0 ? allow_encrypted : allow_unscannable)) {
		/* allowed: fall through to sending */
	} else if (strcmp(f.state, "clean") != 0) {
		char msg[DB_SCAN_DETAILMAX + 128];
		if (strcmp(f.state, "uploaded") == 0 || strcmp(f.state, "scanning") == 0)
			snprintf(msg, sizeof(msg), "the file is waiting for its virus scan");
		else if (strcmp(f.state, "infected") == 0)
			snprintf(msg, sizeof(msg), "the file is infected (%s)%s", f.scan_detail,
				 f.shredded ? " and its content was destroyed" : "");
		else if (strcmp(f.state, "unscannable") == 0)
			snprintf(msg, sizeof(msg), "the file cannot be scanned (%s: %s) and is blocked",
				 f.scan_reason, f.scan_detail);
		else
			snprintf(msg, sizeof(msg), "the virus scan failed (%s); the file is blocked",
				 f.scan_reason);
		return http_error(c, 409, msg);
	}
	snprintf(etag, sizeof(etag), "\"%s\"", f.id);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0)) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "ETag", etag);
		return http_send(c, 304, resp);
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return http_error(c, 503, "out of memory");
	d->fd = blob_open(srv->conf.storage_dir, f.id);
	memcpy(d->file_id, f.id, sizeof(d->file_id));
	d->sent = &rq->dl.bytes;
	if (d->fd < 0 || keys_unwrap(srv->keys, f.key_id, f.id, f.wrapped, KEYS_WRAPPEDBYTES, dk) != 0 ||
	    store_open_init(&d->o, d->fd, dk) != 0 || d->o.size != (uint64_t)f.size) {
		log_event(LOG_LVL_ERR, "download.open_failed", "file=%s error=\"%s\"", f.id,
			  strerror(errno));
		sodium_memzero(dk, sizeof(dk));
		api_download_free(d);
		return http_error(c, 500, "the stored file cannot be read");
	}
	sodium_memzero(dk, sizeof(dk));
	d->start = 0;
	d->len = d->o.size;
	range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	ifr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
	if (range != NULL && (ifr == NULL || strcmp(ifr, etag) == 0)) {
		r = api_range(range, d->o.size, &d->start, &d->len);
		if (r < 0) {
			api_download_free(d);
			resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			snprintf(cr, sizeof(cr), "bytes */%" PRId64, f.size);
			MHD_add_response_header(resp, "Content-Range", cr);
			return http_send(c, 416, resp);
		}
		if (r > 0) {
			status = 206;
			snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRId64, d->start,
				 d->start + d->len - 1, f.size);
		}
	}
	/* Verify the first chunk before the status line: a damaged blob gets a 500. */
	if (d->len > 0 && store_open_read(&d->o, d->start, &probe, 1) != 1) {
		log_event(LOG_LVL_ERR, "download.integrity_failed", "file=%s offset=%" PRIu64, f.id,
			  d->start);
		api_download_free(d);
		return http_error(c, 500, "the stored file failed its integrity check");
	}
	if (rq->dl.link_id[0] != '\0') {
		/* A recipient: book the bytes first (parallel requests included). */
		memcpy(rq->dl.file_id, f.id, sizeof(rq->dl.file_id));
		r = recipient_download_reserve(srv, rq, d->len, f.size);
		if (r != DB_OK) {
			api_download_free(d);
			return r == DB_CONFLICT ? http_error(c, 404, "this link does not exist, has "
								  "expired, was revoked or has "
								  "been used up")
						: http_error(c, 503, "database unavailable");
		}
	}
	/* From here the completion callback records the response, sent or not. */
	rq->dl.active = 1;
	rq->dl.start = d->start;
	rq->dl.len = d->len;
	rq->dl.size = (uint64_t)f.size;
	rq->dl.started = util_now();
	memcpy(rq->dl.file_id, f.id, sizeof(rq->dl.file_id));
	memcpy(rq->dl.transfer_id, f.transfer_id, sizeof(rq->dl.transfer_id));
	resp = MHD_create_response_from_callback(d->len, API_DOWNLOAD_BLOCK, api_download_read, d,
						 api_download_free);
	if (resp == NULL) {
		api_download_free(d);
		return MHD_NO;
	}
	api_disposition(f.name, disp, sizeof(disp));
	MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "ETag", etag);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	MHD_add_response_header(resp, "Cache-Control", "private, no-store");
	if (status == 206)
		MHD_add_response_header(resp, "Content-Range", cr);
	log_event(LOG_LVL_INFO, "download.start", "transfer=%s file=%s user=%s offset=%" PRIu64
		  " length=%" PRIu64, f.transfer_id, f.id, who, d->start, d->len);
	return http_send(c, status, resp);
}

/* ---- routing ------------------------------------------------------------ */

/*
 * api_health - for load balancers and monitoring. 503 when the database or
 * storage is unusable; 200 with "degraded" when only the scanner is down
 * (downloads of clean files still work, new files wait in the queue).
 */
static enum MHD_Result
api_health(struct server *srv, struct MHD_Connection *c)
{
	char err[256], loaded[32];
	struct scanner_info si;
	int queued = -1;
	int db_ok = db_ping(srv->db) == DB_OK;
	int st_ok = blob_check_dirs(srv->conf.storage_dir, err, sizeof(err)) == 0;
	json_t *o, *sc, *mail;

	scanner_info(srv->scanner, &si);
	if (db_ok && db_file_queued(srv->db, &queued) != DB_OK)
		queued = -1;
	util_time_iso(si.loaded_at, loaded);
	sc = json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:I, s:s, s:s, s:s, s:s, s:b}", "status",
		       si.ok ? "ok" : "degraded", "workers", si.workers_ready, "busy",
		       si.workers_busy, "target", si.workers_target, "queued", queued, "engine",
		       si.engine, "signatures", (json_int_t)si.signatures, "version", si.db_version,
		       "database", si.official ? "official" : "test", "loaded", loaded, "sandbox",
		       si.landlock ? "seccomp+landlock" : "seccomp", "test_signatures",
		       !si.official);
	if (sc != NULL && si.last_error[0] != '\0')
		json_object_set_new(sc, "last_error", json_string(si.last_error));
	{
		struct mailer_info mi;
		char last[32];
		int mq = -1;
		mailer_info(srv->mailer, &mi);
		if (db_ok && db_outbox_queued(srv->db, &mq) != DB_OK)
			mq = -1;
		util_time_iso(mi.last_sent, last);
		/* "failing": the last attempt failed; mail waits in the queue. */
		mail = json_pack("{s:s, s:i, s:s*, s:s*}", "status",
				 !mi.enabled ? "off" : mi.last_error[0] ? "failing" : "ok", "queued",
				 mq, "last_sent", mi.last_sent ? last : NULL, "last_error",
				 mi.last_error[0] ? mi.last_error : NULL);
	}
	o = json_pack("{s:s, s:s, s:s, s:o*, s:o*}", "status",
		      !(db_ok && st_ok) ? "unavailable" : si.ok ? "ok" : "degraded", "database",
		      db_ok ? "ok" : "unavailable", "storage", st_ok ? "ok" : "unavailable",
		      "scanner", sc, "mail", mail);
	return api_json(c, db_ok && st_ok ? 200 : 503, o);
}

/* Split "/api/v1/transfers/ID[/REST]": rest is NULL or what follows the slash */
static int
api_split(const char *url, char tid[UTIL_IDLEN + 1], const char **rest)
{
	const char *p = url + strlen(API_PREFIX);
	const char *slash;
	size_t n;

	if (*p != '/')
		return -1;
	p++;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n != UTIL_IDLEN)
		n = 0; /* not an id: answered as not found below */
	memcpy(tid, p, n);
	tid[n] = '\0';
	*rest = slash ? slash + 1 : NULL;
	return 0;
}

enum MHD_Result
api_method_not_allowed(struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *r =
		http_json_response(json_pack("{s:s}", "error", "method not allowed"));

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Allow", allow);
	return http_send(c, 405, r);
}

/* api_body_collect - gather a small JSON body; 1 when complete */
int
api_body_collect(struct server *srv, struct req *rq, const char *data, size_t *size)
{
	struct limits l;

	if (*size == 0)
		return 1;
	http_limits(srv, &l);
	http_body_progress(rq, *size);
	if (!rq->body_too_big) {
		if (rq->bodylen + *size > (size_t)l.max_json_bytes) {
			rq->body_too_big = 1;
			if (rq->body != NULL)
				sodium_memzero(rq->body, rq->bodylen);
			free(rq->body);
			rq->body = NULL;
			rq->bodylen = 0;
		} else {
			/* Grow by copy and wipe, not realloc: the old block may hold a secret. */
			char *nb = malloc(rq->bodylen + *size + 1);
			if (nb == NULL) {
				rq->body_too_big = 1;
			} else {
				if (rq->body != NULL) {
					memcpy(nb, rq->body, rq->bodylen);
					sodium_memzero(rq->body, rq->bodylen);
					free(rq->body);
				}
				rq->body = nb;
				memcpy(rq->body + rq->bodylen, data, *size);
				rq->bodylen += *size;
				rq->body[rq->bodylen] = '\0';
			}
		}
	}
	*size = 0;
	return 0;
}

/*
 * api_body_begin - the headers of a request with a small body are in:
 * refuse a wrong type or a declared size over the limit before reading.
 * allow_form also admits application/x-www-form-urlencoded (HTML forms).
 */
enum MHD_Result
api_body_begin(struct server *srv, struct MHD_Connection *c, struct req *rq, int allow_form)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct limits l;

	http_limits(srv, &l);
	if (ct != NULL && strncasecmp(ct, "application/json", 16) != 0 &&
	    !(allow_form && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)) {
		http_body_done(rq);
		return http_error(c, 415, allow_form ? "Content-Type must be application/json or "
						       "application/x-www-form-urlencoded"
						     : "Content-Type must be application/json");
	}
	if (cl != NULL && strtoull(cl, NULL, 10) > (unsigned long long)l.max_json_bytes) {
		http_body_done(rq);
		return http_error(c, 413, "request body too large");
	}
	return MHD_YES;
}

/*
 * api_body_ready - drive a request with a small JSON body: 1 once all of
 * it is in rq->body; 0 while reading or refused, with *ret to return.
 */
int
api_body_ready(struct server *srv, struct MHD_Connection *c, struct req *rq, int first,
	       const char *data, size_t *data_size, enum MHD_Result *ret)
{
	*ret = MHD_YES;
	if (first) {
		*ret = api_body_begin(srv, c, rq, 0);
		return 0;
	}
	if (!api_body_collect(srv, rq, data, data_size))
		return 0;
	http_body_done(rq);
	if (rq->body_too_big) {
		*ret = http_error(c, 413, "JSON body too large");
		return 0;
	}
	return 1;
}

/* api_approval_id - "" for /api/v1/approvals, the id for /api/v1/approvals/ID, else NULL */
static const char *
api_approval_id(const char *url)
{
	size_t n = strlen(API_APPROVALS);

	if (strncmp(url, API_APPROVALS, n) != 0)
		return NULL;
	if (url[n] == '\0')
		return "";
	return url[n] == '/' && url[n + 1] != '\0' ? url + n + 1 : NULL;
}

/*
 * api_auth_failed_audit - "auth.failed" in its own transaction, bounded
 * (audit_flood_take): anyone can present a bad token and each record is a
 * commit. Nothing changes either way, so a failure is only logged; every
 * refusal is in okurud's log regardless.
 */
static void
api_auth_failed_audit(struct server *srv, struct req *rq, const char *tokid, const char *why)
{
	static struct audit_flood flood = AUDIT_FLOOD_INIT;

	db_audit_record_bounded(srv->db, &flood, &rq->who, "auth.failed", "token", tokid,
				json_pack("{ss}", "reason", why), util_now());
}

/*
 * api_auth_session - a request with a session cookie and no token: the
 * session must be live, a change must carry its CSRF token (and come from
 * our origin), and a session that has not set up its second factor yet
 * may do nothing else (ALLOW_ENROLL: the session endpoints).
 */
static int
api_auth_session(struct server *srv, struct MHD_Connection *c, struct req *rq, int is_change,
		 int allow_enroll, enum MHD_Result *ret)
{
	const char *why;
	int a = session_resolve(srv, c, rq, &why);

	if (a == AUTH_ERROR) {
		*ret = http_error(c, 503, "database unavailable");
		return 0;
	}
	if (a != AUTH_OK) {
		log_event(LOG_LVL_INFO, "auth.session_refused", "ip=%s reason=%s", rq->ip, why);
		/* An idle or expired session was recorded as it ended. */
		if (strcmp(why, "idle") != 0 && strcmp(why, "expired") != 0)
			api_auth_failed_audit(srv, rq, "", why);
		*ret = http_error_code(c, 401, "session_ended",
					"your session has ended: log in again");
		return 0;
	}
	http_actor_set(rq, "user", rq->user.name);
	if (is_change && (!session_origin_ok(srv, c) || !session_csrf_ok(c, rq))) {
		log_event(LOG_LVL_WARN, "auth.csrf_refused", "user=%s ip=%s", rq->user.name, rq->ip);
		api_auth_failed_audit(srv, rq, rq->sess.id, "csrf");
		*ret = http_error_code(c, 403, "csrf",
					"missing or wrong " SESSION_CSRF_HEADER " header");
		return 0;
	}
	if (strcmp(rq->sess.stage, "full") != 0 && !allow_enroll) {
		*ret = http_error(c, 403, "set up your authenticator app first");
		return 0;
	}
	rq->user_ok = 1;
	return 1;
}

/*
 * api_auth - who is asking: a bearer API token (scripts), else a browser
 * session cookie. 1 with rq->user set; 0 with the refusal queued in *ret
 * (the body, if any, is dropped).
 */
int
api_auth(struct server *srv, struct MHD_Connection *c, struct req *rq, int is_change,
	 int allow_enroll, enum MHD_Result *ret)
{
	const char *authz =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char tokid[AUTH_TOKEN_IDLEN + 1];
	const char *why;
	int a;

	if (authz == NULL && MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE)) {
		a = api_auth_session(srv, c, rq, is_change, allow_enroll, ret);
		if (!a)
			http_body_done(rq);
		return a;
	}
	a = auth_bearer(srv->db, authz, &rq->user, tokid, &why);
	if (a == AUTH_ERROR) {
		http_body_done(rq);
		*ret = http_error(c, 503, "database unavailable");
		return 0;
	}
	if (a != AUTH_OK) {
		http_body_done(rq);
		log_event(LOG_LVL_WARN, "auth.failed", "ip=%s reason=%s", rq->ip, why);
		api_auth_failed_audit(srv, rq, tokid, why);
		*ret = http_error(c, 401, "a valid API token or a login is required");
		return 0;
	}
	http_actor_set(rq, "user", rq->user.name);
	if (db_token_used(srv->db, tokid, &rq->who, util_now()) != DB_OK) {
		http_body_done(rq);
		*ret = http_error(c, 503, "database unavailable");
		return 0;
	}
	rq->user_ok = 1;
	return 1;
}

enum MHD_Result
api_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *url,
	   const char *method, const char *data, size_t *data_size)
{
	char tid[UTIL_IDLEN + 1];
	const char *rest = NULL;
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int first = !rq->routed;
	enum MHD_Result ret;

	rq->routed = 1;
	if (strlen(url) > 2048) {
		http_body_done(rq);
		return http_error(c, 414, "URL too long");
	}
	if (strcmp(url, "/healthz") == 0) {
		http_body_done(rq);
		if (!is_get)
			return api_method_not_allowed(c, "GET, HEAD");
		return api_health(srv, c);
	}
	if (strcmp(url, "/") == 0) { /* the staff app (www.c) */
		http_body_done(rq);
		if (!is_get)
			return api_method_not_allowed(c, "GET, HEAD");
		return www_app(srv, c);
	}
	if (recipient_route(url))
		return recipient_handle(srv, c, rq, url, method, data, data_size, first);
	if (api_session_route(url)) /* logins, logout, TOTP enrolment (api_session.c) */
		return api_session_handle(srv, c, rq, url, method, data, data_size, first);
	if (strcmp(url, API_REQUESTS) != 0 && api_approval_id(url) == NULL && !api_audit_route(url) &&
	    !api_admin_route(url) && !api_audit_views_route(url) && !api_tus_route(url) &&
	    !api_users_route(url) &&
	    (strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0 ||
	     (url[strlen(API_PREFIX)] != '\0' && url[strlen(API_PREFIX)] != '/'))) {
		http_body_done(rq);
		return http_error(c, 404, "not found");
	}
	if (first && !api_auth(srv, c, rq, !is_get, 0, &ret))
		return ret;
	/* Views for the web UI: admin status (api_admin.c), audit export and verify
	 * (api_audit_views.c); each checks the role itself. */
	if (api_admin_route(url))
		return api_admin_handle(srv, c, rq, method);
	if (api_audit_views_route(url))
		return api_audit_views_handle(srv, c, rq, url, method);
	if (api_audit_route(url)) /* GET /api/v1/audit: auditors only (api_audit.c) */
		return api_audit_handle(srv, c, rq, method);
	/* Staff accounts: admins only, auditors included in the refusal (api_users.c). */
	if (api_users_route(url))
		return api_users_handle(srv, c, rq, url, method, data, data_size, first);
	/* Auditors read; they never create or upload. A legal hold is theirs to place. */
	if (api_hold_route(url))
		return api_hold_handle(srv, c, rq, url, method, data, data_size, first);
	if (!is_get && strcmp(rq->user.role, "auditor") == 0) {
		http_body_done(rq);
		return http_error(c, 403, "the auditor role is read-only");
	}

	/* /api/v1/uploads[/ID]: resumable uploads, tus 1.0 (api_tus.c) */
	if (api_tus_route(url))
		return api_tus_handle(srv, c, rq, url, method, data, data_size, first);

	/* /api/v1/approvals[/ID]: 上長承認 */
	if (api_approval_id(url) != NULL) {
		const char *id = api_approval_id(url);
		if (id[0] == '\0') {
			http_body_done(rq);
			if (!is_get)
				return api_method_not_allowed(c, "GET, HEAD");
			return api_approvals_list(srv, c, rq);
		}
		if (strcmp(method, "POST") != 0) {
			http_body_done(rq);
			return api_method_not_allowed(c, "POST");
		}
		if (!api_body_ready(srv, c, rq, first, data, data_size, &ret))
			return ret;
		return api_approval_decide(srv, c, rq, id);
	}

	/* /api/v1/requests: ask a counterparty for files */
	if (strcmp(url, API_REQUESTS) == 0) {
		if (strcmp(method, "POST") != 0) {
			http_body_done(rq);
			return api_method_not_allowed(c, "POST");
		}
		if (!api_body_ready(srv, c, rq, first, data, data_size, &ret))
			return ret;
		return api_request_create(srv, c, rq);
	}

	/* /api/v1/transfers */
	if (url[strlen(API_PREFIX)] == '\0') {
		if (is_get) { /* the user's own transfers, a page at a time (api_views.c) */
			http_body_done(rq);
			return api_views_transfers(srv, c, rq);
		}
		if (strcmp(method, "POST") != 0) {
			http_body_done(rq);
			return api_method_not_allowed(c, "GET, HEAD, POST");
		}
		if (!api_body_ready(srv, c, rq, first, data, data_size, &ret))
			return ret;
		return api_transfer_create(srv, c, rq);
	}

	if (api_split(url, tid, &rest) != 0) {
		http_body_done(rq);
		return http_error(c, 404, "not found");
	}
	/* Requests with a small JSON body: read it all, then act. */
	if ((rest == NULL && strcmp(method, "PATCH") == 0) ||
	    (rest != NULL && strcmp(rest, "send") == 0 && strcmp(method, "POST") == 0)) {
		if (!api_body_ready(srv, c, rq, first, data, data_size, &ret))
			return ret;
		return rest == NULL ? api_extend(srv, c, rq, tid) : api_send(srv, c, rq, tid);
	}
	if (rest == NULL) {
		http_body_done(rq);
		if (strcmp(method, "DELETE") == 0)
			return api_revoke(srv, c, rq, tid, NULL);
		if (!is_get)
			return api_method_not_allowed(c, "GET, HEAD, PATCH, DELETE");
		return api_transfer_show(srv, c, rq, tid);
	}
	if (strcmp(rest, "send") == 0) {
		http_body_done(rq);
		return api_method_not_allowed(c, "POST");
	}
	if (strncmp(rest, "recipients/", 11) == 0) {
		http_body_done(rq);
		if (strcmp(method, "DELETE") != 0)
			return api_method_not_allowed(c, "DELETE");
		return api_revoke(srv, c, rq, tid, rest + 11);
	}
	if (strncmp(rest, "files/", 6) != 0) {
		http_body_done(rq);
		return http_error(c, 404, "not found");
	}
	rest += 6;
	if (strcmp(method, "PUT") == 0) {
		if (first)
			return api_upload_begin(srv, c, rq, tid, rest);
		return api_upload_step(srv, c, rq, data, data_size);
	}
	http_body_done(rq);
	if (strcmp(method, "DELETE") == 0)
		return api_file_remove(srv, c, rq, tid, rest);
	if (!is_get)
		return api_method_not_allowed(c, "GET, HEAD, PUT, DELETE");
	ret = api_download(srv, c, rq, tid, rest);
	/* A HEAD sends no content: there is no download to record (api_download_done). */
	if (strcmp(method, "HEAD") == 0)
		rq->dl.active = 0;
	return ret;
}

/*
 * api_download_done - a staff download's response ended: file.downloaded,
 * "partial" when fewer bytes than asked for went out. The response is
 * gone, so a failed record can only be logged.
 */
static void
api_download_done(struct server *srv, struct req *rq, int completed)
{
	uint64_t bytes = rq->dl.bytes < rq->dl.len ? rq->dl.bytes : rq->dl.len;
	int complete = completed && rq->dl.bytes >= rq->dl.len;
	json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:b}", "transfer", rq->dl.transfer_id, "bytes",
			      (json_int_t)bytes, "range_start", (json_int_t)rq->dl.start, "length",
			      (json_int_t)rq->dl.len, "complete", complete);

	if (d == NULL ||
	    db_audit_record(srv->db, &rq->who, "file.downloaded", "file", rq->dl.file_id,
			    complete ? "ok" : "partial", d, util_now()) != DB_OK)
		log_event(LOG_LVL_ERR, "audit.record_failed", "event=file.downloaded file=%s",
			  rq->dl.file_id);
}

/* api_request_done - free what a request held; an unfinished upload leaves nothing */
void
api_request_done(struct server *srv, struct req *rq, int completed)
{
	sodium_memzero(rq->sess.cookie, sizeof(rq->sess.cookie));
	if (rq->up != NULL) {
		if (!rq->up->committed && !rq->up->failed)
			log_event(LOG_LVL_INFO, "upload.aborted", "transfer=%s user=%s received=%" PRIu64,
				  rq->up->f.transfer_id, api_user_log(rq), rq->up->received);
		api_upload_free(rq->up);
		rq->up = NULL;
	}
	api_tus_done(srv, rq, completed); /* a tus PATCH cut off keeps its whole chunks */
	if (rq->dl.active && rq->dl.link_id[0] != '\0')
		recipient_request_done(srv, rq, completed);
	else if (rq->dl.active)
		api_download_done(srv, rq, completed);
}
