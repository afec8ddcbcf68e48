/*
 * db_audit_query.c - the audit log read with filters: one constant
 * statement, each filter a bound parameter that is NULL when unset
 * ("(?N IS NULL OR ...)"), paged by seq (a cursor, so a page does not move
 * while the log grows). Shared by GET /api/v1/audit and okuructl audit
 * export; the callers validate what users typed, this file only binds.
 */
#include "config.h"

#include <string.h>

#include "db_audit_query.h"
#include "db_int.h"

/*
 * The time range is half-open, from <= at < to, so consecutive ranges
 * (one export per day) neither overlap nor leave a gap. An event prefix
 * "mail.*" is the range "mail." <= event < "mail/" ('/' follows '.').
 * db_audit_record_locked copies a transfer object's id into detail
 * "transfer" and a recipient actor into detail "recipient", so those two
 * filters are one column each (transfer_ref, recipient_ref: copies of
 * those two keys made at append), served by the indexes of schema 8.
 *
 * Every statement has every filter as "(?N IS NULL OR ...)"; they differ
 * only in the condition that leads, which is what lets SQLite walk one index
 * in seq order (index columns (key, seq)) and stop at the page's LIMIT
 * instead of reading the whole log. Which one runs depends on which filters
 * are set (db_audit_driver), never on their values; all are constant text.
 * The time driver turns the range into a seq range: "at" never decreases
 * along the chain (db_audit_append_locked), so the records of a time range
 * are a run of consecutive seqs.
 */
#define DB_AUDIT_Q_COLS                                                                        \
	"SELECT seq, at, actor_kind, actor, ip, user_agent, event, object_kind, object_id, "   \
	"outcome, detail, prev, hash FROM audit "
#define DB_AUDIT_Q_FILTERS                                                                     \
	"AND seq > ?10 "                                                                       \
	"AND (?1 IS NULL OR at >= ?1) "                                                        \
	"AND (?2 IS NULL OR at < ?2) "                                                         \
	"AND (?3 IS NULL OR actor = ?3) "                                                      \
	"AND (?4 IS NULL OR recipient_ref = ?4) "                                              \
	"AND (?5 IS NULL OR transfer_ref = ?5) "                                               \
	"AND (?6 IS NULL OR event = ?6) "                                                      \
	"AND (?7 IS NULL OR (event >= ?7 AND event < ?8)) "                                    \
	"AND (?9 IS NULL OR outcome = ?9) "                                                    \
	"ORDER BY seq LIMIT ?11"

enum db_audit_driver {
	DB_AUDIT_BY_TRANSFER,
	DB_AUDIT_BY_RECIPIENT,
	DB_AUDIT_BY_EVENT,
	DB_AUDIT_BY_ACTOR,
	DB_AUDIT_BY_TIME,
	DB_AUDIT_BY_SEQ,
};

static const char *const db_audit_query_sql[] = {
	[DB_AUDIT_BY_TRANSFER] = DB_AUDIT_Q_COLS "INDEXED BY audit_by_transfer "
						 "WHERE transfer_ref = ?5 "
						 DB_AUDIT_Q_FILTERS,
	[DB_AUDIT_BY_RECIPIENT] = DB_AUDIT_Q_COLS "INDEXED BY audit_by_recipient "
						  "WHERE recipient_ref = ?4 "
						  DB_AUDIT_Q_FILTERS,
	[DB_AUDIT_BY_EVENT] = DB_AUDIT_Q_COLS "INDEXED BY audit_by_event "
					      "WHERE event = ?6 " DB_AUDIT_Q_FILTERS,
	[DB_AUDIT_BY_ACTOR] = DB_AUDIT_Q_COLS "INDEXED BY audit_by_actor "
					      "WHERE actor = ?3 " DB_AUDIT_Q_FILTERS,
	[DB_AUDIT_BY_TIME] =
		DB_AUDIT_Q_COLS "WHERE seq >= coalesce((SELECT seq FROM audit INDEXED BY audit_by_at "
				"WHERE at >= coalesce(?1, 0) ORDER BY at, seq LIMIT 1), 0) "
				"AND seq < coalesce((SELECT seq FROM audit INDEXED BY audit_by_at "
				"WHERE at >= ?2 ORDER BY at, seq LIMIT 1), 9223372036854775807) "
				DB_AUDIT_Q_FILTERS,
	[DB_AUDIT_BY_SEQ] = DB_AUDIT_Q_COLS "WHERE 1 " DB_AUDIT_Q_FILTERS,
};

/* db_audit_driver - the most selective filter that is set leads */
static enum db_audit_driver
db_audit_driver(const struct db_audit_filter *f, int exact)
{
	if (f->transfer != NULL)
		return DB_AUDIT_BY_TRANSFER;
	if (f->recipient != NULL)
		return DB_AUDIT_BY_RECIPIENT;
	if (f->actor != NULL)
		return DB_AUDIT_BY_ACTOR;
	if (exact)
		return DB_AUDIT_BY_EVENT;
	if (f->has_from || f->has_to)
		return DB_AUDIT_BY_TIME;
	/*
	 * An event prefix ("mail.*") spans several events whose seqs
	 * interleave: walking the event index would mean sorting every match
	 * for one page. Walking seq order stops at the page's end instead.
	 */
	return DB_AUDIT_BY_SEQ;
}

int
db_audit_filter_event_ok(const char *s)
{
	size_t n = strlen(s);
	int prefix = n >= 2 && strcmp(s + n - 2, ".*") == 0;

	if (n == 0 || n > DB_AUDIT_EVENTMAX)
		return 0;
	if (prefix)
		n -= 1; /* check "mail." */
	/* A name has a dot inside: "mail" alone is refused, not taken as "no such event". */
	if (s[0] == '.' || (!prefix && (s[n - 1] == '.' || memchr(s, '.', n) == NULL)))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

static void
db_audit_bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int
db_audit_query(struct db *db, const struct db_audit_filter *f,
	       int (*cb)(const struct db_audit_row *r, void *arg), void *arg)
{
	char lo[DB_AUDIT_EVENTMAX + 1], hi[DB_AUDIT_EVENTMAX + 1];
	const char *exact = NULL;
	sqlite3_stmt *st;
	int rc, prefix = 0;

	if (f->event != NULL) {
		size_t n = strlen(f->event);
		if (!db_audit_filter_event_ok(f->event))
			return DB_ERROR;
		if (n >= 2 && strcmp(f->event + n - 2, ".*") == 0) {
			memcpy(lo, f->event, n - 1); /* "mail." */
			lo[n - 1] = '\0';
			memcpy(hi, lo, n);
			hi[n - 2] = '/'; /* "mail/": the first string after every "mail.x" */
			prefix = 1;
		} else {
			exact = f->event;
		}
	}
	db_lock(db);
	st = db_prepare(db, db_audit_query_sql[db_audit_driver(f, exact != NULL)]);
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	if (f->has_from)
		sqlite3_bind_int64(st, 1, f->from);
	if (f->has_to)
		sqlite3_bind_int64(st, 2, f->to);
	db_audit_bind_opt(st, 3, f->actor);
	db_audit_bind_opt(st, 4, f->recipient);
	db_audit_bind_opt(st, 5, f->transfer);
	db_audit_bind_opt(st, 6, exact);
	db_audit_bind_opt(st, 7, prefix ? lo : NULL);
	db_audit_bind_opt(st, 8, prefix ? hi : NULL);
	db_audit_bind_opt(st, 9, f->outcome);
	sqlite3_bind_int64(st, 10, f->after > 0 ? f->after : 0);
	sqlite3_bind_int64(st, 11, f->limit > 0 ? f->limit : -1); /* -1: no limit */
	rc = db_audit_rows_locked(st, cb, arg);
	db_unlock(db);
	return rc;
}
