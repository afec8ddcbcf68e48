/*
 * api_tus.c - resumable uploads through tus 1.0
 * (https://tus.io/protocols/resumable-upload: core, creation, termination)
 * into the same encrypted blobs as PUT: a staff user's at /api/v1/uploads,
 * and a counterparty's under an upload link, /u/TOKEN/uploads (recipient.c
 * checks the link and the session, then calls api_tus_link).
 *
 *   OPTIONS /api/v1/uploads[/ID]  what the server supports
 *   POST    /api/v1/uploads       creation: Upload-Length, Upload-Metadata
 *                                 (filename, transfer); 201 + Location
 *   HEAD    /api/v1/uploads/ID    Upload-Offset, Upload-Length (owner only)
 *   PATCH   /api/v1/uploads/ID    append at Upload-Offset
 *   DELETE  /api/v1/uploads/ID    termination
 *
 * The offset the server reports is durable: the staging file (blob.c,
 * STORAGE/uploads/) holds whole 64 KiB chunks sealed with the upload's
 * data key (store.c), and a PATCH ends, answered or cut off, with
 * store_seal_checkpoint: the full chunks fsynced, a partial chunk's bytes
 * dropped (never written unsealed), and the uploads row's offset set to
 * chunks x 64 KiB. The next PATCH reopens the file, unwraps the key and
 * continues at that chunk (store_seal_resume). When the offset reaches
 * Upload-Length the last chunk is sealed, the blob is read back through
 * store_open to hash its plaintext (a hash state cannot outlive a request),
 * committed like a PUT's, and the file row inserted (file.uploaded, as for
 * PUT) in the transaction that deletes the upload row.
 *
 * One request at a time works on an upload: a process-wide claim list,
 * which the expiry (run by the purger thread) respects too. Everything
 * here belongs to one owner (struct api_tus_owner): a staff user's uploads
 * to that user, a counterparty's to the upload link; any other upload is
 * answered as missing.
 */
#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_tus.h"
#include "blob.h"
#include "fname.h"
#include "keys.h"
#include "log.h"
#include "scanner.h"
#include "store.h"
#include "util.h"

#define TUS_PREFIX "/api/v1/uploads"
#define TUS_VERSION "1.0.0"
#define TUS_EXTENSIONS "creation,termination"
#define TUS_CONTENT_TYPE "application/offset+octet-stream"
/* A refused PATCH body is read and dropped up to this much, then cut (as api.c). */
#define TUS_DISCARD_MAX (64ULL * 1024 * 1024)
/* Raw (decoded) Upload-Metadata filename bound; fname_normalize bounds the result. */
#define TUS_RAWNAME_MAX 1024
#define TUS_EXPIRE_BATCH 100

/* ---- one request at a time per upload ---------------------------------- */

struct tus_claim {
	char id[UTIL_IDLEN + 1];
	struct tus_claim *next;
};

static pthread_mutex_t tus_claims_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tus_claim *tus_claims;

/* tus_claim_take - 0 when cl now holds id, -1 when another request does */
static int
tus_claim_take(struct tus_claim *cl, const char *id)
{
	int r = 0;

	pthread_mutex_lock(&tus_claims_lock);
	for (struct tus_claim *p = tus_claims; p != NULL; p = p->next)
		if (strcmp(p->id, id) == 0)
			r = -1;
	if (r == 0) {
		snprintf(cl->id, sizeof(cl->id), "%s", id);
		cl->next = tus_claims;
		tus_claims = cl;
	}
	pthread_mutex_unlock(&tus_claims_lock);
	return r;
}

static void
tus_claim_drop(struct tus_claim *cl)
{
	pthread_mutex_lock(&tus_claims_lock);
	for (struct tus_claim **pp = &tus_claims; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	pthread_mutex_unlock(&tus_claims_lock);
	cl->next = NULL;
}

/* ---- a PATCH in progress (rq->tus) ------------------------------------- */

struct tus_patch {
	struct db_upload u;
	struct tus_claim claim;
	int claimed;
	int fd;
	char path[PATH_MAX];
	struct store_seal seal;
	int sealing; /* seal holds the stream: a cut must checkpoint it */
	unsigned char dk[KEYS_KEYBYTES];
	uint64_t received; /* body bytes of this PATCH */
	int failed;	   /* answer fail_status at the end of the body */
	unsigned fail_status;
	char fail_msg[160];
	uint64_t discarded;
	int max_files;	   /* the owner's limits, for the completion's checks */
	int64_t max_bytes; /* (an upload link's max_bytes; INT64_MAX for staff) */
};

static void
tus_patch_free(struct tus_patch *p)
{
	if (p == NULL)
		return;
	store_seal_free(&p->seal);
	if (p->fd >= 0)
		close(p->fd);
	if (p->claimed)
		tus_claim_drop(&p->claim);
	sodium_memzero(p, sizeof(*p)); /* the data key among the rest */
	free(p);
}

/* ---- responses ---------------------------------------------------------- */

/* tus_send - a response with the tus headers every answer but OPTIONS carries */
static enum MHD_Result
tus_send(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Tus-Resumable", TUS_VERSION);
	if (status == 412)
		MHD_add_response_header(r, "Tus-Version", TUS_VERSION);
	return http_send(c, status, r);
}

/* tus_error - {"error": msg} with status, as http_error, plus Tus-Resumable */
static enum MHD_Result
tus_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct MHD_Response *r = http_json_response(json_pack("{s:s}", "error", msg));

	if (r == NULL)
		return MHD_NO;
	return tus_send(c, status, r);
}

/* tus_empty - a response without a body; offset (>= 0) as Upload-Offset */
static enum MHD_Result
tus_empty(struct MHD_Connection *c, unsigned status, int64_t offset)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char v[32];

	if (r == NULL)
		return MHD_NO;
	if (offset >= 0) {
		snprintf(v, sizeof(v), "%" PRId64, offset);
		MHD_add_response_header(r, "Upload-Offset", v);
	}
	return tus_send(c, status, r);
}

/* ---- parsing ------------------------------------------------------------ */

/* tus_header - a request header, or NULL */
static const char *
tus_header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* tus_resumable_ok - Tus-Resumable names the version we speak */
static int
tus_resumable_ok(struct MHD_Connection *c)
{
	const char *v = tus_header(c, "Tus-Resumable");

	return v != NULL && strcmp(v, TUS_VERSION) == 0;
}

/* tus_number - a non-negative decimal of at most 18 digits (Upload-Length, -Offset) */
static int
tus_number(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* tus_b64 - decode one Upload-Metadata value (standard base64, padded) with libsodium */
static int
tus_b64(const char *b64, size_t len, unsigned char *bin, size_t binmax, size_t *binlen)
{
	const char *end = NULL;

	if (len == 0) {
		*binlen = 0;
		return 0;
	}
	if (sodium_base642bin(bin, binmax, b64, len, NULL, binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len)
		return -1;
	return 0;
}

/*
 * tus_metadata - filename and transfer from Upload-Metadata: pairs
 * "key base64value" separated by commas; keys printable ASCII without
 * spaces or commas, each at most once; other keys (tus-js-client sends
 * filetype, for one) are checked for form and ignored. Without need_tid
 * (an upload link: the link names the transfer) transfer is one of those.
 * 0, or -1 with *why.
 */
static int
tus_metadata(const char *h, char rawname[TUS_RAWNAME_MAX + 1], char tid[UTIL_IDLEN + 1],
	     int need_tid, const char **why)
{
	unsigned char scratch[TUS_RAWNAME_MAX + 1];
	int have_name = 0, have_tid = 0;
	const char *p = h;

	if (h == NULL) {
		*why = need_tid ? "Upload-Metadata with filename and transfer is required"
				: "Upload-Metadata with filename is required";
		return -1;
	}
	while (*p != '\0') {
		const char *pair, *sp, *end, *k;
		size_t klen, vlen, n;

		while (*p == ' ')
			p++;
		pair = p;
		end = strchr(pair, ',');
		if (end == NULL)
			end = pair + strlen(pair);
		p = *end == ',' ? end + 1 : end;
		while (end > pair && end[-1] == ' ')
			end--;
		sp = memchr(pair, ' ', (size_t)(end - pair));
		klen = sp ? (size_t)(sp - pair) : (size_t)(end - pair);
		vlen = sp ? (size_t)(end - sp - 1) : 0;
		if (klen == 0 || klen > 64) {
			*why = "Upload-Metadata: malformed key";
			return -1;
		}
		for (k = pair; k < pair + klen; k++) {
			if (*k <= ' ' || *k >= 0x7f) {
				*why = "Upload-Metadata: malformed key";
				return -1;
			}
		}
		if (klen == 8 && memcmp(pair, "filename", 8) == 0) {
			if (have_name++ ||
			    tus_b64(sp + 1, vlen, (unsigned char *)rawname, TUS_RAWNAME_MAX, &n) !=
				0 ||
			    n == 0 || memchr(rawname, '\0', n) != NULL) {
				*why = "Upload-Metadata: filename must appear once, as base64 of a "
				       "name";
				return -1;
			}
			rawname[n] = '\0';
		} else if (need_tid && klen == 8 && memcmp(pair, "transfer", 8) == 0) {
			if (have_tid++ ||
			    tus_b64(sp + 1, vlen, (unsigned char *)tid, UTIL_IDLEN, &n) != 0) {
				*why = "Upload-Metadata: transfer must appear once, as base64 of a "
				       "transfer id";
				return -1;
			}
			tid[n] = '\0';
		} else if (sp != NULL && tus_b64(sp + 1, vlen, scratch, sizeof(scratch), &n) != 0) {
			*why = "Upload-Metadata: a value is not base64";
			return -1;
		}
	}
	sodium_memzero(scratch, sizeof(scratch));
	if (!have_name || (need_tid && !have_tid)) {
		*why = need_tid ? "Upload-Metadata must carry filename and transfer"
				: "Upload-Metadata must carry filename";
		return -1;
	}
	return 0;
}

/* tus_url_id - "" for /api/v1/uploads, ID for /api/v1/uploads/ID, NULL otherwise */
static const char *
tus_url_id(const char *url)
{
	size_t n = strlen(TUS_PREFIX);

	if (strncmp(url, TUS_PREFIX, n) != 0)
		return NULL;
	if (url[n] == '\0')
		return "";
	return url[n] == '/' && url[n + 1] != '\0' && strchr(url + n + 1, '/') == NULL ? url + n + 1
										       : NULL;
}

int
api_tus_route(const char *url)
{
	size_t n = strlen(TUS_PREFIX);

	return strncmp(url, TUS_PREFIX, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

/* tus_owns - is u o's: a staff user's own upload, or one made through o's link */
static int
tus_owns(const struct api_tus_owner *o, const struct db_upload *u)
{
	if (o->link_id != NULL)
		return u->link_id[0] != '\0' && strcmp(u->link_id, o->link_id) == 0;
	return u->link_id[0] == '\0' && u->owner_id == o->user_id;
}

/* tus_load - the upload if it exists and is o's (else DB_NOTFOUND) */
static int
tus_load(struct server *srv, const struct api_tus_owner *o, const char *id, struct db_upload *u)
{
	int r;

	if (!util_id_valid(id))
		return DB_NOTFOUND;
	r = db_upload_get(srv->db, id, u);
	if (r == DB_OK && !tus_owns(o, u))
		r = DB_NOTFOUND;
	return r;
}

/* ---- completion --------------------------------------------------------- */

/* tus_hash - SHA-256 of the blob's plaintext, read back and authenticated chunk by chunk */
static int
tus_hash(int fd, const unsigned char dk[KEYS_KEYBYTES], int64_t length, char hex[65])
{
	struct store_open o;
	gnutls_hash_hd_t h;
	unsigned char *buf, digest[32];
	uint64_t off = 0;
	ssize_t n;
	int r = -1;

	if (store_open_init(&o, fd, dk) != 0)
		return -1;
	buf = malloc(STORE_CHUNKBYTES);
	if (buf == NULL || o.size != (uint64_t)length ||
	    gnutls_hash_init(&h, GNUTLS_DIG_SHA256) != 0) {
		free(buf);
		store_open_free(&o);
		errno = EBADMSG;
		return -1;
	}
	while ((n = store_open_read(&o, off, buf, STORE_CHUNKBYTES)) > 0) {
		gnutls_hash(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	gnutls_hash_deinit(h, digest);
	if (n == 0 && off == o.size) {
		sodium_bin2hex(hex, 65, digest, sizeof(digest));
		r = 0;
	}
	sodium_memzero(buf, STORE_CHUNKBYTES);
	free(buf);
	store_open_free(&o);
	return r;
}

/*
 * tus_finish - every byte is in p->seal: seal the last chunk, hash the
 * plaintext back, commit the blob durably and insert the file (removing
 * the upload row in the same transaction), then kick the scanner. Returns
 * 0, or the HTTP status with p->fail_msg filled.
 */
static unsigned
tus_finish(struct server *srv, struct req *rq, struct tus_patch *p)
{
	struct db_file f;
	char why[160], qname[600];
	int r, e;

	memset(&f, 0, sizeof(f));
	p->sealing = 0;
	if (store_seal_final(&p->seal) != 0 || tus_hash(p->fd, p->dk, p->u.length, f.sha256) != 0) {
		e = errno;
		log_event(LOG_LVL_ERR, "upload.commit_failed", "upload=%s error=\"%s\"", p->u.id,
			  strerror(e));
		snprintf(p->fail_msg, sizeof(p->fail_msg), "storage write failed");
		return e == ENOSPC ? 507 : 503;
	}
	if (blob_commit(srv->conf.storage_dir, p->fd, p->path, p->u.id) != 0 ||
	    blob_upload_sync(srv->conf.storage_dir) != 0) {
		e = errno;
		log_event(LOG_LVL_ERR, "upload.commit_failed", "upload=%s error=\"%s\"", p->u.id,
			  strerror(e));
		snprintf(p->fail_msg, sizeof(p->fail_msg), "storage write failed");
		return e == ENOSPC ? 507 : 503;
	}
	/* The upload's id is the file's: the key was wrapped for it at creation. */
	memcpy(f.id, p->u.id, sizeof(f.id));
	memcpy(f.transfer_id, p->u.transfer_id, sizeof(f.transfer_id));
	snprintf(f.name, sizeof(f.name), "%s", p->u.name);
	f.size = p->u.length;
	snprintf(f.state, sizeof(f.state), "uploaded");
	memcpy(f.key_id, p->u.key_id, sizeof(f.key_id));
	memcpy(f.wrapped, p->u.wrapped, sizeof(f.wrapped));
	/* A counterparty's file names its link, as a PUT through the link does. */
	snprintf(f.uploader, sizeof(f.uploader), "%s", p->u.link_id);
	f.created = util_now();
	r = db_upload_finish(srv->db, p->u.id, &f, p->max_files, p->max_bytes, &rq->who, why,
			     sizeof(why));
	if (r != DB_OK) {
		/* No file row, so the blob goes: recovery would move it to orphans/. */
		blob_remove(srv->conf.storage_dir, p->u.id);
		if (r == DB_CONFLICT) {
			/* The transfer takes no more files: this upload can never finish. */
			if (db_upload_remove(srv->db, p->u.id, "upload.terminated", why, 0,
					     &rq->who) != DB_OK)
				log_event(LOG_LVL_ERR, "audit.unrecorded",
					  "event=upload.terminated upload=%s", p->u.id);
			snprintf(p->fail_msg, sizeof(p->fail_msg), "%s", why);
			return 409;
		}
		snprintf(p->fail_msg, sizeof(p->fail_msg), "database unavailable");
		return 503;
	}
	scanner_kick(srv->scanner); /* durable: the scan can start */
	log_event(LOG_LVL_INFO, "upload.stored",
		  "transfer=%s file=%s user=%s size=%" PRId64 " sha256=%s name=%s via=tus",
		  f.transfer_id, f.id, rq->user.name, f.size, f.sha256,
		  log_quote(qname, sizeof(qname), f.name));
	return 0;
}

/*
 * tus_checkpoint - the stream stops short of Upload-Length: make its whole
 * chunks durable and record the offset they reach. *offset is the new
 * durable offset. 0, or -1 (logged) when nothing new could be recorded.
 */
static int
tus_checkpoint(struct server *srv, struct req *rq, struct tus_patch *p, int cut, int64_t *offset)
{
	uint64_t chunks;

	p->sealing = 0;
	if (store_seal_checkpoint(&p->seal, &chunks) != 0) {
		log_event(LOG_LVL_ERR, "upload.write_failed", "upload=%s error=\"%s\"", p->u.id,
			  strerror(errno));
		return -1;
	}
	*offset = (int64_t)(chunks * STORE_CHUNKBYTES);
	OKURU_ASSERT(*offset >= p->u.offset && *offset < p->u.length);
	if (db_upload_progress(srv->db, p->u.id, *offset, (int64_t)p->received, cut, &rq->who) !=
	    DB_OK) {
		log_event(LOG_LVL_ERR, "upload.progress_failed", "upload=%s offset=%" PRId64,
			  p->u.id, *offset);
		return -1;
	}
	log_event(LOG_LVL_INFO, cut ? "upload.cut" : "upload.appended",
		  "upload=%s user=%s received=%" PRIu64 " offset=%" PRId64 " length=%" PRId64,
		  p->u.id, rq->user.name, p->received, *offset, p->u.length);
	return 0;
}

/* ---- PATCH -------------------------------------------------------------- */

/*
 * tus_patch_refuse - answer a PATCH refused before its body. As api.c's
 * api_upload_refuse: a client waiting on "Expect: 100-continue" hears now;
 * any other is already sending, so its body is read and dropped (up to
 * TUS_DISCARD_MAX) and the answer comes at its end.
 */
static enum MHD_Result
tus_patch_refuse(struct MHD_Connection *c, struct req *rq, unsigned status, const char *msg)
{
	const char *expect = tus_header(c, "Expect");
	struct tus_patch *p;

	if ((expect != NULL && strcasecmp(expect, "100-continue") == 0) ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		http_body_done(rq);
		return tus_error(c, status, msg);
	}
	p->fd = -1;
	p->seal.fd = -1;
	p->failed = 1;
	p->fail_status = status;
	snprintf(p->fail_msg, sizeof(p->fail_msg), "%s", msg);
	rq->tus = p;
	return MHD_YES;
}

/* tus_patch_begin - headers are in: check everything, reopen the staging file */
static enum MHD_Result
tus_patch_begin(struct server *srv, struct MHD_Connection *c, struct req *rq,
		const struct api_tus_owner *o, const char *id)
{
	const char *ct = tus_header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = tus_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *msg;
	struct tus_patch *p;
	int64_t offset, len;
	unsigned status;
	char buf[96];
	int r;

	if (!tus_resumable_ok(c))
		return tus_patch_refuse(c, rq, 412, "Tus-Resumable: " TUS_VERSION " is required");
	if (ct == NULL || strcasecmp(ct, TUS_CONTENT_TYPE) != 0)
		return tus_patch_refuse(c, rq, 415, "Content-Type must be " TUS_CONTENT_TYPE);
	if (tus_number(tus_header(c, "Upload-Offset"), &offset) != 0)
		return tus_patch_refuse(c, rq, 400, "Upload-Offset is required");
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return tus_patch_refuse(c, rq, 503, "out of memory");
	p->fd = -1;
	p->seal.fd = -1;
	p->max_files = o->max_files;
	p->max_bytes = o->max_bytes;
	r = tus_load(srv, o, id, &p->u);
	if (r != DB_OK) {
		tus_patch_free(p);
		return r == DB_NOTFOUND ? tus_patch_refuse(c, rq, 404, "no such upload")
					: tus_patch_refuse(c, rq, 503, "database unavailable");
	}
	if (tus_claim_take(&p->claim, p->u.id) != 0) {
		tus_patch_free(p);
		return tus_patch_refuse(c, rq, 423, "another request is writing this upload");
	}
	p->claimed = 1;
	/* Read again under the claim: a request that just ended may have moved it. */
	r = db_upload_get(srv->db, p->u.id, &p->u);
	if (r != DB_OK) {
		tus_patch_free(p);
		return r == DB_NOTFOUND ? tus_patch_refuse(c, rq, 404, "no such upload")
					: tus_patch_refuse(c, rq, 503, "database unavailable");
	}
	if (offset != p->u.offset) {
		snprintf(buf, sizeof(buf), "Upload-Offset must be %" PRId64 ", the upload's offset",
			 p->u.offset);
		tus_patch_free(p);
		return tus_patch_refuse(c, rq, 409, buf);
	}
	if (cl != NULL && (tus_number(cl, &len) != 0 || len > p->u.length - p->u.offset)) {
		tus_patch_free(p);
		return tus_patch_refuse(c, rq, 413, "the body goes past Upload-Length");
	}
	/* An upload link's caller checked its transfer is a draft (recipient.c). */
	status = o->link_id == NULL ? api_upload_draft(srv, rq, p->u.transfer_id, &msg) : 0;
	if (status != 0) {
		tus_patch_free(p);
		return tus_patch_refuse(c, rq, status, msg);
	}
	p->fd = blob_upload_open(srv->conf.storage_dir, p->u.staging, p->path);
	if (p->fd < 0) {
		log_event(LOG_LVL_ERR, "upload.staging_failed", "upload=%s error=\"%s\"", p->u.id,
			  strerror(errno));
		tus_patch_free(p);
		return tus_patch_refuse(c, rq, 503, "storage unavailable");
	}
	if (p->u.offset % STORE_CHUNKBYTES != 0 ||
	    keys_unwrap(srv->keys, p->u.key_id, p->u.id, p->u.wrapped, KEYS_WRAPPEDBYTES, p->dk) !=
		0 ||
	    store_seal_resume(&p->seal, p->fd, p->dk, (uint64_t)p->u.offset / STORE_CHUNKBYTES) !=
		0) {
		log_event(LOG_LVL_ERR, "upload.resume_failed",
			  "upload=%s offset=%" PRId64 " error=\"%s\"", p->u.id, p->u.offset,
			  strerror(errno));
		tus_patch_free(p);
		return tus_patch_refuse(c, rq, 500, "the upload's stored data cannot be resumed");
	}
	p->sealing = 1;
	rq->tus = p;
	return MHD_YES;
}

/* tus_patch_data - a piece of the body: sealed, never past Upload-Length */
static enum MHD_Result
tus_patch_data(struct req *rq, const char *data, size_t *size)
{
	struct tus_patch *p = rq->tus;
	size_t n = *size;

	*size = 0;
	http_body_progress(rq, n);
	if (p->failed) {
		p->discarded += n;
		return p->discarded > TUS_DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (p->received + n > (uint64_t)(p->u.length - p->u.offset)) {
		/* A chunked body may say nothing of its size; stop storing, keep what was durable.
		 */
		p->failed = 1;
		p->fail_status = 413;
		snprintf(p->fail_msg, sizeof(p->fail_msg), "the body goes past Upload-Length");
		p->sealing = 0;
		return MHD_YES;
	}
	if (store_seal_update(&p->seal, data, n) != 0) {
		int e = errno;
		log_event(LOG_LVL_ERR, "upload.write_failed", "upload=%s error=\"%s\"", p->u.id,
			  strerror(e));
		p->failed = 1;
		p->fail_status = e == ENOSPC ? 507 : 503;
		snprintf(p->fail_msg, sizeof(p->fail_msg), "storage write failed");
		p->sealing = 0;
		return MHD_YES;
	}
	p->received += n;
	return MHD_YES;
}

/* tus_patch_end - the body is in: finish the upload, or make its chunks durable */
static enum MHD_Result
tus_patch_end(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	struct tus_patch *p = rq->tus;
	int64_t offset;
	unsigned status;

	http_body_done(rq);
	if (p->failed)
		return tus_error(c, p->fail_status, p->fail_msg);
	if (p->u.offset + (int64_t)p->received == p->u.length) {
		status = tus_finish(srv, rq, p);
		if (status != 0)
			return tus_error(c, status, p->fail_msg);
		return tus_empty(c, 204, p->u.length);
	}
	if (tus_checkpoint(srv, rq, p, 0, &offset) != 0)
		return tus_error(c, 503, "storage or database unavailable");
	return tus_empty(c, 204, offset);
}

/* ---- the other methods -------------------------------------------------- */

/* tus_options - what we support; Tus-Max-Size is the owner's file limit (o->max_size) */
static enum MHD_Result
tus_options(struct MHD_Connection *c, const struct api_tus_owner *o)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char v[32];

	if (r == NULL)
		return MHD_NO;
	snprintf(v, sizeof(v), "%" PRId64, o->max_size);
	MHD_add_response_header(r, "Tus-Resumable", TUS_VERSION);
	MHD_add_response_header(r, "Tus-Version", TUS_VERSION);
	MHD_add_response_header(r, "Tus-Extension", TUS_EXTENSIONS);
	MHD_add_response_header(r, "Tus-Max-Size", v);
	return http_send(c, 204, r);
}

/*
 * tus_create - POST: check the transfer, the name and the size as a PUT
 * would (api_upload_draft, api_upload_admit), then make the staging file
 * (header sealed, fsynced, its directory entry too) before the row that
 * names it; an empty file is finished at once.
 */
static enum MHD_Result
tus_create(struct server *srv, struct MHD_Connection *c, struct req *rq,
	   const struct api_tus_owner *o)
{
	char rawname[TUS_RAWNAME_MAX + 1], tid[UTIL_IDLEN + 1], name[FNAME_MAXBYTES + 1];
	char loc[256], msgbuf[96], why[300];
	struct tus_patch *p;
	const char *msg;
	int64_t length;
	unsigned status;
	uint64_t chunks;
	int r;

	if (tus_header(c, "Upload-Defer-Length") != NULL)
		return tus_error(c, 400, "Upload-Defer-Length is not supported");
	if (tus_number(tus_header(c, "Upload-Length"), &length) != 0)
		return tus_error(c, 400, "Upload-Length is required (a byte count)");
	if (tus_metadata(tus_header(c, "Upload-Metadata"), rawname, tid, o->link_id == NULL,
			 &msg) != 0)
		return tus_error(c, 400, msg);
	if (o->link_id != NULL) /* the link's transfer, a draft (checked by recipient.c) */
		snprintf(tid, sizeof(tid), "%s", o->transfer_id);
	status = o->link_id == NULL ? api_upload_draft(srv, rq, tid, &msg) : 0;
	if (status == 0)
		status = api_upload_admit(srv, rq, tid, rawname, length, o->max_size, o->max_files,
					  name, &msg, msgbuf, sizeof(msgbuf));
	sodium_memzero(rawname, sizeof(rawname));
	if (status != 0)
		return tus_error(c, status, msg);

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return tus_error(c, 503, "out of memory");
	p->seal.fd = -1;
	p->max_files = o->max_files;
	p->max_bytes = o->max_bytes;
	util_id_new(p->u.id);
	memcpy(p->u.transfer_id, tid, sizeof(p->u.transfer_id));
	p->u.owner_id = o->user_id;
	snprintf(p->u.link_id, sizeof(p->u.link_id), "%s", o->link_id ? o->link_id : "");
	snprintf(p->u.name, sizeof(p->u.name), "%s", name);
	p->u.length = length;
	p->u.created = util_now();
	p->u.updated = p->u.created;
	p->fd = blob_upload_create(srv->conf.storage_dir, p->u.staging, p->path);
	if (p->fd < 0) {
		log_event(LOG_LVL_ERR, "upload.staging_failed", "error=\"%s\"", strerror(errno));
		tus_patch_free(p);
		return tus_error(c, 503, "storage unavailable");
	}
	keys_data_key_new(p->dk);
	if (keys_wrap(srv->keys, p->u.id, p->dk, p->u.wrapped, p->u.key_id) != 0 ||
	    store_seal_init(&p->seal, p->fd, store_cipher_default(), p->dk) != 0 ||
	    store_seal_checkpoint(&p->seal, &chunks) != 0 ||
	    blob_upload_sync(srv->conf.storage_dir) != 0) {
		log_event(LOG_LVL_ERR, "upload.staging_failed", "error=\"%s\"", strerror(errno));
		unlink(p->path);
		tus_patch_free(p);
		return tus_error(c, 503, "storage unavailable");
	}
	r = db_upload_create(srv->db, &p->u, o->max_files, o->max_bytes, &rq->who, why,
			     sizeof(why));
	if (r != DB_OK) {
		unlink(p->path);
		tus_patch_free(p);
		return r == DB_CONFLICT ? tus_error(c, 409, why)
		       : r == DB_TOOBIG ? tus_error(c, 413, why)
					: tus_error(c, 503, "database unavailable");
	}
	log_event(LOG_LVL_INFO, "upload.created", "upload=%s transfer=%s user=%s length=%" PRId64,
		  p->u.id, p->u.transfer_id, rq->user.name, p->u.length);
	snprintf(loc, sizeof(loc), "%s/%s", o->prefix, p->u.id);
	if (length == 0) {
		/* Nothing will be PATCHed: the empty file is complete now. */
		if (tus_claim_take(&p->claim, p->u.id) == 0)
			p->claimed = 1;
		status = p->claimed ? tus_finish(srv, rq, p) : 503;
		if (status != 0) {
			enum MHD_Result ret = tus_error(c, status, p->fail_msg);
			tus_patch_free(p);
			return ret;
		}
	}
	tus_patch_free(p);
	{
		struct MHD_Response *resp =
		    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
		MHD_add_response_header(resp, "Location", loc);
		return tus_send(c, 201, resp);
	}
}

/* tus_head - the upload's durable offset and length, never cached */
static enum MHD_Result
tus_head(struct server *srv, struct MHD_Connection *c, const struct api_tus_owner *o,
	 const char *id)
{
	struct db_upload u;
	struct MHD_Response *r;
	char v[32];
	int rc = tus_load(srv, o, id, &u);

	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? tus_error(c, 404, "no such upload")
					 : tus_error(c, 503, "database unavailable");
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	snprintf(v, sizeof(v), "%" PRId64, u.offset);
	MHD_add_response_header(r, "Upload-Offset", v);
	snprintf(v, sizeof(v), "%" PRId64, u.length);
	MHD_add_response_header(r, "Upload-Length", v);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	sodium_memzero(&u, sizeof(u));
	return tus_send(c, 200, r);
}

/* tus_terminate - DELETE: the row goes (upload.terminated), then the staging file */
static enum MHD_Result
tus_terminate(struct server *srv, struct MHD_Connection *c, struct req *rq,
	      const struct api_tus_owner *o, const char *id)
{
	struct tus_claim cl;
	struct db_upload u;
	int r = tus_load(srv, o, id, &u);

	if (r != DB_OK)
		return r == DB_NOTFOUND ? tus_error(c, 404, "no such upload")
					: tus_error(c, 503, "database unavailable");
	if (tus_claim_take(&cl, u.id) != 0)
		return tus_error(c, 423, "another request is writing this upload");
	r = db_upload_remove(srv->db, u.id, "upload.terminated", "client", 0, &rq->who);
	if (r == DB_OK && blob_upload_remove(srv->conf.storage_dir, u.staging) != 0)
		/* The row is gone: start-up recovery removes what is left. */
		log_event(LOG_LVL_ERR, "upload.staging_remove_failed", "upload=%s error=\"%s\"",
			  u.id, strerror(errno));
	tus_claim_drop(&cl);
	if (r != DB_OK)
		return r == DB_NOTFOUND ? tus_error(c, 404, "no such upload")
					: tus_error(c, 503, "database unavailable");
	log_event(LOG_LVL_INFO, "upload.terminated", "upload=%s user=%s offset=%" PRId64, u.id,
		  rq->user.name, u.offset);
	return tus_empty(c, 204, -1);
}

/*
 * tus_dispatch - a request without a body to keep (all but PATCH), its
 * body read: answer it for owner o. id is "" for the collection.
 */
static enum MHD_Result
tus_dispatch(struct server *srv, struct MHD_Connection *c, struct req *rq,
	     const struct api_tus_owner *o, const char *id, const char *method)
{
	if (strcmp(method, "OPTIONS") == 0)
		return tus_options(c, o);
	if (rq->bodylen > 0 || rq->body_too_big)
		return tus_error(c, 400,
				 "no request body expected (creation-with-upload is not "
				 "supported)");
	if (!tus_resumable_ok(c))
		return tus_error(c, 412, "Tus-Resumable: " TUS_VERSION " is required");
	if (id[0] == '\0') {
		if (strcmp(method, "POST") != 0)
			return api_method_not_allowed(c, "POST, OPTIONS");
		return tus_create(srv, c, rq, o);
	}
	if (strcmp(method, "HEAD") == 0)
		return tus_head(srv, c, o, id);
	if (strcmp(method, "DELETE") == 0)
		return tus_terminate(srv, c, rq, o, id);
	return api_method_not_allowed(c, "HEAD, PATCH, DELETE, OPTIONS");
}

enum MHD_Result
api_tus_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *url,
	       const char *method, const char *data, size_t *data_size, int first)
{
	const char *id = tus_url_id(url);
	int is_patch = strcmp(method, "PATCH") == 0;
	struct api_tus_owner o = {
	    .user_id = rq->user.id, .prefix = TUS_PREFIX, .max_bytes = INT64_MAX};
	struct limits l;

	if (rq->tus != NULL)
		return api_tus_continue(srv, c, rq, data, data_size);
	if (id == NULL) {
		http_body_done(rq);
		return tus_error(c, 404, "not found");
	}
	http_limits(srv, &l);
	o.max_size = l.max_file_size;
	o.max_files = l.max_files_per_transfer;
	if (is_patch && id[0] != '\0' && first)
		return tus_patch_begin(srv, c, rq, &o, id);
	/*
	 * Every other request has no body: answer once it is read (an answer
	 * in the first call makes libmicrohttpd close the connection).
	 */
	if (strcmp(method, "HEAD") != 0 && (first || *data_size > 0)) {
		if (!api_body_collect(srv, rq, data, data_size))
			return MHD_YES;
		if (first)
			return MHD_YES;
	}
	http_body_done(rq);
	return tus_dispatch(srv, c, rq, &o, id, method);
}

enum MHD_Result
api_tus_continue(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *data,
		 size_t *data_size)
{
	if (*data_size > 0)
		return tus_patch_data(rq, data, data_size);
	return tus_patch_end(srv, c, rq);
}

enum MHD_Result
api_tus_link(struct server *srv, struct MHD_Connection *c, struct req *rq,
	     const struct api_tus_owner *o, const char *id, const char *method)
{
	if (strcmp(method, "PATCH") == 0) {
		if (id[0] == '\0')
			return api_tus_refuse(c, rq, 405, "PATCH needs an upload's URL");
		return tus_patch_begin(srv, c, rq, o, id);
	}
	return tus_dispatch(srv, c, rq, o, id, method);
}

enum MHD_Result
api_tus_refuse(struct MHD_Connection *c, struct req *rq, unsigned status, const char *msg)
{
	return tus_patch_refuse(c, rq, status, msg);
}

enum MHD_Result
api_tus_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return tus_error(c, status, msg);
}

/*
 * api_tus_done - the request is over. A PATCH whose connection was cut
 * (or that ended without its answer) keeps its whole chunks, as if it had
 * ended there; one that had every byte is finished.
 */
void
api_tus_done(struct server *srv, struct req *rq, int completed)
{
	struct tus_patch *p = rq->tus;
	int64_t offset;

	if (p == NULL)
		return;
	if (p->sealing && !p->failed) {
		if (p->u.offset + (int64_t)p->received == p->u.length) {
			if (tus_finish(srv, rq, p) != 0)
				log_event(LOG_LVL_ERR, "upload.finish_failed",
					  "upload=%s reason=\"%s\"", p->u.id, p->fail_msg);
		} else {
			tus_checkpoint(srv, rq, p, 1, &offset);
		}
	}
	(void)completed;
	tus_patch_free(p);
	rq->tus = NULL;
}

static void tus_expire_idle(struct server *srv, int64_t now);

struct tus_idle {
	char (*id)[UTIL_IDLEN + 1];
	char (*staging)[DB_UPLOAD_STAGINGMAX + 1];
	size_t n;
};

static int
tus_idle_cb(const struct db_upload *u, void *arg)
{
	struct tus_idle *ti = arg;

	if (ti->n == TUS_EXPIRE_BATCH)
		return 1;
	memcpy(ti->id[ti->n], u->id, sizeof(ti->id[0]));
	memcpy(ti->staging[ti->n], u->staging, sizeof(ti->staging[0]));
	ti->n++;
	return 0;
}

/*
 * tus_end_batch - remove the uploads listed in ti (rows with EVENT and
 * REASON by who, then their staging files), skipping any a request holds.
 * The number removed.
 */
static int
tus_end_batch(struct server *srv, const struct tus_idle *ti, const char *event, const char *reason,
	      int64_t idle_before, const struct audit_actor *who)
{
	struct tus_claim cl;
	int ended = 0;

	for (size_t i = 0; i < ti->n; i++) {
		if (tus_claim_take(&cl, ti->id[i]) != 0)
			continue;
		if (db_upload_remove(srv->db, ti->id[i], event, reason, idle_before, who) ==
		    DB_OK) {
			ended++;
			if (blob_upload_remove(srv->conf.storage_dir, ti->staging[i]) != 0)
				log_event(LOG_LVL_ERR, "upload.staging_remove_failed",
					  "upload=%s error=\"%s\"", ti->id[i], strerror(errno));
		}
		tus_claim_drop(&cl);
	}
	return ended;
}

/*
 * api_tus_link_end - an upload link has ended (the counterparty said
 * done): its unfinished uploads can never complete, so they end now
 * (upload.terminated, reason), by who. One a PATCH holds is left to that
 * PATCH (its completion is refused, the link having ended) or to the
 * purger's next api_tus_expire_run.
 */
void
api_tus_link_end(struct server *srv, const char *link_id, const char *reason,
		 const struct audit_actor *who)
{
	char ids[TUS_EXPIRE_BATCH][UTIL_IDLEN + 1];
	char stagings[TUS_EXPIRE_BATCH][DB_UPLOAD_STAGINGMAX + 1];
	struct tus_idle ti = {.id = ids, .staging = stagings};
	int ended;

	if (db_upload_of_link(srv->db, link_id, TUS_EXPIRE_BATCH, tus_idle_cb, &ti) != DB_OK) {
		log_event(LOG_LVL_ERR, "upload.end_failed", "link=%s step=list", link_id);
		return;
	}
	ended = tus_end_batch(srv, &ti, "upload.terminated", reason, 0, who);
	if (ended > 0)
		log_event(LOG_LVL_INFO, "upload.terminated", "link=%s uploads=%d reason=%s",
			  link_id, ended, reason);
}

/*
 * api_tus_expire_run - abandoned uploads do not live for ever: one not
 * PATCHed for API_TUS_EXPIRE_SECONDS is removed (upload.expired), and a
 * counterparty's whose link or transfer ended (revoked, expired, sent)
 * too (upload.terminated, link_ended); row first, then its staging file
 * (a crash between leaves a file that start-up recovery removes). One
 * being written is left alone.
 */
void
api_tus_expire_run(struct server *srv, int64_t now)
{
	char lids[TUS_EXPIRE_BATCH][UTIL_IDLEN + 1];
	char lstagings[TUS_EXPIRE_BATCH][DB_UPLOAD_STAGINGMAX + 1];
	struct tus_idle lt = {.id = lids, .staging = lstagings};
	int ended;

	/* A counterparty's uploads end with their link (revoked, expired, done) or transfer. */
	if (db_upload_link_ended(srv->db, now, TUS_EXPIRE_BATCH, tus_idle_cb, &lt) != DB_OK) {
		log_event(LOG_LVL_ERR, "upload.expire_failed", "step=links");
	} else {
		ended =
		    tus_end_batch(srv, &lt, "upload.terminated", "link_ended", 0, &audit_system);
		if (ended > 0)
			log_event(LOG_LVL_INFO, "upload.terminated", "uploads=%d reason=link_ended",
				  ended);
	}
	tus_expire_idle(srv, now);
}

/* tus_expire_idle - the uploads of anyone not PATCHed for API_TUS_EXPIRE_SECONDS */
static void
tus_expire_idle(struct server *srv, int64_t now)
{
	char ids[TUS_EXPIRE_BATCH][UTIL_IDLEN + 1];
	char stagings[TUS_EXPIRE_BATCH][DB_UPLOAD_STAGINGMAX + 1];
	struct tus_idle ti = {.id = ids, .staging = stagings};
	int64_t before = now - API_TUS_EXPIRE_SECONDS;
	int expired;

	if (db_upload_idle(srv->db, before, TUS_EXPIRE_BATCH, tus_idle_cb, &ti) != DB_OK) {
		log_event(LOG_LVL_ERR, "upload.expire_failed", "step=list");
		return;
	}
	expired = tus_end_batch(srv, &ti, "upload.expired", "idle", before, &audit_system);
	if (expired > 0)
		log_event(LOG_LVL_INFO, "upload.expired", "uploads=%d idle_s=%d", expired,
			  API_TUS_EXPIRE_SECONDS);
}
