/*
 * retention.h - when a transfer has ended, and when its content and its
 * records are due to be purged. This is the one definition: the purger
 * (through the okuru_due() SQL function, db_retention.c), okuructl purge
 * --dry-run and the transfer's JSON all call retention_compute. See
 * docs/ARCHITECTURE.md, "Retention".
 *
 * A transfer ends:
 *   sent                              at expires_at, or at revoked_at if earlier
 *   revoked, recalled, rejected, lapsed  at ended_at, else at revoked_at
 *   draft (never sent)                at created + defaults.max_expiry_days,
 *                                     or at expires_at (a request's link) if later
 *   pending (waiting for approval)    never: it is sent, rejected or lapses
 * Its content is due at end + its retention_days (the policy's
 * defaults.retention_days when the transfer has none, -1), its records at
 * end + retention.metadata_days. A transfer under legal hold is never due;
 * that is the caller's check (a row in legal_holds), not this one's.
 */
#ifndef OKURU_RETENTION_H
#define OKURU_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#define RETENTION_REASON_MAX 1000 /* bytes of a hold's or a lift's reason */

/* The transfer's fields that decide its end. */
struct retention_input {
	const char *state;
	int64_t created;
	int64_t expires_at;
	int64_t revoked_at;
	int64_t ended_at;
	int retention_days; /* -1: not decided, the policy's default applies */
};

/* The policy's part (okuru-policy(5)), read when the question is asked. */
struct retention_policy {
	int content_days;    /* defaults.retention_days */
	int max_expiry_days; /* defaults.max_expiry_days: an unsent draft's life */
	int metadata_days;   /* retention.metadata_days */
};

struct retention_due {
	int64_t end;	  /* 0: has not ended (or never will): nothing is due */
	const char *why;  /* how it ended: "expired", "revoked", ..., "draft abandoned" */
	int content_days; /* the retention that applies */
	int from_policy;  /* content_days is the policy's default */
	int metadata_days;
	int64_t content_due;  /* 0 when end is 0 */
	int64_t metadata_due; /* 0 when end is 0 */
};

void retention_compute(const struct retention_input *in, const struct retention_policy *p,
		       struct retention_due *out);
/* retention_describe - "expired 2026-11-30T10:00:00Z + retention 30 days" */
void retention_describe(const struct retention_due *d, int metadata, char *out, size_t outlen);
/* retention_reason_ok - 1 for 1 to 1000 bytes of UTF-8 without control characters */
int retention_reason_ok(const char *s);

#endif
