/*
 * http.c - start, police and stop the HTTPS daemon.
 *
 * libmicrohttpd's own timeout only measures inactivity, so a client that
 * trickles a byte every few seconds would hold a thread for ever. Each
 * connection is tracked from accept to close; a watchdog thread shuts down
 * the socket of any connection that has not delivered its request headers
 * (or TLS handshake) within limits.header_timeout, or whose request body
 * falls below limits.min_body_rate over a limits.rate_window window.
 * shutdown(2) makes MHD's connection thread see the end of the stream and
 * close it; the fd stays valid because MHD reports NOTIFY_CLOSED (which
 * unlinks the record under track_lock) before it closes the socket.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "scanner.h"
#include "tls.h"
#include "util.h"

enum ct_phase { CT_HEADERS, CT_BODY, CT_BUSY };

struct conn_track {
	struct conn_track *prev, *next;
	int fd;
	int phase;
	int killed;
	double phase_start;
	uint64_t body_bytes; /* atomic */
	uint64_t win_bytes;
	double win_start;
	char ip[64];
};

static struct server *http_srv; /* for the GnuTLS certificate callback */

static const char http_csp[] =
	"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/* http_send - add the headers every response carries, then queue */
enum MHD_Result
http_send(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Strict-Transport-Security",
				"max-age=63072000; includeSubDomains");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* HTML pages carry their own, still 'self'-only, policy. */
	if (MHD_get_response_header(r, "Content-Security-Policy") == NULL)
		MHD_add_response_header(r, "Content-Security-Policy", http_csp);
	/* The pages send same-origin (page.c): no-referrer makes a form's Origin "null". */
	if (MHD_get_response_header(r, "Referrer-Policy") == NULL)
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	if (MHD_get_response_header(r, "Cache-Control") == NULL)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* http_json_response - a response of O as compact JSON (O is consumed), or NULL */
struct MHD_Response *
http_json_response(json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	struct MHD_Response *r;

	json_decref(o);
	if (s == NULL)
		return NULL;
	r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(s);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	return r;
}

/* http_error - {"error": msg} with status */
enum MHD_Result
http_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct MHD_Response *r = http_json_response(json_pack("{s:s}", "error", msg));

	if (r == NULL)
		return MHD_NO;
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"okuru\"");
	return http_send(c, status, r);
}

/*
 * http_error_code - http_error with a stable machine-readable "code" beside
 * the English "error", for the errors the staff app says in the user's
 * language (the list is in okurud(8)); the text stays as it was.
 */
enum MHD_Result
http_error_code(struct MHD_Connection *c, unsigned status, const char *code, const char *msg)
{
	struct MHD_Response *r =
	    http_json_response(json_pack("{s:s, s:s}", "error", msg, "code", code));

	if (r == NULL)
		return MHD_NO;
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"okuru\"");
	return http_send(c, status, r);
}

const char *
http_client_ip(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(buf, len, "?");
	if (ci != NULL && ci->client_addr != NULL) {
		socklen_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								      : sizeof(struct sockaddr_in);
		getnameinfo(ci->client_addr, sl, buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST);
	}
	return buf;
}

void
http_limits(struct server *srv, struct limits *out)
{
	pthread_rwlock_rdlock(&srv->lock);
	*out = srv->limits;
	pthread_rwlock_unlock(&srv->lock);
}

static void
http_limits_from_conf(struct limits *l, const struct conf *c)
{
	l->max_file_size = c->max_file_size;
	l->max_files_per_transfer = c->max_files_per_transfer;
	l->header_timeout = c->header_timeout;
	l->min_body_rate = c->min_body_rate;
	l->rate_window = c->rate_window;
	l->max_json_bytes = c->max_json_bytes;
	l->max_header_bytes = c->max_header_bytes;
	l->drain_timeout = c->drain_timeout;
}

/* http_body_progress - count request body bytes for the rate watchdog */
void
http_body_progress(struct req *rq, size_t n)
{
	if (rq->ct != NULL)
		__atomic_add_fetch(&rq->ct->body_bytes, n, __ATOMIC_RELAXED);
}

/* http_body_done - the body is in; what follows is our work, not the client's */
void
http_body_done(struct req *rq)
{
	if (rq->ct != NULL) {
		pthread_mutex_lock(&http_srv->track_lock);
		rq->ct->phase = CT_BUSY;
		pthread_mutex_unlock(&http_srv->track_lock);
	}
}

/* The certificate for each handshake: whatever pair is current. */
static int
http_cert_cb(gnutls_session_t s, const gnutls_datum_t *req_ca, int nreq,
	     const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
	     unsigned int *npcert, gnutls_privkey_t *key)
{
	pthread_rwlock_rdlock(&http_srv->lock);
	*pcert = http_srv->creds->pcert;
	*npcert = http_srv->creds->npcert;
	*key = http_srv->creds->key;
	pthread_rwlock_unlock(&http_srv->lock);
	return 0;
}

static void
http_notify_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
		       enum MHD_ConnectionNotificationCode code)
{
	struct server *srv = cls;
	struct conn_track *ct;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		ct = calloc(1, sizeof(*ct));
		if (ct == NULL || ci == NULL) {
			free(ct);
			return; /* untracked: MHD's idle timeout still applies */
		}
		ct->fd = ci->connect_fd;
		ct->phase = CT_HEADERS;
		ct->phase_start = util_mono();
		http_client_ip(c, ct->ip, sizeof(ct->ip));
		pthread_mutex_lock(&srv->track_lock);
		ct->next = srv->tracked;
		if (srv->tracked != NULL)
			srv->tracked->prev = ct;
		srv->tracked = ct;
		pthread_mutex_unlock(&srv->track_lock);
		*socket_ctx = ct;
		return;
	}
	ct = *socket_ctx;
	if (ct == NULL)
		return;
	pthread_mutex_lock(&srv->track_lock);
	if (ct->prev != NULL)
		ct->prev->next = ct->next;
	else
		srv->tracked = ct->next;
	if (ct->next != NULL)
		ct->next->prev = ct->prev;
	pthread_mutex_unlock(&srv->track_lock);
	free(ct);
	*socket_ctx = NULL;
}

static void
http_kill(struct conn_track *ct, const char *event, const char *detail)
{
	if (ct->killed)
		return;
	ct->killed = 1;
	shutdown(ct->fd, SHUT_RDWR);
	log_event(LOG_LVL_WARN, event, "ip=%s %s", ct->ip, detail);
}

static void *
http_watchdog(void *arg)
{
	struct server *srv = arg;
	struct limits l;
	char detail[96];

	for (;;) {
		usleep(250 * 1000);
		http_limits(srv, &l);
		double now = util_mono();
		pthread_mutex_lock(&srv->track_lock);
		if (srv->stopping) {
			pthread_mutex_unlock(&srv->track_lock);
			break;
		}
		for (struct conn_track *ct = srv->tracked; ct != NULL; ct = ct->next) {
			if (ct->phase == CT_HEADERS) {
				if (srv->draining)
					http_kill(ct, "http.drain_idle_closed", "reason=shutdown");
				else if (now - ct->phase_start > l.header_timeout) {
					snprintf(detail, sizeof(detail), "limit_s=%d",
						 l.header_timeout);
					http_kill(ct, "http.header_timeout", detail);
				}
			} else if (ct->phase == CT_BODY && now - ct->win_start >= l.rate_window) {
				uint64_t b = __atomic_load_n(&ct->body_bytes, __ATOMIC_RELAXED);
				uint64_t want = (uint64_t)l.min_body_rate * (uint64_t)l.rate_window;
				if (b - ct->win_bytes < want) {
					snprintf(detail, sizeof(detail),
						 "bytes=%llu window_s=%d min_rate=%lld",
						 (unsigned long long)(b - ct->win_bytes),
						 l.rate_window, (long long)l.min_body_rate);
					http_kill(ct, "http.body_too_slow", detail);
				}
				ct->win_start = now;
				ct->win_bytes = b;
			}
		}
		pthread_mutex_unlock(&srv->track_lock);
	}
	return NULL;
}

/* Decode %XX in place; a decoded NUL becomes 0x01 so name checks refuse it. */
static size_t
http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	size_t n = MHD_http_unescape(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = '\x01';
	return n;
}

/*
 * http_actor_init - the audit actor before anyone is authenticated: the
 * client's address and its User-Agent, cut to printable ASCII so a header
 * cannot put control characters or broken UTF-8 into the audit log.
 */
static void
http_actor_init(struct MHD_Connection *c, struct req *rq)
{
	const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
	size_t i;

	http_client_ip(c, rq->ip, sizeof(rq->ip));
	for (i = 0; ua != NULL && ua[i] != '\0' && i + 1 < sizeof(rq->ua); i++)
		rq->ua[i] = ua[i] >= 0x20 && ua[i] < 0x7f ? ua[i] : '?';
	rq->ua[i] = '\0';
	rq->who = (struct audit_actor){.kind = "user", .name = "", .ip = rq->ip,
				       .user_agent = rq->ua};
}

/* http_actor_set - from now on this request acts as KIND NAME */
void
http_actor_set(struct req *rq, const char *kind, const char *name)
{
	snprintf(rq->actor, sizeof(rq->actor), "%s", name);
	rq->who.kind = kind;
	rq->who.name = rq->actor;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	    const char *version, const char *data, size_t *data_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *rq = *con_cls;

	if (rq == NULL) {
		const union MHD_ConnectionInfo *ci;
		struct limits l;

		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		http_actor_init(c, rq);
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		rq->ct = ci != NULL ? ci->socket_context : NULL;
		if (rq->ct != NULL) {
			pthread_mutex_lock(&srv->track_lock);
			rq->ct->phase = CT_BODY;
			rq->ct->win_start = util_mono();
			rq->ct->win_bytes = __atomic_load_n(&rq->ct->body_bytes, __ATOMIC_RELAXED);
			pthread_mutex_unlock(&srv->track_lock);
		}
		http_limits(srv, &l);
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
		if (ci != NULL && ci->header_size > (size_t)l.max_header_bytes) {
			http_body_done(rq);
			return http_error(c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
					  "request headers too large");
		}
		/*
		 * libmicrohttpd 0.9.75 closes the connection after a response
		 * queued in the first call, since it cannot know the body was
		 * read. Requests without a body answer on the second call, so
		 * keep-alive works; uploads still answer early (and close) when
		 * refused before their body.
		 */
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			return MHD_YES;
	}
	return api_handle(srv, c, rq, url, method, data, data_size);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req *rq = *con_cls;
	const union MHD_ConnectionInfo *ci;

	if (rq == NULL)
		return;
	api_request_done(srv, rq, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	if (rq->ct != NULL) {
		/* Keep-alive: the next request's headers get a fresh deadline. */
		pthread_mutex_lock(&srv->track_lock);
		rq->ct->phase = CT_HEADERS;
		rq->ct->phase_start = util_mono();
		pthread_mutex_unlock(&srv->track_lock);
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_event(LOG_LVL_INFO, "http.aborted", "ip=%s status=%u reason=%d",
			  rq->ct ? rq->ct->ip : "?", ci ? ci->http_status : 0, (int)toe);
	/* A body may hold a passphrase or a one-time code. */
	if (rq->body != NULL)
		sodium_memzero(rq->body, rq->bodylen);
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], q[600];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_event(LOG_LVL_DEBUG, "http.mhd", "msg=%s", log_quote(q, sizeof(q), msg));
}

/* http_start - bind and start serving; creds and limits come from srv->conf */
int
http_start(struct server *srv, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char port[16];
	unsigned flags;
	int r;

	http_srv = srv;
	pthread_rwlock_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->track_lock, NULL);
	http_limits_from_conf(&srv->limits, &srv->conf);
	if (tls_priorities_check(srv->conf.tls_priorities, err, errlen) != 0)
		return -1;
	if (tls_creds_load(srv->conf.tls_cert, srv->conf.tls_key, &srv->creds, err, errlen) != 0)
		return -1;
	srv->login_rate = ratelimit_new();
	if (srv->login_rate == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (srv->conf.auth_client_ca[0] != '\0') {
		gnutls_x509_trust_list_t trust;
		if (tls_client_ca_load(srv->conf.auth_client_ca, &trust, &srv->client_ca_pem, err,
				       errlen) != 0)
			return -1;
		srv->client_trust = trust;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", srv->conf.listen_port);
	r = getaddrinfo(srv->conf.listen_host, port, &hints, &ai);
	if (r != 0) {
		snprintf(err, errlen, "listen %s: %s", srv->conf.listen_host, gai_strerror(r));
		return -1;
	}
	flags = MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->mhd = MHD_start_daemon(
		flags, (uint16_t)srv->conf.listen_port, NULL, NULL, http_access, srv,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_HTTPS_CERT_CALLBACK, http_cert_cb,
		MHD_OPTION_HTTPS_PRIORITIES, srv->conf.tls_priorities,
		/* Non-NULL: clients are asked for a certificate (optional; api_session.c verifies). */
		MHD_OPTION_HTTPS_MEM_TRUST, srv->client_ca_pem,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->conf.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)srv->conf.max_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->conf.idle_timeout,
		/* The pool holds headers plus the read buffer; headers are
		 * checked against max_header_bytes in http_access. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)srv->conf.max_header_bytes + 32768,
		MHD_OPTION_NOTIFY_CONNECTION, http_notify_connection, srv,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
		MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, srv,
		MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, srv,
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)srv->conf.threads_stack_kib * 1024,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (srv->mhd == NULL) {
		snprintf(err, errlen, "cannot start HTTPS on %s:%d (address in use or not local?)",
			 srv->conf.listen_host, srv->conf.listen_port);
		return -1;
	}
	if (pthread_create(&srv->watchdog, NULL, http_watchdog, srv) != 0) {
		MHD_stop_daemon(srv->mhd);
		snprintf(err, errlen, "cannot start watchdog thread");
		return -1;
	}
	return 0;
}

/*
 * http_drain_and_stop - SIGTERM: stop accepting, let requests in flight
 * finish (idle keep-alive connections are closed at once) for up to
 * limits.drain_timeout seconds, then stop.
 */
void
http_drain_and_stop(struct server *srv)
{
	struct limits l;
	MHD_socket lfd;
	double until;
	unsigned left = 0;

	http_limits(srv, &l);
	pthread_mutex_lock(&srv->track_lock);
	srv->draining = 1;
	pthread_mutex_unlock(&srv->track_lock);
	lfd = MHD_quiesce_daemon(srv->mhd);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	until = util_mono() + l.drain_timeout;
	while (util_mono() < until) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		left = di ? di->num_connections : 0;
		if (left == 0)
			break;
		usleep(50 * 1000);
	}
	if (left > 0)
		log_event(LOG_LVL_WARN, "shutdown.drain_timeout", "connections=%u", left);
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	pthread_mutex_lock(&srv->track_lock);
	srv->stopping = 1;
	pthread_mutex_unlock(&srv->track_lock);
	pthread_join(srv->watchdog, NULL);
	tls_creds_free(srv->creds);
	while (srv->retired != NULL) {
		struct tls_creds *n = srv->retired->retired_next;
		tls_creds_free(srv->retired);
		srv->retired = n;
	}
	ratelimit_free(srv->login_rate);
	srv->login_rate = NULL;
	if (srv->client_trust != NULL)
		gnutls_x509_trust_list_deinit(srv->client_trust, 1);
	srv->client_trust = NULL;
	free(srv->client_ca_pem);
	srv->client_ca_pem = NULL;
}

void
http_policy_eval(struct server *srv, const struct policy_request *rq, struct policy_decision *d,
		 char *file, size_t filelen)
{
	pthread_rwlock_rdlock(&srv->lock);
	policy_eval(srv->policy, rq, d);
	snprintf(file, filelen, "%s", policy_path(srv->policy));
	pthread_rwlock_unlock(&srv->lock);
}

void
http_policy_defaults(struct server *srv, struct policy_decision *d, struct policy_retention *r)
{
	pthread_rwlock_rdlock(&srv->lock);
	if (d != NULL)
		policy_defaults(srv->policy, d);
	if (r != NULL)
		policy_retention(srv->policy, r);
	pthread_rwlock_unlock(&srv->lock);
}

/*
 * http_reload - SIGHUP: re-read the configuration and certificates. Any
 * error keeps everything as it was. Settings that shape the listening
 * socket or the storage need a restart and are reported as such.
 */
int
http_reload(struct server *srv, const char *confpath)
{
	struct conf nc;
	struct tls_creds *creds;
	struct policy *pol, *old;
	char err[1024], q[1100];

	if (conf_load(confpath, &nc, err, sizeof(err)) != 0) {
		log_event(LOG_LVL_ERR, "reload.failed", "error=%s keeping=previous",
			  log_quote(q, sizeof(q), err));
		return -1;
	}
	/* A policy that does not load keeps the old one, and with it the old config. */
	if (policy_load(nc.policy_file, &pol, err, sizeof(err)) != 0) {
		log_event(LOG_LVL_ERR, "reload.failed", "error=%s keeping=previous",
			  log_quote(q, sizeof(q), err));
		conf_free(&nc);
		return -1;
	}
	if (tls_creds_load(nc.tls_cert, nc.tls_key, &creds, err, sizeof(err)) != 0) {
		log_event(LOG_LVL_ERR, "reload.failed", "error=%s keeping=previous",
			  log_quote(q, sizeof(q), err));
		policy_free(pol);
		conf_free(&nc);
		return -1;
	}
	{
		const struct {
			const char *name;
			int same;
		} fixed[] = {
			{"listen", strcmp(nc.listen_host, srv->conf.listen_host) == 0 &&
					   nc.listen_port == srv->conf.listen_port},
			{"data_dir", strcmp(nc.data_dir, srv->conf.data_dir) == 0},
			{"database", strcmp(nc.database, srv->conf.database) == 0},
			{"storage_dir", strcmp(nc.storage_dir, srv->conf.storage_dir) == 0},
			{"master_key_file", strcmp(nc.master_key_file, srv->conf.master_key_file) == 0},
			{"tls.priorities", strcmp(nc.tls_priorities, srv->conf.tls_priorities) == 0},
			{"limits.max_connections", nc.max_connections == srv->conf.max_connections},
			{"limits.max_connections_per_ip", nc.max_per_ip == srv->conf.max_per_ip},
			{"limits.idle_timeout", nc.idle_timeout == srv->conf.idle_timeout},
			{"log.target", nc.log_syslog == srv->conf.log_syslog},
			{"limits.max_header_bytes", nc.max_header_bytes == srv->conf.max_header_bytes},
			{"limits.thread_stack_kib", nc.threads_stack_kib == srv->conf.threads_stack_kib},
			{"public_url", strcmp(nc.public_url, srv->conf.public_url) == 0},
			{"retention.interval", nc.retention_interval == srv->conf.retention_interval},
			{"audit.syslog", strcmp(nc.audit_syslog, srv->conf.audit_syslog) == 0},
			{"audit.syslog_facility",
			 strcmp(nc.audit_syslog_facility, srv->conf.audit_syslog_facility) == 0},
			{"audit.checkpoint_mail",
			 strcmp(nc.audit_checkpoint_mail, srv->conf.audit_checkpoint_mail) == 0},
		};
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			if (!fixed[i].same)
				log_event(LOG_LVL_WARN, "reload.needs_restart", "setting=%s",
					  fixed[i].name);
	}
	pthread_rwlock_wrlock(&srv->lock);
	/*
	 * A handshake may still hold pointers into the old pair, so it is
	 * retired, not freed; a reload costs a few KiB until exit.
	 */
	srv->creds->retired_next = srv->retired;
	srv->retired = srv->creds;
	srv->creds = creds;
	old = srv->policy;
	srv->policy = pol;
	{
		/* Sized into MHD's connection pools at start: keep the old value. */
		int mhb = srv->limits.max_header_bytes;
		http_limits_from_conf(&srv->limits, &nc);
		srv->limits.max_header_bytes = mhb;
	}
	pthread_rwlock_unlock(&srv->lock);
	policy_free(old);
	log_event(LOG_LVL_INFO, "policy.loaded", "file=%s rules=%zu", nc.policy_file,
		  policy_nrules(pol));
	log_set_level(nc.log_level);
	/* New scanner settings and signatures: the pool swaps its workers. */
	if (srv->scanner != NULL)
		scanner_reload(srv->scanner, &nc);
	conf_free(&nc);
	log_event(LOG_LVL_INFO, "reload.ok", "config=%s", srv->conf.path);
	return 0;
}
