/*
 * recipient.c - what a recipient reaches from the link in their mail:
 *
 *   GET  /d/TOKEN               the transfer: sender, message, files, expiry
 *   POST /d/TOKEN/code          mail me a one-time code (email-otp)
 *   POST /d/TOKEN/verify        code=... or passphrase=...: a session cookie
 *   GET  /d/TOKEN/files/FILEID  download (Range), once verified
 *   GET  /u/TOKEN               a counterparty's upload page (request files)
 *   POST /u/TOKEN/code, /verify as above (always by e-mail code)
 *   PUT  /u/TOKEN/files/NAME    upload one file (scanned and encrypted as any)
 *   POST /u/TOKEN/uploads       the same, resumable: tus 1.0 creation, then
 *   HEAD, PATCH, DELETE /u/TOKEN/uploads/ID   (api_tus.c, owned by the link)
 *   POST /u/TOKEN/done          finished: the requester is told, the link ends
 *   GET  /static/NAME           the stylesheet, script and icon of the pages
 *
 * HTML for people, JSON for scripts (Accept: application/json). A link that
 * is unknown, expired, revoked or used up gets the same 404 page, whatever
 * the reason, and every attempt is recorded with its real outcome.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_tus.h"
#include "html.h"
#include "http.h"
#include "jsonutil.h"
#include "links.h"
#include "log.h"
#include "mailer.h"
#include "outbox.h"
#include "page.h"
#include "util.h"

#define RCPT_COOKIE "okuru_s"
#define RCPT_MAXFILES 10000
/* Everything a link's page needs, gathered once per request. */
struct rcpt {
	struct db_link link;
	struct db_sendinfo si;
	struct db_transfer t;
	struct db_user sender;
	struct db_file *files;
	int *left; /* downloads left per file (0: used up) */
	size_t nfiles;
	int verified;
	int upload;	  /* a /u/ link */
	const char *mode; /* how the holder proves who they are */
	char token[LINKS_TOKENLEN + 1];
	char path[8 + LINKS_TOKENLEN]; /* "/d/TOKEN" */
	char ip[64];
	const char *ua;
	int json;
	enum page_lang lang;
	struct req *rq; /* its rq->who: the recipient once the token resolves */
};

int
recipient_route(const char *url)
{
	return strncmp(url, "/d/", 3) == 0 || strncmp(url, "/u/", 3) == 0 ||
	       strncmp(url, "/static/", 8) == 0;
}

static void
rcpt_free(struct rcpt *x)
{
	free(x->files);
	free(x->left);
	db_transfer_free(&x->t);
	sodium_memzero(x->token, sizeof(x->token));
}

static void
rcpt_attempt(struct server *srv, const struct rcpt *x, const char *link_id, const char *action,
	     const char *outcome)
{
	/*
	 * Attempts on a real link go to the database; one with an unknown or
	 * malformed token only to the log: anyone can make those, and a
	 * synchronous write each would let them stall the database.
	 */
	if (link_id != NULL &&
	    db_link_attempt(srv->db, link_id, action, outcome, x->ip, x->ua) != DB_OK)
		log_event(LOG_LVL_ERR, "link.attempt_unrecorded", "action=%s outcome=%s", action,
			  outcome);
	log_event(strcmp(outcome, "ok") == 0 ? LOG_LVL_INFO : LOG_LVL_WARN, "link.attempt",
		  "link=%s action=%s outcome=%s ip=%s", link_id ? link_id : "-", action, outcome,
		  x->ip);
}

/*
 * rcpt_unknown_audit - "link.unknown" for a token that names no link, in
 * its own transaction and bounded (audit_flood_take). A failure is
 * only logged: the answer is the same 404 either way.
 */
static void
rcpt_unknown_audit(struct server *srv, const struct rcpt *x, const char *action, const char *reason)
{
	static struct audit_flood flood = AUDIT_FLOOD_INIT;
	struct audit_actor a = x->rq->who;

	a.kind = "recipient";
	a.name = "";
	db_audit_record_bounded(srv->db, &flood, &a, "link.unknown", "link", "",
				json_pack("{s:s, s:s, s:s}", "action", action, "reason", reason,
					  "kind", x->upload ? "upload" : "download"),
				util_now());
}

/*
 * rcpt_link_audit - a record about the request's (known) link in its own
 * transaction: views and refusals change nothing. Non-zero when it failed:
 * the caller answers 503 (fail closed).
 */
static int
rcpt_link_audit(struct server *srv, const struct rcpt *x, const char *event,
		const char *object_kind, const char *object_id, const char *outcome, json_t *extra)
{
	json_t *d = json_pack("{s:s, s:s, s:s}", "transfer", x->link.transfer_id, "recipient",
			      x->link.address, "link", x->link.id);

	if (d == NULL || (extra != NULL && json_object_update(d, extra) != 0)) {
		json_decref(d);
		json_decref(extra);
		log_event(LOG_LVL_ERR, "audit.unrecorded", "event=%s link=%s", event, x->link.id);
		return -1;
	}
	json_decref(extra);
	if (db_audit_record(srv->db, &x->rq->who, event, object_kind, object_id, outcome, d,
			    util_now()) != DB_OK) {
		log_event(LOG_LVL_ERR, "audit.unrecorded", "event=%s link=%s", event, x->link.id);
		return -1;
	}
	return 0;
}

/* rcpt_gone - the one answer for every link that cannot be used */
static enum MHD_Result
rcpt_gone(struct MHD_Connection *c, const struct rcpt *x)
{
	struct page p;

	if (x->json)
		return http_error(c, 404, "this link does not exist, has expired, was revoked or "
					  "has been used up");
	/* The switch is "?lang=" alone: every dead link's page is the same bytes. */
	page_begin(&p, x->lang, page_str(x->lang, PM_TITLE_GONE), NULL);
	page_raw(&p, "<p>");
	page_text(&p, page_str(x->lang, PM_GONE));
	page_raw(&p, "</p>");
	return page_send(c, 404, &p);
}

static int
rcpt_file_cb(const struct db_file *f, void *arg)
{
	struct rcpt *x = arg;
	struct db_file *nf;

	/* A counterparty sees only what came through their own link. */
	if (x->upload && strcmp(f->uploader, x->link.id) != 0)
		return 0;
	if (x->nfiles >= RCPT_MAXFILES)
		return -1;
	nf = realloc(x->files, (x->nfiles + 1) * sizeof(*nf));
	if (nf == NULL)
		return -1;
	x->files = nf;
	x->files[x->nfiles++] = *f;
	return 0;
}

/*
 * rcpt_load - resolve the token to a usable download link. Returns 0, or
 * 1 with *outcome naming why it is not usable, or -1 when the database
 * failed (503: a failure is not an answer about the link).
 */
static int
rcpt_load(struct server *srv, struct MHD_Connection *c, struct rcpt *x, const char **outcome)
{
	unsigned char hash[LINKS_HASHBYTES], sh[LINKS_HASHBYTES];
	const char *cookie;
	int64_t now = util_now();
	int r, left = 0;

	if (links_secret_hash(LINKS_TOKEN, x->token, hash) != 0) {
		*outcome = "malformed";
		return 1;
	}
	r = db_link_by_hash(srv->db, hash, &x->link);
	if (r == DB_NOTFOUND ||
	    (r == DB_OK && (sodium_memcmp(hash, x->link.token_hash, 32) != 0 ||
			    strcmp(x->link.kind, x->upload ? "upload" : "download") != 0))) {
		*outcome = "unknown";
		return 1;
	}
	if (r != DB_OK)
		return -1;
	/* From here on, every record of this request names the recipient. */
	http_actor_set(x->rq, "recipient", x->link.address);
	if (db_transfer_sendinfo(srv->db, x->link.transfer_id, &x->si) != DB_OK ||
	    db_transfer_get(srv->db, x->link.transfer_id, &x->t) != DB_OK ||
	    db_user_get(srv->db, x->t.owner_id, &x->sender) != DB_OK ||
	    db_file_list(srv->db, x->link.transfer_id, rcpt_file_cb, x) != DB_OK)
		return -1;
	if (x->link.revoked_at != 0 || x->si.revoked_at != 0) {
		*outcome = "revoked";
		return 1;
	}
	/*
	 * A download link works only once its transfer is sent and released:
	 * not while it waits for approval or inside the send delay, and never
	 * after a rejection or lapse. The token is in a held mail then, but a
	 * held mail is no reason to trust the state less.
	 */
	if (!x->upload && (strcmp(x->si.state, "sent") != 0 || x->si.release_at > now)) {
		*outcome = "not_released";
		return 1;
	}
	if (x->link.expires_at <= now) {
		*outcome = "expired";
		return 1;
	}
	if (x->upload && x->link.completed_at != 0) {
		*outcome = "completed";
		return 1;
	}
	x->mode = x->upload ? "email-otp" : x->si.verification;
	x->left = calloc(x->nfiles ? x->nfiles : 1, sizeof(*x->left));
	if (x->left == NULL)
		return -1;
	if (x->upload)
		left = 1; /* an upload link is not used up by downloads */
	for (size_t i = 0; !x->upload && i < x->nfiles; i++) {
		int done, usable;
		if (db_download_state(srv->db, x->link.id, x->files[i].id, x->si.download_limit,
				      x->files[i].size, &done, &usable) != DB_OK)
			return -1;
		x->left[i] = usable ? x->si.download_limit - done : 0;
		if (x->left[i] > 0)
			left++;
	}
	if (left == 0) {
		*outcome = "exhausted";
		return 1;
	}
	x->verified = strcmp(x->mode, "none") == 0;
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, RCPT_COOKIE);
	if (!x->verified && cookie != NULL && links_secret_hash(LINKS_SESSION, cookie, sh) == 0) {
		r = db_session_check(srv->db, sh, x->link.id, now);
		if (r == DB_ERROR)
			return -1;
		x->verified = r == DB_OK;
	}
	return 0;
}

static void
rcpt_time(int64_t t, char out[32])
{
	util_time_iso(t, out);
	out[16] = '\0'; /* "YYYY-MM-DDTHH:MM" is enough for people */
	out[10] = ' ';
}

/* rcpt_json - the link for scripts */
static enum MHD_Result
rcpt_json(struct MHD_Connection *c, const struct rcpt *x, unsigned status)
{
	char when[32], url[128];
	json_t *files = json_array(), *o;

	util_time_iso(x->link.expires_at, when);
	for (size_t i = 0; files != NULL && i < x->nfiles; i++) {
		const struct db_file *f = &x->files[i];
		if (x->upload) {
			json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", f->id,
							       "name", f->name, "size",
							       (json_int_t)f->size, "sha256",
							       f->sha256, "state", f->state));
			continue;
		}
		snprintf(url, sizeof(url), "%s/files/%s", x->path, f->id);
		json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s, s:i, s:s}", "id", f->id,
						       "name", f->name, "size", (json_int_t)f->size,
						       "sha256", f->sha256, "downloads_left", x->left[i],
						       "url", url));
	}
	o = json_pack("{s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:b, s:o}", "sender", "name",
		      x->sender.name, "email", x->sender.email, "subject", x->t.subject, "message",
		      x->t.message, "expires", when, "verification", x->mode, "verified",
		      x->verified, "files", files);
	if (o != NULL && x->upload) {
		json_object_set_new(o, "max_files", json_integer(x->link.max_files));
		json_object_set_new(o, "max_bytes", json_integer(x->link.max_bytes));
	}
	if (o == NULL)
		return http_error(c, 500, "internal error");
	return api_json(c, status, o);
}

/* rcpt_verify_section - how to prove who you are, or that you have */
static void
rcpt_verify_section(struct page *p, const struct rcpt *x)
{
	enum page_lang L = x->lang;

	if (x->verified) {
		/* A download page says so above its files (rcpt_page), an upload page here. */
		if (x->upload && strcmp(x->mode, "none") != 0) {
			page_raw(p, "<p class=\"ok\">");
			page_text(p, page_str(L, PM_VERIFIED_UPLOAD));
			page_raw(p, "</p>");
		}
	} else if (strcmp(x->mode, "email-otp") == 0) {
		page_raw(p, "<section class=\"verify\"><p>");
		page_text(p, page_str(L, PM_VERIFY_OTP));
		page_raw(p, "</p><form method=\"post\" action=\"");
		page_text(p, x->path);
		page_printf(p, "/code?lang=%s\"><button type=\"submit\">", L == PAGE_JA ? "ja" : "en");
		page_text(p, page_str(L, PM_SEND_CODE));
		page_raw(p, "</button></form><form method=\"post\" action=\"");
		page_text(p, x->path);
		page_printf(p, "/verify?lang=%s\"><label for=\"code\">", L == PAGE_JA ? "ja" : "en");
		page_text(p, page_str(L, PM_CODE));
		page_raw(p, "</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" "
			     "autocomplete=\"one-time-code\" pattern=\"[0-9]{6,8}\" maxlength=\"8\" "
			     "required><button type=\"submit\">");
		page_text(p, page_str(L, PM_VERIFY));
		page_raw(p, "</button></form></section>");
	} else {
		page_raw(p, "<section class=\"verify\"><p>");
		page_text(p, page_str(L, PM_VERIFY_PASS));
		page_raw(p, "</p><form method=\"post\" action=\"");
		page_text(p, x->path);
		page_printf(p, "/verify?lang=%s\"><label for=\"passphrase\">",
			    L == PAGE_JA ? "ja" : "en");
		page_text(p, page_str(L, PM_PASSPHRASE));
		page_raw(p, "</label><input id=\"passphrase\" name=\"passphrase\" type=\"password\" "
			     "autocomplete=\"off\" maxlength=\"256\" required><button type=\"submit\">");
		page_text(p, page_str(L, PM_VERIFY));
		page_raw(p, "</button></form></section>");
	}
}

/* rcpt_upload_section - a request's files so far, and the upload form */
static void
rcpt_upload_section(struct page *p, const struct rcpt *x)
{
	enum page_lang L = x->lang;
	int64_t used = 0;

	for (size_t i = 0; i < x->nfiles; i++)
		used += x->files[i].size;
	page_raw(p, "<h2>");
	page_text(p, page_str(L, PM_UPLOAD_LIMITS));
	page_printf(p, "</h2><p class=\"limits\">%zu / %d, ", x->nfiles, x->link.max_files);
	page_size(p, (long long)used);
	page_raw(p, " / ");
	page_size(p, (long long)x->link.max_bytes);
	page_raw(p, "</p>");
	if (x->nfiles > 0) {
		page_raw(p, "<h2>");
		page_text(p, page_str(L, PM_UPLOADED_FILES));
		page_raw(p, "</h2>");
	}
	page_raw(p, "<ul class=\"files\">");
	for (size_t i = 0; i < x->nfiles; i++) {
		page_raw(p, "<li><span class=\"name\">");
		page_text(p, x->files[i].name);
		page_raw(p, "</span> <span class=\"size\">");
		page_size(p, (long long)x->files[i].size);
		page_raw(p, "</span><br><span class=\"state\" data-state=\"");
		page_text(p, x->files[i].state);
		page_raw(p, "\">");
		page_text(p, page_str(L, PM_SCAN_STATE));
		page_raw(p, ": ");
		page_text(p, page_scan_state(L, x->files[i].state));
		page_raw(p, "</span></li>");
	}
	page_raw(p, "</ul>");
	rcpt_verify_section(p, x);
	if (!x->verified)
		return;
	page_raw(p, "<section class=\"upload\"><label for=\"files\">");
	page_text(p, page_str(L, PM_UPLOAD_CHOOSE));
	page_raw(p, "</label><input id=\"files\" type=\"file\" multiple data-upload=\"");
	page_text(p, x->path);
	page_raw(p, "/files/\" data-tus=\"");
	page_text(p, x->path); /* upload.js uploads through tus here (resumable) */
	page_raw(p, "/uploads\"><ul id=\"progress\" class=\"files\" aria-live=\"polite\"");
	/* upload.js shows its states in the page's language: the words ride here. */
	{
		static const struct {
			const char *attr;
			enum page_msg msg;
		} words[] = {{"data-scan", PM_SCAN_STATE},
			     {"data-sending", PM_UPLOAD_SENDING},
			     {"data-failed", PM_UPLOAD_FAILED},
			     {"data-retrying", PM_UPLOAD_RETRYING},
			     {"data-uploaded", PM_STATE_UPLOADED},
			     {"data-scanning", PM_STATE_SCANNING},
			     {"data-clean", PM_STATE_CLEAN},
			     {"data-infected", PM_STATE_INFECTED},
			     {"data-unscannable", PM_STATE_UNSCANNABLE},
			     {"data-broken", PM_STATE_BROKEN}};
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			page_printf(p, " %s=\"", words[i].attr);
			page_text(p, page_str(L, words[i].msg));
			page_raw(p, "\"");
		}
	}
	page_raw(p, "></ul><form method=\"post\" action=\"");
	page_text(p, x->path);
	page_printf(p, "/done?lang=%s\"><button type=\"submit\">", L == PAGE_JA ? "ja" : "en");
	page_text(p, page_str(L, PM_UPLOAD_DONE_BUTTON));
	page_raw(p, "</button></form></section><script src=\"/static/tus.js\"></script>"
		    "<script src=\"/static/upload.js\"></script>");
}

/* rcpt_page - the link as a page; note is a message about the last action */
static enum MHD_Result
rcpt_page(struct MHD_Connection *c, const struct rcpt *x, unsigned status, const char *note,
	  const char *note_class)
{
	enum page_lang L = x->lang;
	char when[32];
	struct page p;

	page_begin(&p, L, page_str(L, x->upload ? PM_TITLE_UPLOAD : PM_TITLE_LINK), x->path);
	if (x->upload) {
		page_raw(&p, "<p>");
		page_text(&p, page_str(L, PM_UPLOAD_INTRO));
		page_raw(&p, "</p>");
	}
	if (note != NULL) {
		page_printf(&p, "<p class=\"%s\" role=\"status\">", note_class);
		page_text(&p, note);
		page_raw(&p, "</p>");
	}
	page_raw(&p, "<dl class=\"meta\"><dt>");
	page_text(&p, page_str(L, PM_FROM));
	page_raw(&p, "</dt><dd>");
	page_text(&p, x->sender.name);
	page_raw(&p, " &lt;");
	page_text(&p, x->sender.email);
	page_raw(&p, "&gt;</dd>");
	/*
	 * A request made without a subject was once stored as "Files from
	 * ADDR", an English label for the requester's lists: the
	 * counterparty's page, in their language, does not show it. Requests
	 * made now keep an empty subject (api_request.c), shown as none.
	 */
	char label[DB_EMAILMAX + 16];
	snprintf(label, sizeof(label), "Files from %s", x->link.address);
	if (x->t.subject[0] != '\0' && !(x->upload && strcmp(x->t.subject, label) == 0)) {
		page_raw(&p, "<dt>");
		page_text(&p, page_str(L, PM_SUBJECT));
		page_raw(&p, "</dt><dd>");
		page_text(&p, x->t.subject);
		page_raw(&p, "</dd>");
	}
	rcpt_time(x->link.expires_at, when);
	page_raw(&p, "<dt>");
	page_text(&p, page_str(L, PM_EXPIRES));
	page_raw(&p, "</dt><dd><time>");
	page_text(&p, when);
	page_raw(&p, " UTC</time></dd></dl>");
	if (x->t.message[0] != '\0') {
		page_raw(&p, "<h2>");
		page_text(&p, page_str(L, PM_MESSAGE));
		page_raw(&p, "</h2><p class=\"message\">");
		page_text(&p, x->t.message);
		page_raw(&p, "</p>");
	}
	if (x->upload) {
		rcpt_upload_section(&p, x);
		return page_send(c, status, &p);
	}
	if (x->verified && strcmp(x->mode, "none") != 0) {
		page_raw(&p, "<p class=\"ok\">");
		page_text(&p, page_str(L, PM_VERIFIED));
		page_raw(&p, "</p>");
	}
	page_raw(&p, "<h2>");
	page_text(&p, page_str(L, PM_FILES));
	page_raw(&p, "</h2><ul class=\"files\">");
	for (size_t i = 0; i < x->nfiles; i++) {
		const struct db_file *f = &x->files[i];
		int left = x->left[i];
		page_raw(&p, "<li><span class=\"name\">");
		if (x->verified && left > 0) {
			page_raw(&p, "<a href=\"");
			page_text(&p, x->path);
			page_printf(&p, "/files/%s\" download>", f->id);
			page_text(&p, f->name);
			page_raw(&p, "</a>");
		} else {
			page_text(&p, f->name);
		}
		page_raw(&p, "</span> <span class=\"size\">");
		page_size(&p, (long long)f->size);
		page_raw(&p, "</span><br><code class=\"sha\">SHA-256 ");
		page_text(&p, f->sha256);
		page_raw(&p, "</code><br><span class=\"left\">");
		if (left > 0)
			page_printf(&p, "%d %s", left, page_str(L, PM_DOWNLOADS_LEFT));
		else
			page_text(&p, page_str(L, PM_NONE_LEFT));
		page_raw(&p, "</span></li>");
	}
	page_raw(&p, "</ul>");
	rcpt_verify_section(&p, x);
	return page_send(c, status, &p);
}

/* rcpt_form_get - one field of a JSON or urlencoded body; 0 when found */
static int
rcpt_form_get(struct MHD_Connection *c, const struct req *rq, const char *name, char *out,
	      size_t outlen)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t nl = strlen(name);

	if (rq->body == NULL)
		return -1;
	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0) {
		json_t *in = jsonutil_depth_ok(rq->body, rq->bodylen, 2) == 0
				     ? json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, NULL)
				     : NULL;
		const char *v = json_string_value(json_object_get(in, name));
		int r = -1;
		if (v != NULL && strlen(v) < outlen) {
			memcpy(out, v, strlen(v) + 1);
			r = 0;
		}
		json_decref(in);
		return r;
	}
	for (const char *p = rq->body; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			n -= nl + 1;
			if (n >= outlen)
				return -1;
			memcpy(out, p + nl + 1, n);
			out[n] = '\0';
			for (char *q = out; *q; q++)
				if (*q == '+')
					*q = ' ';
			MHD_http_unescape(out); /* %XX, by the library */
			return strlen(out) == strnlen(out, outlen) ? 0 : -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	return -1;
}

/* rcpt_see_other - 303 back to the link page after a successful POST */
static enum MHD_Result
rcpt_see_other(struct MHD_Connection *c, const struct rcpt *x, const char *m, const char *cookie)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char loc[160];

	if (r == NULL)
		return MHD_NO;
	snprintf(loc, sizeof(loc), "%s?lang=%s%s%s", x->path, x->lang == PAGE_JA ? "ja" : "en",
		 m ? "&m=" : "", m ? m : "");
	MHD_add_response_header(r, "Location", loc);
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	return http_send(c, 303, r);
}

/* rcpt_code - mail a one-time code to the link's own address */
static enum MHD_Result
rcpt_code(struct server *srv, struct MHD_Connection *c, struct rcpt *x)
{
	const struct conf *cf = &srv->conf;
	char code[9], minutes[16], err[256], when[32];
	unsigned char hash[LINKS_HASHBYTES];
	struct db_mail m;
	int64_t now = util_now(), until;
	int r;

	if (strcmp(x->mode, "email-otp") != 0) {
		if (x->json)
			return http_error(c, 409, "this link is not verified by e-mail code");
		return rcpt_page(c, x, 409, page_str(x->lang, PM_BAD_REQUEST), "error");
	}
	r = db_link_locked(srv->db, x->link.id, now, &until);
	if (r < 0)
		return http_error(c, 503, "database unavailable");
	if (r == 1) {
		rcpt_attempt(srv, x, x->link.id, "code", "locked");
		if (rcpt_link_audit(srv, x, "otp.requested", "link", x->link.id, "locked",
				    json_pack("{s:o}", "locked_until", jsonutil_time(until))) != 0)
			return http_error(c, 503, "database unavailable");
		if (x->json) {
			util_time_iso(until, when);
			return api_json(c, 429, json_pack("{s:s, s:s}", "error",
							  "too many wrong attempts: the link is locked",
							  "locked_until", when));
		}
		return rcpt_page(c, x, 429, page_str(x->lang, PM_LOCKED), "error");
	}
	links_otp_new(cf->links_otp_digits, x->link.id, code, hash);
	snprintf(minutes, sizeof(minutes), "%d", (cf->links_otp_lifetime + 59) / 60);
	{
		struct mail_var vars[] = {
			{"code", code, NULL},
			{"minutes", minutes, NULL},
			{"sender_name", x->sender.name, NULL},
		};
		r = outbox_prepare(srv->keys, cf, "otp", x->link.address, vars,
				   sizeof(vars) / sizeof(vars[0]), x->link.transfer_id, x->link.id,
				   &m, err, sizeof(err));
	}
	sodium_memzero(code, sizeof(code));
	if (r != 0) {
		log_event(LOG_LVL_ERR, "otp.template_failed", "error=\"%s\"", err);
		return http_error(c, 500, "the code mail cannot be prepared");
	}
	r = db_otp_issue(srv->db, x->link.id, hash, now + cf->links_otp_lifetime,
			 cf->links_otp_per_hour, now, &m, &x->rq->who);
	outbox_mail_free(&m);
	if (r == DB_CONFLICT) {
		rcpt_attempt(srv, x, x->link.id, "code", "rate_limited");
		/* Refused, so nothing changed: recorded on its own. */
		if (rcpt_link_audit(srv, x, "otp.requested", "link", x->link.id, "refused",
				    json_pack("{s:s, s:i}", "reason", "rate_limited", "per_hour",
					      cf->links_otp_per_hour)) != 0)
			return http_error(c, 503, "database unavailable");
		if (x->json)
			return http_error(c, 429, "too many codes requested; try again in an hour");
		return rcpt_page(c, x, 429, page_str(x->lang, PM_TOO_MANY_CODES), "error");
	}
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	mailer_kick(srv->mailer);
	rcpt_attempt(srv, x, x->link.id, "code", "ok");
	if (x->json) {
		util_time_iso(now + cf->links_otp_lifetime, when);
		return api_json(c, 202, json_pack("{s:b, s:s}", "sent", 1, "expires", when));
	}
	return rcpt_see_other(c, x, "sent", NULL);
}

/* rcpt_verify - one attempt with a code or a passphrase */
static enum MHD_Result
rcpt_verify(struct server *srv, struct MHD_Connection *c, struct req *rq, struct rcpt *x)
{
	const struct conf *cf = &srv->conf;
	char value[LINKS_PASSMAX + 2], sid[LINKS_TOKENLEN + 1], cookie[256], msg[200], when[32];
	unsigned char ch[LINKS_HASHBYTES], sh[LINKS_HASHBYTES];
	int64_t now = util_now(), until;
	enum db_verify v;
	int otp = strcmp(x->mode, "email-otp") == 0, ok = 0, left = 0, r;

	if (strcmp(x->mode, "none") == 0 ||
	    rcpt_form_get(c, rq, otp ? "code" : "passphrase", value, sizeof(value)) != 0) {
		if (x->json)
			return http_error(c, 400, otp ? "send the code as \"code\""
						      : "send the passphrase as \"passphrase\"");
		return rcpt_page(c, x, 400, page_str(x->lang, PM_BAD_REQUEST), "error");
	}
	if (otp) {
		/* A malformed code is a wrong code: it costs an attempt. */
		if (links_otp_hash(value, cf->links_otp_digits, x->link.id, ch) != 0)
			randombytes_buf(ch, sizeof(ch));
	} else {
		/* Argon2id is slow on purpose: skip it while the link is locked. */
		r = db_link_locked(srv->db, x->link.id, now, &until);
		if (r < 0) {
			sodium_memzero(value, sizeof(value));
			return http_error(c, 503, "database unavailable");
		}
		ok = r == 0 && links_passphrase_check(x->si.passphrase, value);
	}
	sodium_memzero(value, sizeof(value));
	links_secret_new(LINKS_SESSION, sid, sh);
	r = db_link_verify(srv->db, x->link.id, otp ? ch : NULL, ok, cf->links_otp_attempts,
			   cf->links_otp_lock, now, sh, now + cf->links_session_lifetime, &v, &left,
			   &rq->who);
	if (r != DB_OK) {
		sodium_memzero(sid, sizeof(sid));
		return http_error(c, 503, "database unavailable");
	}
	if (v == DB_VERIFY_OK) {
		snprintf(cookie, sizeof(cookie),
			 RCPT_COOKIE "=%s; Path=%s; Max-Age=%d; Secure; HttpOnly; SameSite=Strict",
			 sid, x->path, cf->links_session_lifetime);
		sodium_memzero(sid, sizeof(sid));
		rcpt_attempt(srv, x, x->link.id, "verify", "ok");
		log_event(LOG_LVL_INFO, "link.verified", "link=%s transfer=%s recipient=%s ip=%s",
			  x->link.id, x->link.transfer_id, x->link.address, x->ip);
		if (x->json) {
			struct MHD_Response *resp;
			json_t *o = json_pack("{s:b}", "verified", 1);
			char *s = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			resp = s ? MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE)
				 : NULL;
			if (resp == NULL) {
				free(s);
				sodium_memzero(cookie, sizeof(cookie));
				return MHD_NO;
			}
			MHD_add_response_header(resp, "Content-Type", "application/json");
			MHD_add_response_header(resp, "Set-Cookie", cookie);
			sodium_memzero(cookie, sizeof(cookie));
			return http_send(c, 200, resp);
		}
		enum MHD_Result ret = rcpt_see_other(c, x, "verified", cookie);
		sodium_memzero(cookie, sizeof(cookie));
		return ret;
	}
	sodium_memzero(sid, sizeof(sid));
	if (v == DB_VERIFY_LOCKED) {
		rcpt_attempt(srv, x, x->link.id, "verify", "locked");
		if (db_link_locked(srv->db, x->link.id, now, &until) < 0)
			until = now + cf->links_otp_lock;
		util_time_iso(until, when);
		if (x->json)
			return api_json(c, 429, json_pack("{s:s, s:s}", "error",
							  "too many wrong attempts: the link is locked",
							  "locked_until", when));
		rcpt_time(until, when);
		snprintf(msg, sizeof(msg), "%s %s UTC", page_str(x->lang, PM_LOCKED), when);
		return rcpt_page(c, x, 429, msg, "error");
	}
	if (v == DB_VERIFY_NOCODE) {
		rcpt_attempt(srv, x, x->link.id, "verify", "no_code");
		if (x->json)
			return http_error(c, 409, "no valid code: it expired or was used; ask for a new one");
		return rcpt_page(c, x, 409, page_str(x->lang, PM_NOCODE), "error");
	}
	rcpt_attempt(srv, x, x->link.id, "verify", "wrong");
	if (x->json)
		return api_json(c, 403, json_pack("{s:s, s:i}", "error", otp ? "wrong code"
									 : "wrong passphrase",
						  "attempts_left", left));
	snprintf(msg, sizeof(msg), "%s %d", page_str(x->lang, PM_WRONG), left);
	return rcpt_page(c, x, 403, msg, "error");
}

/* rcpt_download_refused - "file.download_refused" with the reason */
static int
rcpt_download_refused(struct server *srv, const struct rcpt *x, const struct db_file *f,
		      const char *reason)
{
	return rcpt_link_audit(srv, x, "file.download_refused", "file", f->id, "refused",
			       json_pack("{s:s, s:o, s:s, s:i}", "file", f->id, "name",
					 jsonutil_text(f->name), "reason", reason, "limit",
					 x->si.download_limit));
}

/* rcpt_download - a verified recipient fetches one file of the transfer */
static enum MHD_Result
rcpt_download(struct server *srv, struct MHD_Connection *c, struct req *rq, struct rcpt *x,
	      const char *fid, int is_head)
{
	const struct db_file *f = NULL;
	char who[DB_EMAILMAX + 16];
	int left = 0;

	for (size_t i = 0; i < x->nfiles; i++)
		if (strcmp(x->files[i].id, fid) == 0) {
			f = &x->files[i];
			left = x->left[i];
		}
	if (f == NULL) {
		rcpt_attempt(srv, x, x->link.id, "download", "no_such_file");
		return rcpt_gone(c, x);
	}
	if (f->shredded) {
		/* Purged (or destroyed as infected): gone, like a dead link. */
		rcpt_attempt(srv, x, x->link.id, "download", "purged");
		if (rcpt_download_refused(srv, x, f, "purged") != 0)
			return http_error(c, 503, "database unavailable");
		return rcpt_gone(c, x);
	}
	if (!x->verified) {
		rcpt_attempt(srv, x, x->link.id, "download", "not_verified");
		if (rcpt_download_refused(srv, x, f, "not_verified") != 0)
			return http_error(c, 503, "database unavailable");
		if (x->json)
			return http_error(c, 403, "confirm who you are first (see the link page)");
		return rcpt_page(c, x, 403, page_str(x->lang, PM_BAD_REQUEST), "error");
	}
	if (left == 0) {
		rcpt_attempt(srv, x, x->link.id, "download", "limit_reached");
		if (rcpt_download_refused(srv, x, f, "limit_reached") != 0)
			return http_error(c, 503, "database unavailable");
		return rcpt_gone(c, x);
	}
	/* The bytes are booked in api_file_send, once the range is known. */
	rq->dl.limit = x->si.download_limit;
	/* A HEAD sends no content: it is not a download and is not counted. */
	if (!is_head)
		memcpy(rq->dl.link_id, x->link.id, sizeof(rq->dl.link_id));
	/* For the audit record of a refusal (recipient_download_reserve). */
	memcpy(rq->dl.transfer_id, x->link.transfer_id, sizeof(rq->dl.transfer_id));
	snprintf(rq->dl.ip, sizeof(rq->dl.ip), "%s", x->ip);
	snprintf(rq->dl.ua, sizeof(rq->dl.ua), "%s", x->ua ? x->ua : "");
	snprintf(who, sizeof(who), "recipient:%s", x->link.address);
	rcpt_attempt(srv, x, x->link.id, "download", "ok");
	return api_file_send(srv, c, rq, f, who, x->si.allow_unscannable, x->si.allow_encrypted);
}

/*
 * recipient_download_reserve - called by api_file_send once the range is
 * known: book its bytes against the recipient's allowance, or refuse.
 */
int
recipient_download_reserve(struct server *srv, struct req *rq, uint64_t len, int64_t size)
{
	int r = db_download_reserve(srv->db, rq->dl.link_id, rq->dl.file_id, rq->dl.limit, size,
				    (int64_t)len);

	if (r == DB_CONFLICT) {
		log_event(LOG_LVL_WARN, "link.attempt", "link=%s action=download outcome=limit_reached "
			  "ip=%s", rq->dl.link_id, rq->dl.ip);
		/* The refusal changed nothing: recorded on its own, and a failure to is a 503. */
		if (db_audit_record(srv->db, &rq->who, "file.download_refused", "file",
				    rq->dl.file_id, "refused",
				    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:i}", "transfer",
					      rq->dl.transfer_id, "recipient", rq->who.name, "link",
					      rq->dl.link_id, "file", rq->dl.file_id, "reason",
					      "limit_reached", "length", (json_int_t)len, "limit",
					      rq->dl.limit),
				    util_now()) != DB_OK)
			return DB_ERROR;
	}
	return r;
}

/*
 * recipient_request_done - a recipient's download response ended: record
 * it, and if it completed the file for the first time, queue the sender's
 * receipt in the same transaction.
 */
void
recipient_request_done(struct server *srv, struct req *rq, int completed)
{
	struct db_download d = {0};
	struct db_link l;
	struct db_transfer t;
	struct db_file f;
	struct db_user owner;
	struct db_mail receipt;
	char when[32], err[256];
	int have_receipt = 0, first = 0, done = 0, usable;

	d.link_id = rq->dl.link_id;
	d.file_id = rq->dl.file_id;
	d.started = rq->dl.started;
	d.finished = util_now();
	d.ip = rq->dl.ip;
	d.user_agent = rq->dl.ua;
	d.range_start = (int64_t)rq->dl.start;
	d.length = (int64_t)rq->dl.len;
	d.bytes = (int64_t)(rq->dl.bytes < rq->dl.len ? rq->dl.bytes : rq->dl.len);
	d.complete = completed && rq->dl.bytes >= rq->dl.len;
	/* Prepare the receipt only while none was sent: most downloads need none. */
	if ((d.bytes > 0 || rq->dl.size == 0) &&
	    db_download_state(srv->db, d.link_id, d.file_id, rq->dl.limit, (int64_t)rq->dl.size,
			      &done, &usable) == DB_OK &&
	    done == 0 && db_link_get(srv->db, rq->dl.transfer_id, d.link_id, &l) == DB_OK &&
	    db_file_get(srv->db, rq->dl.transfer_id, d.file_id, &f) == DB_OK &&
	    db_transfer_get(srv->db, rq->dl.transfer_id, &t) == DB_OK) {
		if (db_user_get(srv->db, t.owner_id, &owner) == DB_OK) {
			util_time_iso(d.finished, when);
			struct mail_var vars[] = {
				{"recipient", l.address, NULL},
				{"file_name", f.name, NULL},
				{"sha256", f.sha256, NULL},
				{"when", when, NULL},
				{"ip", d.ip, NULL},
				{"subject", t.subject, NULL},
			};
			have_receipt = outbox_prepare(srv->keys, &srv->conf, "receipt", owner.email,
						      vars, sizeof(vars) / sizeof(vars[0]),
						      rq->dl.transfer_id, d.link_id, &receipt, err,
						      sizeof(err)) == 0;
			if (!have_receipt)
				log_event(LOG_LVL_ERR, "receipt.template_failed", "error=\"%s\"", err);
		}
		db_transfer_free(&t);
	}
	if (db_download_record(srv->db, &d, (int64_t)rq->dl.size, have_receipt ? &receipt : NULL,
			       &first, &rq->who) != DB_OK)
		log_event(LOG_LVL_ERR, "download.unrecorded", "link=%s file=%s", d.link_id, d.file_id);
	if (have_receipt)
		outbox_mail_free(&receipt);
	if (first)
		mailer_kick(srv->mailer);
	log_event(LOG_LVL_INFO, "download.done", "link=%s file=%s offset=%" PRId64 " length=%" PRId64
		  " bytes=%" PRId64 " complete=%d first=%d ip=%s", d.link_id, d.file_id,
		  d.range_start, d.length, d.bytes, d.complete, first, d.ip);
}

/*
 * rcpt_upload - a verified counterparty starts uploading one file into the
 * request's transfer, within the link's file count and byte budget.
 */
static enum MHD_Result
rcpt_upload(struct server *srv, struct MHD_Connection *c, struct req *rq, struct rcpt *x,
	    const char *name)
{
	struct limits l;
	int64_t used = 0, budget;

	if (!x->verified) {
		rcpt_attempt(srv, x, x->link.id, "upload", "not_verified");
		return api_upload_refuse(c, rq, 403, "confirm who you are first (see the link page)");
	}
	if (strcmp(x->t.state, "draft") != 0) {
		rcpt_attempt(srv, x, x->link.id, "upload", "not_draft");
		return api_upload_refuse(c, rq, 409, "this request no longer takes files");
	}
	/* The link's files and its unfinished resumable uploads, which hold their length. */
	if (db_upload_link_bytes(srv->db, x->link.id, &used) != DB_OK)
		return api_upload_refuse(c, rq, 503, "database unavailable");
	http_limits(srv, &l);
	budget = x->link.max_bytes - used;
	if (budget > l.max_file_size)
		budget = l.max_file_size;
	if (budget <= 0) {
		rcpt_attempt(srv, x, x->link.id, "upload", "byte_limit");
		return api_upload_refuse(c, rq, 413, "the upload request's byte limit is reached");
	}
	rq->user_ok = 1;
	snprintf(rq->user.name, sizeof(rq->user.name), "counterparty");
	snprintf(rq->user.role, sizeof(rq->user.role), "counterparty");
	rcpt_attempt(srv, x, x->link.id, "upload", "ok");
	log_event(LOG_LVL_INFO, "request.upload", "link=%s transfer=%s counterparty=%s ip=%s",
		  x->link.id, x->link.transfer_id, x->link.address, x->ip);
	http_actor_set(rq, "recipient", x->link.address); /* file.uploaded's actor */
	return api_upload_open(srv, c, rq, x->link.transfer_id, name, budget,
			       x->link.max_files < l.max_files_per_transfer ? x->link.max_files
									    : l.max_files_per_transfer,
			       x->link.id, x->link.max_bytes);
}

/* rcpt_tus_refuse - a counterparty's tus request refused: a PATCH's body is read first */
static enum MHD_Result
rcpt_tus_refuse(struct MHD_Connection *c, struct req *rq, int is_patch, unsigned status,
		const char *msg)
{
	return is_patch ? api_tus_refuse(c, rq, status, msg) : api_tus_error(c, status, msg);
}

/*
 * rcpt_tus - a verified counterparty's resumable upload (tus) under
 * /u/TOKEN/uploads: the checks of rcpt_upload, then api_tus.c with the
 * link as the uploads' owner and its limits: the bytes it has left (its
 * files and unfinished uploads counted) and its max_files.
 */
static enum MHD_Result
rcpt_tus(struct server *srv, struct MHD_Connection *c, struct req *rq, struct rcpt *x,
	 const char *id, const char *method)
{
	int is_patch = strcmp(method, "PATCH") == 0;
	char prefix[sizeof(x->path) + 8];
	struct api_tus_owner o;
	struct limits l;
	int64_t taken = 0, budget;

	if (!x->verified && strcmp(method, "OPTIONS") != 0) {
		rcpt_attempt(srv, x, x->link.id, "upload", "not_verified");
		return rcpt_tus_refuse(c, rq, is_patch, 403,
				       "confirm who you are first (see the link page)");
	}
	if (strcmp(x->t.state, "draft") != 0) {
		rcpt_attempt(srv, x, x->link.id, "upload", "not_draft");
		return rcpt_tus_refuse(c, rq, is_patch, 409, "this request no longer takes files");
	}
	if (db_upload_link_bytes(srv->db, x->link.id, &taken) != DB_OK)
		return rcpt_tus_refuse(c, rq, is_patch, 503, "database unavailable");
	http_limits(srv, &l);
	budget = x->link.max_bytes - taken;
	if (budget > l.max_file_size)
		budget = l.max_file_size;
	if (budget < 0)
		budget = 0;
	snprintf(prefix, sizeof(prefix), "%s/uploads", x->path);
	memset(&o, 0, sizeof(o));
	o.link_id = x->link.id;
	o.transfer_id = x->link.transfer_id;
	o.prefix = prefix;
	o.max_size = budget;
	o.max_files = x->link.max_files < l.max_files_per_transfer ? x->link.max_files
								   : l.max_files_per_transfer;
	o.max_bytes = x->link.max_bytes;
	rq->user_ok = 1;
	snprintf(rq->user.name, sizeof(rq->user.name), "counterparty");
	snprintf(rq->user.role, sizeof(rq->user.role), "counterparty");
	if (strcmp(method, "POST") == 0) {
		rcpt_attempt(srv, x, x->link.id, "upload", "ok");
		log_event(LOG_LVL_INFO, "request.upload",
			  "link=%s transfer=%s counterparty=%s ip=%s via=tus", x->link.id,
			  x->link.transfer_id, x->link.address, x->ip);
	}
	return api_tus_link(srv, c, rq, &o, id, method);
}

struct rcpt_list {
	char *text, *html;
	size_t tl, hl;
	int failed;
};

/* rcpt_done - the counterparty has finished: tell the requester, end the link */
static enum MHD_Result
rcpt_done(struct server *srv, struct MHD_Connection *c, struct rcpt *x)
{
	struct rcpt_list fl = {0};
	struct db_mail m;
	char count[16], tlink[600], line[160], err[256] = "out of memory";
	struct page p;
	int r;

	if (!x->verified)
		return http_error(c, 403, "confirm who you are first (see the link page)");
	for (size_t i = 0; i < x->nfiles; i++) {
		char *h = html_escape(x->files[i].name);
		if (h == NULL)
			fl.failed = 1;
		/* Names are appended whole: a fixed line buffer would cut one. */
		snprintf(line, sizeof(line), " (%lld bytes, %s)", (long long)x->files[i].size,
			 x->files[i].state);
		util_append(&fl.text, &fl.tl, &fl.failed, "- ");
		util_append(&fl.text, &fl.tl, &fl.failed, x->files[i].name);
		util_append(&fl.text, &fl.tl, &fl.failed, line);
		util_append(&fl.text, &fl.tl, &fl.failed, "\n");
		util_append(&fl.html, &fl.hl, &fl.failed, "<li>");
		util_append(&fl.html, &fl.hl, &fl.failed, h ? h : "");
		util_append(&fl.html, &fl.hl, &fl.failed, line);
		util_append(&fl.html, &fl.hl, &fl.failed, "</li>");
		free(h);
	}
	snprintf(count, sizeof(count), "%zu", x->nfiles);
	/* A person follows the link: it opens the request in the staff app (#/transfers/ID). */
	snprintf(tlink, sizeof(tlink), "%s/#/transfers/%s", srv->conf.public_url,
		 x->link.transfer_id);
	{
		struct mail_var vars[] = {
			{"recipient", x->link.address, NULL},
			{"count", count, NULL},
			{"files", fl.text ? fl.text : "-", fl.html ? fl.html : "-"},
			{"transfer_link", tlink, NULL},
		};
		r = fl.failed ? -1
			      : outbox_prepare(srv->keys, &srv->conf, "uploaded", x->sender.email,
					       vars, sizeof(vars) / sizeof(vars[0]),
					       x->link.transfer_id, x->link.id, &m, err, sizeof(err));
	}
	free(fl.text);
	free(fl.html);
	if (r != 0) {
		log_event(LOG_LVL_ERR, "request.template_failed", "error=\"%s\"", err);
		return http_error(c, 500, "the notification cannot be prepared");
	}
	r = db_request_done(srv->db, x->link.id, x->link.transfer_id, util_now(), &m, &x->rq->who);
	outbox_mail_free(&m);
	if (r == DB_CONFLICT)
		return rcpt_gone(c, x);
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	mailer_kick(srv->mailer);
	/* The link has ended: its unfinished resumable uploads never will finish. */
	api_tus_link_end(srv, x->link.id, "request_done", &x->rq->who);
	rcpt_attempt(srv, x, x->link.id, "done", "ok");
	log_event(LOG_LVL_INFO, "request.completed", "link=%s transfer=%s counterparty=%s files=%zu",
		  x->link.id, x->link.transfer_id, x->link.address, x->nfiles);
	if (x->json)
		return api_json(c, 200, json_pack("{s:b, s:i}", "completed", 1, "files",
						  (int)x->nfiles));
	page_begin(&p, x->lang, page_str(x->lang, PM_TITLE_UPLOAD), x->path);
	page_raw(&p, "<p class=\"ok\">");
	page_text(&p, page_str(x->lang, PM_UPLOAD_FINISHED));
	page_raw(&p, "</p>");
	return page_send(c, 200, &p);
}

/*
 * rcpt_dead_audit - a token that cannot be used: "link.unknown" (bounded)
 * when it names no link, else "link.viewed" with the reason as outcome
 * (expired, revoked, not_released, ...). Non-zero: a known link's record
 * failed.
 */
static int
rcpt_dead_audit(struct server *srv, const struct rcpt *x, const char *action, const char *outcome)
{
	if (strcmp(outcome, "unknown") == 0 || strcmp(outcome, "malformed") == 0) {
		rcpt_unknown_audit(srv, x, action, outcome);
		return 0;
	}
	return rcpt_link_audit(srv, x, "link.viewed", "link", x->link.id, outcome,
			       json_pack("{s:s}", "action", action));
}

/* rcpt_origin_ok - a browser POST must come from our own pages */
static int
rcpt_origin_ok(struct server *srv, struct MHD_Connection *c)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

	return o == NULL || strcasecmp(o, srv->conf.public_origin) == 0;
}

enum MHD_Result
recipient_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *url,
		 const char *method, const char *data, size_t *data_size, int first)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int is_post = strcmp(method, "POST") == 0;
	int is_put = strcmp(method, "PUT") == 0;
	/* a counterparty's resumable upload (tus, api_tus.c): /u/TOKEN/uploads[/ID] */
	int is_patch = strcmp(method, "PATCH") == 0, is_tus = 0;
	const char *sub, *outcome = NULL, *action, *tus_id = "";
	struct rcpt x;
	enum MHD_Result ret;
	int r;

	if (strncmp(url, "/static/", 8) == 0) {
		http_body_done(rq);
		if (!is_get)
			return http_error(c, 405, "method not allowed");
		return www_static(srv, c, url + 8);
	}
	/* An upload's later calls carry its body; the first one checked the link. */
	if (is_put && !first)
		return api_upload_step(srv, c, rq, data, data_size);
	if (rq->tus != NULL) /* a tus PATCH's body, begun (or refused) in its first call */
		return api_tus_continue(srv, c, rq, data, data_size);
	if (is_patch && !first) { /* answered in the first call: nothing to keep */
		*data_size = 0;
		return MHD_YES;
	}
	if (is_post && first)
		return api_body_begin(srv, c, rq, 1);
	if (is_post && !api_body_collect(srv, rq, data, data_size))
		return MHD_YES;
	if (!is_put && !is_patch)
		http_body_done(rq);
	if (rq->body_too_big)
		return http_error(c, 413, "request body too large");

	memset(&x, 0, sizeof(x));
	x.rq = rq;
	x.json = accept != NULL && strstr(accept, "application/json") != NULL;
	x.lang = page_lang_pick(c);
	x.ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
	http_client_ip(c, x.ip, sizeof(x.ip));
	x.upload = url[1] == 'u';
	url += 3;
	sub = strchr(url, '/');
	if ((sub ? (size_t)(sub - url) : strlen(url)) != LINKS_TOKENLEN) {
		http_body_done(rq);
		rcpt_attempt(srv, &x, NULL, "view", "malformed");
		rcpt_unknown_audit(srv, &x, "view", "malformed");
		return rcpt_gone(c, &x);
	}
	memcpy(x.token, url, LINKS_TOKENLEN);
	snprintf(x.path, sizeof(x.path), "/%c/%s", x.upload ? 'u' : 'd', x.token);
	sub = sub ? sub + 1 : "";
	if (x.upload && strncmp(sub, "uploads", 7) == 0 &&
	    (sub[7] == '\0' || (sub[7] == '/' && sub[8] != '\0' && strchr(sub + 8, '/') == NULL))) {
		is_tus = 1; /* every method: api_tus.c answers 405 for one it does not take */
		tus_id = sub[7] == '/' ? sub + 8 : "";
	}
	if (!is_tus &&
	    !((is_get && (sub[0] == '\0' || (!x.upload && strncmp(sub, "files/", 6) == 0))) ||
	      (is_post && (strcmp(sub, "code") == 0 || strcmp(sub, "verify") == 0 ||
			   (x.upload && strcmp(sub, "done") == 0))) ||
	      (is_put && x.upload && strncmp(sub, "files/", 6) == 0))) {
		http_body_done(rq);
		rcpt_free(&x);
		return http_error(c, 405, "method not allowed");
	}
	/* A tus write (POST, PATCH, DELETE) is held to a POST's rule: our pages or no Origin. */
	if ((is_post || (is_tus && (is_patch || strcmp(method, "DELETE") == 0))) &&
	    !rcpt_origin_ok(srv, c)) {
		rcpt_free(&x);
		if (is_tus)
			return rcpt_tus_refuse(c, rq, is_patch, 403,
					       "cross-origin request refused");
		return http_error(c, 403, "cross-origin request refused");
	}
	if (sub[0] == '\0')
		action = "view";
	else if (is_tus)
		action = "upload";
	else if (is_post)
		action = sub;
	else
		action = is_put || is_tus ? "upload" : "download";
	r = rcpt_load(srv, c, &x, &outcome);
	if (r > 0 && rcpt_dead_audit(srv, &x, action, outcome) != 0)
		r = -1; /* fail closed: unrecorded, it is answered as a database failure */
	if (r != 0 && is_tus) {
		if (r > 0)
			rcpt_attempt(srv, &x, x.link.id[0] ? x.link.id : NULL, "upload", outcome);
		rcpt_free(&x);
		return rcpt_tus_refuse(c, rq, is_patch, r < 0 ? 503 : 404,
				       r < 0 ? "database unavailable"
					     : "this link does not exist, has expired, was revoked "
					       "or has been used up");
	}
	if (r != 0 && is_put) {
		/* Refused before the body: answer when it has been read (api_upload_refuse). */
		if (r > 0)
			rcpt_attempt(srv, &x, x.link.id[0] ? x.link.id : NULL, "upload", outcome);
		rcpt_free(&x);
		return api_upload_refuse(c, rq, r < 0 ? 503 : 404,
					 r < 0 ? "database unavailable"
					       : "this link does not exist, has expired, was revoked "
						 "or has been used up");
	}
	if (r != 0)
		http_body_done(rq);
	if (r < 0) {
		rcpt_free(&x);
		return http_error(c, 503, "database unavailable");
	}
	if (r > 0) {
		rcpt_attempt(srv, &x, x.link.id[0] ? x.link.id : NULL, action, outcome);
		ret = rcpt_gone(c, &x);
	} else if (sub[0] == '\0') {
		const char *m = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "m");
		rcpt_attempt(srv, &x, x.link.id, "view", "ok");
		if (rcpt_link_audit(
			srv, &x, "link.viewed", "link", x.link.id, "ok",
			json_pack("{s:s, s:b}", "action", "view", "verified", x.verified)) != 0)
			ret = http_error(c, 503, "database unavailable");
		else if (x.json)
			ret = rcpt_json(c, &x, 200);
		else if (m != NULL && strcmp(m, "sent") == 0) {
			char note[200];
			page_code_sent(x.lang, (srv->conf.links_otp_lifetime + 59) / 60, note,
				       sizeof(note));
			ret = rcpt_page(c, &x, 200, note, "ok");
		}
		else
			ret = rcpt_page(c, &x, 200, NULL, NULL);
	} else if (strcmp(sub, "code") == 0) {
		ret = rcpt_code(srv, c, &x);
	} else if (strcmp(sub, "verify") == 0) {
		ret = rcpt_verify(srv, c, rq, &x);
	} else if (strcmp(sub, "done") == 0) {
		ret = rcpt_done(srv, c, &x);
	} else if (is_tus) {
		ret = rcpt_tus(srv, c, rq, &x, tus_id, method);
	} else if (is_put) {
		ret = rcpt_upload(srv, c, rq, &x, sub + 6);
	} else {
		ret = rcpt_download(srv, c, rq, &x, sub + 6, strcmp(method, "HEAD") == 0);
	}
	rcpt_free(&x);
	return ret;
}
