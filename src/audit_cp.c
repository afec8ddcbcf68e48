/*
 * audit_cp.c - the checkpoint thread (see audit_cp.h). Like the purger it
 * sleeps on a condition variable with CLOCK_MONOTONIC and is woken by
 * audit_cp_stop, which okurud calls at SIGTERM before the database closes.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "audit_cp.h"
#include "db.h"
#include "log.h"
#include "util.h"

struct audit_cp {
	struct db *db;
	const struct audit_signer *signer;
	struct audit_cp_hooks hooks;
	int interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
};

int
audit_cp_now(struct db *db, const struct audit_signer *s, const struct audit_cp_hooks *h,
	     int64_t now)
{
	struct audit_checkpoint cp, last;
	struct db_mail m;
	int r, mail = 1;

	memset(&cp, 0, sizeof(cp));
	if (db_audit_head(db, &cp.seq, cp.hash) != DB_OK)
		goto fail;
	if (cp.seq == 0)
		return 0;
	r = db_audit_checkpoint_last(db, &last);
	if (r == DB_OK && last.seq >= cp.seq)
		return 0;
	if (r != DB_OK && r != DB_NOTFOUND)
		goto fail;
	cp.at = now;
	audit_checkpoint_sign(s, &cp);
	/* A mail that cannot be prepared does not cost the checkpoint: logged, signed anyway. */
	if (h != NULL && h->mail != NULL && (mail = h->mail(&cp, h->arg, &m)) < 0)
		log_event(LOG_LVL_ERR, "audit.checkpoint_mail_failed", "seq=%lld",
			  (long long)cp.seq);
	r = db_audit_checkpoint_add_mail(db, &cp, mail == 0 ? &m : NULL);
	if (mail == 0 && h->mail_free != NULL)
		h->mail_free(&m);
	if (r != DB_OK)
		goto fail;
	log_event(LOG_LVL_INFO, "audit.checkpoint", "seq=%lld key_id=%s mail=%s",
		  (long long)cp.seq, cp.key_id, mail == 0 ? "queued" : "none");
	if (h != NULL && h->signed_cb != NULL)
		h->signed_cb(&cp, h->arg);
	return 1;
fail:
	log_event(LOG_LVL_ERR, "audit.checkpoint_failed", "retry=next_interval");
	return -1;
}

static void *
audit_cp_main(void *arg)
{
	struct audit_cp *c = arg;
	struct timespec ts;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += c->interval;
		while (!c->stopping)
			if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
				break;
		if (c->stopping)
			break;
		pthread_mutex_unlock(&c->lock);
		audit_cp_now(c->db, c->signer, &c->hooks, util_now());
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int
audit_cp_start(struct db *db, const struct audit_signer *s, const struct audit_cp_hooks *h,
	       int interval, struct audit_cp **out, char *err, size_t errlen)
{
	struct audit_cp *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->db = db;
	c->signer = s;
	if (h != NULL)
		c->hooks = *h;
	c->interval = interval;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&c->thread, NULL, audit_cp_main, c) != 0) {
		snprintf(err, errlen, "cannot start the audit checkpoint thread");
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
audit_cp_stop(struct audit_cp *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	audit_cp_now(c->db, c->signer, &c->hooks, util_now());
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
