/*
 * ctl_audit.c - okuructl's audit commands and its own audit records:
 *   audit keygen                      create audit.key / audit.pub (never overwrites)
 *   audit verify [--checkpoint FILE]... [--public-key FILE]
 *   audit checkpoint --out FILE       export the latest signed checkpoint
 *   audit export ...                  the records as CSV or JSONL (ctl_audit_export.c)
 *   audit purge [--dry-run] [--at TIME]  remove records older than the policy's
 *                                     retention.audit_days (audit_purge.c)
 * verify reads the whole log in seq order, recomputes every hash and
 * checks the chain, then every checkpoint against the record at its seq
 * (audit_verify.c, shared with GET /api/v1/audit/verify); it prints the
 * first problem as "record N: ..." and exits 1.
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
#include "audit_verify.h"
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

static int
ctl_audit_verify(const struct conf *c, struct db *db, const char *pubpath, char **files,
		 size_t nfiles)
{
	static struct audit_verify_extra extra[CTL_AUDIT_MAXEXPORTED];
	struct audit_verify_result res;
	unsigned char pk[AUDIT_PKBYTES];
	char err[1024], hex[2 * AUDIT_HASHBYTES + 1];

	if (audit_pub_load(pubpath ? pubpath : c->audit_public_key, pk, err, sizeof(err)) != 0)
		die("%s", err);
	for (size_t i = 0; i < nfiles; i++) {
		if (audit_checkpoint_read(files[i], &extra[i].cp, err, sizeof(err)) != 0)
			die("%s", err);
		extra[i].from = files[i];
	}
	/* The verification itself is shared with GET /api/v1/audit/verify (audit_verify.c). */
	if (audit_verify_run(db, pk, extra, nfiles, &res) != 0)
		die("%s", res.problem);
	if (!res.ok) {
		printf("%s\n", res.problem);
		return 1;
	}
	sodium_bin2hex(hex, sizeof(hex), res.last_hash, AUDIT_HASHBYTES);
	printf("ok: %lld records, %zu checkpoints, last seq %lld hash %s\n", (long long)res.records,
	       res.checkpoints, (long long)res.last_seq, hex);
	if (res.first_seq > 1)
		printf("records 1 to %lld were purged (audit.purged); the log starts at %lld, "
		       "anchored by %zu signed purge anchor(s)\n",
		       (long long)res.first_seq - 1, (long long)res.first_seq, res.anchors);
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
