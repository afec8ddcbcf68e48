/*
 * purger.c - the retention thread (see purger.h).
 *
 * A run reads the policy in force (a SIGHUP may have swapped it), then:
 *   1. removes the blobs of files a previous run shredded but could not
 *      remove (state "purging": a failed unlink, or a crash after the commit);
 *   2. purges the content of each transfer that is due: keys erased in one
 *      commit (db_purge_content), then its blobs removed, each file marked
 *      "purged" once its blob is gone;
 *   3. purges the records of each transfer whose metadata is due.
 * Then the audit log's own retention (audit_retention.c).
 * The order makes a crash harmless: before the commit nothing has changed;
 * after it the content is unreadable (no key), and the blobs still present
 * are removed by the next run or by blob_recover at start-up. A failing
 * run is logged and the next one tries again; the daemon stays up.
 *
 * The thread sleeps on a condition variable (CLOCK_MONOTONIC, so a clock
 * step does not stretch or shorten the wait) and is woken by purger_stop.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_tus.h"
#include "approval.h"
#include "audit.h"
#include "audit_purge.h"
#include "blob.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "policy.h"
#include "purger.h"
#include "retention.h"
#include "util.h"

#define PURGER_BATCH 1000 /* transfers (and pending blobs) per run */

struct purger {
	struct server *srv;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
};

struct purger_ids {
	char (*id)[UTIL_IDLEN + 1];
	size_t n, cap;
};

static int
purger_ids_add(struct purger_ids *ids, const char *id)
{
	if (ids->n == ids->cap) {
		size_t ncap = ids->cap ? ids->cap * 2 : 64;
		void *n = realloc(ids->id, ncap * sizeof(*ids->id));
		if (n == NULL)
			return -1;
		ids->id = n;
		ids->cap = ncap;
	}
	snprintf(ids->id[ids->n++], UTIL_IDLEN + 1, "%s", id);
	return 0;
}

static int
purger_id_cb(const char *id, void *arg)
{
	return purger_ids_add(arg, id);
}

static int
purger_due_cb(const struct db_retention_row *r, void *arg)
{
	return purger_ids_add(arg, r->id);
}

/* purger_stopping - has purger_stop been called (never, for a run outside the thread) */
static int
purger_stopping(struct server *srv)
{
	struct purger *p = srv->purger;
	int s;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->lock);
	s = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* purger_policy - the retention part of the policy in force now */
static void
purger_policy(struct server *srv, struct retention_policy *rp)
{
	struct policy_decision d;
	struct policy_retention r;

	http_policy_defaults(srv, &d, &r);
	rp->content_days = d.retention_days;
	rp->max_expiry_days = d.max_expiry_days;
	rp->metadata_days = r.metadata_days;
}

/*
 * purger_blobs - remove the blobs of shredded files still "purging" (of one
 * transfer, or of all with tid NULL). The key is already gone, so a
 * failure costs disk space, not secrecy: it is logged and retried.
 */
static void
purger_blobs(struct server *srv, const char *tid, struct purger_stats *st)
{
	struct purger_ids ids = {0};

	if (db_purge_pending(srv->db, tid, PURGER_BATCH, purger_id_cb, &ids) != DB_OK) {
		log_event(LOG_LVL_ERR, "purge.failed", "step=pending transfer=%s", tid ? tid : "-");
		st->errors++;
	}
	for (size_t i = 0; i < ids.n; i++) {
		if (blob_remove(srv->conf.storage_dir, ids.id[i]) != 0) {
			log_event(LOG_LVL_ERR, "purge.blob_failed",
				  "file=%s error=\"%s\" retry=next_run", ids.id[i],
				  strerror(errno));
			st->blobs_failed++;
			continue;
		}
		st->blobs_removed++;
		if (db_purge_blob_done(srv->db, ids.id[i]) != DB_OK) {
			log_event(LOG_LVL_ERR, "purge.failed", "step=blob_done file=%s", ids.id[i]);
			st->errors++;
		}
	}
	free(ids.id);
}

/* purger_one - content (metadata 0) or records (1) of one transfer, logged */
static void
purger_one(struct server *srv, const char *tid, const struct retention_policy *rp, int64_t now,
	   int metadata, struct purger_stats *st)
{
	struct db_purge pg;
	int r = metadata ? db_purge_metadata(srv->db, tid, rp, now, &pg, &audit_system)
			 : db_purge_content(srv->db, tid, rp, now, &pg, &audit_system);

	if (r == DB_NOTFOUND)
		return; /* not due (any more), or done already */
	if (r == DB_CONFLICT) {
		log_event(LOG_LVL_INFO, "purge.skipped", "transfer=%s what=%s why=\"%s\"", tid,
			  metadata ? "metadata" : "content", pg.blocked ? pg.blocked : "conflict");
		/*
		 * The purge rolled back, so the refusal is recorded on its own. Held
		 * transfers are not listed as due, so this is rare (a hold placed
		 * during the run, or blobs not removed yet) and cannot flood.
		 */
		if (db_audit_record(srv->db, &audit_system, "purge.blocked", "transfer", tid,
				    "blocked",
				    json_pack("{s:s, s:s, s:s}", "transfer", tid, "what",
					      metadata ? "metadata" : "content", "reason",
					      pg.blocked ? pg.blocked : "conflict"),
				    now) != DB_OK)
			log_event(LOG_LVL_ERR, "audit.unrecorded",
				  "event=purge.blocked transfer=%s", tid);
		st->skipped++;
		return;
	}
	if (r != DB_OK) {
		log_event(LOG_LVL_ERR, "purge.failed", "transfer=%s what=%s", tid,
			  metadata ? "metadata" : "content");
		st->errors++;
		return;
	}
	log_event(LOG_LVL_INFO, metadata ? "purge.metadata" : "purge.content",
		  "transfer=%s files=%lld bytes=%lld reason=\"%s\"", tid, (long long)pg.files,
		  (long long)pg.bytes, pg.reason);
	if (metadata) {
		st->metadata++;
		return;
	}
	st->content++;
	st->files += pg.files;
	st->bytes += pg.bytes;
	/* Committed: the keys are gone. Now the ciphertext. */
	purger_blobs(srv, tid, st);
}

/* purger_run - one run at time now (see the top of this file) */
int
purger_run(struct server *srv, int64_t now, struct purger_stats *st)
{
	struct retention_policy rp;
	struct purger_ids due = {0};

	memset(st, 0, sizeof(*st));
	purger_policy(srv, &rp);
	purger_blobs(srv, NULL, st);
	if (db_retention_due(srv->db, &rp, now, 0, PURGER_BATCH, purger_due_cb, &due) != DB_OK) {
		log_event(LOG_LVL_ERR, "purge.failed", "step=list");
		st->errors++;
	}
	for (int metadata = 0; metadata < 2; metadata++)
		for (size_t i = 0; i < due.n && !purger_stopping(srv); i++)
			purger_one(srv, due.id[i], &rp, now, metadata, st);
	free(due.id);
	if (st->content || st->metadata || st->blobs_removed || st->blobs_failed || st->skipped ||
	    st->errors)
		log_event(st->errors || st->blobs_failed ? LOG_LVL_WARN : LOG_LVL_INFO, "purge.run",
			  "content=%d metadata=%d files=%lld bytes=%lld blobs_removed=%d "
			  "blobs_failed=%d skipped=%d errors=%d",
			  st->content, st->metadata, (long long)st->files, (long long)st->bytes,
			  st->blobs_removed, st->blobs_failed, st->skipped, st->errors);
	return st->errors || st->blobs_failed ? -1 : 0;
}

static void *
purger_main(void *arg)
{
	struct purger *p = arg;
	struct purger_stats st;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		pthread_mutex_unlock(&p->lock);

		/*
		 * The periodic tasks, each one call that logs its own failures
		 * and never stops the loop; they share the interval. Approval
		 * requests past their deadline lapse first, so that a lapsed
		 * transfer is ended before retention looks at it.
		 */
		approval_lapse_run(p->srv, util_now());
		purger_run(p->srv, util_now(), &st);
		audit_retention_run(p->srv, util_now()); /* audit_days (audit_purge.c) */
		api_tus_expire_run(p->srv, util_now());	 /* abandoned tus uploads */

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += p->srv->conf.retention_interval;
		pthread_mutex_lock(&p->lock);
		while (!p->stopping)
			if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* purger_start - the thread; the first run is at once */
int
purger_start(struct server *srv, char *err, size_t errlen)
{
	struct purger *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->srv = srv;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	srv->purger = p;
	if (pthread_create(&p->thread, NULL, purger_main, p) != 0) {
		snprintf(err, errlen, "cannot start the purger thread");
		srv->purger = NULL;
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -1;
	}
	log_event(LOG_LVL_INFO, "purge.started", "interval=%d", srv->conf.retention_interval);
	return 0;
}

/* purger_stop - a run in progress ends after its current transfer; then the thread */
void
purger_stop(struct server *srv)
{
	struct purger *p = srv->purger;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	srv->purger = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
