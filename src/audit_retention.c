/*
 * audit_retention.c - okurud's side of the audit purge: the purger thread
 * (purger.c) calls audit_retention_run once per run with the policy in
 * force; the work is audit_purge_now (audit_purge.c), as system/okurud.
 */
#include "config.h"

#include "audit.h"
#include "audit_purge.h"
#include "db.h"
#include "http.h"
#include "policy.h"

int
audit_retention_run(struct server *srv, int64_t now)
{
	struct policy_retention r;
	struct db_audit_purge p;

	http_policy_defaults(srv, NULL, &r);
	return audit_purge_now(srv->db, srv->audit_signer, &srv->conf, &audit_system, r.audit_days,
			       now, 0, &p);
}
