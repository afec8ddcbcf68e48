/*
 * api_send.c - the sender's side of sending: POST .../send makes one link
 * per recipient and queues its mail in the same transaction; DELETE
 * revokes a transfer or one recipient; PATCH extends the expiry within the
 * configured maximum; and the transfer's JSON gains each recipient's mail,
 * verification and download record.
 *
 * A link's token exists in clear only here, long enough to be sealed into
 * its mail (outbox.c); the database keeps its hash.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "approval.h"
#include "html.h"
#include "http.h"
#include "jsonutil.h"
#include "links.h"
#include "log.h"
#include "mailer.h"
#include "outbox.h"
#include "policy_json.h"
#include "util.h"

#define API_SEND_MESSAGE_MAX 10000

/* api_verification_rank - how strong a verification is; -1 if unknown */
static int
api_verification_rank(const char *mode)
{
	if (strcmp(mode, "none") == 0)
		return 0;
	if (strcmp(mode, "email-otp") == 0)
		return 1;
	if (strcmp(mode, "passphrase") == 0)
		return 2;
	return -1;
}

struct api_send_req {
	const char *addr[1000];
	size_t naddr;
	const char *message;
	int expires_days;
	int limit;
	const char *verification;
	const char *passphrase;
	int dry_run; /* evaluate the policy only (api_preview.c): nothing changes */
};

/* api_send_parse - the request body, every field checked; why says what is wrong */
static int
api_send_parse(const struct conf *c, json_t *in, struct api_send_req *r, char *why, size_t whylen)
{
	const char *key;
	json_t *v, *a;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(in)) {
		snprintf(why, whylen, "request body must be a JSON object");
		return -1;
	}
	json_object_foreach(in, key, v) {
		if (strcmp(key, "recipients") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0) {
				snprintf(why, whylen, "recipients must be a non-empty list of addresses");
				return -1;
			}
			if (json_array_size(v) > (size_t)c->links_max_recipients) {
				snprintf(why, whylen, "at most %d recipients", c->links_max_recipients);
				return -1;
			}
			json_array_foreach(v, i, a) {
				const char *s = json_string_value(a);
				if (s == NULL || util_mailbox_ok(s) != 0) {
					snprintf(why, whylen, "recipient %zu is not a plain e-mail address "
							      "(user@domain)", i + 1);
					return -1;
				}
				for (size_t j = 0; j < r->naddr; j++)
					if (strcasecmp(r->addr[j], s) == 0) {
						snprintf(why, whylen, "recipient %s is listed twice", s);
						return -1;
					}
				r->addr[r->naddr++] = s;
			}
		} else if (strcmp(key, "message") == 0) {
			r->message = json_string_value(v);
			if (r->message == NULL || strlen(r->message) > API_SEND_MESSAGE_MAX ||
			    jsonutil_has_controls(r->message, 1)) {
				snprintf(why, whylen, "message must be a string of at most 10000 bytes "
						      "without control characters");
				return -1;
			}
		} else if (strcmp(key, "expires_days") == 0) {
			/* The policy's limit is checked once the policy has decided. */
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 3650) {
				snprintf(why, whylen, "expires_days must be a whole number of days");
				return -1;
			}
			r->expires_days = (int)json_integer_value(v);
		} else if (strcmp(key, "download_limit") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 1000) {
				snprintf(why, whylen, "download_limit must be a whole number from 1");
				return -1;
			}
			r->limit = (int)json_integer_value(v);
		} else if (strcmp(key, "verification") == 0) {
			r->verification = json_string_value(v);
			if (r->verification == NULL || api_verification_rank(r->verification) < 0) {
				snprintf(why, whylen, "verification must be email-otp, passphrase or none");
				return -1;
			}
		} else if (strcmp(key, "passphrase") == 0) {
			r->passphrase = json_string_value(v);
			if (r->passphrase == NULL || strlen(r->passphrase) < LINKS_PASSMIN ||
			    strlen(r->passphrase) > LINKS_PASSMAX ||
			    jsonutil_has_controls(r->passphrase, 0)) {
				snprintf(why, whylen, "passphrase must be 8 to 256 bytes without control "
						      "characters");
				return -1;
			}
		} else if (strcmp(key, "dry_run") == 0) {
			if (!json_is_boolean(v)) {
				snprintf(why, whylen, "dry_run must be true or false");
				return -1;
			}
			r->dry_run = json_is_true(v);
		} else {
			snprintf(why, whylen, "unknown field \"%.40s\" (allowed: recipients, message, "
					      "expires_days, download_limit, verification, passphrase, "
					      "dry_run)",
				 key);
			return -1;
		}
	}
	if (r->naddr == 0) {
		snprintf(why, whylen, "recipients must be a non-empty list of addresses");
		return -1;
	}
	return 0;
}

/*
 * api_send_choose - the sender's choices within what the policy decided:
 * expiry up to its maximum, downloads up to its limit, and verification
 * at least as strong as it requires (none < email-otp < passphrase).
 */
static int
api_send_choose(const struct policy_decision *d, struct api_send_req *r, char *why,
		size_t whylen)
{
	if (r->expires_days == 0)
		r->expires_days = d->expiry_days;
	if (r->expires_days > d->max_expiry_days) {
		snprintf(why, whylen, "expires_days must be 1 to %d (policy rule %s)",
			 d->max_expiry_days, d->rule[POLICY_EXPIRY]);
		return -1;
	}
	if (r->limit == 0)
		r->limit = d->download_limit;
	if (r->limit > d->download_limit) {
		snprintf(why, whylen, "download_limit must be 1 to %d (policy rule %s)",
			 d->download_limit, d->rule[POLICY_DOWNLOADS]);
		return -1;
	}
	if (r->verification == NULL)
		r->verification = d->verification;
	if (api_verification_rank(r->verification) < api_verification_rank(d->verification)) {
		snprintf(why, whylen, "verification must be %s%s here (policy rule %s)",
			 d->verification, strcmp(d->verification, "email-otp") == 0
						  ? " or passphrase" : "",
			 d->rule[POLICY_VERIFICATION]);
		return -1;
	}
	if ((strcmp(r->verification, "passphrase") == 0) != (r->passphrase != NULL)) {
		snprintf(why, whylen, "a passphrase is given exactly when verification is "
				      "\"passphrase\"");
		return -1;
	}
	return 0;
}

struct api_files_text {
	char *text;
	char *html;
	size_t tlen, hlen;
	int failed;
	struct db_file *files; /* for the policy */
	size_t nfiles;
};

/* api_files_list_cb - the file list for the link mail, as text and as HTML */
static int
api_files_list_cb(const struct db_file *f, void *arg)
{
	struct api_files_text *ft = arg;
	char line[200];
	char *name = html_escape(f->name);
	struct db_file *nf;

	if (name == NULL)
		return -1;
	nf = realloc(ft->files, (ft->nfiles + 1) * sizeof(*nf));
	if (nf == NULL) {
		free(name);
		return -1;
	}
	ft->files = nf;
	ft->files[ft->nfiles++] = *f;
	/* Names are appended whole: a fixed line buffer would cut one mid-character. */
	util_append(&ft->text, &ft->tlen, &ft->failed, "- ");
	util_append(&ft->text, &ft->tlen, &ft->failed, f->name);
	snprintf(line, sizeof(line), " (%lld bytes, SHA-256 %s)\n", (long long)f->size, f->sha256);
	util_append(&ft->text, &ft->tlen, &ft->failed, line);
	util_append(&ft->html, &ft->hlen, &ft->failed, "<li>");
	util_append(&ft->html, &ft->hlen, &ft->failed, name);
	snprintf(line, sizeof(line), " (%lld bytes)<br><small>SHA-256 %s</small></li>",
		 (long long)f->size, f->sha256);
	util_append(&ft->html, &ft->hlen, &ft->failed, line);
	free(name);
	return ft->failed;
}

static const char *
api_verification_text(const char *mode)
{
	if (strcmp(mode, "email-otp") == 0)
		return "On the page, ask for a one-time code: it is mailed to this address. / "
		       "ページでワンタイムコードを請求すると、このアドレスに届きます。";
	if (strcmp(mode, "passphrase") == 0)
		return "The sender will give you a passphrase by phone or in person; okuru never "
		       "mails it. / パスフレーズは送信者から電話または対面でお伝えします"
		       "（メールでは送られません）。";
	return "No confirmation is needed. / 本人確認は不要です。";
}

static int
api_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct db_file *)a)->id, ((const struct db_file *)b)->id);
}

/* api_file_ids - the ids of the files the policy sees, sorted, comma-joined (malloc'd) */
static char *
api_file_ids(struct api_files_text *ft)
{
	char *out = NULL;
	size_t len = 0;
	int failed = 0;

	qsort(ft->files, ft->nfiles, sizeof(*ft->files), api_id_cmp);
	for (size_t i = 0; i < ft->nfiles; i++) {
		if (i > 0)
			util_append(&out, &len, &failed, ",");
		util_append(&out, &len, &failed, ft->files[i].id);
	}
	if (failed) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * api_send_policy - evaluate the policy for this send: owner, recipients,
 * files. For a blocked send, *blocked is the file that stops it and why
 * (policy_block_find), so the page can name it in the user's language.
 */
static enum policy_outcome
api_send_policy(struct server *srv, const struct db_user *owner, const struct api_send_req *r,
		const struct api_files_text *ft, struct policy_decision *d, char *why,
		size_t whylen, char *file, size_t filelen, struct policy_block *blocked)
{
	char groups[DB_MAXGROUPS][DB_GROUPMAX + 1];
	const char *gp[DB_MAXGROUPS];
	struct policy_file *pf = calloc(ft->nfiles ? ft->nfiles : 1, sizeof(*pf));
	struct policy_request prq;
	size_t ng = 0;
	enum policy_outcome o;

	if (pf == NULL || db_user_groups(srv->db, owner->id, groups, &ng) != DB_OK) {
		free(pf);
		return (enum policy_outcome)-1;
	}
	for (size_t i = 0; i < ng; i++)
		gp[i] = groups[i];
	for (size_t i = 0; i < ft->nfiles; i++) {
		const struct db_file *f = &ft->files[i];
		pf[i] = (struct policy_file){.name = f->name, .size = f->size,
					     .type = f->detected_type,
					     .verdict = f->scan_verdict,
					     .encrypted = strcmp(f->scan_reason, "encrypted") == 0};
	}
	prq = (struct policy_request){.sender = owner->name, .sender_role = owner->role,
				      .sender_groups = gp, .ngroups = ng, .recipients = r->addr,
				      .nrecipients = r->naddr, .files = pf, .nfiles = ft->nfiles};
	http_policy_eval(srv, &prq, d, file, filelen);
	o = policy_outcome(d, &prq, why, whylen);
	if (o == POLICY_BLOCKED && !policy_block_find(d, &prq, blocked))
		o = (enum policy_outcome)-1; /* cannot be: the outcome found it */
	free(pf);
	return o;
}

/* api_policy_refuse - a denied or blocked send: the reason, the decision, and a record */
static enum MHD_Result
api_policy_refuse(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid,
		  unsigned status, json_t *pj, const char *why)
{
	char *text = json_dumps(pj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_t *o;

	if (text == NULL ||
	    db_transfer_refused(srv->db, tid, text, util_now(), &rq->who) != DB_OK) {
		free(text);
		json_decref(pj);
		return http_error(c, 503, "database unavailable");
	}
	free(text);
	log_event(LOG_LVL_INFO, "transfer.refused", "transfer=%s user=%s outcome=%s reason=\"%s\"",
		  tid, rq->user.name, status == 403 ? "denied" : "blocked", why);
	o = json_pack("{s:s, s:s, s:o}", "error", why, "code",
		      status == 403 ? "policy_denied" : "policy_blocked", "policy", pj);
	if (o == NULL)
		return http_error(c, 500, "internal error");
	return api_json(c, status, o);
}

/*
 * api_send_conflict - a send refused for the transfer's state (already
 * sent, no files, files changed meanwhile, ...): nothing changed, so
 * transfer.send_refused has a transaction of its own. A dry run records
 * nothing (it was not a send).
 */
static enum MHD_Result
api_send_conflict(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid,
		  const char *why, int dry_run)
{
	json_t *d;

	if (dry_run)
		return http_error(c, 409, why);
	d = json_pack("{s:s}", "reason", why);
	if (d == NULL || db_audit_record(srv->db, &rq->who, "transfer.send_refused", "transfer",
					 tid, "conflict", d, util_now()) != DB_OK)
		return http_error(c, 503, "database unavailable");
	return http_error(c, 409, why);
}

/* api_send - POST /api/v1/transfers/ID/send */
enum MHD_Result
api_send(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid)
{
	const struct conf *cf = &srv->conf;
	struct api_send_req r;
	struct db_transfer t;
	struct db_user owner;
	struct db_link *links = NULL;
	struct db_mail *mails = NULL;
	struct api_files_text ft = {0};
	struct approval_ask ask = {0};
	struct policy_decision d;
	enum policy_outcome outcome;
	struct policy_block blocked = {0};
	char (*tokens)[LINKS_TOKENLEN + 1] = NULL;
	char why[400], expires[32], pw[crypto_pwhash_STRBYTES] = "", pfile[300];
	char *ptext = NULL, *fids = NULL;
	json_t *in, *pj = NULL;
	json_error_t jerr;
	int64_t now = util_now(), release;
	size_t made = 0, nmails = 0;
	int rc;
	enum MHD_Result ret;

	if (srv->mailer == NULL)
		return http_error(c, 503, "mail is not configured (smtp.url): nothing can be sent");
	rc = api_transfer_load(srv, rq, tid, &t);
	if (rc == DB_NOTFOUND)
		return http_error_code(c, 404, "not_found", "no such transfer");
	if (rc != DB_OK)
		return http_error(c, 503, "database unavailable");
	if (rq->bodylen == 0 || jsonutil_depth_ok(rq->body, rq->bodylen, 4) != 0) {
		db_transfer_free(&t);
		return http_error(c, 400, "a JSON object with recipients is required");
	}
	in = json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, &jerr);
	if (in == NULL) {
		db_transfer_free(&t);
		snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
		return http_error(c, 400, why);
	}
	if (api_send_parse(cf, in, &r, why, sizeof(why)) != 0) {
		ret = http_error(c, 400, why);
		goto out;
	}
	if (strcmp(t.state, "draft") != 0) {
		ret = api_send_conflict(srv, c, rq, tid, "the transfer was already sent", r.dry_run);
		goto out;
	}
	/* The mail names the transfer's owner, as the page and receipts do. */
	if (db_user_get(srv->db, t.owner_id, &owner) != DB_OK) {
		ret = http_error(c, 503, "database unavailable");
		goto out;
	}
	if (db_file_list(srv->db, tid, api_files_list_cb, &ft) != DB_OK || ft.failed ||
	    ft.text == NULL) {
		ret = ft.text == NULL && !ft.failed
			  ? api_send_conflict(srv, c, rq, tid, "the transfer has no files", r.dry_run)
			  : http_error(c, 503, "database unavailable");
		goto out;
	}

	/* The policy decides; the owner is the sender, whoever presses send. */
	outcome = api_send_policy(srv, &owner, &r, &ft, &d, why, sizeof(why), pfile,
				  sizeof(pfile), &blocked);
	if ((int)outcome < 0) {
		ret = http_error(c, 503, "database unavailable");
		goto out;
	}
	pj = policy_json(&d, outcome, why, pfile);
	/* Which file stops the send, and why, as values the page can say. */
	if (pj != NULL && outcome == POLICY_BLOCKED &&
	    json_object_set_new(pj, "blocked",
				json_pack("{s:o, s:s}", "file",
					  jsonutil_text(ft.files[blocked.file].name), "cause",
					  blocked.cause)) != 0) {
		json_decref(pj);
		pj = NULL;
	}
	if (pj == NULL) {
		ret = http_error(c, 503, "out of memory");
		goto out;
	}
	/* A dry run answers the decision here: no record, no mail (api_preview.c). */
	if (r.dry_run && (outcome == POLICY_DENIED || outcome == POLICY_BLOCKED)) {
		ret = api_json(c, 200, api_preview_json(&d, outcome, why, pj, 0, now));
		pj = NULL;
		goto out;
	}
	if (outcome == POLICY_DENIED || outcome == POLICY_BLOCKED) {
		ret = api_policy_refuse(srv, c, rq, tid, outcome == POLICY_DENIED ? 403 : 409, pj,
					why);
		pj = NULL;
		goto out;
	}
	if (api_send_choose(&d, &r, why, sizeof(why)) != 0) {
		ret = http_error(c, 400, why);
		goto out;
	}
	if (outcome == POLICY_APPROVE &&
	    approval_ask_prepare(srv, &ask, &t, r.message ? r.message : t.message, &owner,
				 &rq->user, &d, r.addr, r.naddr, ft.text, ft.html,
				 why, sizeof(why), now) != 0) {
		ret = ask.failed ? http_error(c, 503,
					      "the approval request cannot be prepared "
					      "(see the server log)")
				 : api_send_conflict(srv, c, rq, tid, why, r.dry_run);
		goto out;
	}
	if (r.dry_run) {
		ret = api_json(c, 200, api_preview_json(&d, outcome, why, pj, r.expires_days, now));
		pj = NULL;
		goto out;
	}
	fids = api_file_ids(&ft);
	ptext = json_dumps(pj, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (ptext == NULL || fids == NULL ||
	    (r.passphrase != NULL && links_passphrase_hash(r.passphrase, pw) != 0)) {
		ret = http_error(c, 503, "out of memory");
		goto out;
	}
	links = calloc(r.naddr, sizeof(*links));
	mails = calloc(r.naddr + ask.n, sizeof(*mails));
	tokens = calloc(r.naddr, sizeof(*tokens));
	if (links == NULL || mails == NULL || tokens == NULL) {
		ret = http_error(c, 503, "out of memory");
		goto out;
	}
	/*
	 * Links live expiry days from their release: the end of the send
	 * delay, or the final approval if that comes later (db_vote moves
	 * them then).
	 */
	release = now + (int64_t)d.delay_minutes * 60;
	util_time_iso(release + (int64_t)r.expires_days * 86400, expires);
	for (made = 0; made < r.naddr; made++) {
		struct db_link *l = &links[made];
		char url[600], err[256];
		util_id_new(l->id);
		snprintf(l->kind, sizeof(l->kind), "download");
		memcpy(l->transfer_id, tid, UTIL_IDLEN + 1);
		snprintf(l->address, sizeof(l->address), "%s", r.addr[made]);
		links_secret_new(LINKS_TOKEN, tokens[made], l->token_hash);
		l->created = now;
		l->expires_at = release + (int64_t)r.expires_days * 86400;
		snprintf(url, sizeof(url), "%s/d/%s", cf->public_url, tokens[made]);
		struct mail_var vars[] = {
			{"sender_name", owner.name, NULL},
			{"sender_email", owner.email, NULL},
			{"subject", t.subject, NULL},
			{"message", r.message ? r.message : t.message, NULL},
			{"files", ft.text, ft.html},
			{"expires", expires, NULL},
			{"link", url, NULL},
			{"verification", api_verification_text(r.verification), NULL},
		};
		rc = outbox_prepare(srv->keys, cf, "link", l->address, vars,
				    sizeof(vars) / sizeof(vars[0]), tid, l->id, &mails[made], err,
				    sizeof(err));
		sodium_memzero(url, sizeof(url));
		if (rc != 0) {
			log_event(LOG_LVL_ERR, "send.template_failed", "transfer=%s error=\"%s\"", tid,
				  err);
			ret = http_error(c, 500, "the link mail cannot be prepared (template error; "
						 "see the server log)");
			goto out;
		}
	}
	nmails = made;
	/* The approvers' requests move into this transaction's mails. */
	for (size_t i = 0; i < ask.n; i++) {
		mails[nmails++] = ask.mails[i];
		memset(&ask.mails[i], 0, sizeof(ask.mails[i]));
	}
	{
		struct db_send s = {.transfer_id = tid, .sent_at = now,
				    .expires_at = release + (int64_t)r.expires_days * 86400,
				    .download_limit = r.limit, .verification = r.verification,
				    .passphrase = pw, .message = r.message, .policy = ptext,
				    .release_at = release, .expiry_days = r.expires_days,
				    .max_expiry_days = d.max_expiry_days,
				    .approvals_needed = outcome == POLICY_APPROVE ? d.approvals : 0,
				    .approval_group = d.approval_group,
				    .approval_self = d.approval_self,
				    .sent_by = rq->user.id, .file_ids = fids,
				    .approval_expires = now + (int64_t)d.approval_hours * 3600,
				    .retention_days = d.retention_days,
				    .allow_unscannable = d.allow_unscannable,
				    .allow_encrypted = d.allow_encrypted};
		why[0] = '\0';
		rc = db_transfer_send(srv->db, &s, links, r.naddr, mails, nmails, &rq->who, why,
				      sizeof(why));
	}
	if (rc == DB_CONFLICT || rc == DB_NOTFOUND) {
		ret = api_send_conflict(srv, c, rq, tid,
					why[0] ? why : "the transfer cannot be sent", 0);
		goto out;
	}
	if (rc != DB_OK) {
		ret = http_error(c, 503, "database unavailable");
		goto out;
	}
	mailer_kick(srv->mailer);
	log_event(LOG_LVL_INFO, "transfer.policy", "transfer=%s user=%s outcome=%s reason=\"%s\"",
		  tid, rq->user.name, policy_outcome_name(outcome),
		  json_string_value(json_object_get(pj, "reason")));
	for (size_t i = 0; i < r.naddr; i++)
		log_event(LOG_LVL_INFO, "transfer.link_created",
			  "transfer=%s link=%s user=%s recipient=%s expires=%s verification=%s "
			  "download_limit=%d", tid, links[i].id, rq->user.name, links[i].address,
			  expires, r.verification, r.limit);
	ret = api_transfer_respond(srv, c, rq, tid, outcome == POLICY_SEND ? 200 : 202);
out:
	for (size_t i = 0; mails != NULL && i < nmails; i++)
		outbox_mail_free(&mails[i]);
	for (size_t i = 0; mails != NULL && nmails == 0 && i < made; i++)
		outbox_mail_free(&mails[i]);
	approval_ask_free(&ask);
	if (tokens != NULL)
		sodium_memzero(tokens, r.naddr * sizeof(*tokens));
	sodium_memzero(pw, sizeof(pw));
	free(tokens);
	free(mails);
	free(links);
	free(ft.text);
	free(ft.html);
	free(ft.files);
	free(ptext);
	free(fids);
	json_decref(pj);
	json_decref(in);
	db_transfer_free(&t);
	return ret;
}

/* api_revoke - DELETE a transfer (every link) or one recipient's link */
enum MHD_Result
api_revoke(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid,
	   const char *link_id)
{
	struct db_transfer t;
	int r = api_transfer_load(srv, rq, tid, &t), recalled = 0;

	if (r == DB_NOTFOUND)
		return http_error_code(c, 404, "not_found", "no such transfer");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	db_transfer_free(&t);
	if (link_id != NULL) {
		if (!util_id_valid(link_id))
			return http_error(c, 404, "no such recipient");
		r = db_link_revoke(srv->db, tid, link_id, util_now(), &rq->who);
		if (r == DB_NOTFOUND)
			return http_error(c, 404, "no such recipient, or already revoked");
	} else {
		r = db_transfer_revoke(srv->db, tid, &recalled, &rq->who);
		if (r == DB_CONFLICT)
			return http_error(c, 409, "the transfer has already ended (revoked, "
						  "recalled, rejected or lapsed)");
	}
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	log_event(LOG_LVL_INFO, recalled ? "transfer.recalled" : "transfer.revoked",
		  "transfer=%s link=%s user=%s", tid, link_id ? link_id : "all", rq->user.name);
	return api_transfer_show(srv, c, rq, tid);
}

/* api_extend - PATCH {"expires_days": N}: N days after sending, within the maximum */
enum MHD_Result
api_extend(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *tid)
{
	struct db_transfer t;
	struct db_sendinfo si;
	json_t *in, *v;
	char why[160];
	int64_t until;
	int r = api_transfer_load(srv, rq, tid, &t);

	if (r == DB_NOTFOUND)
		return http_error_code(c, 404, "not_found", "no such transfer");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	db_transfer_free(&t);
	in = rq->bodylen > 0 && jsonutil_depth_ok(rq->body, rq->bodylen, 2) == 0
		     ? json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, NULL)
		     : NULL;
	v = json_is_object(in) && json_object_size(in) == 1 ? json_object_get(in, "expires_days")
							     : NULL;
	if (db_transfer_sendinfo(srv->db, tid, &si) != DB_OK) {
		json_decref(in);
		return http_error(c, 503, "database unavailable");
	}
	if (strcmp(si.state, "sent") != 0) {
		json_decref(in);
		return http_error(c, 409, "only a sent, unrevoked transfer can be extended");
	}
	if (si.content_purged_at != 0) {
		json_decref(in);
		return http_error(c, 409, "the transfer's content was purged at the end of its "
					  "retention period: nothing is left to extend");
	}
	/*
	 * The maximum is the one the policy decided when the transfer was
	 * sent; one sent before okuru kept it gets today's default maximum.
	 */
	if (si.max_expiry_days == 0) {
		struct policy_decision dd;
		http_policy_defaults(srv, &dd, NULL);
		si.max_expiry_days = dd.max_expiry_days;
	}
	snprintf(why, sizeof(why), "send {\"expires_days\": N}, N from 1 to %d, counted from "
				   "when the links went out", si.max_expiry_days);
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > si.max_expiry_days) {
		json_decref(in);
		return http_error(c, 400, why);
	}
	until = (si.release_at ? si.release_at : si.sent_at) + json_integer_value(v) * 86400;
	json_decref(in);
	if (until <= util_now())
		return http_error(c, 400, "that expiry is already past");
	r = db_transfer_extend(srv->db, tid, until, &rq->who);
	if (r == DB_CONFLICT)
		return http_error(c, 409, "only a sent, unrevoked transfer can be extended");
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	log_event(LOG_LVL_INFO, "transfer.extended", "transfer=%s user=%s expires_at=%lld", tid,
		  rq->user.name, (long long)until);
	return api_transfer_show(srv, c, rq, tid);
}

static int
api_download_cb(const struct db_download_row *d, void *arg)
{
	json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:I, s:I, s:I, s:b}", "file", d->file_id,
			      "started", jsonutil_time(d->started), "finished", jsonutil_time(d->finished),
			      "ip", d->ip, "user_agent", d->user_agent, "offset",
			      (json_int_t)d->range_start, "length", (json_int_t)d->length, "bytes",
			      (json_int_t)d->bytes, "complete", d->complete);

	return o == NULL || json_array_append_new(arg, o) != 0;
}

struct api_rcpt_ctx {
	struct server *srv;
	json_t *arr;
	int64_t now;
};

static int
api_recipient_cb(const struct db_link *l, void *arg)
{
	struct api_rcpt_ctx *x = arg;
	struct db_outbox ob;
	json_t *o, *mail, *dls = json_array();
	const char *state = l->revoked_at ? "revoked" : l->expires_at <= x->now ? "expired" : "active";
	int r;

	if (dls == NULL || db_download_list(x->srv->db, l->id, api_download_cb, dls) != DB_OK) {
		json_decref(dls);
		return -1;
	}
	r = db_outbox_latest(x->srv->db, l->id, "link", &ob);
	if (r == DB_OK)
		mail = json_pack("{s:s, s:i, s:o, s:s, s:i, s:s}", "state", ob.state, "attempts",
				 ob.attempts, "sent", jsonutil_time(ob.sent_at), "error", ob.last_error,
				 "code", ob.last_code, "tls", ob.tls);
	else
		mail = r == DB_NOTFOUND ? json_null() : NULL;
	if (mail == NULL) {
		json_decref(dls);
		return -1;
	}
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:o, s:o, s:i}, s:o}", "id", l->id, "address",
		      l->address, "link", state, "expires", jsonutil_time(l->expires_at), "mail", mail,
		      "verification", "verified", jsonutil_time(l->verified_at), "locked_until",
		      jsonutil_time(l->locked_until > x->now ? l->locked_until : 0), "failures",
		      l->otp_failures, "downloads", dls);
	return o == NULL || json_array_append_new(x->arr, o) != 0;
}

/* api_upload_link_cb - a request's upload link: its state, limits and mail */
static int
api_upload_link_cb(const struct db_link *l, void *arg)
{
	struct api_rcpt_ctx *x = arg;
	struct db_outbox ob;
	json_t *o, *mail;
	const char *state = l->revoked_at    ? "revoked"
			    : l->completed_at ? "completed"
			    : l->expires_at <= x->now ? "expired"
						      : "active";
	int r = db_outbox_latest(x->srv->db, l->id, "request", &ob);

	if (r == DB_OK)
		mail = json_pack("{s:s, s:i, s:o, s:s, s:i, s:s}", "state", ob.state, "attempts",
				 ob.attempts, "sent", jsonutil_time(ob.sent_at), "error", ob.last_error,
				 "code", ob.last_code, "tls", ob.tls);
	else
		mail = r == DB_NOTFOUND ? json_null() : NULL;
	if (mail == NULL)
		return -1;
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:i, s:I, s:o, s:o}", "id", l->id, "address",
		      l->address, "link", state, "expires", jsonutil_time(l->expires_at), "verified",
		      jsonutil_time(l->verified_at), "max_files", l->max_files, "max_bytes",
		      (json_int_t)l->max_bytes, "completed", jsonutil_time(l->completed_at), "mail", mail);
	return o == NULL || json_array_append_new(x->arr, o) != 0;
}

static int
api_vote_cb(const struct db_vote *v, void *arg)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "approver", v->approver, "decision",
			      v->decision, "comment", v->comment, "at", jsonutil_time(v->at));

	return o == NULL || json_array_append_new(arg, o) != 0;
}

/* api_policy_json - the stored decision and, when one was needed, the approval */
static int
api_policy_json(struct server *srv, const char *tid, const struct db_sendinfo *si, json_t *o)
{
	char *text = NULL;
	int64_t at = 0;
	json_t *pj, *votes;

	if (db_transfer_policy(srv->db, tid, &text, &at) != DB_OK)
		return -1;
	pj = text[0] ? json_loads(text, 0, NULL) : json_null();
	free(text);
	if (pj == NULL)
		return -1;
	if (json_is_object(pj))
		json_object_set_new(pj, "decided", jsonutil_time(at));
	json_object_set_new(o, "policy", pj);
	if (si->approvals_needed == 0) {
		json_object_set_new(o, "approval", json_null());
		return 0;
	}
	votes = json_array();
	if (votes == NULL || db_votes(srv->db, tid, api_vote_cb, votes) != DB_OK) {
		json_decref(votes);
		return -1;
	}
	json_object_set_new(o, "approval",
			    json_pack("{s:i, s:s, s:b, s:o, s:o}", "needed", si->approvals_needed,
				      "group", si->approval_group, "self_allowed",
				      si->approval_self, "expires", jsonutil_time(si->approval_expires),
				      "votes", votes));
	return 0;
}

/* api_send_json - add the send settings and the recipients to a transfer's JSON */
int
api_send_json(struct server *srv, const char *tid, json_t *o)
{
	struct db_sendinfo si;
	struct api_rcpt_ctx x = {.srv = srv, .arr = json_array(), .now = util_now()};

	if (x.arr == NULL || db_transfer_sendinfo(srv->db, tid, &si) != DB_OK ||
	    db_link_list(srv->db, tid, "download", api_recipient_cb, &x) != DB_OK) {
		json_decref(x.arr);
		return -1;
	}
	json_object_set_new(o, "origin", json_string(si.origin));
	json_object_set_new(o, "sent", jsonutil_time(si.sent_at));
	json_object_set_new(o, "expires", jsonutil_time(si.expires_at));
	json_object_set_new(o, "revoked", jsonutil_time(si.revoked_at));
	if (si.sent_at != 0) {
		json_object_set_new(o, "download_limit", json_integer(si.download_limit));
		json_object_set_new(o, "verification", json_string(si.verification));
	}
	if (strcmp(si.state, "sent") == 0 && si.expires_at <= x.now)
		json_object_set_new(o, "state", json_string("expired"));
	/* Inside the send delay nothing has gone yet: the sender can still recall it. */
	if (strcmp(si.state, "sent") == 0 && si.release_at > x.now)
		json_object_set_new(o, "state", json_string("held"));
	json_object_set_new(o, "release", jsonutil_time(si.release_at));
	json_object_set_new(o, "ended", jsonutil_time(si.ended_at));
	json_object_set_new(o, "recipients", x.arr);
	if (api_policy_json(srv, tid, &si, o) != 0)
		return -1;
	if (strcmp(si.origin, "request") == 0) {
		x.arr = json_array();
		if (x.arr == NULL ||
		    db_link_list(srv->db, tid, "upload", api_upload_link_cb, &x) != DB_OK) {
			json_decref(x.arr);
			return -1;
		}
		json_object_set_new(o, "request", json_array_size(x.arr) == 1
							  ? json_incref(json_array_get(x.arr, 0))
							  : json_null());
		json_decref(x.arr);
	}
	return 0;
}
