/*
 * db_views.h - read-only views for the staff web UI: a user's transfers a
 * page at a time with their files and recipients (GET /api/v1/transfers),
 * and the outbox counted by state (GET /api/v1/admin/status). Every
 * statement is constant text; they run on the read-only connection.
 */
#ifndef OKURU_DB_VIEWS_H
#define OKURU_DB_VIEWS_H

#include <stdint.h>

#include "db.h"

#define DB_VIEWS_PAGEMAX 200

/* One transfer of a page. Text is valid during the callback only. */
struct db_view_transfer {
	const char *id;
	const char *subject;
	const char *state; /* as GET /api/v1/transfers/ID shows it: "held", "expired" included */
	const char *origin;
	int64_t created, sent_at, expires_at, release_at, revoked_at;
};

struct db_view_file {
	const char *transfer_id, *id, *name, *state, *verdict, *reason, *type;
	int64_t size, scanned_at;
};

struct db_view_recipient {
	const char *transfer_id, *id, *address;
	const char *mail; /* the latest link mail's state, or NULL when none */
	int64_t expires_at, revoked_at, verified_at;
	int64_t downloads;	 /* whole downloads, all files together */
	int64_t files_completed; /* files downloaded whole at least once */
	int64_t completed_at;	 /* when the last of those first completed */
};

/* A request's upload link (reverse upload): who was asked, and how far they got. */
struct db_view_request {
	const char *transfer_id, *id, *address;
	int64_t expires_at, revoked_at, verified_at, completed_at;
};

struct db_view_cbs {
	int (*transfer)(const struct db_view_transfer *t, void *arg);
	int (*file)(const struct db_view_file *f, void *arg);
	int (*recipient)(const struct db_view_recipient *r, void *arg);
	void *arg;
	/* requests in the app: each upload link of the page; NULL skips the statement */
	int (*request)(const struct db_view_request *q, void *arg);
};

/* Where a page starts: after (created, id) in newest-first order; id "" for the first page. */
struct db_view_cursor {
	int64_t created;
	char id[UTIL_IDLEN + 1];
};

/*
 * db_views_state_ok - 1 when S is a state the list can filter on: draft,
 * pending, held, sent, expired, revoked, recalled, rejected, lapsed
 */
int db_views_state_ok(const char *s);

/*
 * db_views_transfers - OWNER's transfers newest first, after CUR, at most
 * LIMIT (1..DB_VIEWS_PAGEMAX), only those in STATE when not NULL, as seen
 * at NOW: each transfer, then every file of the page's transfers, then
 * every recipient, then (when cb->request is set) every request's upload
 * link, in three or four statements inside one read transaction (one
 * snapshot). *MORE is set when another page follows, and *NEXT to the
 * cursor after the last transfer given. A non-zero callback return stops
 * and is returned.
 */
int db_views_transfers(struct db *db, int64_t owner, const char *state, int64_t now,
		       const struct db_view_cursor *cur, int limit, const struct db_view_cbs *cb,
		       int *more, struct db_view_cursor *next);

/* db_views_outbox - messages in the outbox by state; "held" are queued ones held back */
struct db_view_outbox {
	int64_t queued, held, sent, failed;
};
int db_views_outbox(struct db *db, struct db_view_outbox *o);

#endif
