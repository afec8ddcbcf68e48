/*
 * audit_syslog.c - okurud's syslog forwarder (see audit_syslog.h). One
 * thread; every second (or at once after audit_syslog_wake) it reads the
 * records after the last one sent, copies them out of the database (the
 * db lock is never held across a send) and sends them in order, saving
 * the position after each; then the same for the signed checkpoints. A
 * failed connect or send closes the socket and retries after a back-off
 * (1 s doubling to 60 s), starting from the record that failed: nothing
 * is skipped, and no request ever waits for the collector. Delivery is at
 * least once: a crash between a send and saving the position sends that
 * one record again after the restart.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "audit_syslog.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define AUDIT_SYSLOG_DGRAM_MAX 65000 /* under UDP's 65,507-byte payload */

#define AUDIT_SYSLOG_BATCH 64
#define AUDIT_SYSLOG_BACKOFF_MAX 60
#define AUDIT_SYSLOG_IO_TIMEOUT 5 /* seconds for a connect or a send */

struct audit_syslog {
	struct db *db;
	struct audit_syslog_target target;
	char url[256];
	int facility;
	char hostname[256];
	long pid;
	int fd;
	int stream; /* TCP or a stream unix socket: octet-counting framing */
	int failing;
	int backoff;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping, woken;
};

struct audit_syslog_batch {
	struct audit_syslog *s;
	char *msg[AUDIT_SYSLOG_BATCH];
	size_t len[AUDIT_SYSLOG_BATCH];
	int64_t seq[AUDIT_SYSLOG_BATCH];
	size_t n;
	int oom;
};

static void
audit_syslog_close(struct audit_syslog *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void
audit_syslog_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = AUDIT_SYSLOG_IO_TIMEOUT};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* audit_syslog_connect - a socket to the target in s->fd; -1 with errno */
static int
audit_syslog_connect(struct audit_syslog *s)
{
	if (s->target.proto == AUDIT_SYSLOG_UNIX) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int types[] = {SOCK_DGRAM, SOCK_STREAM};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->target.path);
		for (size_t i = 0; i < 2; i++) {
			int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return -1;
			audit_syslog_timeouts(fd);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				s->fd = fd;
				s->stream = types[i] == SOCK_STREAM;
				return 0;
			}
			close(fd);
			if (errno != EPROTOTYPE)
				return -1;
		}
		return -1;
	}
	{
		struct addrinfo hints = {.ai_family = AF_UNSPEC}, *res, *ai;
		int tcp = s->target.proto == AUDIT_SYSLOG_TCP, r, saved = ECONNREFUSED;
		hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
		r = getaddrinfo(s->target.host, s->target.port, &hints, &res);
		if (r != 0) {
			errno = EHOSTUNREACH;
			return -1;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			int fd =
			    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0) {
				saved = errno;
				continue;
			}
			audit_syslog_timeouts(fd);
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
				s->fd = fd;
				s->stream = tcp;
				freeaddrinfo(res);
				return 0;
			}
			saved = errno;
			close(fd);
		}
		freeaddrinfo(res);
		errno = saved;
		return -1;
	}
}

/* audit_syslog_write_all - a whole buffer on a stream socket */
static int
audit_syslog_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * audit_syslog_peer_closed - has a stream collector closed its end? A
 * write after its FIN still succeeds locally and the record would be lost
 * with the RST, so the connection is replaced before sending instead.
 * Collectors send nothing back, so anything readable means closed too.
 */
static int
audit_syslog_peer_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return poll(&p, 1, 0) != 0;
}

/* audit_syslog_send - one message, connecting first if needed; 0 sent, -1 failed (logged) */
static int
audit_syslog_send(struct audit_syslog *s, const char *msg, size_t len)
{
	int r;

	if (s->fd >= 0 && s->stream && audit_syslog_peer_closed(s->fd))
		audit_syslog_close(s);
	if (s->fd < 0 && audit_syslog_connect(s) != 0) {
		r = -1;
	} else if (s->stream) {
		/* RFC 6587 3.4.1 octet counting: "LEN SP MSG", so MSG may hold line breaks. */
		char pre[24];
		int pl = snprintf(pre, sizeof(pre), "%zu ", len);
		r = audit_syslog_write_all(s->fd, pre, (size_t)pl) == 0 &&
			    audit_syslog_write_all(s->fd, msg, len) == 0
			? 0
			: -1;
	} else {
		ssize_t w;
		/*
		 * A datagram holds at most 65,507 bytes over UDP; a record can be
		 * longer (detail up to AUDIT_DETAILMAX). Retrying it would stop
		 * forwarding, and so audit retention, for good: send the head,
		 * whose structured data names the record's seq and hash, so the
		 * collector can fetch the whole of it (RFC 5424 6.1 lets a
		 * receiver truncate anyway).
		 */
		if (len > AUDIT_SYSLOG_DGRAM_MAX) {
			log_event(LOG_LVL_WARN, "audit.syslog_truncated", "target=%s bytes=%zu sent=%d",
				  s->url, len, AUDIT_SYSLOG_DGRAM_MAX);
			len = AUDIT_SYSLOG_DGRAM_MAX;
		}
		do
			w = send(s->fd, msg, len, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		r = w == (ssize_t)len ? 0 : -1;
	}
	if (r != 0) {
		if (!s->failing)
			log_event(LOG_LVL_WARN, "audit.syslog_failed",
				  "target=%s error=\"%s\" retry=later", s->url, strerror(errno));
		s->failing = 1;
		audit_syslog_close(s);
		return -1;
	}
	if (s->failing)
		log_event(LOG_LVL_INFO, "audit.syslog_resumed", "target=%s", s->url);
	s->failing = 0;
	return 0;
}

static int
audit_syslog_collect(const struct db_audit_row *r, void *arg)
{
	struct audit_syslog_batch *b = arg;
	char *m = audit_syslog_record(b->s->facility, b->s->hostname, b->s->pid, r, &b->len[b->n]);

	if (m == NULL) {
		b->oom = 1;
		return 1;
	}
	b->msg[b->n] = m;
	b->seq[b->n] = r->seq;
	b->n++;
	return 0;
}

/* audit_syslog_pass - send everything not sent yet; 0 all sent, -1 stopped at a failure */
static int
audit_syslog_pass(struct audit_syslog *s)
{
	int64_t last, lastcp, id;
	struct audit_checkpoint cp;
	int rc = 0, r;

	if (db_audit_forward_get(s->db, &last, &lastcp) != DB_OK)
		return -1;
	for (;;) {
		struct audit_syslog_batch b = {.s = s};
		r = db_audit_each_after(s->db, last, AUDIT_SYSLOG_BATCH, audit_syslog_collect, &b);
		for (size_t i = 0; i < b.n; i++) {
			if (rc == 0 && audit_syslog_send(s, b.msg[i], b.len[i]) == 0) {
				last = b.seq[i];
				if (db_audit_forward_set(s->db, last, util_now()) != DB_OK)
					rc = -1;
			} else {
				rc = -1;
			}
			free(b.msg[i]);
		}
		if (rc != 0 || r == DB_ERROR || b.oom)
			return -1;
		if (b.n < AUDIT_SYSLOG_BATCH)
			break;
	}
	while ((r = db_audit_checkpoint_next(s->db, lastcp, &id, &cp)) == DB_OK) {
		size_t len;
		char *m = audit_syslog_checkpoint(s->facility, s->hostname, s->pid, &cp, &len);
		if (m == NULL)
			return -1;
		rc = audit_syslog_send(s, m, len);
		free(m);
		if (rc != 0 || db_audit_forward_cp_set(s->db, id, util_now()) != DB_OK)
			return -1;
		lastcp = id;
	}
	return r == DB_NOTFOUND ? 0 : -1;
}

static void *
audit_syslog_main(void *arg)
{
	struct audit_syslog *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		int wait = s->failing ? s->backoff : 1;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait;
		while (!s->stopping && !s->woken)
			if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
				break;
		if (s->stopping)
			break;
		s->woken = 0;
		pthread_mutex_unlock(&s->lock);
		if (audit_syslog_pass(s) != 0)
			s->backoff = s->backoff < AUDIT_SYSLOG_BACKOFF_MAX / 2
					 ? (s->backoff ? s->backoff * 2 : 1)
					 : AUDIT_SYSLOG_BACKOFF_MAX;
		else
			s->backoff = 1;
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
audit_syslog_start(const struct conf *c, struct db *db, struct audit_syslog **out, char *err,
		   size_t errlen)
{
	struct audit_syslog *s;
	pthread_condattr_t ca;

	*out = NULL;
	if (c->audit_syslog[0] == '\0')
		return 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (audit_syslog_target_parse(c->audit_syslog, &s->target) != 0) {
		snprintf(err, errlen, "audit.syslog %s is not a usable target", c->audit_syslog);
		free(s);
		return -1;
	}
	s->db = db;
	s->fd = -1;
	s->backoff = 1;
	s->facility = audit_syslog_facility_code(c->audit_syslog_facility);
	snprintf(s->url, sizeof(s->url), "%s", c->audit_syslog);
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0)
		snprintf(s->hostname, sizeof(s->hostname), "-");
	s->pid = (long)getpid();
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, audit_syslog_main, s) != 0) {
		snprintf(err, errlen, "cannot start the audit syslog thread");
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return -1;
	}
	log_event(LOG_LVL_INFO, "audit.syslog_started", "target=%s facility=%s", s->url,
		  c->audit_syslog_facility);
	*out = s;
	return 0;
}

void
audit_syslog_wake(struct audit_syslog *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->woken = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void
audit_syslog_stop(struct audit_syslog *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	/* The records of the shutdown itself; what fails now goes after the next start. */
	if (!s->failing)
		audit_syslog_pass(s);
	audit_syslog_close(s);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
