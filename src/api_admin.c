/*
 * api_admin.c - GET /api/v1/admin/status, for admins only: what an
 * administrator checks first, in one answer.
 *   scanner  workers, queue, engine and signature database as the scanner
 *            reports them; what it does not report (the database's
 *            release date) is "unavailable", never guessed
 *   okurud   version, start time
 *   policy   the file in force, its loaded structure, when it was loaded,
 *            and the file on disk checked again as "okuructl policy check"
 *            does, with whether it still matches what is loaded
 *   mail     configured or not, the outbox counted by state
 * Reading only: nothing is recorded.
 */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "db_views.h"
#include "http.h"
#include "jsonutil.h"
#include "mailer.h"
#include "policy_dump.h"
#include "scanner.h"
#include "util.h"

#define API_ADMIN_STATUS "/api/v1/admin/status"

int
api_admin_route(const char *url)
{
	return strcmp(url, API_ADMIN_STATUS) == 0;
}

/* api_admin_scanner - the scanner pool as scanner_info has it, and the queue */
static json_t *
api_admin_scanner(struct server *srv, int queued)
{
	struct scanner_info si;
	json_t *o;

	scanner_info(srv->scanner, &si);
	o = json_pack("{s:s, s:i, s:i, s:i, s:o, s:s, s:I, s:s, s:s, s:o, s:s, s:s}", "status",
		      si.ok ? "ok" : "unavailable", "workers_up", si.workers_ready, "busy",
		      si.workers_busy, "target", si.workers_target, "queue",
		      queued >= 0 ? json_integer(queued) : json_string("unavailable"), "engine",
		      si.ok && si.engine[0] ? si.engine : "unavailable", "signatures",
		      (json_int_t)(si.ok ? si.signatures : 0), "database_version",
		      si.ok && si.db_version[0] ? si.db_version : "unavailable", "database",
		      !si.ok	    ? "unavailable"
		      : si.official ? "official"
				    : "test",
		      "loaded", si.ok ? jsonutil_time(si.loaded_at) : json_string("unavailable"),
		      /* The worker reports versions, not the databases' release dates. */
		      "database_date", "unavailable", "sandbox",
		      !si.ok	    ? "unavailable"
		      : si.landlock ? "seccomp+landlock"
				    : "seccomp");
	if (o != NULL && si.last_error[0] != '\0')
		json_object_set_new(o, "last_error", jsonutil_text(si.last_error));
	return o;
}

/*
 * api_admin_policy - the policy in force (read under srv->lock, which a
 * reload swaps it under) and its file on disk loaded again, outside the lock
 */
static json_t *
api_admin_policy(struct server *srv)
{
	char path[4096], err[1024], summary[4400];
	struct policy *disk;
	json_t *loaded, *ondisk, *o;
	int64_t at;

	pthread_rwlock_rdlock(&srv->lock);
	snprintf(path, sizeof(path), "%s", policy_path(srv->policy));
	at = policy_loaded_at(srv->policy);
	loaded = policy_dump_json(srv->policy);
	policy_summary(srv->policy, path, summary, sizeof(summary));
	pthread_rwlock_unlock(&srv->lock);
	if (loaded == NULL)
		return NULL;
	/* The same check as "okuructl policy check FILE" (ctl_policy.c). */
	if (policy_load(path, &disk, err, sizeof(err)) != 0) {
		ondisk = json_pack("{s:b, s:o, s:b}", "valid", 0, "error", jsonutil_text(err),
				   "matches_loaded", 0);
	} else {
		json_t *dj = policy_dump_json(disk);
		char dsum[4400];
		policy_summary(disk, path, dsum, sizeof(dsum));
		ondisk = dj == NULL ? NULL
				    : json_pack("{s:b, s:o, s:b}", "valid", 1, "summary",
						jsonutil_text(dsum), "matches_loaded",
						json_equal(dj, loaded));
		json_decref(dj);
		policy_free(disk);
	}
	o = json_pack("{s:o, s:o, s:o, s:o, s:o*}", "file", jsonutil_text(path), "loaded",
		      jsonutil_time(at), "summary", jsonutil_text(summary), "content", loaded,
		      "on_disk", ondisk);
	return o;
}

/* api_admin_mail - configured or not, and the outbox by state */
static json_t *
api_admin_mail(struct server *srv)
{
	struct db_view_outbox ob;
	struct mailer_info mi;
	json_t *box;

	mailer_info(srv->mailer, &mi);
	if (db_views_outbox(srv->db_read, &ob) == DB_OK)
		box = json_pack("{s:I, s:I, s:I, s:I}", "queued", (json_int_t)ob.queued, "held",
				(json_int_t)ob.held, "sent", (json_int_t)ob.sent, "failed",
				(json_int_t)ob.failed);
	else
		box = json_string("unavailable");
	return json_pack("{s:b, s:s, s:o, s:o*, s:o}", "configured", srv->mailer != NULL, "status",
			 srv->mailer == NULL ? "off"
			 : mi.last_error[0]  ? "failing"
					     : "ok",
			 "last_sent", jsonutil_time(mi.last_sent), "last_error",
			 mi.last_error[0] ? jsonutil_text(mi.last_error) : NULL, "outbox", box);
}

enum MHD_Result
api_admin_handle(struct server *srv, struct MHD_Connection *c, struct req *rq, const char *method)
{
	json_t *scanner, *policy, *mail, *okurud;
	int queued = -1;

	http_body_done(rq);
	if (strcmp(rq->user.role, "admin") != 0)
		return http_error(c, 403, "only admins may read the server status");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return api_method_not_allowed(c, "GET, HEAD");
	if (db_file_queued(srv->db_read, &queued) != DB_OK)
		queued = -1;
	scanner = api_admin_scanner(srv, queued);
	policy = api_admin_policy(srv);
	mail = api_admin_mail(srv);
	okurud = json_pack("{s:s, s:o}", "version", PACKAGE_VERSION, "started",
			   jsonutil_time(srv->started));
	if (scanner == NULL || policy == NULL || mail == NULL || okurud == NULL) {
		json_decref(scanner);
		json_decref(policy);
		json_decref(mail);
		json_decref(okurud);
		return http_error(c, 500, "internal error");
	}
	return api_json(c, 200,
			json_pack("{s:o, s:o, s:o, s:o}", "okurud", okurud, "scanner", scanner,
				  "policy", policy, "mail", mail));
}
