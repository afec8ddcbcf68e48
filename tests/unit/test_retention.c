/*
 * test_retention.c - unit tests for retention: a transfer's end and due
 * times in every state (retention.c), the reason check, the time parser
 * okuructl purge --at uses, and the database side (db_retention.c) on a
 * real SQLite file: what is due (okuru_due() in SQL agrees with the C),
 * a legal hold stops both purges, one active hold at a time, the content
 * purge erases keys, cancels queued mail and records itself, the records
 * wait for the blobs and then go from every table while the purges rows
 * stay.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "retention.h"
#include "tmpdir.h"
#include "util.h"

#define DAY ((int64_t)86400)
#define T0 ((int64_t)1796119200) /* 2026-12-01T10:00:00Z */

static const struct retention_policy pol = {
    .content_days = 30, .max_expiry_days = 14, .metadata_days = 365};

static struct retention_due
due_of(const char *state, int64_t expires, int64_t revoked, int64_t ended, int days)
{
	struct retention_input in = {.state = state,
				     .created = T0 - 10 * DAY,
				     .expires_at = expires,
				     .revoked_at = revoked,
				     .ended_at = ended,
				     .retention_days = days};
	struct retention_due d;

	retention_compute(&in, &pol, &d);
	return d;
}

static void
test_end(void **state)
{
	struct retention_due d;

	(void)state;
	d = due_of("sent", T0, 0, 0, -1);
	assert_int_equal(d.end, T0);
	assert_string_equal(d.why, "expired");
	assert_true(d.from_policy);
	assert_int_equal(d.content_due, T0 + 30 * DAY);
	assert_int_equal(d.metadata_due, T0 + 365 * DAY);

	d = due_of("sent", T0, T0 - DAY, 0, 5); /* revoked before expiry */
	assert_int_equal(d.end, T0 - DAY);
	assert_string_equal(d.why, "revoked");
	assert_false(d.from_policy);
	assert_int_equal(d.content_due, T0 - DAY + 5 * DAY);

	d = due_of("sent", T0, T0 + DAY, 0, 0); /* revoked after expiry: expiry counts */
	assert_int_equal(d.end, T0);
	assert_int_equal(d.content_due, T0);

	d = due_of("revoked", T0 + 9 * DAY, T0, 0, -1);
	assert_int_equal(d.end, T0);
	assert_string_equal(d.why, "revoked");
	d = due_of("revoked", T0 + 9 * DAY, T0, T0 + DAY, -1);
	assert_int_equal(d.end, T0 + DAY);
	for (const char *const *s = (const char *const[]){"recalled", "rejected", "lapsed", NULL};
	     *s; s++) {
		d = due_of(*s, 0, 0, T0, 1);
		assert_int_equal(d.end, T0);
		assert_string_equal(d.why, *s);
		assert_int_equal(d.content_due, T0 + DAY);
		/* No end recorded at all: nothing is due (kept rather than lost). */
		d = due_of(*s, 0, 0, 0, 1);
		assert_int_equal(d.end, 0);
		assert_int_equal(d.content_due, 0);
	}

	d = due_of("draft", 0, 0, 0, -1);
	assert_int_equal(d.end, T0 - 10 * DAY + 14 * DAY);
	assert_string_equal(d.why, "draft abandoned");
	/* A request's draft ends no earlier than its upload link. */
	d = due_of("draft", T0 + 20 * DAY, 0, 0, -1);
	assert_int_equal(d.end, T0 + 20 * DAY);
	d = due_of("draft", T0 - 9 * DAY, 0, 0, -1);
	assert_int_equal(d.end, T0 - 10 * DAY + 14 * DAY);

	for (const char *const *s = (const char *const[]){"pending", "weird", NULL}; *s; s++) {
		d = due_of(*s, T0, T0, T0, 1);
		assert_int_equal(d.end, 0);
		assert_int_equal(d.metadata_due, 0);
	}
	d = due_of("sent", 0, 0, 0, 1); /* sent without an expiry: never */
	assert_int_equal(d.end, 0);
}

static void
test_describe(void **state)
{
	struct retention_due d = due_of("sent", T0, 0, 0, -1);
	char s[200];

	(void)state;
	retention_describe(&d, 0, s, sizeof(s));
	assert_string_equal(s, "expired 2026-12-01T10:00:00Z + retention 30 days (policy default)");
	retention_describe(&d, 1, s, sizeof(s));
	assert_string_equal(s, "expired 2026-12-01T10:00:00Z + metadata retention 365 days");
	d = due_of("sent", T0, 0, 0, 7);
	retention_describe(&d, 0, s, sizeof(s));
	assert_string_equal(s, "expired 2026-12-01T10:00:00Z + retention 7 days");
}

static void
test_reason(void **state)
{
	char big[RETENTION_REASON_MAX + 2];

	(void)state;
	assert_true(retention_reason_ok("litigation 2026-17"));
	assert_true(retention_reason_ok("訴訟対応のため保全"));
	assert_false(retention_reason_ok(""));
	assert_false(retention_reason_ok("two\nlines"));
	assert_false(retention_reason_ok("tab\there"));
	assert_false(retention_reason_ok("bad \xff utf-8"));
	assert_false(retention_reason_ok("overlong \xc0\xaf"));
	memset(big, 'x', RETENTION_REASON_MAX);
	big[RETENTION_REASON_MAX] = '\0';
	assert_true(retention_reason_ok(big));
	big[RETENTION_REASON_MAX] = 'x';
	big[RETENTION_REASON_MAX + 1] = '\0';
	assert_false(retention_reason_ok(big));
}

static void
test_time_parse(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-12-01",
	    "2026-12-01T10:00:00",
	    "2026-12-01T10:00:00+00:00",
	    "2026-12-01 10:00:00Z",
	    "2026-13-01T10:00:00Z",
	    "2026-02-30T10:00:00Z",
	    "2026-12-01T24:00:00Z",
	    "2026-12-01T10:60:00Z",
	    "1969-12-31T23:59:59Z",
	    "2026-12-01T10:00:00Zx",
	    "+026-12-01T10:00:00Z",
	    "2026-12-00T10:00:00Z",
	};
	int64_t t;
	char back[32];

	(void)state;
	assert_int_equal(util_time_parse("2026-12-01T10:00:00Z", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(util_time_parse("2028-02-29T23:59:59Z", &t), 0);
	util_time_iso(t, back);
	assert_string_equal(back, "2028-02-29T23:59:59Z");
	assert_int_equal(util_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(util_time_parse(bad[i], &t), -1);
}

/* ---- the database ------------------------------------------------------------ */

struct dbfx {
	struct tmpdir_fixture *fx;
	char path[PATH_MAX];
	struct db *db;
	sqlite3 *raw; /* a second connection, for what the API cannot set */
	int64_t admin, sender;
};

static int
db_setup(void **state)
{
	static struct dbfx x;
	void *fx;

	memset(&x, 0, sizeof(x));
	if (tmpdir_fixture_setup(&fx, "retention") != 0)
		return -1;
	x.fx = fx;
	tmpdir_fixture_path(x.fx, "okuru.db", x.path);
	if (db_open(x.path, 1, &x.db, x.fx->err, sizeof(x.fx->err)) != 0 ||
	    sqlite3_open(x.path, &x.raw) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(x.raw, 5000);
	if (db_user_add(x.db, "audrey", "audrey@bank.example", "auditor", &x.admin) != DB_OK ||
	    db_user_add(x.db, "sam", "sam@bank.example", "sender", &x.sender) != DB_OK)
		return -1;
	*state = &x;
	return 0;
}

static int
db_teardown(void **state)
{
	struct dbfx *x = *state;
	void *fx = x->fx;

	sqlite3_close(x->raw);
	db_close(x->db);
	return tmpdir_fixture_teardown(&fx);
}

static void
raw(struct dbfx *x, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(x->raw, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t
raw_int(struct dbfx *x, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(x->raw, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* a transfer with fixed id (tid), one file (fid), in state, created 10 days before T0 */
static void
make_transfer(struct dbfx *x, const char *tid, const char *fid, const char *state)
{
	struct db_transfer t = {
	    .owner_id = x->sender, .subject = "s", .message = "m", .created = T0 - 10 * DAY};
	struct db_file f;
	char why[128], sql[512];

	snprintf(t.id, sizeof(t.id), "%s", tid);
	assert_int_equal(db_transfer_create(x->db, &t, &audit_system), DB_OK);
	memset(&f, 0, sizeof(f));
	snprintf(f.id, sizeof(f.id), "%s", fid);
	snprintf(f.transfer_id, sizeof(f.transfer_id), "%s", tid);
	snprintf(f.name, sizeof(f.name), "a.bin");
	snprintf(f.sha256, sizeof(f.sha256), "%064d", 0);
	snprintf(f.state, sizeof(f.state), "clean");
	snprintf(f.key_id, sizeof(f.key_id), "k1");
	memset(f.wrapped, 0xab, sizeof(f.wrapped));
	f.size = 1234;
	f.created = T0 - 10 * DAY;
	assert_int_equal(db_file_insert(x->db, &f, 10, 0, &audit_system, why, sizeof(why)), DB_OK);
	snprintf(sql, sizeof(sql),
		 "UPDATE transfers SET state = '%s', expires_at = %lld, "
		 "retention_days = 2 WHERE id = '%s'",
		 state, (long long)T0, tid);
	raw(x, sql);
}

struct collect {
	int n;
	char id[4][UTIL_IDLEN + 1];
	int held[4];
	char reason[4][64];
};

static int
collect_cb(const struct db_retention_row *r, void *arg)
{
	struct collect *c = arg;

	if (c->n < 4) {
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s", r->id);
		c->held[c->n] = r->held;
		snprintf(c->reason[c->n], sizeof(c->reason[0]), "%.60s", r->hold_reason);
	}
	c->n++;
	return 0;
}

static struct collect
due(struct dbfx *x, int64_t at, int with_held)
{
	struct collect c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(db_retention_due(x->db, &pol, at, with_held, 100, collect_cb, &c), DB_OK);
	return c;
}

static int
pending_cb(const char *id, void *arg)
{
	snprintf(arg, UTIL_IDLEN + 1, "%s", id);
	return 0;
}

#define TID "0123456789abcdef0123456789abcdef"
#define FID "fedcba9876543210fedcba9876543210"
#define TID2 "11111111111111111111111111111111"
#define FID2 "22222222222222222222222222222222"

static void
test_db_purge(void **state)
{
	struct dbfx *x = *state;
	struct db_purge pg;
	struct collect c;
	char pending[UTIL_IDLEN + 1] = "";

	make_transfer(x, TID, FID, "sent");
	make_transfer(x, TID2, FID2, "pending");
	/* Rows in every table that refers to the transfer, its links or its files. */
	raw(x,
	    "INSERT INTO links (id, kind, transfer_id, address, token_hash, created, expires_at) "
	    "VALUES ('l1', 'download', '" TID "', 'bob@client.example', x'01', 0, 1796119200)");
	raw(x, "INSERT INTO link_sessions VALUES (x'02', 'l1', 0, 1)");
	raw(x, "INSERT INTO link_attempts (at, link_id, action, outcome, ip, user_agent) "
	       "VALUES (0, 'l1', 'download', 'ok', '127.0.0.1', 'ua')");
	raw(x, "INSERT INTO downloads (link_id, file_id, started, finished, ip, user_agent, "
	       "range_start, length, bytes, complete) VALUES ('l1', '" FID
	       "', 0, 0, '', '', 0, 0, 0, 1)");
	raw(x, "INSERT INTO download_progress (link_id, file_id) VALUES ('l1', '" FID "')");
	raw(x, "INSERT INTO scans (file_id, verdict, reason, detail, engine, db_version, finished, "
	       "ms) "
	       "VALUES ('" FID "', 'clean', '', '', 'e', 'v', 0, 0)");
	raw(x, "INSERT INTO approvals (transfer_id, approver_id, decision, comment, at) "
	       "VALUES ('" TID "', 1, 'approve', '', 0)");
	raw(x, "INSERT INTO outbox (created, kind, to_addr, transfer_id, link_id, message_id, "
	       "key_id, wrapped, sealed, state, next_attempt) VALUES (0, 'receipt', "
	       "'sam@bank.example', '" TID "', 'l1', '<m>', 'k', x'03', x'04', 'queued', 0)");

	/* Content due at expiry + 2 days; the pending transfer never. */
	assert_int_equal(due(x, T0 + 2 * DAY - 1, 1).n, 0);
	c = due(x, T0 + 2 * DAY, 1);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.id[0], TID);
	assert_int_equal(due(x, T0 + 5000 * DAY, 1).n, 1);

	/* A hold: listed as held, skipped by the purger's query, and it wins. */
	assert_int_equal(db_hold_place(x->db, TID, x->admin, "case 17", T0, &audit_system), DB_OK);
	assert_int_equal(db_hold_place(x->db, TID, x->admin, "again", T0, &audit_system),
			 DB_CONFLICT);
	assert_int_equal(db_hold_place(x->db, "99999999999999999999999999999999", x->admin, "r", T0,
				       &audit_system),
			 DB_NOTFOUND);
	/* Recorded with the hold, once: the refused ones change nothing and leave no record. */
	assert_int_equal(raw_int(x, "SELECT count(*) FROM audit WHERE event = 'hold.placed' AND "
				    "object_id = '" TID "' AND json_extract(detail, '$.reason') = "
				    "'case 17'"),
			 1);
	c = due(x, T0 + 3 * DAY, 1);
	assert_int_equal(c.n, 1);
	assert_true(c.held[0]);
	assert_string_equal(c.reason[0], "case 17");
	assert_int_equal(due(x, T0 + 3 * DAY, 0).n, 0);
	assert_int_equal(db_purge_content(x->db, TID, &pol, T0 + 3 * DAY, &pg, &audit_system),
			 DB_CONFLICT);
	assert_string_equal(pg.blocked, "legal hold");
	assert_int_equal(raw_int(x, "SELECT length(wrapped_key) FROM files WHERE id = '" FID "'"),
			 KEYS_WRAPPEDBYTES);
	assert_int_equal(db_hold_lift(x->db, TID, x->admin, "case closed", T0 + DAY, &audit_system),
			 DB_OK);
	assert_int_equal(db_hold_lift(x->db, TID, x->admin, "again", T0 + DAY, &audit_system),
			 DB_CONFLICT);
	assert_int_equal(raw_int(x, "SELECT lifted_at FROM legal_holds"), T0 + DAY);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM audit WHERE event = 'hold.lifted'"), 1);

	/* Not due yet: nothing happens. Then the content goes, in one commit. */
	assert_int_equal(db_purge_content(x->db, TID, &pol, T0 + DAY, &pg, &audit_system),
			 DB_NOTFOUND);
	assert_int_equal(db_purge_content(x->db, TID, &pol, T0 + 3 * DAY, &pg, &audit_system),
			 DB_OK);
	assert_int_equal(pg.files, 1);
	assert_int_equal(pg.bytes, 1234);
	assert_string_equal(pg.reason, "expired 2026-12-01T10:00:00Z + retention 2 days");
	assert_int_equal(raw_int(x, "SELECT length(wrapped_key) + length(key_id) FROM files"), 0);
	assert_int_equal(raw_int(x, "SELECT shredded FROM files WHERE id = '" FID "'"), 1);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM files WHERE state = 'purging'"), 1);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM outbox WHERE state = 'failed' AND "
				    "last_error = 'purged' AND sealed IS NULL AND wrapped IS NULL"),
			 1);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM link_sessions"), 0);
	assert_int_equal(raw_int(x, "SELECT content_purged_at FROM transfers WHERE id = '" TID "'"),
			 T0 + 3 * DAY);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM purges WHERE what = 'content' AND "
				    "files = 1 AND bytes = 1234"),
			 1);
	assert_int_equal(db_purge_content(x->db, TID, &pol, T0 + 4 * DAY, &pg, &audit_system),
			 DB_NOTFOUND);
	assert_int_equal(due(x, T0 + 4 * DAY, 1).n, 0);

	/* Records: not before metadata retention, not while a blob waits for removal. */
	assert_int_equal(db_purge_metadata(x->db, TID, &pol, T0 + 364 * DAY, &pg, &audit_system),
			 DB_NOTFOUND);
	assert_int_equal(due(x, T0 + 365 * DAY, 1).n, 1);
	assert_int_equal(db_purge_metadata(x->db, TID, &pol, T0 + 365 * DAY, &pg, &audit_system),
			 DB_CONFLICT);
	assert_int_equal(db_purge_pending(x->db, NULL, 10, pending_cb, pending), DB_OK);
	assert_string_equal(pending, FID);
	assert_int_equal(db_purge_blob_done(x->db, FID), DB_OK);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM files WHERE state = 'purged'"), 1);
	assert_int_equal(db_purge_metadata(x->db, TID, &pol, T0 + 365 * DAY, &pg, &audit_system),
			 DB_OK);
	assert_string_equal(pg.reason,
			    "expired 2026-12-01T10:00:00Z + metadata retention 365 days");
	for (const char *const *q =
		 (const char *const[]){"SELECT count(*) FROM links",
				       "SELECT count(*) FROM link_sessions",
				       "SELECT count(*) FROM link_attempts",
				       "SELECT count(*) FROM downloads",
				       "SELECT count(*) FROM download_progress",
				       "SELECT count(*) FROM scans",
				       "SELECT count(*) FROM approvals",
				       "SELECT count(*) FROM outbox",
				       "SELECT count(*) FROM legal_holds", NULL};
	     *q; q++)
		assert_int_equal(raw_int(x, *q), 0);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM transfers WHERE id = '" TID "'"), 0);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM files WHERE transfer_id = '" TID "'"), 0);
	assert_int_equal(raw_int(x, "SELECT count(*) FROM purges WHERE transfer_id = '" TID "'"),
			 2);
	/* The pending transfer is untouched. */
	assert_int_equal(raw_int(x, "SELECT count(*) FROM files WHERE transfer_id = '" TID2 "'"),
			 1);
	assert_int_equal(db_hold_lift(x->db, TID, x->admin, "gone", T0, &audit_system),
			 DB_NOTFOUND);
}

/* An abandoned draft's content goes, and it takes no more files afterwards. */
static void
test_db_draft(void **state)
{
	struct dbfx *x = *state;
	struct db_purge pg;
	struct db_file f;
	char why[128];

	make_transfer(x, TID, FID, "draft");
	raw(x, "UPDATE transfers SET expires_at = 0, retention_days = -1");
	/* created T0 - 10 days, + 14 (max expiry), + 30 (policy default retention) */
	assert_int_equal(db_purge_content(x->db, TID, &pol, T0 + 34 * DAY - 1, &pg, &audit_system),
			 DB_NOTFOUND);
	assert_int_equal(db_purge_content(x->db, TID, &pol, T0 + 34 * DAY, &pg, &audit_system),
			 DB_OK);
	assert_string_equal(pg.reason, "draft abandoned 2026-12-05T10:00:00Z + retention 30 days "
				       "(policy default)");
	memset(&f, 0, sizeof(f));
	snprintf(f.id, sizeof(f.id), "%s", FID2);
	snprintf(f.transfer_id, sizeof(f.transfer_id), "%s", TID);
	snprintf(f.name, sizeof(f.name), "b.bin");
	snprintf(f.state, sizeof(f.state), "uploaded");
	assert_int_equal(db_file_insert(x->db, &f, 10, 0, &audit_system, why, sizeof(why)),
			 DB_CONFLICT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_end),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_reason),
	    cmocka_unit_test(test_time_parse),
	    cmocka_unit_test_setup_teardown(test_db_purge, db_setup, db_teardown),
	    cmocka_unit_test_setup_teardown(test_db_draft, db_setup, db_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
