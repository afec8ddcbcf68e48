/*
 * ctl_audit.c - okuructl's audit commands and its own audit records:
 *   audit keygen                      create audit.key / audit.pub (never overwrites)
 *   audit verify [--checkpoint FILE]... [--public-key FILE]
 *   audit checkpoint --out FILE       export the latest signed checkpoint
 *   audit export ...                  the records as CSV or JSONL (ctl_audit_export.c)
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
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "util.h"

#define CTL_AUDIT_MAXEXPORTED 64

/* ctl_audit - an admin-cli record: the OS user as actor; failing to record is fatal */
void
ctl_audit(struct db *db, const char *event, const char *object_kind, const char *object_id,
	  json_t *detail)
{
	struct passwd *pw = getpwuid(getuid());
	char uid[32];
	struct audit_actor who = {.kind = "admin-cli"};

	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)getuid());
	who.name = pw != NULL ? pw->pw_name : uid;
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
};

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

static int
ctl_verify_row(const struct db_audit_row *r, void *arg)
{
	struct ctl_verify *v = arg;
	struct audit_event ev = {r->actor_kind, r->actor, r->ip, r->user_agent, r->event,
				 r->object_kind, r->object_id, r->outcome, r->detail};
	unsigned char h[AUDIT_HASHBYTES];

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
	r = db_audit_each(db, ctl_verify_row, &v);
	if (r == DB_ERROR)
		die("cannot read the audit log");
	if (r == 0 && v.next < v.ncp)
		snprintf(v.bad, sizeof(v.bad),
			 "record %lld: missing (a signed checkpoint (%s) covers record %lld; the "
			 "log ends at %lld)",
			 (long long)v.expect, v.cps[v.ncp - 1].from, (long long)v.cps[v.ncp - 1].cp.seq,
			 (long long)v.expect - 1);
	free(v.cps);
	if (v.bad[0] != '\0') {
		printf("%s\n", v.bad);
		return 1;
	}
	sodium_bin2hex(hex, sizeof(hex), v.prev, AUDIT_HASHBYTES);
	printf("ok: %lld records, %zu checkpoints, last seq %lld hash %s\n", (long long)v.records,
	       nstored + nfiles, (long long)v.expect - 1, hex);
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

int
cmd_audit(const char *confpath, int argc, char **argv)
{
	static const struct option opts[] = {
		{"checkpoint", required_argument, NULL, 'k'},
		{"public-key", required_argument, NULL, 'p'},
		{"out", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
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
		else
			die("usage: okuructl -c CONF audit verify [--checkpoint FILE]... "
			    "[--public-key FILE] | checkpoint --out FILE | keygen");
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
	if (strcmp(argv[1], "verify") == 0 && out == NULL) {
		db = ctl_open_db(confpath, &c);
		rc = ctl_audit_verify(&c, db, pub, files, nfiles);
	} else if (strcmp(argv[1], "checkpoint") == 0 && out != NULL && nfiles == 0 &&
		   pub == NULL) {
		db = ctl_open_db(confpath, &c);
		rc = ctl_audit_export(&c, db, out);
	} else {
		die("usage: okuructl -c CONF audit verify [--checkpoint FILE]... [--public-key FILE] "
		    "| checkpoint --out FILE | keygen");
	}
	db_close(db);
	conf_free(&c);
	return rc;
}
