/*
 * http.h - the HTTPS front of okurud: libmicrohttpd with GnuTLS, one thread
 * per connection (uploads fsync and SQLite commits block; they must not
 * stall other clients), a watchdog for deadlines MHD does not enforce, and
 * the response helpers every handler uses.
 */
#ifndef OKURU_HTTP_H
#define OKURU_HTTP_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "audit.h"
#include "conf.h"
#include "fname.h"
#include "policy.h"
#include "db.h"
#include "util.h"
#include <jansson.h>

struct keyring;
struct scanner;
struct tls_creds;
struct conn_track;
struct upload;
struct tus_patch;
struct mailer;
struct purger;
struct audit_signer;
struct audit_syslog;

/* The limits a request reads; replaced whole on SIGHUP. */
struct limits {
	int64_t max_file_size;
	int max_files_per_transfer;
	int header_timeout;
	int64_t min_body_rate;
	int rate_window;
	int max_json_bytes;
	int max_header_bytes;
	int drain_timeout;
};

struct server {
	struct conf conf; /* as loaded at start; reloadable parts copied below */
	struct db *db;
	struct db *db_read; /* read-only: long audit queries, off the writer's lock */
	struct keyring *keys;
	struct scanner *scanner;
	struct mailer *mailer; /* NULL when smtp.url is empty: nothing can be sent */
	struct purger *purger; /* retention (purger.c) */
	const struct audit_signer *audit_signer; /* signs the anchor of an audit purge */
	struct audit_syslog *audit_syslog;	 /* NULL when audit.syslog is empty */
	struct ratelimit *login_rate;		 /* logins per client address (session.c) */
	void *client_trust; /* gnutls_x509_trust_list_t of auth.client_ca, or NULL */
	char *client_ca_pem; /* its PEM, kept while MHD runs (it asks clients for a certificate) */
	struct MHD_Daemon *mhd;

	pthread_rwlock_t lock; /* guards limits, creds, policy */
	struct policy *policy; /* okuru-policy(5), swapped on SIGHUP */
	struct limits limits;
	struct tls_creds *creds;
	struct tls_creds *retired;

	pthread_mutex_t track_lock; /* guards the tracked connection list */
	struct conn_track *tracked;
	int draining;
	int stopping;
	pthread_t watchdog;

	/* Views for the web UI (api_views.c, api_admin.c, api_audit_views.c) */
	int64_t started; /* when okurud started (Unix seconds) */
};

/* Per-request state, MHD's *con_cls. */
struct req {
	struct conn_track *ct;
	int routed;
	int user_ok;
	struct db_user user;
	/* The audit actor: the client's address and User-Agent from the start,
	 * the user (or recipient) once authenticated. */
	char ip[64];
	char ua[256];
	char actor[DB_EMAILMAX + 1];
	struct audit_actor who;
	/* A browser session, when the request came with its cookie (session.c). */
	struct {
		int active;
		char id[17];
		char stage[8];
		char method[16];
		char cookie[80]; /* the cookie's value, for the CSRF check; wiped */
		int64_t created;
	} sess;
	char *body; /* JSON request bodies, bounded */
	size_t bodylen;
	int body_too_big;
	struct upload *up;
	struct tus_patch *tus; /* a tus PATCH in progress (api_tus.c) */
	/* A file download in progress: what was asked and what went out. */
	struct {
		int active;
		char link_id[UTIL_IDLEN + 1]; /* a recipient's link, or "" for staff */
		char transfer_id[UTIL_IDLEN + 1];
		char file_id[UTIL_IDLEN + 1];
		uint64_t start, len, size, bytes;
		int64_t started;
		int limit; /* a recipient's download limit for this file */
		char ip[64];
		char ua[256];
	} dl;
};

int http_start(struct server *srv, char *err, size_t errlen);
void http_drain_and_stop(struct server *srv);
int http_reload(struct server *srv, const char *confpath);
/* The policy in force, read under srv->lock (a reload swaps it whole). */
void http_policy_eval(struct server *srv, const struct policy_request *rq,
		      struct policy_decision *d, char *file, size_t filelen);
void http_policy_defaults(struct server *srv, struct policy_decision *d,
			  struct policy_retention *r);
void http_limits(struct server *srv, struct limits *out);

/* Response helpers: each adds the security headers and queues. */
enum MHD_Result http_send(struct MHD_Connection *c, unsigned status, struct MHD_Response *r);
enum MHD_Result http_error(struct MHD_Connection *c, unsigned status, const char *msg);
struct MHD_Response *http_json_response(json_t *o);
/* Error codes (staff app i18n): {"error": msg, "code": code}; codes in okurud(8) */
enum MHD_Result http_error_code(struct MHD_Connection *c, unsigned status, const char *code,
				const char *msg);
void http_body_progress(struct req *rq, size_t n);
void http_body_done(struct req *rq);
const char *http_client_ip(struct MHD_Connection *c, char *buf, size_t len);
/* http_actor_set - the request's audit actor: "user" NAME or "recipient" ADDRESS */
void http_actor_set(struct req *rq, const char *kind, const char *name);

/* api.c */
enum MHD_Result api_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
			   const char *url, const char *method, const char *data,
			   size_t *data_size);
void api_request_done(struct server *srv, struct req *rq, int completed);
enum MHD_Result api_json(struct MHD_Connection *c, unsigned status, json_t *o);
int api_transfer_load(struct server *srv, struct req *rq, const char *id, struct db_transfer *t);
json_t *api_transfer_json(struct server *srv, const char *id);
enum MHD_Result api_transfer_show(struct server *srv, struct MHD_Connection *c, struct req *rq,
				  const char *id);
enum MHD_Result api_transfer_respond(struct server *srv, struct MHD_Connection *c,
				     struct req *rq, const char *id, unsigned status);
/* api_request.c: POST /api/v1/requests */
enum MHD_Result api_request_create(struct server *srv, struct MHD_Connection *c, struct req *rq);
int api_body_collect(struct server *srv, struct req *rq, const char *data, size_t *size);
enum MHD_Result api_file_send(struct server *srv, struct MHD_Connection *c, struct req *rq,
			      const struct db_file *f, const char *who, int allow_unscannable,
			      int allow_encrypted);
enum MHD_Result api_upload_open(struct server *srv, struct MHD_Connection *c, struct req *rq,
				const char *tid, const char *rawname, int64_t max_size, int max_files,
				const char *uploader, int64_t max_bytes);
/* The checks staff uploads share (PUT and tus): the transfer, then the file. */
unsigned api_upload_draft(struct server *srv, struct req *rq, const char *tid, const char **msg);
unsigned api_upload_admit(struct server *srv, struct req *rq, const char *tid, const char *rawname,
			  int64_t size, int64_t max_size, int max_files,
			  char name[FNAME_MAXBYTES + 1], const char **msg, char *buf,
			  size_t buflen);
enum MHD_Result api_upload_refuse(struct MHD_Connection *c, struct req *rq, unsigned status,
				  const char *msg);
enum MHD_Result api_upload_step(struct server *srv, struct MHD_Connection *c, struct req *rq,
				const char *data, size_t *data_size);
enum MHD_Result api_body_begin(struct server *srv, struct MHD_Connection *c, struct req *rq,
			       int allow_form);
int api_body_ready(struct server *srv, struct MHD_Connection *c, struct req *rq, int first,
		   const char *data, size_t *data_size, enum MHD_Result *ret);
enum MHD_Result api_method_not_allowed(struct MHD_Connection *c, const char *allow);

/* api_auth - who asks: an API token, or a browser session (CSRF token on a change) */
int api_auth(struct server *srv, struct MHD_Connection *c, struct req *rq, int is_change,
	     int allow_enroll, enum MHD_Result *ret);

/* api_session.c: /api/v1/session (staff login in a browser) */
int api_session_route(const char *url);
enum MHD_Result api_session_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
				   const char *url, const char *method, const char *data,
				   size_t *data_size, int first);

/* api_hold.c: legal hold (admins and auditors); a transfer's hold and retention as JSON */
int api_hold_route(const char *url);
enum MHD_Result api_hold_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
				const char *url, const char *method, const char *data,
				size_t *data_size, int first);
int api_hold_json(struct server *srv, const char *tid, json_t *o);

/* Views for the web UI: GET /api/v1/transfers (api_views.c), GET /api/v1/admin/status
 * (api_admin.c), GET /api/v1/audit/export and /api/v1/audit/verify (api_audit_views.c) */
enum MHD_Result api_views_transfers(struct server *srv, struct MHD_Connection *c, struct req *rq);
int api_admin_route(const char *url);
enum MHD_Result api_admin_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
				 const char *method);
/* api_preview.c: a send's dry run answered with the decision (takes PJ's reference) */
json_t *api_preview_json(const struct policy_decision *d, enum policy_outcome o, const char *why,
			 json_t *pj, int expires_days, int64_t now);
struct db_audit_filter;
int api_audit_filter_parse(struct MHD_Connection *c, const char *skip, struct db_audit_filter *f,
			   char *why, size_t whylen);
int api_audit_views_route(const char *url);
enum MHD_Result api_audit_views_handle(struct server *srv, struct MHD_Connection *c,
				       struct req *rq, const char *url, const char *method);

/* api_audit.c: GET /api/v1/audit (auditors only) */
int api_audit_route(const char *url);
enum MHD_Result api_audit_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
				 const char *method);

/* api_users.c: staff accounts, /api/v1/admin/users[/NAME] (admins only) */
int api_users_route(const char *url);
enum MHD_Result api_users_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
				 const char *url, const char *method, const char *data,
				 size_t *data_size, int first);

/* api_approval.c: 上長承認 */
enum MHD_Result api_approvals_list(struct server *srv, struct MHD_Connection *c, struct req *rq);
enum MHD_Result api_approval_decide(struct server *srv, struct MHD_Connection *c, struct req *rq,
				    const char *tid);

/* api_send.c: sending, revoking, extending; a transfer's recipients as JSON */
enum MHD_Result api_send(struct server *srv, struct MHD_Connection *c, struct req *rq,
			 const char *tid);
enum MHD_Result api_revoke(struct server *srv, struct MHD_Connection *c, struct req *rq,
			   const char *tid, const char *link_id);
enum MHD_Result api_extend(struct server *srv, struct MHD_Connection *c, struct req *rq,
			   const char *tid);
int api_send_json(struct server *srv, const char *tid, json_t *o);

/* www.c: the static files of the pages (www_dir): /static/NAME, and the staff app at / */
enum MHD_Result www_static(struct server *srv, struct MHD_Connection *c, const char *name);
enum MHD_Result www_app(struct server *srv, struct MHD_Connection *c);

/* recipient.c: /d/TOKEN (recipients), /u/TOKEN (counterparties), /static/ */
int recipient_route(const char *url);
enum MHD_Result recipient_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
				 const char *url, const char *method, const char *data,
				 size_t *data_size, int first);
void recipient_request_done(struct server *srv, struct req *rq, int completed);
int recipient_download_reserve(struct server *srv, struct req *rq, uint64_t len, int64_t size);

#endif
