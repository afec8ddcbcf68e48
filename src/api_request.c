/*
 * api_request.c - POST /api/v1/requests: a staff member asks a counterparty
 * for files. okuru creates a transfer owned by the staff member, an upload
 * link for the counterparty (verified by e-mail code, with its own file
 * count, byte and time limits) and queues the request mail, all in one
 * transaction. What the counterparty uploads is scanned and encrypted like
 * any upload and lands in that transfer (recipient.c serves /u/TOKEN).
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jsonutil.h"
#include "links.h"
#include "log.h"
#include "mailer.h"
#include "outbox.h"
#include "policy_json.h"
#include "util.h"

#define API_REQUEST_MESSAGE_MAX 10000

enum MHD_Result
api_request_create(struct server *srv, struct MHD_Connection *c, struct req *rq)
{
	const struct conf *cf = &srv->conf;
	const char *key, *addr = NULL, *message = "", *subject = NULL;
	int days = 0, max_files = cf->requests_max_files;
	int64_t max_bytes = cf->requests_max_bytes, now = util_now();
	char why[400], url[600], expires[32], nfiles[16], nbytes[32], err[256], subj[300];
	char token[LINKS_TOKENLEN + 1];
	struct db_transfer t;
	struct db_link l;
	struct db_mail m;
	json_error_t jerr;
	json_t *in, *v, *pj, *dd;
	struct policy_decision d;
	char *ptext;
	int r;

	if (srv->mailer == NULL)
		return http_error(c, 503, "mail is not configured (smtp.url): nothing can be sent");
	if (rq->bodylen == 0 || jsonutil_depth_ok(rq->body, rq->bodylen, 2) != 0)
		return http_error(c, 400, "a JSON object with an address is required");
	in = json_loadb(rq->body, rq->bodylen, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(in)) {
		json_decref(in);
		return http_error(c, 400, "a JSON object with an address is required");
	}
	why[0] = '\0';
	json_object_foreach(in, key, v) {
		if (strcmp(key, "address") == 0 && json_is_string(v) &&
		    util_mailbox_ok(json_string_value(v)) == 0)
			addr = json_string_value(v);
		else if (strcmp(key, "message") == 0 && json_is_string(v) &&
			 strlen(json_string_value(v)) <= API_REQUEST_MESSAGE_MAX &&
			 !jsonutil_has_controls(json_string_value(v), 1))
			message = json_string_value(v);
		else if (strcmp(key, "subject") == 0 && json_is_string(v) &&
			 strlen(json_string_value(v)) <= 200 &&
			 !jsonutil_has_controls(json_string_value(v), 0))
			subject = json_string_value(v);
		else if (strcmp(key, "expires_days") == 0 && json_is_integer(v) &&
			 json_integer_value(v) >= 1 && json_integer_value(v) <= 3650)
			days = (int)json_integer_value(v);
		else if (strcmp(key, "max_files") == 0 && json_is_integer(v) &&
			 json_integer_value(v) >= 1 && json_integer_value(v) <= cf->requests_max_files)
			max_files = (int)json_integer_value(v);
		else if (strcmp(key, "max_bytes") == 0 && json_is_integer(v) &&
			 json_integer_value(v) >= 1 && json_integer_value(v) <= cf->requests_max_bytes)
			max_bytes = json_integer_value(v);
		else {
			snprintf(why, sizeof(why),
				 "bad field \"%.40s\": address (user@domain), message (10000 bytes), "
				 "subject (200 bytes), expires_days (days, within the policy), "
				 "max_files (1-%d), max_bytes (1-%lld)", key, cf->requests_max_files,
				 (long long)cf->requests_max_bytes);
			break;
		}
	}
	if (why[0] == '\0' && addr == NULL)
		snprintf(why, sizeof(why), "address (user@domain) is required");
	if (why[0] != '\0') {
		json_decref(in);
		return http_error(c, 400, why);
	}
	/*
	 * The policy decides whether this address may be asked at all, and
	 * for how long the link lives. Approval and the send delay are about
	 * files leaving the bank: a request sends none, so they do not apply.
	 */
	{
		char groups[DB_MAXGROUPS][DB_GROUPMAX + 1], pfile[300];
		const char *gp[DB_MAXGROUPS];
		size_t ng = 0;
		struct policy_request prq;
		enum policy_outcome o;

		if (db_user_groups(srv->db, rq->user.id, groups, &ng) != DB_OK) {
			json_decref(in);
			return http_error(c, 503, "database unavailable");
		}
		for (size_t i = 0; i < ng; i++)
			gp[i] = groups[i];
		prq = (struct policy_request){.sender = rq->user.name, .sender_role = rq->user.role,
					      .sender_groups = gp, .ngroups = ng,
					      .recipients = &addr, .nrecipients = 1};
		http_policy_eval(srv, &prq, &d, pfile, sizeof(pfile));
		o = policy_outcome(&d, &prq, why, sizeof(why));
		if (o != POLICY_DENIED)
			snprintf(why, sizeof(why), "the counterparty may be asked for files");
		pj = policy_json(&d, o == POLICY_DENIED ? o : POLICY_SEND, why, pfile);
		ptext = pj ? json_dumps(pj, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		if (ptext == NULL) {
			json_decref(pj);
			json_decref(in);
			return http_error(c, 503, "out of memory");
		}
		if (o == POLICY_DENIED) {
			/* addr points into in: logged before it goes. */
			log_event(LOG_LVL_INFO, "request.refused", "user=%s counterparty=%s "
				  "outcome=denied rule=%s", rq->user.name, addr, d.rule[POLICY_DENY]);
			/* No transfer exists: the record's object is the request itself. */
			dd = policy_json_audit(ptext);
			if (dd != NULL &&
			    (json_object_set_new(dd, "action", json_string("request")) != 0 ||
			     json_object_set_new(dd, "recipient", json_string(addr)) != 0)) {
				json_decref(dd);
				dd = NULL;
			}
			if (dd == NULL ||
			    db_audit_record(srv->db, &rq->who, "policy.decided", "request", "",
					    "denied", dd, util_now()) != DB_OK) {
				json_decref(pj);
				json_decref(in);
				free(ptext);
				return http_error(c, 503, "database unavailable");
			}
			json_decref(in);
			free(ptext);
			return api_json(c, 403, json_pack("{s:s, s:s, s:o}", "error", why, "code",
							 "policy_denied", "policy", pj));
		}
		json_decref(pj);
		if (days == 0)
			days = d.expiry_days;
		if (days > d.max_expiry_days) {
			json_decref(in);
			free(ptext);
			snprintf(why, sizeof(why), "expires_days must be 1 to %d (policy rule %s)",
				 d.max_expiry_days, d.rule[POLICY_EXPIRY]);
			return http_error(c, 400, why);
		}
	}
	memset(&t, 0, sizeof(t));
	util_id_new(t.id);
	t.owner_id = rq->user.id;
	/*
	 * No subject stays empty: a label made here would be English on a
	 * Japanese page; each page names a request in its own language.
	 */
	snprintf(subj, sizeof(subj), "%s", subject ? subject : "");
	t.subject = subj;
	t.message = (char *)message;
	t.created = now;
	memset(&l, 0, sizeof(l));
	util_id_new(l.id);
	snprintf(l.kind, sizeof(l.kind), "upload");
	memcpy(l.transfer_id, t.id, sizeof(l.transfer_id));
	snprintf(l.address, sizeof(l.address), "%s", addr);
	links_secret_new(LINKS_TOKEN, token, l.token_hash);
	l.created = now;
	l.expires_at = now + (int64_t)days * 86400;
	l.max_files = max_files;
	l.max_bytes = max_bytes;
	snprintf(url, sizeof(url), "%s/u/%s", cf->public_url, token);
	sodium_memzero(token, sizeof(token));
	util_time_iso(l.expires_at, expires);
	snprintf(nfiles, sizeof(nfiles), "%d", max_files);
	snprintf(nbytes, sizeof(nbytes), "%lld bytes", (long long)max_bytes);
	{
		struct mail_var vars[] = {
			{"sender_name", rq->user.name, NULL},
			{"sender_email", rq->user.email, NULL},
			{"message", message, NULL},
			{"link", url, NULL},
			{"expires", expires, NULL},
			{"max_files", nfiles, NULL},
			{"max_bytes", nbytes, NULL},
		};
		r = outbox_prepare(srv->keys, cf, "request", addr, vars,
				   sizeof(vars) / sizeof(vars[0]), t.id, l.id, &m, err, sizeof(err));
	}
	sodium_memzero(url, sizeof(url));
	if (r != 0) {
		json_decref(in);
		free(ptext);
		log_event(LOG_LVL_ERR, "request.template_failed", "error=\"%s\"", err);
		return http_error(c, 500, "the request mail cannot be prepared (template error; see "
					  "the server log)");
	}
	r = db_request_create(srv->db, &t, &l, &m, ptext, d.retention_days, &rq->who);
	free(ptext);
	outbox_mail_free(&m);
	json_decref(in);
	if (r != DB_OK)
		return http_error(c, 503, "database unavailable");
	mailer_kick(srv->mailer);
	log_event(LOG_LVL_INFO, "request.created", "transfer=%s link=%s user=%s counterparty=%s "
		  "expires=%s max_files=%d max_bytes=%lld", t.id, l.id, rq->user.name, l.address,
		  expires, max_files, (long long)max_bytes);
	return api_transfer_respond(srv, c, rq, t.id, 201);
}
