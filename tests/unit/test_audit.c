/*
 * test_audit.c - the audit log's hash encoding (audit.c): a pinned
 * known-answer vector, every field and prev changing the hash, length
 * prefixes keeping field boundaries apart; a chain of records appended
 * through db_audit.c to a real SQLite file and read back; a checkpoint
 * signed, written, read and verified, and refused under another key or
 * with one flipped bit; the audit.syslog target parser and the RFC 5424
 * encoding (escaped PARAM-VALUEs, PRI, BOM and detail).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_syslog.h"
#include "db.h"
#include "tmpdir.h"

/* Computed once, and independently with Python hashlib.blake2b from the documented encoding. */
#define KAT_HASH "809d654fdc8dedfbb0b4f0b8ecc24e31839a6c778af7163dacd8c898c9e1707f"

static const struct audit_event ev0 = {
	.actor_kind = "admin-cli",
	.actor = "root",
	.ip = "192.0.2.1",
	.user_agent = "curl/7.88",
	.event = "user.added",
	.object_kind = "user",
	.object_id = "alice",
	.outcome = "ok",
	.detail = "{\"role\":\"sender\"}",
};

static void
hex(const unsigned char h[AUDIT_HASHBYTES], char out[2 * AUDIT_HASHBYTES + 1])
{
	sodium_bin2hex(out, 2 * AUDIT_HASHBYTES + 1, h, AUDIT_HASHBYTES);
}

/* The encoding is a storage format: this vector must never change. */
static void
test_known_answer(void **state)
{
	unsigned char prev[AUDIT_HASHBYTES] = {0}, h[AUDIT_HASHBYTES];
	char x[2 * AUDIT_HASHBYTES + 1];

	(void)state;
	audit_hash(1, 1796119200, &ev0, prev, h);
	hex(h, x);
	assert_string_equal(x, KAT_HASH);
}

/* The bounds: 4096 bytes per text field, 65536 of detail, a known actor kind, an event. */
static void
test_event_bounds(void **state)
{
	static char big[AUDIT_DETAILMAX + 2];
	struct audit_event ev = ev0;

	(void)state;
	assert_int_equal(audit_event_ok(&ev), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[AUDIT_FIELDMAX] = '\0';
	ev.actor = big;
	assert_int_equal(audit_event_ok(&ev), 0);
	big[AUDIT_FIELDMAX] = 'a';
	big[AUDIT_FIELDMAX + 1] = '\0';
	assert_int_equal(audit_event_ok(&ev), -1);
	ev = ev0;
	memset(big, 'a', sizeof(big) - 1);
	big[AUDIT_DETAILMAX] = '\0';
	ev.detail = big;
	assert_int_equal(audit_event_ok(&ev), 0);
	big[AUDIT_DETAILMAX] = 'a';
	assert_int_equal(audit_event_ok(&ev), -1);
	ev = ev0;
	ev.actor_kind = "root";
	assert_int_equal(audit_event_ok(&ev), -1);
	ev = ev0;
	ev.event = "";
	assert_int_equal(audit_event_ok(&ev), -1);
}

static void
test_every_field_counts(void **state)
{
	unsigned char prev[AUDIT_HASHBYTES] = {0}, base[AUDIT_HASHBYTES], h[AUDIT_HASHBYTES];
	const char **fields[9];
	struct audit_event ev;

	(void)state;
	audit_hash(1, 1000, &ev0, prev, base);
	for (int i = 0; i < 9; i++) {
		ev = ev0;
		fields[0] = &ev.actor_kind, fields[1] = &ev.actor, fields[2] = &ev.ip;
		fields[3] = &ev.user_agent, fields[4] = &ev.event, fields[5] = &ev.object_kind;
		fields[6] = &ev.object_id, fields[7] = &ev.outcome, fields[8] = &ev.detail;
		*fields[i] = "changed";
		audit_hash(1, 1000, &ev, prev, h);
		assert_memory_not_equal(h, base, AUDIT_HASHBYTES);
	}
	audit_hash(2, 1000, &ev0, prev, h);
	assert_memory_not_equal(h, base, AUDIT_HASHBYTES);
	audit_hash(1, 1001, &ev0, prev, h);
	assert_memory_not_equal(h, base, AUDIT_HASHBYTES);
	prev[31] = 1;
	audit_hash(1, 1000, &ev0, prev, h);
	assert_memory_not_equal(h, base, AUDIT_HASHBYTES);
	/* Length prefixes: moving a byte from one field to the next changes the hash. */
	prev[31] = 0;
	ev = ev0;
	ev.actor = "roo";
	ev.ip = "t192.0.2.1";
	audit_hash(1, 1000, &ev, prev, h);
	assert_memory_not_equal(h, base, AUDIT_HASHBYTES);
	/* NULL is "" and a NULL detail is "{}". */
	ev = ev0;
	ev.ip = NULL;
	ev.detail = NULL;
	audit_hash(1, 1000, &ev, prev, base);
	ev.ip = "";
	ev.detail = "{}";
	audit_hash(1, 1000, &ev, prev, h);
	assert_memory_equal(h, base, AUDIT_HASHBYTES);
}

struct chain {
	int64_t n;
	unsigned char prev[AUDIT_HASHBYTES];
};

static int
chain_cb(const struct db_audit_row *r, void *arg)
{
	struct chain *c = arg;
	struct audit_event ev = {r->actor_kind, r->actor, r->ip, r->user_agent, r->event,
				 r->object_kind, r->object_id, r->outcome, r->detail};
	unsigned char h[AUDIT_HASHBYTES];

	assert_int_equal(r->seq, c->n + 1);
	assert_non_null(r->prev);
	assert_memory_equal(r->prev, c->prev, AUDIT_HASHBYTES);
	audit_hash(r->seq, r->at, &ev, c->prev, h);
	assert_memory_equal(r->hash, h, AUDIT_HASHBYTES);
	memcpy(c->prev, h, AUDIT_HASHBYTES);
	c->n++;
	return 0;
}

static void
test_chain(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char path[PATH_MAX];
	struct db *db;
	struct chain c = {0};
	unsigned char head[AUDIT_HASHBYTES];
	struct audit_event bad = ev0;
	int64_t seq = 0;

	assert_int_equal(db_open(tmpdir_fixture_path(fx, "a.db", path), 1, &db, fx->err,
				 sizeof(fx->err)),
			 0);
	assert_int_equal(db_audit_head(db, &seq, head), DB_OK);
	assert_int_equal(seq, 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(db_audit_append(db, &ev0, 1000 + i, &seq), DB_OK);
		assert_int_equal(seq, i + 1);
	}
	bad.actor_kind = "nobody";
	assert_int_equal(db_audit_append(db, &bad, 2000, &seq), DB_ERROR);
	assert_int_equal(db_audit_each(db, chain_cb, &c), DB_OK);
	assert_int_equal(c.n, 5);
	assert_int_equal(db_audit_head(db, &seq, head), DB_OK);
	assert_int_equal(seq, 5);
	assert_memory_equal(head, c.prev, AUDIT_HASHBYTES);
	db_close(db);
}

static void
test_checkpoint(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char key[PATH_MAX], pub[PATH_MAX], out[PATH_MAX];
	struct audit_signer *s;
	struct audit_checkpoint cp = {.seq = 7, .at = 1796119200}, rd;
	unsigned char pk[AUDIT_PKBYTES], other[AUDIT_PKBYTES], osk[64];

	tmpdir_fixture_path(fx, "audit.key", key);
	tmpdir_fixture_path(fx, "audit.pub", pub);
	assert_int_equal(audit_keygen(key, pub, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(audit_keygen(key, pub, fx->err, sizeof(fx->err)), -1); /* no overwrite */
	assert_int_equal(audit_signer_load(key, &s, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(audit_pub_load(pub, pk, fx->err, sizeof(fx->err)), 0);
	assert_memory_equal(pk, audit_signer_pk(s), AUDIT_PKBYTES);
	memset(cp.hash, 0xab, sizeof(cp.hash));
	audit_checkpoint_sign(s, &cp);
	assert_int_equal(audit_checkpoint_verify(pk, &cp), 0);
	assert_int_equal(audit_checkpoint_write(tmpdir_fixture_path(fx, "cp", out), &cp), 0);
	assert_int_equal(audit_checkpoint_read(out, &rd, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(audit_checkpoint_verify(pk, &rd), 0);
	assert_int_equal(rd.seq, 7);
	rd.seq = 8;
	assert_int_equal(audit_checkpoint_verify(pk, &rd), -1);
	rd.seq = 7;
	rd.hash[0] ^= 1;
	assert_int_equal(audit_checkpoint_verify(pk, &rd), -1);
	crypto_sign_keypair(other, osk);
	assert_int_equal(audit_checkpoint_verify(other, &cp), -1);
	audit_signer_free(s);
}

static void
test_syslog_target(void **state)
{
	struct audit_syslog_target t;
	static const char *const bad[] = {
		"", "tcp://", "tcp://h", "tcp://h:0", "tcp://h:65536", "tcp://h:514/",
		"tcp://h:514/x", "tcp://h:514?q", "tcp://h:514#f", "tcp://u@h:514",
		"tcp://u:p@h:514", "http://h:514", "udp:/h:514", "unix:", "unix:dev/log",
		"unix:/dev/log x", "tcp://h :514", "tcp://h:5x4",
	};

	(void)state;
	assert_int_equal(audit_syslog_target_parse("udp://127.0.0.1:514", &t), 0);
	assert_int_equal(t.proto, AUDIT_SYSLOG_UDP);
	assert_string_equal(t.host, "127.0.0.1");
	assert_string_equal(t.port, "514");
	assert_int_equal(audit_syslog_target_parse("tcp://[::1]:6514", &t), 0);
	assert_int_equal(t.proto, AUDIT_SYSLOG_TCP);
	assert_string_equal(t.host, "::1");
	assert_string_equal(t.port, "6514");
	assert_int_equal(audit_syslog_target_parse("tcp://log.example.jp:601", &t), 0);
	assert_string_equal(t.host, "log.example.jp");
	assert_int_equal(audit_syslog_target_parse("unix:/dev/log", &t), 0);
	assert_int_equal(t.proto, AUDIT_SYSLOG_UNIX);
	assert_string_equal(t.path, "/dev/log");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (audit_syslog_target_parse(bad[i], NULL) == 0)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(audit_syslog_facility_code("authpriv"), 10);
	assert_int_equal(audit_syslog_facility_code("local7"), 23);
	assert_int_equal(audit_syslog_facility_code("local8"), -1);
	assert_int_equal(audit_syslog_facility_code("kern"), -1);
}

static void
test_syslog_record(void **state)
{
	unsigned char h[AUDIT_HASHBYTES];
	struct db_audit_row r = {.seq = 42,
				 .at = 1700000000,
				 .actor_kind = "user",
				 .actor = "a\"b]c\\d",
				 .ip = "192.0.2.1",
				 .user_agent = "ua",
				 .event = "transfer.sent",
				 .object_kind = "transfer",
				 .object_id = "t]1",
				 .outcome = "denied",
				 .detail = "{\"n\":\"\\\"x] 日本語\"}"};
	const char *want =
		"<36>1 2023-11-14T22:13:20Z host okurud 7 audit [okuru@32473 seq=\"42\" "
		"hash=\"0101010101010101010101010101010101010101010101010101010101010101\" "
		"event=\"transfer.sent\" actor_kind=\"user\" actor=\"a\\\"b\\]c\\\\d\" "
		"ip=\"192.0.2.1\" outcome=\"denied\" object_kind=\"transfer\" object_id=\"t\\]1\"] "
		"\xEF\xBB\xBF{\"n\":\"\\\"x] 日本語\"}";
	size_t len;
	char *m;

	(void)state;
	memset(h, 1, sizeof(h));
	r.hash = h;
	m = audit_syslog_record(4, "host", 7, &r, &len);
	assert_non_null(m);
	assert_string_equal(m, want);
	assert_int_equal(len, strlen(want));
	free(m);
	r.outcome = "ok";
	m = audit_syslog_record(10, "bad host", 7, &r, &len);
	assert_non_null(m);
	assert_memory_equal(m, "<85>1 2023-11-14T22:13:20Z - okurud 7 audit ", 44);
	free(m);
}

static int
tmpdir_fixture_setup_audit(void **state)
{
	return tmpdir_fixture_setup(state, "audit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_event_bounds),
		cmocka_unit_test(test_syslog_target),
		cmocka_unit_test(test_syslog_record),
		cmocka_unit_test_setup_teardown(test_chain, tmpdir_fixture_setup_audit,
						tmpdir_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint, tmpdir_fixture_setup_audit,
						tmpdir_fixture_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
