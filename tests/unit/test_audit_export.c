/*
 * test_audit_export.c - reading the audit log out: CSV field quoting
 * (RFC 4180) and the formula guard, one whole CSV row, a record as JSON
 * (detail parsed, Japanese kept), the time and event filter syntax, and
 * db_audit_query's filters and seq cursor on a real SQLite file.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_export.h"
#include "db.h"
#include "db_audit_query.h"
#include "tmpdir.h"

static void
field_is(const char *in, const char *want)
{
	char *got = audit_csv_field(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_csv_field(void **state)
{
	(void)state;
	field_is("", "");
	field_is("plain", "plain");
	field_is("見積書.pdf", "見積書.pdf"); /* UTF-8 passes through untouched */
	field_is("a,b", "\"a,b\"");
	field_is("say \"hi\"", "\"say \"\"hi\"\"\"");
	field_is("\"", "\"\"\"\"");
	field_is("two\nlines", "\"two\nlines\"");
	field_is("cr\rlf", "\"cr\rlf\"");
	field_is("{\"name\":\"a,b\"}", "\"{\"\"name\"\":\"\"a,b\"\"}\"");
	/* the formula guard: an apostrophe in front, then the usual quoting */
	field_is("=1+2", "'=1+2");
	field_is("+1", "'+1");
	field_is("-1", "'-1");
	field_is("@SUM(A1)", "'@SUM(A1)");
	field_is("\tx", "'\tx");
	field_is("\rx", "\"'\rx\"");
	field_is("=HYPERLINK(\"http://x\",\"a\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"a\"\")\"");
	/* only the first character counts */
	field_is("a=b", "a=b");
	field_is("1-2", "1-2");
}

static const unsigned char hash32[32] = {0xde, 0xad, 0xbe, 0xef};

static const struct db_audit_row row1 = {
    .seq = 42,
    .at = 1796083200, /* 2026-12-01T00:00:00Z */
    .actor_kind = "user",
    .actor = "alice",
    .ip = "192.0.2.1",
    .user_agent = "=cmd,\"x\"",
    .event = "file.uploaded",
    .object_kind = "file",
    .object_id = "f1",
    .outcome = "ok",
    .detail = "{\"name\":\"見積書.pdf\",\"transfer\":\"t1\"}",
    .hash = hash32,
};

static void
test_csv_row(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(audit_csv_row(f, &row1), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf,
			    "42,2026-12-01T00:00:00Z,user,alice,192.0.2.1,"
			    "\"'=cmd,\"\"x\"\"\",file.uploaded,file,f1,ok,"
			    "\"{\"\"name\"\":\"\"見積書.pdf\"\",\"\"transfer\"\":\"\"t1\"\"}\","
			    "deadbeef000000000000000000000000"
			    "00000000000000000000000000000000\r\n");
	free(buf);
}

static void
test_row_json(void **state)
{
	struct db_audit_row bad = row1;
	json_t *o = audit_row_json(&row1);

	(void)state;
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 42);
	assert_string_equal(json_string_value(json_object_get(o, "at")), "2026-12-01T00:00:00Z");
	assert_true(json_is_object(json_object_get(o, "detail")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(o, "detail"), "name")), "見積書.pdf");
	assert_int_equal(strlen(json_string_value(json_object_get(o, "hash"))), 64);
	json_decref(o);
	/* a damaged row: the text as it is, no hash */
	bad.detail = "{not json";
	bad.hash = NULL;
	o = audit_row_json(&bad);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "detail")), "{not json");
	assert_true(json_is_null(json_object_get(o, "hash")));
	json_decref(o);
}

static void
test_time_and_event(void **state)
{
	int64_t t = -1;

	(void)state;
	assert_int_equal(audit_time_parse("0", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(audit_time_parse("1796083200", &t), 0);
	assert_int_equal(t, 1796083200);
	assert_int_equal(audit_time_parse("2026-12-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1796083200);
	assert_int_equal(audit_time_parse("", &t), -1);
	assert_int_equal(audit_time_parse("-5", &t), -1);
	assert_int_equal(audit_time_parse("12a", &t), -1);
	assert_int_equal(audit_time_parse("2026-12-01", &t), -1);
	assert_int_equal(audit_time_parse("2026-12-01T00:00:00+09:00", &t), -1);
	assert_int_equal(audit_time_parse("1234567890123", &t), -1);

	assert_true(db_audit_filter_event_ok("user.added"));
	assert_true(db_audit_filter_event_ok("mail.*"));
	assert_true(db_audit_filter_event_ok("okurud.started"));
	assert_false(db_audit_filter_event_ok(""));
	assert_false(db_audit_filter_event_ok("*"));
	assert_false(db_audit_filter_event_ok(".*"));
	assert_false(db_audit_filter_event_ok("mail*"));
	assert_false(db_audit_filter_event_ok("mail"));
	assert_false(db_audit_filter_event_ok("mail."));
	assert_true(db_audit_filter_event_ok("a.b.*"));
	assert_false(db_audit_filter_event_ok("mail.*.x"));
	assert_false(db_audit_filter_event_ok("User.added"));
	assert_false(db_audit_filter_event_ok("a'b"));
	assert_false(db_audit_filter_event_ok("a%"));
}

struct seqs {
	int64_t s[16];
	int n;
};

static int
seqs_cb(const struct db_audit_row *r, void *arg)
{
	struct seqs *q = arg;

	if (q->n < 16)
		q->s[q->n] = r->seq;
	q->n++;
	return 0;
}

/* query - the seqs F selects, as "1 2 3" */
static const char *
query(struct db *db, const struct db_audit_filter *f)
{
	static char out[256];
	struct seqs q = {.n = 0};
	size_t len = 0;

	assert_int_equal(db_audit_query(db, f, seqs_cb, &q), DB_OK);
	out[0] = '\0';
	for (int i = 0; i < q.n && i < 16; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%lld", i ? " " : "",
					(long long)q.s[i]);
	return out;
}

static void
add(struct db *db, const char *kind, const char *actor, const char *event, const char *object_kind,
    const char *object_id, const char *outcome, const char *detail, int64_t at)
{
	struct audit_actor who = {.kind = kind, .name = actor, .ip = "", .user_agent = ""};

	assert_int_equal(db_audit_record(db, &who, event, object_kind, object_id, outcome,
					 json_loads(detail, 0, NULL), at),
			 DB_OK);
}

static void
test_query(void **state)
{
	struct tmpdir_fixture *fx = *state;
	struct db_audit_filter f;
	char path[PATH_MAX];
	struct db *db;

	assert_int_equal(
	    db_open(tmpdir_fixture_path(fx, "q.db", path), 1, &db, fx->err, sizeof(fx->err)), 0);
	add(db, "admin-cli", "root", "user.added", "user", "alice", "ok", "{}", 100);	 /* 1 */
	add(db, "user", "alice", "transfer.created", "transfer", "T1", "ok", "{}", 200); /* 2 */
	add(db, "user", "alice", "file.uploaded", "file", "F1", "ok",
	    "{\"transfer\":\"T1\",\"name\":\"見積書.pdf\"}", 300); /* 3 */
	add(db, "user", "alice", "link.created", "link", "L1", "ok",
	    "{\"transfer\":\"T1\",\"recipient\":\"bob@x.example\"}", 400); /* 4 */
	add(db, "recipient", "bob@x.example", "otp.failed", "link", "L1", "failed",
	    "{\"transfer\":\"T1\"}", 500); /* 5 */
	add(db, "system", "okurud", "mail.queued", "mail", "M1", "ok",
	    "{\"transfer\":\"T2\",\"recipient\":\"carol@x.example\"}", 600);	      /* 6 */
	add(db, "system", "okurud", "mail.delivered", "mail", "M1", "ok", "{}", 700); /* 7 */
	add(db, "system", "okurud", "mailer.x", "mail", "M1", "ok", "{}", 800);	      /* 8 */

	memset(&f, 0, sizeof(f));
	assert_string_equal(query(db, &f), "1 2 3 4 5 6 7 8");
	f.has_from = 1, f.from = 300, f.has_to = 1, f.to = 600; /* half-open */
	assert_string_equal(query(db, &f), "3 4 5");
	memset(&f, 0, sizeof(f));
	f.actor = "alice";
	assert_string_equal(query(db, &f), "2 3 4");
	memset(&f, 0, sizeof(f));
	f.recipient = "bob@x.example"; /* as detail, and as the actor */
	assert_string_equal(query(db, &f), "4 5");
	memset(&f, 0, sizeof(f));
	f.transfer = "T1"; /* the transfer itself, and detail */
	assert_string_equal(query(db, &f), "2 3 4 5");
	memset(&f, 0, sizeof(f));
	f.event = "mail.*"; /* a prefix: not mailer.x */
	assert_string_equal(query(db, &f), "6 7");
	f.event = "mail.queued";
	assert_string_equal(query(db, &f), "6");
	f.event = "mail.queue"; /* exact: not a prefix */
	assert_string_equal(query(db, &f), "");
	memset(&f, 0, sizeof(f));
	f.outcome = "failed";
	assert_string_equal(query(db, &f), "5");
	/* paging: a cursor on seq */
	memset(&f, 0, sizeof(f));
	f.limit = 3;
	assert_string_equal(query(db, &f), "1 2 3");
	f.after = 3;
	assert_string_equal(query(db, &f), "4 5 6");
	f.after = 6;
	assert_string_equal(query(db, &f), "7 8");
	f.after = 8;
	assert_string_equal(query(db, &f), "");
	/* filters together */
	memset(&f, 0, sizeof(f));
	f.transfer = "T1", f.event = "link.*", f.after = 1;
	assert_string_equal(query(db, &f), "4");
	/* a bad event filter never reaches SQL */
	f.event = "a%";
	assert_int_equal(db_audit_query(db, &f, seqs_cb, &(struct seqs){.n = 0}), DB_ERROR);
	db_close(db);
}

static int
setup(void **state)
{
	return tmpdir_fixture_setup(state, "auditx");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_field),
	    cmocka_unit_test(test_csv_row),
	    cmocka_unit_test(test_row_json),
	    cmocka_unit_test(test_time_and_event),
	    cmocka_unit_test_setup_teardown(test_query, setup, tmpdir_fixture_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
