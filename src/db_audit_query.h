/*
 * db_audit_query.h - reading the audit log with filters, for
 * GET /api/v1/audit (api_audit.c) and "okuructl audit export"
 * (ctl_audit_export.c). One constant statement; every filter is a bound
 * parameter that is NULL when unset.
 */
#ifndef OKURU_DB_AUDIT_QUERY_H
#define OKURU_DB_AUDIT_QUERY_H

#include <stdint.h>

#include "db.h"

#define DB_AUDIT_EVENTMAX 128 /* bytes of an event filter */

/* What to read. Zero-initialise, then set what is wanted. */
struct db_audit_filter {
	int has_from, has_to;
	int64_t from, to;      /* Unix seconds: from <= at < to */
	const char *actor;     /* actor, exactly */
	const char *recipient; /* recipient actor, or detail "recipient" */
	const char *transfer;  /* transfer object, or detail "transfer" */
	const char *event;     /* exact name, or "noun.*" for a prefix */
	const char *outcome;
	int64_t after; /* only records with seq > after (0: from the start) */
	int64_t limit; /* at most this many (0: no limit) */
};

/*
 * db_audit_filter_event_ok - 1 when S is an event filter: a name of
 * lowercase letters, digits, '_', '-' and '.' with a dot inside
 * ("mail.queued"), or a prefix ending in ".*" ("mail.*").
 */
int db_audit_filter_event_ok(const char *s);

/*
 * db_audit_query - the records F selects, in seq order, one callback each
 * (the row's text is valid during the callback only); a non-zero callback
 * return stops the walk and is returned. Rows are stepped one at a time,
 * so an export of the whole log runs in constant memory.
 */
int db_audit_query(struct db *db, const struct db_audit_filter *f,
		   int (*cb)(const struct db_audit_row *r, void *arg), void *arg);

#endif
