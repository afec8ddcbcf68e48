/*
 * scanner.c - the scanner pool inside okurud.
 *
 * One thread, one poll loop. It owns every worker and is the only code
 * that writes scan verdicts, so there is no locking around workers; the
 * mutex guards only what other threads read or set (settings waiting to be
 * applied, the published info, the stop flag).
 *
 * Failing closed: a file leaves "scanning" only with a verdict from a worker
 * or as "error" (the worker died, overran its time, or the blob could not
 * be opened). When no worker can run, files stay queued as "uploaded" and
 * /healthz says degraded; nothing is ever marked clean without a scan.
 *
 * Signature updates: when the signature directory changes (freshclam) or
 * on SIGHUP, every worker becomes stale. A new worker is started; only
 * when it reports READY is a stale one retired (an idle one at once, a
 * busy one after its scan). If the new engine fails to load, the stale
 * workers are kept and the previous settings restored.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blob.h"
#include "db.h"
#include "keys.h"
#include "log.h"
#include "scan_worker.h"
#include "scanner.h"
#include "util.h"

enum { W_FREE = 0, W_STARTING, W_IDLE, W_BUSY };

struct settings {
	struct scan_msg_config cfg;
	char program[PATH_MAX];
	int workers;
	int timeout;
	int load_timeout;
	int check_interval;
	int quarantine;
};

struct sworker {
	int state;
	int retire; /* stop when idle */
	unsigned gen;
	struct scan_worker w;
	struct scan_msg_ready info;
	int64_t deadline; /* ms, monotonic: load or scan */
	int64_t started;
	uint64_t job;
	char file_id[UTIL_IDLEN + 1];
	char transfer_id[UTIL_IDLEN + 1];
	int64_t file_size;
};

#define SCANNER_SLOTS (2 * SCANNER_WORKERS_MAX + 1)
#define SCANNER_BACKOFF_MIN 1000
#define SCANNER_BACKOFF_MAX 60000

struct scanner {
	pthread_t thread;
	pthread_mutex_t lock;
	int wake[2];
	int stopping;	    /* under lock */
	int reload_pending; /* under lock */
	struct settings pending; /* under lock */
	struct scanner_info info; /* under lock */

	/* owned by the pool thread */
	struct scanner_env env;
	struct settings set, prev;
	struct sworker w[SCANNER_SLOTS];
	unsigned gen;
	unsigned char fp[32];
	int64_t next_check;
	int64_t next_spawn;
	int backoff;
	uint64_t next_job;
	char tag[13]; /* names this installation's worker temp directories */
};

static int64_t
scanner_ms(void)
{
	return (int64_t)(util_mono() * 1000.0);
}

static void
scanner_settings(const struct conf *c, int log_level, struct settings *s)
{
	memset(s, 0, sizeof(*s));
	scan_worker_config(c, log_level, &s->cfg);
	scan_strlcpy(s->program, c->scanner_program, sizeof(s->program));
	s->workers = c->scanner_workers;
	s->timeout = c->scanner_timeout;
	s->load_timeout = c->scanner_load_timeout;
	s->check_interval = c->clamav_check_interval;
	s->quarantine = c->scanner_quarantine;
}

static void
scanner_error(struct scanner *s, const char *msg)
{
	pthread_mutex_lock(&s->lock);
	scan_strlcpy(s->info.last_error, msg, sizeof(s->info.last_error));
	pthread_mutex_unlock(&s->lock);
}

/* ---- verdicts ----------------------------------------------------------- */

static void
scanner_record(struct scanner *s, struct sworker *sw, uint32_t verdict, uint32_t reason,
	       const char *detail, const char *type, uint32_t ms)
{
	struct db_scan sc;
	char qd[600], qe[100], qv[1100], qt[300];
	int shred = verdict == SCAN_INFECTED && !s->set.quarantine;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.file_id = sw->file_id;
	sc.verdict = scan_verdict_name(verdict);
	sc.reason = scan_reason_name(reason);
	sc.detail = detail;
	sc.engine = sw->info.engine;
	sc.db_version = sw->info.db_version;
	sc.type = type;
	sc.finished = util_now();
	sc.ms = ms;
	r = db_file_scan_done(s->env.db, &sc, shred);
	if (r != DB_OK) {
		/* The row stays "scanning": never clean; re-queued at next start. */
		log_event(LOG_LVL_ERR, "scan.record_failed", "file=%s verdict=%s", sw->file_id,
			  sc.verdict);
		return;
	}
	log_event(verdict == SCAN_CLEAN ? LOG_LVL_INFO : LOG_LVL_WARN, "scan.verdict",
		  "transfer=%s file=%s size=%" PRId64 " verdict=%s reason=%s detail=%s type=%s ms=%u "
		  "engine=%s signatures=%s%s",
		  sw->transfer_id, sw->file_id, sw->file_size, sc.verdict,
		  sc.reason[0] ? sc.reason : "-", log_quote(qd, sizeof(qd), detail),
		  type[0] ? log_quote(qt, sizeof(qt), type) : "-", ms,
		  log_quote(qe, sizeof(qe), sw->info.engine),
		  log_quote(qv, sizeof(qv), sw->info.db_version),
		  shred ? " content=destroyed" : "");
	if (shred && blob_remove(s->env.storage_dir, sw->file_id) != 0)
		/* The key is already gone; recovery removes the blob at next start. */
		log_event(LOG_LVL_ERR, "scan.remove_failed", "file=%s error=\"%s\"", sw->file_id,
			  strerror(errno));
}

/* ---- workers ------------------------------------------------------------ */

static struct sworker *
scanner_slot(struct scanner *s)
{
	for (int i = 0; i < SCANNER_SLOTS; i++)
		if (s->w[i].state == W_FREE)
			return &s->w[i];
	return NULL;
}

static int
scanner_spawn(struct scanner *s, struct sworker *sw, char *err, size_t errlen)
{
	memset(sw, 0, sizeof(*sw));
	if (scan_worker_spawn(s->set.program, &s->set.cfg, s->tag, &sw->w, err, errlen) != 0)
		return -1;
	sw->state = W_STARTING;
	sw->gen = s->gen;
	sw->started = scanner_ms();
	sw->deadline = sw->started + (int64_t)s->set.load_timeout * 1000;
	log_event(LOG_LVL_INFO, "scanner.worker_started", "pid=%d generation=%u", (int)sw->w.pid,
		  sw->gen);
	return 0;
}

/* scanner_end - stop a worker and free its slot; a job in hand gets the error */
static void
scanner_end(struct scanner *s, struct sworker *sw, int kill_now, uint32_t reason,
	    const char *why)
{
	char ex[64];
	int st;
	pid_t pid = sw->w.pid;

	st = scan_worker_stop(&sw->w, kill_now ? 0 : 2000);
	scan_worker_describe_exit(st, ex, sizeof(ex));
	if (sw->state == W_BUSY) {
		char detail[SCAN_DETAILMAX];
		snprintf(detail, sizeof(detail), "%s (worker %s)", why, ex);
		scanner_record(s, sw, SCAN_ERROR, reason, detail, "",
			       (uint32_t)(scanner_ms() - sw->started));
	}
	log_event(sw->retire && sw->state == W_IDLE ? LOG_LVL_INFO : LOG_LVL_WARN,
		  "scanner.worker_stopped", "pid=%d generation=%u why=\"%s\" status=\"%s\"",
		  (int)pid, sw->gen, why, ex);
	memset(sw, 0, sizeof(*sw));
	sw->state = W_FREE;
	sw->w.pid = -1;
	sw->w.sock = -1;
}

static void
scanner_backoff(struct scanner *s)
{
	s->backoff = s->backoff == 0 ? SCANNER_BACKOFF_MIN
				     : (s->backoff * 2 > SCANNER_BACKOFF_MAX ? SCANNER_BACKOFF_MAX
									     : s->backoff * 2);
	s->next_spawn = scanner_ms() + s->backoff;
}

/* A worker of the generation being started failed: keep what still runs. */
static void
scanner_load_failed(struct scanner *s, const char *why)
{
	int adopted = 0;
	char q[600];

	for (int i = 0; i < SCANNER_SLOTS; i++) {
		struct sworker *o = &s->w[i];
		if (o->state != W_FREE && o->gen != s->gen && (o->state == W_IDLE || o->state == W_BUSY)) {
			o->gen = s->gen;
			o->retire = 0;
			adopted++;
		}
	}
	scanner_error(s, why);
	if (adopted > 0) {
		s->set = s->prev;
		/* Compare later checks with the directory the kept workers use. */
		scan_db_fingerprint(s->set.cfg.database, s->fp);
		log_event(LOG_LVL_ERR, "scanner.update_failed", "error=%s keeping=previous workers=%d",
			  log_quote(q, sizeof(q), why), adopted);
	} else {
		log_event(LOG_LVL_ERR, "scanner.load_failed", "error=%s", log_quote(q, sizeof(q), why));
		scanner_backoff(s);
	}
}

static void
scanner_begin_update(struct scanner *s, const char *why)
{
	s->prev = s->set;
	s->gen++;
	log_event(LOG_LVL_INFO, "scanner.update", "why=%s generation=%u", why, s->gen);
}

/*
 * scanner_maintain - start workers up to the target; during an update only
 * one new worker loads at a time (a full signature set is over 1 GiB), and
 * stale workers are retired as new ones become ready.
 */
static void
scanner_maintain(struct scanner *s, int64_t now)
{
	int cur = 0, cur_ready = 0, cur_starting = 0, stale = 0, keep_stale;
	char err[SCAN_PATHMAX];

	for (int i = 0; i < SCANNER_SLOTS; i++) {
		struct sworker *sw = &s->w[i];
		if (sw->state == W_FREE)
			continue;
		if (sw->gen == s->gen) {
			cur++;
			if (sw->state == W_STARTING)
				cur_starting++;
			else
				cur_ready++;
		} else if (!sw->retire) {
			stale++;
		}
	}
	/* Old engines serve until enough new ones are ready. */
	keep_stale = s->set.workers - cur_ready;
	if (keep_stale < 0)
		keep_stale = 0;
	for (int pass = 0; pass < 2 && stale > keep_stale; pass++) {
		for (int i = 0; i < SCANNER_SLOTS && stale > keep_stale; i++) {
			struct sworker *sw = &s->w[i];
			if (sw->state == W_FREE || sw->gen == s->gen || sw->retire)
				continue;
			if (pass == 0 && sw->state == W_BUSY)
				continue; /* idle ones first */
			stale--;
			if (sw->state == W_BUSY) {
				sw->retire = 1;
			} else {
				sw->retire = 1;
				scanner_end(s, sw, sw->state == W_STARTING, SCAN_REASON_NONE,
					    "replaced by a newer engine");
			}
		}
	}
	if (cur >= s->set.workers || now < s->next_spawn)
		return;
	if (stale > 0 && cur_starting > 0)
		return;
	struct sworker *sw = scanner_slot(s);
	if (sw == NULL)
		return;
	if (scanner_spawn(s, sw, err, sizeof(err)) != 0) {
		sw->state = W_FREE;
		scanner_load_failed(s, err);
	}
}

static void
scanner_dispatch(struct scanner *s, int64_t now)
{
	for (int i = 0; i < SCANNER_SLOTS; i++) {
		struct sworker *sw = &s->w[i];
		struct db_file f;
		unsigned char dk[KEYS_KEYBYTES];
		int fd, r;

		while (sw->state == W_IDLE && !sw->retire) {
			r = db_file_scan_claim(s->env.db, &f);
			if (r == DB_NOTFOUND)
				return;
			if (r != DB_OK) {
				log_event(LOG_LVL_ERR, "scan.claim_failed", "error=database");
				return;
			}
			memcpy(sw->file_id, f.id, sizeof(sw->file_id));
			memcpy(sw->transfer_id, f.transfer_id, sizeof(sw->transfer_id));
			sw->file_size = f.size;
			sw->started = now;
			fd = blob_open(s->env.storage_dir, f.id);
			if (fd < 0 || keys_unwrap(s->env.keys, f.key_id, f.id, f.wrapped,
						  KEYS_WRAPPEDBYTES, dk) != 0) {
				if (fd >= 0)
					close(fd);
				scanner_record(s, sw, SCAN_ERROR, SCAN_REASON_INTEGRITY,
					       "the stored file or its key cannot be opened", "", 0);
				continue;
			}
			sw->job = ++s->next_job;
			r = scan_worker_send_job(&sw->w, sw->job, fd, (uint64_t)f.size, dk);
			sodium_memzero(dk, sizeof(dk));
			close(fd);
			if (r != 0) {
				/* Never reached the worker: back in the queue. */
				db_file_set_state(s->env.db, f.id, "uploaded");
				scanner_end(s, sw, 1, SCAN_REASON_NONE, "job could not be sent");
				return;
			}
			sw->state = W_BUSY;
			sw->deadline = now + (int64_t)s->set.timeout * 1000;
			log_event(LOG_LVL_DEBUG, "scan.started", "file=%s pid=%d", f.id,
				  (int)sw->w.pid);
		}
	}
}

static void
scanner_ready(struct scanner *s, struct sworker *sw, const struct scan_msg_ready *m)
{
	char q[1100];

	sw->info = *m;
	sw->info.engine[sizeof(sw->info.engine) - 1] = '\0';
	sw->info.db_version[sizeof(sw->info.db_version) - 1] = '\0';
	sw->state = W_IDLE;
	s->backoff = 0;
	log_event(LOG_LVL_INFO, "scanner.ready",
		  "pid=%d generation=%u engine=\"%s\" signatures=%u version=%s libmagic=%u.%02u "
		  "official=%s landlock=%s load_ms=%" PRId64,
		  (int)sw->w.pid, sw->gen, sw->info.engine, m->signatures,
		  log_quote(q, sizeof(q), sw->info.db_version), m->magic / 100, m->magic % 100,
		  m->official ? "yes" : "no",
		  m->landlock ? "yes" : "no", scanner_ms() - sw->started);
	if (!m->official)
		log_event(LOG_LVL_WARN, "scanner.test_signatures",
			  "warning=\"TEST SIGNATURE DATABASE: this gateway does not detect real "
			  "malware (clamav.allow_test_signatures is set)\"");
	if (!m->landlock)
		log_event(LOG_LVL_WARN, "scanner.no_landlock",
			  "warning=\"the kernel has no Landlock: the worker is confined by seccomp "
			  "and rlimits only\"");
	pthread_mutex_lock(&s->lock);
	s->info.signatures = m->signatures;
	s->info.official = (int)m->official;
	s->info.landlock = (int)m->landlock;
	scan_strlcpy(s->info.engine, sw->info.engine, sizeof(s->info.engine));
	scan_strlcpy(s->info.db_version, sw->info.db_version, sizeof(s->info.db_version));
	s->info.loaded_at = util_now();
	s->info.last_error[0] = '\0';
	pthread_mutex_unlock(&s->lock);
}

static void
scanner_message(struct scanner *s, struct sworker *sw)
{
	union scan_msg m;
	int r = scan_worker_recv(&sw->w, 0, &m);

	if (r == 0)
		return;
	if (r < 0) {
		if (sw->state == W_STARTING) {
			scanner_end(s, sw, 1, SCAN_REASON_NONE, "died while loading signatures");
			scanner_load_failed(s, "the scanner worker died while loading signatures");
		} else {
			scanner_end(s, sw, 1, SCAN_REASON_CRASHED, "the scanner worker died");
		}
		return;
	}
	if (sw->state == W_STARTING && m.type == SCAN_MSG_READY) {
		scanner_ready(s, sw, &m.ready);
		return;
	}
	if (sw->state == W_STARTING && m.type == SCAN_MSG_LOADFAIL) {
		char why[SCAN_PATHMAX];
		m.loadfail.reason[sizeof(m.loadfail.reason) - 1] = '\0';
		scan_strlcpy(why, m.loadfail.reason, sizeof(why));
		scanner_end(s, sw, 0, SCAN_REASON_NONE, "signatures did not load");
		scanner_load_failed(s, why);
		return;
	}
	if (sw->state == W_BUSY && m.type == SCAN_MSG_RESULT && m.result.id == sw->job &&
	    m.result.verdict >= SCAN_CLEAN && m.result.verdict <= SCAN_ERROR) {
		m.result.detail[sizeof(m.result.detail) - 1] = '\0';
		/* detail and media_type were checked by scan_proto_recv */
		scanner_record(s, sw, m.result.verdict, m.result.reason, m.result.detail,
			       m.result.media_type, m.result.ms);
		sw->state = W_IDLE;
		sw->file_id[0] = '\0';
		if (m.result.flags & SCAN_RESULT_RETIRING) {
			sw->retire = 1;
			scanner_end(s, sw, 0, SCAN_REASON_NONE, "retired itself after half its CPU budget");
		} else if (sw->retire) {
			scanner_end(s, sw, 0, SCAN_REASON_NONE, "replaced by a newer engine");
		}
		return;
	}
	/* Anything else is a worker not following the protocol: it goes. */
	scanner_end(s, sw, 1, SCAN_REASON_CRASHED, "the scanner worker broke the protocol");
}

static void
scanner_publish(struct scanner *s)
{
	int ready = 0, busy = 0;

	for (int i = 0; i < SCANNER_SLOTS; i++) {
		if (s->w[i].state == W_IDLE)
			ready++;
		else if (s->w[i].state == W_BUSY)
			busy++;
	}
	pthread_mutex_lock(&s->lock);
	s->info.workers_ready = ready + busy;
	s->info.workers_busy = busy;
	s->info.workers_target = s->set.workers;
	s->info.ok = ready + busy > 0;
	pthread_mutex_unlock(&s->lock);
}

static void
scanner_check_signatures(struct scanner *s, int64_t now)
{
	unsigned char fp[32];

	if (now < s->next_check)
		return;
	s->next_check = now + (int64_t)s->set.check_interval * 1000;
	if (scan_db_fingerprint(s->set.cfg.database, fp) != 0)
		return; /* unreadable now: the running engines stay */
	if (sodium_memcmp(fp, s->fp, sizeof(fp)) == 0)
		return;
	memcpy(s->fp, fp, sizeof(fp));
	scanner_begin_update(s, "signatures_changed");
}

static void *
scanner_main(void *arg)
{
	struct scanner *s = arg;
	struct pollfd pfd[SCANNER_SLOTS + 1];
	struct sworker *who[SCANNER_SLOTS + 1];

	for (;;) {
		int64_t now = scanner_ms(), wait;
		int n = 0, stopping, reload;
		struct settings ns;

		pthread_mutex_lock(&s->lock);
		stopping = s->stopping;
		reload = s->reload_pending;
		if (reload)
			ns = s->pending;
		s->reload_pending = 0;
		pthread_mutex_unlock(&s->lock);
		if (stopping)
			break;
		if (reload && memcmp(&ns, &s->set, sizeof(ns)) == 0) {
			/* Same settings: the signature check below decides. */
			log_event(LOG_LVL_INFO, "scanner.reload", "settings=unchanged");
			s->next_check = 0;
		} else if (reload) {
			scanner_begin_update(s, "reload");
			s->set = ns;
			scan_db_fingerprint(s->set.cfg.database, s->fp);
			s->next_spawn = 0;
			s->backoff = 0;
		}
		scanner_check_signatures(s, now);
		scanner_maintain(s, now);
		scanner_dispatch(s, now);
		scanner_publish(s);

		wait = s->next_check - now;
		pfd[n].fd = s->wake[0];
		pfd[n].events = POLLIN;
		who[n++] = NULL;
		for (int i = 0; i < SCANNER_SLOTS; i++) {
			struct sworker *sw = &s->w[i];
			if (sw->state == W_FREE)
				continue;
			pfd[n].fd = sw->w.sock;
			pfd[n].events = POLLIN;
			who[n++] = sw;
			if ((sw->state == W_STARTING || sw->state == W_BUSY) && sw->deadline - now < wait)
				wait = sw->deadline - now;
		}
		if (s->next_spawn > now && s->next_spawn - now < wait)
			wait = s->next_spawn - now;
		if (wait < 0)
			wait = 0;
		if (wait > 1000)
			wait = 1000;
		if (poll(pfd, (nfds_t)n, (int)wait) < 0 && errno != EINTR)
			panic("scanner poll: %s", strerror(errno));
		if (pfd[0].revents & POLLIN) {
			char buf[64];
			while (read(s->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		for (int k = 1; k < n; k++)
			if (pfd[k].revents != 0 && who[k]->state != W_FREE)
				scanner_message(s, who[k]);
		now = scanner_ms();
		for (int i = 0; i < SCANNER_SLOTS; i++) {
			struct sworker *sw = &s->w[i];
			if (sw->state == W_BUSY && now >= sw->deadline) {
				scanner_end(s, sw, 1, SCAN_REASON_TIMEOUT, "scan timed out");
			} else if (sw->state == W_STARTING && now >= sw->deadline) {
				scanner_end(s, sw, 1, SCAN_REASON_NONE, "signature load timed out");
				scanner_load_failed(s, "loading the signatures took longer than "
						       "scanner.load_timeout");
			}
		}
	}
	for (int i = 0; i < SCANNER_SLOTS; i++) {
		struct sworker *sw = &s->w[i];
		if (sw->state == W_FREE)
			continue;
		/* A file in hand stays "scanning" and is re-queued at next start. */
		if (sw->state == W_BUSY)
			sw->state = W_IDLE;
		sw->retire = 1;
		scanner_end(s, sw, 0, SCAN_REASON_NONE, "okurud is stopping");
	}
	return NULL;
}

/* ---- API for okurud ------------------------------------------------------ */

int
scanner_start(const struct conf *c, const struct scanner_env *env, struct scanner **out,
	      char *err, size_t errlen)
{
	struct scanner *s;
	struct sworker *sw;
	union scan_msg m;
	int n = 0, r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->env = *env;
	pthread_mutex_init(&s->lock, NULL);
	scanner_settings(c, env->log_level, &s->set);
	s->prev = s->set;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	{
		/* Only this okurud (it holds the storage lock) uses this tag. */
		unsigned char h[6];
		crypto_generichash(h, sizeof(h), (const unsigned char *)env->storage_dir,
				   strlen(env->storage_dir), NULL, 0);
		sodium_bin2hex(s->tag, sizeof(s->tag), h, sizeof(h));
		n = scan_worker_sweep(c->scanner_tmpdir, s->tag);
		if (n > 0)
			log_event(LOG_LVL_INFO, "scanner.tmp_swept", "directories=%d", n);
		n = 0;
	}
	if (db_file_scan_requeue(env->db, &n) != DB_OK) {
		snprintf(err, errlen, "cannot re-queue interrupted scans");
		goto fail;
	}
	if (n > 0)
		log_event(LOG_LVL_INFO, "scan.requeued", "files=%d", n);
	if (scan_db_fingerprint(s->set.cfg.database, s->fp) != 0) {
		snprintf(err, errlen, "clamav.database %s cannot be read: %s", s->set.cfg.database,
			 strerror(errno));
		goto fail;
	}
	/* The first worker loads in the foreground: okurud does not start
	 * without an engine that has signatures. */
	sw = &s->w[0];
	if (scanner_spawn(s, sw, err, errlen) != 0)
		goto fail;
	r = scan_worker_recv(&sw->w, s->set.load_timeout * 1000, &m);
	if (r == 1 && m.type == SCAN_MSG_READY) {
		scanner_ready(s, sw, &m.ready);
	} else {
		if (r == 1 && m.type == SCAN_MSG_LOADFAIL) {
			m.loadfail.reason[sizeof(m.loadfail.reason) - 1] = '\0';
			snprintf(err, errlen, "virus scanner: %s", m.loadfail.reason);
		} else if (r == 0) {
			snprintf(err, errlen, "virus scanner: loading signatures took longer than "
					      "scanner.load_timeout");
		} else {
			char ex[64];
			int st = scan_worker_stop(&sw->w, 1000);
			scan_worker_describe_exit(st, ex, sizeof(ex));
			snprintf(err, errlen, "virus scanner %s did not start (%s)", s->set.program, ex);
		}
		scan_worker_stop(&sw->w, 0);
		goto fail;
	}
	s->next_check = scanner_ms() + (int64_t)s->set.check_interval * 1000;
	scanner_publish(s);
	if (pthread_create(&s->thread, NULL, scanner_main, s) != 0) {
		snprintf(err, errlen, "cannot start the scanner thread");
		scan_worker_stop(&sw->w, 0);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->wake[0] > 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
	return -1;
}

void
scanner_kick(struct scanner *s)
{
	ssize_t r;

	if (s == NULL)
		return;
	r = write(s->wake[1], "k", 1);
	(void)r; /* a full pipe already means "wake up" */
}

void
scanner_reload(struct scanner *s, const struct conf *c)
{
	pthread_mutex_lock(&s->lock);
	scanner_settings(c, c->log_level, &s->pending);
	s->reload_pending = 1;
	pthread_mutex_unlock(&s->lock);
	scanner_kick(s);
}

void
scanner_info(struct scanner *s, struct scanner_info *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->info;
	pthread_mutex_unlock(&s->lock);
}

void
scanner_stop(struct scanner *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_mutex_unlock(&s->lock);
	scanner_kick(s);
	pthread_join(s->thread, NULL);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	sodium_memzero(s, sizeof(*s));
	free(s);
}
