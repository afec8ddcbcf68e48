/*
 * approval.c - 上長承認: the mails of the approval workflow and the lapse of
 * requests nobody acted on. The state changes themselves are db_policy.c's,
 * each in one transaction with the mails it causes.
 *
 *   send needs approval  → one "approval" mail to each approver who may act
 *   an approver rejects  → "approval_result" to the sender; nothing to recipients
 *   the last approval    → "approval_result" to the sender; link mails released
 *   nobody acts in time  → "approval_result" (lapsed) to the sender
 *
 * The links in these mails open the staff app (public_url/#/approvals/ID,
 * public_url/#/transfers/ID), not the JSON API: a person clicks them, logs
 * in if need be, and lands on the page of that transfer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "log.h"
#include "outbox.h"
#include "util.h"

struct approval_who {
	struct db_user *v;
	size_t n;
	int64_t skip;  /* the owner, unless they may approve their own */
	int64_t skip2; /* and whoever pressed send (an admin, for another) */
	int failed;
};

static int
approval_who_cb(const struct db_user *u, void *arg)
{
	struct approval_who *w = arg;
	struct db_user *nv;

	if (u->id == w->skip || u->id == w->skip2)
		return 0;
	nv = realloc(w->v, (w->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		w->failed = 1;
		return -1;
	}
	w->v = nv;
	w->v[w->n++] = *u;
	return 0;
}

/* approval_eligible - may u decide on a transfer (group, self, role)? */
int
approval_eligible(struct server *srv, const struct db_user *u, const struct db_sendinfo *si)
{
	char groups[DB_MAXGROUPS][DB_GROUPMAX + 1];
	size_t n = 0;

	if (strcmp(u->role, "approver") != 0 && strcmp(u->role, "admin") != 0)
		return 0;
	if ((u->id == si->owner_id || u->id == si->sent_by) && !si->approval_self)
		return 0;
	if (si->approval_group[0] == '\0')
		return 1;
	if (db_user_groups(srv->db, u->id, groups, &n) != DB_OK)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(groups[i], si->approval_group) == 0)
			return 1;
	return 0;
}

/*
 * approval_ask_prepare - the approval requests for a send the policy holds
 * for approval. Refused (-1, why says so, ask->failed 0) when fewer users
 * can approve than the policy needs: such a transfer could only lapse.
 */
int
approval_ask_prepare(struct server *srv, struct approval_ask *ask, const struct db_transfer *t,
		     const char *message, const struct db_user *owner, const struct db_user *sender,
		     const struct policy_decision *d,
		     const char *const *addrs, size_t naddr, const char *files_text,
		     const char *files_html, char *why, size_t whylen, int64_t now)
{
	struct approval_who w = {.skip = d->approval_self ? 0 : owner->id,
				 .skip2 = d->approval_self ? 0 : sender->id};
	char *rcpts = NULL, deadline[32], link[600], count[32], err[256];
	size_t rlen = 0;
	int failed = 0;

	memset(ask, 0, sizeof(*ask));
	if (db_approvers(srv->db, d->approval_group, approval_who_cb, &w) != DB_OK) {
		free(w.v);
		ask->failed = 1;
		return -1;
	}
	if (w.n < (size_t)d->approvals) {
		snprintf(why, whylen, "the policy (rule %s) needs %d approval%s from group %s, "
				      "but only %zu user%s can give %s",
			 d->rule[POLICY_APPROVAL], d->approvals, d->approvals == 1 ? "" : "s",
			 d->approval_group[0] ? d->approval_group : "(any approver)", w.n,
			 w.n == 1 ? "" : "s", d->approvals == 1 ? "it" : "them");
		free(w.v);
		return -1;
	}
	for (size_t i = 0; i < naddr; i++) {
		util_append(&rcpts, &rlen, &failed, "- ");
		util_append(&rcpts, &rlen, &failed, addrs[i]);
		util_append(&rcpts, &rlen, &failed, "\n");
	}
	ask->mails = calloc(w.n, sizeof(*ask->mails));
	if (failed || ask->mails == NULL) {
		free(rcpts);
		free(w.v);
		ask->failed = 1;
		return -1;
	}
	util_time_iso(now + (int64_t)d->approval_hours * 3600, deadline);
	/* The staff app's page of this decision: a click lands in the app, after a login. */
	snprintf(link, sizeof(link), "%s/#/approvals/%s", srv->conf.public_url, t->id);
	snprintf(count, sizeof(count), "%d", d->approvals);
	for (size_t i = 0; i < w.n; i++) {
		struct mail_var vars[] = {
			{"approver_name", w.v[i].name, NULL},
			{"sender_name", owner->name, NULL},
			{"sender_email", owner->email, NULL},
			{"subject", t->subject, NULL},
			{"message", message, NULL},
			{"recipients", rcpts, NULL},
			{"files", files_text, files_html},
			{"reason", d->why[POLICY_APPROVAL], NULL},
			{"rule", d->rule[POLICY_APPROVAL], NULL},
			{"approvals", count, NULL},
			{"deadline", deadline, NULL},
			{"transfer_id", t->id, NULL},
			{"approval_link", link, NULL},
		};
		if (outbox_prepare(srv->keys, &srv->conf, "approval", w.v[i].email, vars,
				   sizeof(vars) / sizeof(vars[0]), t->id, "", &ask->mails[i], err,
				   sizeof(err)) != 0) {
			log_event(LOG_LVL_ERR, "approval.template_failed", "transfer=%s error=\"%s\"",
				  t->id, err);
			ask->n = i;
			ask->failed = 1;
			free(rcpts);
			free(w.v);
			return -1;
		}
		ask->n = i + 1;
	}
	free(rcpts);
	free(w.v);
	return 0;
}

void
approval_ask_free(struct approval_ask *ask)
{
	for (size_t i = 0; i < ask->n; i++)
		outbox_mail_free(&ask->mails[i]);
	free(ask->mails);
	memset(ask, 0, sizeof(*ask));
}

/*
 * approval_notice - the sender's notice of the final decision: result is
 * approved, rejected or lapsed; by and comment are the approver's ("" for
 * a lapse).
 */
int
approval_notice(struct server *srv, const char *tid, const char *result, const char *by,
		const char *comment, struct db_mail *out)
{
	static const struct {
		const char *result, *text;
	} texts[] = {
		{"approved", "承認されました。受信者へのメールを送信します / approved: the recipients' "
			     "mails go out now (or when the send delay ends)"},
		{"rejected", "却下されました。受信者には何も送信されません / rejected: nothing was "
			     "sent to the recipients"},
		{"lapsed", "期限内に承認されませんでした。受信者には何も送信されません / not "
			   "approved in time: nothing was sent to the recipients"},
	};
	struct db_transfer t;
	struct db_user owner;
	const char *text = NULL;
	char link[600], err[256];
	int r;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].result, result) == 0)
			text = texts[i].text;
	if (text == NULL || db_transfer_get(srv->db, tid, &t) != DB_OK)
		return -1;
	if (db_user_get(srv->db, t.owner_id, &owner) != DB_OK) {
		db_transfer_free(&t);
		return -1;
	}
	/* The staff app's page of the transfer, with the decision and its comment. */
	snprintf(link, sizeof(link), "%s/#/transfers/%s", srv->conf.public_url, tid);
	{
		struct mail_var vars[] = {
			{"sender_name", owner.name, NULL},
			{"subject", t.subject, NULL},
			{"result", text, NULL},
			{"approver", by[0] ? by : "-", NULL},
			{"comment", comment[0] ? comment : "-", NULL},
			{"transfer_id", tid, NULL},
			{"transfer_link", link, NULL},
		};
		r = outbox_prepare(srv->keys, &srv->conf, "approval_result", owner.email, vars,
				   sizeof(vars) / sizeof(vars[0]), tid, "", out, err, sizeof(err));
	}
	if (r != 0)
		log_event(LOG_LVL_ERR, "approval.template_failed", "transfer=%s error=\"%s\"", tid,
			  err);
	db_transfer_free(&t);
	return r;
}

/*
 * approval_lapse_run - end the approval requests that expired by now. A
 * notice that cannot be prepared does not keep the transfer pending: it
 * lapses anyway (fail closed), and the log says the sender was not told.
 */
void
approval_lapse_run(struct server *srv, int64_t now)
{
	char ids[64][UTIL_IDLEN + 1];
	size_t n = 0;

	if (db_lapsed(srv->db, now, ids, 64, &n) != DB_OK) {
		log_event(LOG_LVL_ERR, "approval.lapse_failed", "error=\"database\"");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct db_mail m;
		int have = approval_notice(srv, ids[i], "lapsed", "", "", &m) == 0;
		int r = db_lapse(srv->db, ids[i], now, have ? &m : NULL);
		if (have)
			outbox_mail_free(&m);
		if (r == DB_OK)
			log_event(LOG_LVL_INFO, "approval.lapsed", "transfer=%s notified=%s", ids[i],
				  have ? "yes" : "no");
		else if (r != DB_NOTFOUND)
			log_event(LOG_LVL_ERR, "approval.lapse_failed", "transfer=%s", ids[i]);
	}
	if (n > 0 && srv->mailer != NULL)
		mailer_kick(srv->mailer);
}
