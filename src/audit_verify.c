/*
 * audit_verify.c - the audit log's verification (audit_verify.h), run by
 * "okuructl audit verify" and GET /api/v1/audit/verify alike.
 *
 * Checkpoint and anchor signatures are checked first, then the records are
 * read in seq order: each record's prev must be the previous record's hash
 * and its hash must be recomputed from its contents (audit_hash), and every
 * checkpoint at its seq must hold that hash. The first problem stops the
 * walk. A log that starts past record 1 (audit purges) is accepted only when
 * signed purge anchors cover everything before it and an audit.purged record
 * names the last of them.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_verify.h"
#include "db.h"

/* Records per read: the connection's lock is released between batches. */
#define AUDIT_VERIFY_BATCH 256 /* small: t_views.sh crosses batch ends with a few hundred */

struct audit_verify_cp {
	struct audit_checkpoint cp;
	const char *from; /* "stored" or the export file's name */
};

struct audit_verify {
	struct audit_verify_cp *cps;
	size_t ncp, next;
	int64_t expect, records, batch_rows, last_seen;
	unsigned char prev[AUDIT_HASHBYTES];
	char *bad;
	size_t badlen;
	int nomem;
	/* A purged log starts at first > 1: signed purge anchors cover 1..first-1... */
	struct audit_anchor *anchors;
	size_t nanchors;
	int64_t first;
	unsigned char anchor_hash[AUDIT_HASHBYTES];
	/* ...and an audit.purged record in what is left names the last one. */
	int purged_named;
};

static int
audit_verify_anchor_collect(const struct audit_anchor *a, void *arg)
{
	struct audit_verify *v = arg;
	void *n = realloc(v->anchors, (v->nanchors + 1) * sizeof(*v->anchors));

	if (n == NULL) {
		v->nomem = 1;
		return 1;
	}
	v->anchors = n;
	v->anchors[v->nanchors++] = *a;
	return 0;
}

static int
audit_verify_cp_cmp(const void *a, const void *b)
{
	const struct audit_verify_cp *x = a, *y = b;

	return x->cp.seq < y->cp.seq ? -1 : x->cp.seq > y->cp.seq;
}

/* audit_verify_cp_add - one more checkpoint to check, from FROM */
static int
audit_verify_cp_add(struct audit_verify *v, const struct audit_checkpoint *cp, const char *from)
{
	void *n = realloc(v->cps, (v->ncp + 1) * sizeof(*v->cps));

	if (n == NULL) {
		v->nomem = 1;
		return 1;
	}
	v->cps = n;
	v->cps[v->ncp].cp = *cp;
	v->cps[v->ncp].from = from;
	v->ncp++;
	return 0;
}

static int
audit_verify_cp_collect(const struct audit_checkpoint *cp, void *arg)
{
	return audit_verify_cp_add(arg, cp, "stored");
}

/*
 * audit_verify_start - the log starts at record s > 1 (audit purges):
 * acceptable only when the signed purge anchors (signatures checked
 * already, in through_seq order) cover 1..s-1 without gap or overlap, each
 * removed only after its audit_days, the last holding record s's prev. An
 * ordinary checkpoint cannot serve: it is signed under another label.
 * Checkpoints of removed records are passed over, but one at s-1 that
 * disagrees with record s's prev is a second history and is reported.
 */
static int
audit_verify_start(struct audit_verify *v, const struct db_audit_row *r)
{
	int64_t s = r->seq, next = 1;
	const struct audit_anchor *last = NULL;

	v->first = s;
	for (size_t i = 0; i < v->nanchors && v->anchors[i].through_seq < s; i++) {
		const struct audit_anchor *a = &v->anchors[i];
		if (a->first_seq != next || a->through_seq < a->first_seq ||
		    a->through_at > a->purged_at - a->audit_days * 86400) {
			snprintf(v->bad, v->badlen,
				 "record %lld: the purge anchor of records %lld to %lld does not "
				 "follow on from record %lld or was made before their retention",
				 (long long)s, (long long)a->first_seq, (long long)a->through_seq,
				 (long long)next - 1);
			return 1;
		}
		next = a->through_seq + 1;
		last = a;
	}
	if (last == NULL || last->through_seq != s - 1 || r->prev == NULL ||
	    sodium_memcmp(last->through_hash, r->prev, AUDIT_HASHBYTES) != 0) {
		snprintf(
		    v->bad, v->badlen,
		    "record %lld: the log starts here, but no signed purge anchor covers records "
		    "1 to %lld and holds its prev: they were removed without an audit purge "
		    "(tampering)",
		    (long long)s, (long long)s - 1);
		return 1;
	}
	while (v->next < v->ncp && v->cps[v->next].cp.seq < s - 1)
		v->next++;
	for (; v->next < v->ncp && v->cps[v->next].cp.seq == s - 1; v->next++)
		if (sodium_memcmp(v->cps[v->next].cp.hash, r->prev, AUDIT_HASHBYTES) != 0) {
			snprintf(v->bad, v->badlen,
				 "record %lld: its prev differs from the signed checkpoint (%s) of "
				 "record %lld",
				 (long long)s, v->cps[v->next].from, (long long)s - 1);
			return 1;
		}
	memcpy(v->prev, r->prev, AUDIT_HASHBYTES);
	memcpy(v->anchor_hash, r->prev, AUDIT_HASHBYTES);
	v->expect = s;
	return 0;
}

/* audit_verify_purged - 1 when r is the audit.purged record of everything before v->first */
static int
audit_verify_purged(const struct audit_verify *v, const struct db_audit_row *r)
{
	char want[2 * AUDIT_HASHBYTES + 1];
	json_t *d, *seq, *hash;
	int ok;

	if (strcmp(r->event, "audit.purged") != 0 || r->seq < v->first)
		return 0;
	d = json_loads(r->detail, 0, NULL);
	seq = json_object_get(d, "through_seq");
	hash = json_object_get(d, "through_hash");
	sodium_bin2hex(want, sizeof(want), v->anchor_hash, AUDIT_HASHBYTES);
	ok = json_is_integer(seq) && json_integer_value(seq) == v->first - 1 &&
	     json_is_string(hash) && strcmp(json_string_value(hash), want) == 0;
	json_decref(d);
	return ok;
}

static int
audit_verify_row(const struct db_audit_row *r, void *arg)
{
	struct audit_verify *v = arg;
	struct audit_event ev = {r->actor_kind,	 r->actor,     r->ip,	   r->user_agent, r->event,
				 r->object_kind, r->object_id, r->outcome, r->detail};
	unsigned char h[AUDIT_HASHBYTES];

	v->batch_rows++;
	v->last_seen = r->seq;
	if (v->records == 0 && v->expect == 1 && r->seq > 1 && audit_verify_start(v, r) != 0)
		return 1;
	if (v->first > 1 && !v->purged_named)
		v->purged_named = audit_verify_purged(v, r);
	if (r->seq != v->expect) {
		snprintf(v->bad, v->badlen, "record %lld: missing (the next record is %lld)",
			 (long long)v->expect, (long long)r->seq);
		return 1;
	}
	if (r->prev == NULL || sodium_memcmp(r->prev, v->prev, AUDIT_HASHBYTES) != 0) {
		snprintf(v->bad, v->badlen,
			 "record %lld: its prev is not the hash of record %lld (reordered or "
			 "replaced)",
			 (long long)r->seq, (long long)r->seq - 1);
		return 1;
	}
	audit_hash(r->seq, r->at, &ev, v->prev, h);
	if (r->hash == NULL || sodium_memcmp(r->hash, h, AUDIT_HASHBYTES) != 0) {
		snprintf(v->bad, v->badlen, "record %lld: hash does not match its contents",
			 (long long)r->seq);
		return 1;
	}
	for (; v->next < v->ncp && v->cps[v->next].cp.seq == r->seq; v->next++) {
		if (sodium_memcmp(v->cps[v->next].cp.hash, h, AUDIT_HASHBYTES) != 0) {
			snprintf(
			    v->bad, v->badlen,
			    "record %lld: hash differs from the signed checkpoint (%s) at this "
			    "seq",
			    (long long)r->seq, v->cps[v->next].from);
			return 1;
		}
	}
	memcpy(v->prev, h, AUDIT_HASHBYTES);
	v->expect++;
	v->records++;
	return 0;
}

/* audit_verify_signatures - every checkpoint and anchor signed by PK; 0, or 1 (v->bad says) */
static int
audit_verify_signatures(struct audit_verify *v, const unsigned char pk[AUDIT_PKBYTES])
{
	char id[AUDIT_KEYIDLEN + 1];

	for (size_t i = 0; i < v->ncp; i++) {
		if (audit_checkpoint_verify(pk, &v->cps[i].cp) != 0) {
			audit_key_id(pk, id);
			snprintf(v->bad, v->badlen,
				 "checkpoint at record %lld (%s): signature does not verify with "
				 "public key %s (checkpoint key %s)",
				 (long long)v->cps[i].cp.seq, v->cps[i].from, id,
				 v->cps[i].cp.key_id);
			return 1;
		}
	}
	for (size_t i = 0; i < v->nanchors; i++) {
		if (audit_anchor_verify(pk, &v->anchors[i]) != 0) {
			snprintf(v->bad, v->badlen,
				 "purge anchor of records %lld to %lld: signature does not verify "
				 "with the public key",
				 (long long)v->anchors[i].first_seq,
				 (long long)v->anchors[i].through_seq);
			return 1;
		}
	}
	return 0;
}

/* audit_verify_walk - the records in batches; 0 walked (v->bad may hold a problem), -1 error */
static int
audit_verify_walk(struct db *db, struct audit_verify *v)
{
	int r;

	for (;;) {
		v->batch_rows = 0;
		r = db_audit_each_after(db, v->last_seen, AUDIT_VERIFY_BATCH, audit_verify_row, v);
		if (r == DB_ERROR)
			return -1;
		if (r != 0 || v->batch_rows < AUDIT_VERIFY_BATCH)
			return 0;
	}
}

int
audit_verify_run(struct db *db, const unsigned char pk[AUDIT_PKBYTES],
		 const struct audit_verify_extra *extra, size_t nextra,
		 struct audit_verify_result *res)
{
	struct audit_verify v;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.expect = 1;
	v.bad = res->problem;
	v.badlen = sizeof(res->problem);
	if (db_audit_checkpoint_each(db, audit_verify_cp_collect, &v) != DB_OK || v.nomem) {
		snprintf(res->problem, sizeof(res->problem), "cannot read the audit checkpoints");
		goto out;
	}
	for (size_t i = 0; i < nextra; i++)
		if (audit_verify_cp_add(&v, &extra[i].cp, extra[i].from) != 0)
			goto nomem;
	if (db_audit_anchor_each(db, audit_verify_anchor_collect, &v) != DB_OK || v.nomem) {
		snprintf(res->problem, sizeof(res->problem), "cannot read the audit purge anchors");
		goto out;
	}
	res->checkpoints = v.ncp;
	res->anchors = v.nanchors;
	if (v.ncp > 0) {
		qsort(v.cps, v.ncp, sizeof(*v.cps), audit_verify_cp_cmp);
		res->has_last_checkpoint = 1;
		res->last_checkpoint = v.cps[v.ncp - 1].cp;
		res->last_checkpoint_from = v.cps[v.ncp - 1].from;
	}
	rc = 0;
	if (audit_verify_signatures(&v, pk) != 0)
		goto done;
	if (audit_verify_walk(db, &v) != 0) {
		rc = -1;
		snprintf(res->problem, sizeof(res->problem), "cannot read the audit log");
		goto out;
	}
	if (res->problem[0] == '\0' && v.next < v.ncp)
		snprintf(res->problem, sizeof(res->problem),
			 "record %lld: missing (a signed checkpoint (%s) covers record %lld; the "
			 "log ends at %lld)",
			 (long long)v.expect, v.cps[v.ncp - 1].from,
			 (long long)v.cps[v.ncp - 1].cp.seq, (long long)v.expect - 1);
	if (res->problem[0] == '\0' && v.first > 1 && !v.purged_named)
		snprintf(
		    res->problem, sizeof(res->problem),
		    "record %lld: the log starts here, but no audit.purged record names record "
		    "%lld as the last one removed (records removed without an audit purge)",
		    (long long)v.first, (long long)v.first - 1);
done:
	res->ok = res->problem[0] == '\0';
	res->records = v.records;
	res->first_seq = v.records > 0 ? (v.first > 1 ? v.first : 1) : 0;
	res->last_seq = v.records > 0 ? v.expect - 1 : 0;
	memcpy(res->last_hash, v.prev, AUDIT_HASHBYTES);
	goto out;
nomem:
	snprintf(res->problem, sizeof(res->problem), "out of memory");
out:
	/* The checkpoint "from" names point into EXTRA or are static: nothing to free there. */
	free(v.cps);
	free(v.anchors);
	return rc;
}
