/*
 * ctl_audit.c - okuructl's audit commands and its own audit records:
 *   audit keygen                      create audit.key / audit.pub (never overwrites)
 *   audit verify [--checkpoint FILE]... [--public-key FILE]
 *   audit checkpoint --out FILE       export the latest signed checkpoint
 *   audit export ...                  the records as CSV or JSONL (ctl_audit_export.c)
 *   audit purge [--dry-run] [--at TIME]  remove records older than the policy's
 *                                     retention.audit_days (audit_purge.c)
 * verify reads the whole log in seq order, recomputes every hash and
 * checks the chain, then every checkpoint against the record at its seq;
 * it prints the first problem as "record N: ..." and exits 1.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "audit_purge.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "policy.h"
#include "util.h"

#define CTL_AUDIT_MAXEXPORTED 64

/* ctl_actor - okuructl's audit actor: admin-cli, the OS user (or "uid:N", kept in UID) */
void
ctl_actor(struct audit_actor *who, char uid[32])
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(uid, 32, "uid:%lu", (unsigned long)getuid());
	*who = (struct audit_actor){.kind = "admin-cli", .name = pw != NULL ? pw->pw_name : uid};
}

/* ctl_audit - an admin-cli record: the OS user as actor; failing to record is fatal */
void
ctl_audit(struct db *db, const char *event, const char *object_kind, const char *object_id,
	  json_t *detail)
{
	char uid[32];
	struct audit_actor who;

	ctl_actor(&who, uid);
	if (db_audit_record(db, &who, event, object_kind, object_id, "ok", detail, util_now()) !=
	    DB_OK)
		die("cannot write the audit record %s", event);
}

struct ctl_cp {
	struct audit_checkpoint cp;
	const char *from; /* "stored" or the export file's name */
};

struct ctl_verify {
	struct ctl_cp *cps;
	size_t ncp, next;
	int64_t expect, records;
	unsigned char prev[AUDIT_HASHBYTES];
	char bad[512];
	/* A purged log starts at first > 1: signed purge anchors cover 1..first-1... */
	struct audit_anchor *anchors;
	size_t nanchors;
	int64_t first;
	unsigned char anchor_hash[AUDIT_HASHBYTES];
	/* ...and an audit.purged record in what is left names the last one. */
	int purged_named;
};

static int
ctl_anchor_collect(const struct audit_anchor *a, void *arg)
{
	struct ctl_verify *v = arg;
	void *n = realloc(v->anchors, (v->nanchors + 1) * sizeof(*v->anchors));

	if (n == NULL)
		die("out of memory");
	v->anchors = n;
	v->anchors[v->nanchors++] = *a;
	return 0;
}

static int
ctl_cp_cmp(const void *a, const void *b)
{
	const struct ctl_cp *x = a, *y = b;

	return x->cp.seq < y->cp.seq ? -1 : x->cp.seq > y->cp.seq;
}

static int
ctl_cp_collect(const struct audit_checkpoint *cp, void *arg)
{
	struct ctl_verify *v = arg;
	void *n = realloc(v->cps, (v->ncp + 1) * sizeof(*v->cps));

	if (n == NULL)
		die("out of memory");
	v->cps = n;
	v->cps[v->ncp].cp = *cp;
	v->cps[v->ncp].from = "stored";
	v->ncp++;
	return 0;
}

/*
 * ctl_verify_start - the log starts at record s > 1 (audit purges):
 * acceptable only when the signed purge anchors (signatures checked
 * already, in through_seq order) cover 1..s-1 without gap or overlap, each
 * removed only after its audit_days, the last holding record s's prev. An
 * ordinary checkpoint cannot serve: it is signed under another label.
 * Checkpoints of removed records are passed over, but one at s-1 that
 * disagrees with record s's prev is a second history and is reported.
 */
static int
ctl_verify_start(struct ctl_verify *v, const struct db_audit_row *r)
{
	int64_t s = r->seq, next = 1;
	const struct audit_anchor *last = NULL;

	v->first = s;
	for (size_t i = 0; i < v->nanchors && v->anchors[i].through_seq < s; i++) {
		const struct audit_anchor *a = &v->anchors[i];
		if (a->first_seq != next || a->through_seq < a->first_seq ||
		    a->through_at > a->purged_at - a->audit_days * 86400) {
			snprintf(v->bad, sizeof(v->bad),
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
		snprintf(v->bad, sizeof(v->bad),
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
			snprintf(v->bad, sizeof(v->bad),
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

/* ctl_verify_purged - 1 when r is the audit.purged record of everything before v->first */
static int
ctl_verify_purged(const struct ctl_verify *v, const struct db_audit_row *r)
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
ctl_verify_row(const struct db_audit_row *r, void *arg)
{
	struct ctl_verify *v = arg;
	struct audit_event ev = {r->actor_kind, r->actor, r->ip, r->user_agent, r->event,
				 r->object_kind, r->object_id, r->outcome, r->detail};
	unsigned char h[AUDIT_HASHBYTES];

	if (v->records == 0 && v->expect == 1 && r->seq > 1 && ctl_verify_start(v, r) != 0)
		return 1;
	if (v->first > 1 && !v->purged_named)
		v->purged_named = ctl_verify_purged(v, r);
	if (r->seq != v->expect) {
		snprintf(v->bad, sizeof(v->bad), "record %lld: missing (the next record is %lld)",
			 (long long)v->expect, (long long)r->seq);
		return 1;
	}
	if (r->prev == NULL || sodium_memcmp(r->prev, v->prev, AUDIT_HASHBYTES) != 0) {
		snprintf(v->bad, sizeof(v->bad),
			 "record %lld: its prev is not the hash of record %lld (reordered or "
			 "replaced)",
			 (long long)r->seq, (long long)r->seq - 1);
		return 1;
	}
	audit_hash(r->seq, r->at, &ev, v->prev, h);
	if (r->hash == NULL || sodium_memcmp(r->hash, h, AUDIT_HASHBYTES) != 0) {
		snprintf(v->bad, sizeof(v->bad), "record %lld: hash does not match its contents",
			 (long long)r->seq);
		return 1;
	}
	for (; v->next < v->ncp && v->cps[v->next].cp.seq == r->seq; v->next++) {
		if (sodium_memcmp(v->cps[v->next].cp.hash, h, AUDIT_HASHBYTES) != 0) {
			snprintf(v->bad, sizeof(v->bad),
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

static int
ctl_audit_verify(const struct conf *c, struct db *db, const char *pubpath, char **files,
		 size_t nfiles)
{
	unsigned char pk[AUDIT_PKBYTES];
	char err[1024], hex[2 * AUDIT_HASHBYTES + 1];
	struct ctl_verify v;
	size_t nstored;
	int r;

	memset(&v, 0, sizeof(v));
	v.expect = 1;
	if (audit_pub_load(pubpath ? pubpath : c->audit_public_key, pk, err, sizeof(err)) != 0)
		die("%s", err);
	if (db_audit_checkpoint_each(db, ctl_cp_collect, &v) != DB_OK)
		die("cannot read the audit checkpoints");
	nstored = v.ncp;
	for (size_t i = 0; i < nfiles; i++) {
		struct audit_checkpoint cp;
		if (audit_checkpoint_read(files[i], &cp, err, sizeof(err)) != 0)
			die("%s", err);
		ctl_cp_collect(&cp, &v);
		v.cps[v.ncp - 1].from = files[i];
	}
	for (size_t i = 0; i < v.ncp; i++) {
		if (audit_checkpoint_verify(pk, &v.cps[i].cp) != 0) {
			char id[AUDIT_KEYIDLEN + 1];
			audit_key_id(pk, id);
			printf("checkpoint at record %lld (%s): signature does not verify with "
			       "public key %s (checkpoint key %s)\n",
			       (long long)v.cps[i].cp.seq, v.cps[i].from, id, v.cps[i].cp.key_id);
			free(v.cps);
			return 1;
		}
	}
	if (v.ncp > 0)
		qsort(v.cps, v.ncp, sizeof(*v.cps), ctl_cp_cmp);
	if (db_audit_anchor_each(db, ctl_anchor_collect, &v) != DB_OK)
		die("cannot read the audit purge anchors");
	for (size_t i = 0; i < v.nanchors; i++) {
		if (audit_anchor_verify(pk, &v.anchors[i]) != 0) {
			printf("purge anchor of records %lld to %lld: signature does not verify "
			       "with the public key\n",
			       (long long)v.anchors[i].first_seq, (long long)v.anchors[i].through_seq);
			free(v.cps);
			free(v.anchors);
			return 1;
		}
	}
	r = db_audit_each(db, ctl_verify_row, &v);
	if (r == DB_ERROR)
		die("cannot read the audit log");
	if (r == 0 && v.next < v.ncp)
		snprintf(v.bad, sizeof(v.bad),
			 "record %lld: missing (a signed checkpoint (%s) covers record %lld; the "
			 "log ends at %lld)",
			 (long long)v.expect, v.cps[v.ncp - 1].from, (long long)v.cps[v.ncp - 1].cp.seq,
			 (long long)v.expect - 1);
	if (r == 0 && v.bad[0] == '\0' && v.first > 1 && !v.purged_named)
		snprintf(v.bad, sizeof(v.bad),
			 "record %lld: the log starts here, but no audit.purged record names record "
			 "%lld as the last one removed (records removed without an audit purge)",
			 (long long)v.first, (long long)v.first - 1);
	if (v.bad[0] != '\0') {
		printf("%s\n", v.bad);
		free(v.cps);
		free(v.anchors);
		return 1;
	}
	sodium_bin2hex(hex, sizeof(hex), v.prev, AUDIT_HASHBYTES);
	printf("ok: %lld records, %zu checkpoints, last seq %lld hash %s\n", (long long)v.records,
	       nstored + nfiles, (long long)v.expect - 1, hex);
	if (v.first > 1)
		printf("records 1 to %lld were purged (audit.purged); the log starts at %lld, "
		       "anchored by %zu signed purge anchor(s)\n",
		       (long long)v.first - 1, (long long)v.first, v.nanchors);
	free(v.cps);
	free(v.anchors);
	return 0;
}

static int
ctl_audit_export(const struct conf *c, struct db *db, const char *out)
{
	struct audit_checkpoint cp;
	unsigned char pk[AUDIT_PKBYTES];
	char err[1024];
	int r = db_audit_checkpoint_last(db, &cp);

	if (r == DB_NOTFOUND)
		die("no checkpoint yet: okurud signs one every audit.checkpoint_interval seconds and "
		    "at shutdown");
	if (r != DB_OK)
		die("cannot read the audit checkpoints");
	if (audit_pub_load(c->audit_public_key, pk, err, sizeof(err)) != 0)
		die("%s", err);
	if (audit_checkpoint_verify(pk, &cp) != 0)
		die("the latest checkpoint (record %lld) does not verify with %s; not exported",
		    (long long)cp.seq, c->audit_public_key);
	if (audit_checkpoint_write(out, &cp) != 0)
		die("%s: %s (an existing file is never replaced)", out, strerror(errno));
	printf("checkpoint of record %lld exported to %s\n", (long long)cp.seq, out);
	return 0;
}

/* ctl_audit_purge_line - what an audit purge removes (or would), one line */
static void
ctl_audit_purge_line(const struct db_audit_purge *p, int audit_days, int dry)
{
	char cutoff[32], through[32];

	util_time_iso(p->cutoff, cutoff);
	if (p->through_seq == 0) {
		printf("audit    no records older than %s (audit_days %d) %s\n", cutoff, audit_days,
		       dry ? "would be purged" : "to purge");
		return;
	}
	util_time_iso(p->through_at, through);
	printf("audit    records %lld to %lld (%lld, the last of %s) %s: older than %s "
	       "(audit_days %d)\n",
	       (long long)p->first_seq, (long long)p->through_seq, (long long)p->records, through,
	       dry ? "would be purged" : "purged", cutoff, audit_days);
}

/* ctl_audit_days - retention.audit_days of the policy file okuru.conf names */
static int
ctl_audit_days(const struct conf *c)
{
	struct policy_retention pr;
	struct policy *pol;
	char err[1024];

	if (policy_load(c->policy_file, &pol, err, sizeof(err)) != 0)
		die("%s", err);
	policy_retention(pol, &pr);
	policy_free(pol);
	return pr.audit_days;
}

/* ctl_audit_purge_dry - the audit line of "okuructl purge --dry-run" (ctl_purge.c) */
void
ctl_audit_purge_dry(struct db *db, const struct conf *c, int64_t at)
{
	struct db_audit_purge p;
	int days = ctl_audit_days(c);

	if (audit_purge_now(db, NULL, c, NULL, days, at, 1, &p) < 0)
		die("cannot read the audit log");
	ctl_audit_purge_line(&p, days, 1);
}

/* ctl_audit_purge - audit purge [--dry-run] [--at TIME], as admin-cli */
static int
ctl_audit_purge(const struct conf *c, struct db *db, int dry, int64_t at)
{
	struct passwd *pw = getpwuid(getuid());
	char uid[32], err[1024];
	struct audit_actor who;
	struct audit_signer *s = NULL;
	struct db_audit_purge p;
	int days = ctl_audit_days(c), r;

	if (dry) {
		ctl_audit_purge_dry(db, c, at);
		return 0;
	}
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)getuid());
	who = (struct audit_actor){.kind = "admin-cli", .name = pw != NULL ? pw->pw_name : uid};
	/* The anchor checkpoint is signed here: the signing key must be readable. */
	if (audit_signer_load(c->audit_signing_key, &s, err, sizeof(err)) != 0)
		die("%s", err);
	r = audit_purge_now(db, s, c, &who, days, at, 0, &p);
	audit_signer_free(s);
	if (r < 0)
		die("the audit purge failed; nothing was removed");
	ctl_audit_purge_line(&p, days, 0);
	return 0;
}

int
cmd_audit(const char *confpath, int argc, char **argv)
{
	static const struct option opts[] = {
		{"checkpoint", required_argument, NULL, 'k'},
		{"public-key", required_argument, NULL, 'p'},
		{"out", required_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, 'n'},
		{"at", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	int64_t at = util_now();
	int dry = 0, purgeopt = 0;
	char *files[CTL_AUDIT_MAXEXPORTED];
	const char *pub = NULL, *out = NULL;
	size_t nfiles = 0;
	struct conf c;
	struct db *db;
	char err[1024];
	int ch, rc;

	if (argc < 2)
		die("usage: okuructl -c CONF audit verify|checkpoint|keygen|export ...");
	if (strcmp(argv[1], "export") == 0)
		return cmd_audit_export(confpath, argc, argv); /* ctl_audit_export.c */
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k' && nfiles < CTL_AUDIT_MAXEXPORTED)
			files[nfiles++] = optarg;
		else if (ch == 'p')
			pub = optarg;
		else if (ch == 'o')
			out = optarg;
		else if (ch == 'n')
			dry = purgeopt = 1;
		else if (ch == 'a' && util_time_parse(optarg, &at) == 0)
			purgeopt = 1;
		else
			die("usage: okuructl -c CONF audit verify [--checkpoint FILE]... "
			    "[--public-key FILE] | checkpoint --out FILE | keygen | "
			    "purge [--dry-run] [--at YYYY-MM-DDTHH:MM:SSZ]");
	}
	if (optind != argc)
		die("unexpected argument: %s", argv[optind]);
	if (strcmp(argv[1], "keygen") == 0 && nfiles == 0 && pub == NULL && out == NULL) {
		if (confpath == NULL)
			die("-c CONF is required");
		if (conf_load(confpath, &c, err, sizeof(err)) != 0)
			die("%s", err);
		if (audit_keygen(c.audit_signing_key, c.audit_public_key, err, sizeof(err)) != 0)
			die("%s", err);
		printf("audit signing key %s\naudit public key %s (give a copy to the auditors)\n",
		       c.audit_signing_key, c.audit_public_key);
		conf_free(&c);
		return 0;
	}
	if (strcmp(argv[1], "purge") == 0 && nfiles == 0 && pub == NULL && out == NULL) {
		db = ctl_open_db(confpath, &c);
		rc = ctl_audit_purge(&c, db, dry, at);
	} else if (purgeopt) {
		die("--dry-run and --at go with audit purge");
	} else if (strcmp(argv[1], "verify") == 0 && out == NULL) {
		db = ctl_open_db(confpath, &c);
		rc = ctl_audit_verify(&c, db, pub, files, nfiles);
	} else if (strcmp(argv[1], "checkpoint") == 0 && out != NULL && nfiles == 0 &&
		   pub == NULL) {
		db = ctl_open_db(confpath, &c);
		rc = ctl_audit_export(&c, db, out);
	} else {
		die("usage: okuructl -c CONF audit verify [--checkpoint FILE]... [--public-key FILE] "
		    "| checkpoint --out FILE | keygen | purge [--dry-run] [--at TIME]");
	}
	db_close(db);
	conf_free(&c);
	return rc;
}
