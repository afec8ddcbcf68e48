/*
 * retention.c - a transfer's end and its two due times (see retention.h
 * for the rules). Pure: no clock, no database; the callers pass what they
 * read, so the purger, the dry run and the API cannot disagree.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistr.h>

#include "jsonutil.h"
#include "retention.h"
#include "util.h"

#define RETENTION_DAY 86400

/* retention_end - when the transfer ended and why; 0 when it has not (or never will) */
static int64_t
retention_end(const struct retention_input *in, const struct retention_policy *p, const char **why)
{
	static const char *const ended[] = {"revoked", "recalled", "rejected", "lapsed"};

	*why = "";
	if (strcmp(in->state, "sent") == 0) {
		if (in->revoked_at > 0 &&
		    (in->expires_at <= 0 || in->revoked_at < in->expires_at)) {
			*why = "revoked";
			return in->revoked_at;
		}
		*why = "expired";
		return in->expires_at > 0 ? in->expires_at : 0;
	}
	for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++) {
		if (strcmp(in->state, ended[i]) == 0) {
			*why = ended[i];
			/* Neither set: the end is unknown, so nothing is due (kept, not lost). */
			return in->ended_at > 0	    ? in->ended_at
			       : in->revoked_at > 0 ? in->revoked_at
						    : 0;
		}
	}
	if (strcmp(in->state, "draft") == 0) {
		/*
		 * A draft never sent is abandoned after the longest life a link
		 * may have; a request's draft not before its upload link ends.
		 */
		int64_t end = in->created + (int64_t)p->max_expiry_days * RETENTION_DAY;
		*why = "draft abandoned";
		return in->expires_at > end ? in->expires_at : end;
	}
	/* pending, or a state this version does not know: never. */
	return 0;
}

/* retention_compute - when the transfer ended and when content and records are due */
void
retention_compute(const struct retention_input *in, const struct retention_policy *p,
		  struct retention_due *out)
{
	memset(out, 0, sizeof(*out));
	out->from_policy = in->retention_days < 0;
	out->content_days = out->from_policy ? p->content_days : in->retention_days;
	out->metadata_days = p->metadata_days;
	out->end = retention_end(in, p, &out->why);
	if (out->end <= 0) {
		out->end = 0;
		return;
	}
	out->content_due = out->end + (int64_t)out->content_days * RETENTION_DAY;
	out->metadata_due = out->end + (int64_t)out->metadata_days * RETENTION_DAY;
}

/* retention_describe - why it is due, as recorded in purges.reason and printed by the dry run */
void
retention_describe(const struct retention_due *d, int metadata, char *out, size_t outlen)
{
	char end[32];

	if (d->end == 0) {
		snprintf(out, outlen, "not ended");
		return;
	}
	util_time_iso(d->end, end);
	if (metadata)
		snprintf(out, outlen, "%s %s + metadata retention %d days", d->why, end,
			 d->metadata_days);
	else
		snprintf(out, outlen, "%s %s + retention %d days%s", d->why, end, d->content_days,
			 d->from_policy ? " (policy default)" : "");
}

/* retention_reason_ok - a hold's or a lift's reason: 1 to 1000 bytes of UTF-8, one line */
int
retention_reason_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= RETENTION_REASON_MAX && u8_check((const uint8_t *)s, n) == NULL &&
	       !jsonutil_has_controls(s, 0);
}
