/*
 * audit_purge.h - the audit log's retention (okuru-policy(5)
 * retention.audit_days), run by okurud's purger thread and by
 * "okuructl audit purge". The SQL and the transaction are in
 * db_audit_purge.c; this decides the limits and logs the outcome.
 */
#ifndef OKURU_AUDIT_PURGE_H
#define OKURU_AUDIT_PURGE_H

#include <stdint.h>

struct audit_actor;
struct audit_signer;
struct conf;
struct db;
struct db_audit_purge;

/*
 * audit_purge_keep_from - the first seq a purge must keep because the
 * syslog forwarder has not sent it yet (0: forwarding is off, no limit)
 */
int audit_purge_keep_from(struct db *db, const struct conf *c, int64_t *keep_from);

/*
 * audit_purge_now - purge the records older than AUDIT_DAYS at NOW (dry:
 * only plan); P says what went or would go. 1 purged (or would purge),
 * 0 nothing due, -1 error (logged).
 */
int audit_purge_now(struct db *db, const struct audit_signer *s, const struct conf *c,
		    const struct audit_actor *who, int audit_days, int64_t now, int dry,
		    struct db_audit_purge *p);

struct server;
/* audit_retention_run - okurud's purger: the policy's audit_days, as system (audit_retention.c) */
int audit_retention_run(struct server *srv, int64_t now);

#endif
