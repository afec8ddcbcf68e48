/*
 * audit_purge.c - see audit_purge.h. Records older than audit_days may
 * go, never younger ones, never the newest, never one the syslog
 * forwarder has not sent; what stays is anchored by a signed checkpoint
 * at the last removed record and an audit.purged record (db_audit_purge.c),
 * which is what okuructl audit verify asks of a log not starting at 1.
 */
#include "config.h"

#include <string.h>

#include "audit.h"
#include "audit_purge.h"
#include "conf.h"
#include "db.h"
#include "log.h"

int
audit_purge_keep_from(struct db *db, const struct conf *c, int64_t *keep_from)
{
	int64_t last;

	*keep_from = 0;
	if (c->audit_syslog[0] == '\0')
		return 0;
	if (db_audit_forward_get(db, &last, NULL) != DB_OK)
		return -1;
	*keep_from = last + 1;
	return 0;
}

int
audit_purge_now(struct db *db, const struct audit_signer *s, const struct conf *c,
		const struct audit_actor *who, int audit_days, int64_t now, int dry,
		struct db_audit_purge *p)
{
	int64_t keep_from;
	int r;

	memset(p, 0, sizeof(*p));
	if (audit_purge_keep_from(db, c, &keep_from) != 0) {
		log_event(LOG_LVL_ERR, "audit.purge_failed", "step=forward_state");
		return -1;
	}
	if (dry) {
		if (db_audit_purge_plan(db, now - (int64_t)audit_days * 86400, keep_from, p) !=
		    DB_OK)
			return -1;
		return p->through_seq > 0;
	}
	r = db_audit_purge(db, s, who, audit_days, now, keep_from, p);
	if (r == DB_NOTFOUND)
		return 0;
	if (r != DB_OK) {
		log_event(LOG_LVL_ERR, "audit.purge_failed", "retry=next_run");
		return -1;
	}
	log_event(LOG_LVL_INFO, "audit.purged",
		  "first_seq=%lld through_seq=%lld records=%lld "
		  "audit_days=%d",
		  (long long)p->first_seq, (long long)p->through_seq, (long long)p->records,
		  audit_days);
	return 1;
}
