/*
 * mailer.c - deliver the outbox (see mailer.h).
 *
 * One thread, one message at a time: SMTP sessions are few and slow, and
 * order within a recipient matters little. The queue is the database, so
 * a restart loses nothing: queued rows are simply due again. A message
 * that cannot be sent is retried after retry_min, doubling up to
 * retry_max; after give_up (or at once when the server refuses the sender,
 * the recipient or the message with a 5xx) it fails for good and,
 * for a link or request mail, its sender is told by mail and in the API.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mailer.h"
#include "outbox.h"
#include "smtp.h"
#include "util.h"

#define MAILER_IDLE_POLL 60 /* seconds between looks at an empty queue */

struct mailer {
	const struct conf *conf;
	struct db *db;
	const struct keyring *keys;
	char *password; /* SMTP AUTH, read once at start (sodium_malloc), freed at stop */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int kicked;
	int stopping;
	int64_t last_sent;
	char last_error[256];
};

/* mailer_password - the SMTP password, read once at start and kept off swap */
static int
mailer_password(struct mailer *m, char *err, size_t errlen)
{
	if (m->conf->smtp_password_file[0] == '\0')
		return 0;
	m->password = sodium_malloc(SMTP_PASSWORDMAX + 1);
	if (m->password == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (smtp_password_read(m->conf->smtp_password_file, m->password, err, errlen) != 0) {
		sodium_free(m->password);
		m->password = NULL;
		return -1;
	}
	return 0;
}

/* mailer_notify - tell the sender that a link or request mail failed for good */
static int
mailer_notify(struct mailer *m, const struct db_outbox *o, const char *error,
	      struct db_mail *out)
{
	struct db_transfer t;
	struct db_user u;
	char err[256];
	int r;

	if (strcmp(o->kind, "link") != 0 && strcmp(o->kind, "request") != 0)
		return -1;
	if (db_transfer_get(m->db, o->transfer_id, &t) != DB_OK)
		return -1;
	r = db_user_get(m->db, t.owner_id, &u);
	if (r == DB_OK) {
		struct mail_var vars[] = {
			{"recipient", o->to, NULL},
			{"error", error, NULL},
			{"subject", t.subject, NULL},
		};
		r = outbox_prepare(m->keys, m->conf, "mailfail", u.email, vars,
				   sizeof(vars) / sizeof(vars[0]), o->transfer_id, NULL, out, err,
				   sizeof(err));
		if (r != 0)
			log_event(LOG_LVL_ERR, "mail.notify_failed", "error=\"%s\"", err);
	}
	db_transfer_free(&t);
	return r == 0 ? 0 : -1;
}

/* mailer_deliver - one attempt at one message, and its outcome recorded */
static void
mailer_deliver(struct mailer *m, struct db_outbox *o)
{
	const struct conf *c = m->conf;
	struct smtp_conf sc = {.url = c->smtp_url, .ca_file = c->smtp_ca_file, .from = c->mail_from,
			       .from_name = c->mail_from_name, .username = c->smtp_username,
			       .password = m->password ? m->password : "",
			       .timeout = c->smtp_timeout};
	struct smtp_result res;
	struct mail_msg msg;
	struct db_mail notify;
	const char *state;
	int64_t now, next = 0;
	int attempts = o->attempts + 1, have_notify = 0;

	memset(&res, 0, sizeof(res));
	memset(&msg, 0, sizeof(msg));
	if (strcmp(o->kind, "otp") == 0 && util_now() - o->created >= c->links_otp_lifetime) {
		/* A code that can no longer be used is not worth delivering. */
		res.outcome = SMTP_PERMFAIL;
		snprintf(res.error, sizeof(res.error),
			 "the one-time code expired before it could be delivered");
	} else if (outbox_open(m->keys, o, &msg) != 0) {
		res.outcome = SMTP_PERMFAIL;
		snprintf(res.error, sizeof(res.error),
			 "the queued message cannot be opened (master key changed?)");
	} else {
		smtp_send(&sc, &msg, o->message_id, &res);
		mail_msg_free(&msg);
	}
	now = util_now();
	if (res.outcome == SMTP_SENT) {
		state = "sent";
	} else if (res.outcome == SMTP_PERMFAIL || now - o->created >= c->smtp_give_up) {
		state = "failed";
	} else {
		int64_t delay = c->smtp_retry_min;
		for (int i = 1; i < attempts && delay < c->smtp_retry_max; i++)
			delay *= 2;
		if (delay > c->smtp_retry_max)
			delay = c->smtp_retry_max;
		state = "queued";
		next = now + delay;
	}
	if (strcmp(state, "failed") == 0)
		have_notify = mailer_notify(m, o, res.error, &notify) == 0;
	if (db_outbox_result(m->db, o->id, state, attempts, next, (int)res.code, res.error, res.tls,
			     now, have_notify ? &notify : NULL) != DB_OK)
		log_event(LOG_LVL_ERR, "mail.record_failed", "id=%lld", (long long)o->id);
	if (have_notify)
		outbox_mail_free(&notify);
	pthread_mutex_lock(&m->lock);
	/* Only a temporary failure says the mail system is failing; a refused
	 * recipient is that message's problem. */
	if (res.outcome == SMTP_SENT) {
		m->last_sent = now;
		m->last_error[0] = '\0';
	} else if (res.outcome == SMTP_TEMPFAIL) {
		snprintf(m->last_error, sizeof(m->last_error), "%s", res.error);
	}
	pthread_mutex_unlock(&m->lock);
	if (res.outcome == SMTP_SENT)
		log_event(LOG_LVL_INFO, "mail.sent", "id=%lld kind=%s to=%s transfer=%s code=%ld tls=\"%s\"",
			  (long long)o->id, o->kind, o->to, o->transfer_id, res.code, res.tls);
	else
		log_event(strcmp(state, "failed") == 0 ? LOG_LVL_ERR : LOG_LVL_WARN,
			  strcmp(state, "failed") == 0 ? "mail.failed" : "mail.deferred",
			  "id=%lld kind=%s to=%s transfer=%s attempts=%d code=%ld retry_in=%lld "
			  "error=\"%s\"",
			  (long long)o->id, o->kind, o->to, o->transfer_id, attempts, res.code,
			  (long long)(next ? next - now : 0), res.error);
}

static void *
mailer_main(void *arg)
{
	struct mailer *m = arg;
	struct db_outbox o;

	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		int64_t next;
		struct timespec ts;

		m->kicked = 0;
		pthread_mutex_unlock(&m->lock);
		for (;;) {
			pthread_mutex_lock(&m->lock);
			int stop = m->stopping;
			pthread_mutex_unlock(&m->lock);
			if (stop || db_outbox_due(m->db, util_now(), &o) != DB_OK)
				break;
			mailer_deliver(m, &o);
			db_outbox_free(&o);
		}
		if (db_outbox_next_time(m->db, &next) != DB_OK || next > util_now() + MAILER_IDLE_POLL)
			next = util_now() + MAILER_IDLE_POLL;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += next > util_now() ? next - util_now() : 1;
		pthread_mutex_lock(&m->lock);
		while (!m->stopping && !m->kicked)
			if (pthread_cond_timedwait(&m->cond, &m->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* mailer_start - NULL *out (and 0) when smtp.url is empty: mail is off */
int
mailer_start(const struct conf *c, struct db *db, const struct keyring *kr, struct mailer **out,
	     char *err, size_t errlen)
{
	struct mailer *m;

	*out = NULL;
	if (c->smtp_url[0] == '\0')
		return 0;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->conf = c;
	m->db = db;
	m->keys = kr;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	if (mailer_password(m, err, errlen) != 0)
		goto fail;
	if (pthread_create(&m->thread, NULL, mailer_main, m) != 0) {
		snprintf(err, errlen, "cannot start the mailer thread");
		goto fail;
	}
	*out = m;
	return 0;
fail:
	if (m->password != NULL)
		sodium_free(m->password);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return -1;
}

void
mailer_kick(struct mailer *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->kicked = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* mailer_stop - a session in progress ends first (bounded by smtp.timeout) */
void
mailer_stop(struct mailer *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->stopping = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	if (m->password != NULL)
		sodium_free(m->password); /* sodium_free wipes */
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void
mailer_info(struct mailer *m, struct mailer_info *i)
{
	memset(i, 0, sizeof(*i));
	if (m == NULL)
		return;
	i->enabled = 1;
	pthread_mutex_lock(&m->lock);
	i->last_sent = m->last_sent;
	snprintf(i->last_error, sizeof(i->last_error), "%s", m->last_error);
	pthread_mutex_unlock(&m->lock);
}
