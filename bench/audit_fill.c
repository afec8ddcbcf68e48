/*
 * audit_fill.c - append N synthetic records to an okuru database's audit
 * log through the same code okurud uses (db_audit_record_locked), for
 * bench/audit.sh: a log of a million records to verify and query, and the
 * raw append rate with one durable commit per record.
 *
 *   audit_fill DB N BATCH
 *
 * BATCH records share a transaction (1: a commit, and so an fsync, per
 * record, as okurud does). The records cycle through the events of one
 * transfer's life so that filters by transfer, recipient and event select
 * realistic fractions: transfer k (k = i / 8) has 8 records and recipient
 * r (r = k % 1000) is on a thousandth of them. Prints "appended N records
 * in S s: R records/s".
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "util.h"

static const char *const fill_events[8] = {
	"transfer.created", "file.uploaded", "file.scanned", "policy.decided",
	"transfer.sent",    "mail.queued",   "mail.delivered", "file.downloaded",
};

static json_t *
fill_detail(long i, const char *tid, const char *rcpt)
{
	switch (i % 8) {
	case 1:
		return json_pack("{ss ss sI ss}", "transfer", tid, "name", "見積書_2026.pdf", "size",
				 (json_int_t)(1000 + i % 5000000), "sha256",
				 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	case 2:
		return json_pack("{ss ss ss}", "transfer", tid, "verdict", "clean", "db_version",
				 "daily.cvd 27812");
	case 4:
	case 5:
	case 6:
	case 7:
		return json_pack("{ss ss}", "transfer", tid, "recipient", rcpt);
	default:
		return json_pack("{ss}", "transfer", tid);
	}
}

int
main(int argc, char **argv)
{
	struct audit_actor who = {.kind = "user", .name = "sato", .ip = "192.0.2.10",
				  .user_agent = "Mozilla/5.0 (bench)"};
	char err[256], tid[UTIL_IDLEN + 1], rcpt[64];
	struct db *db;
	long n, batch, i;
	double t0, secs;
	int r = DB_OK;

	if (argc != 4 || (n = atol(argv[2])) <= 0 || (batch = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: audit_fill DB N BATCH\n");
		return 2;
	}
	if (db_open(argv[1], 0, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "audit_fill: %s\n", err);
		return 1;
	}
	t0 = util_mono();
	for (i = 0; i < n && r == DB_OK; i += batch) {
		long j, end = i + batch < n ? i + batch : n;

		if (db_begin(db) != DB_OK) {
			r = DB_ERROR;
			break;
		}
		for (j = i; j < end && r == DB_OK; j++) {
			snprintf(tid, sizeof(tid), "%032lx", j / 8);
			snprintf(rcpt, sizeof(rcpt), "user%ld@example.co.jp", (j / 8) % 1000);
			r = db_audit_record_locked(db, &who, fill_events[j % 8], "transfer", tid,
						   "ok", fill_detail(j, tid, rcpt), util_now());
		}
		r = db_finish_locked(db, r);
	}
	secs = util_mono() - t0;
	db_close(db);
	if (r != DB_OK) {
		fprintf(stderr, "audit_fill: append failed\n");
		return 1;
	}
	printf("appended %ld records in %.2f s: %.0f records/s\n", n, secs, n / secs);
	return 0;
}
