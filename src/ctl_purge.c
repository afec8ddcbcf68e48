/*
 * ctl_purge.c - retention from the administrator's shell:
 *   okuructl -c CONF purge --dry-run [--at TIME]   what okurud's purger would
 *       purge at TIME (default now) and why, and what a legal hold keeps;
 *   okuructl -c CONF hold place|lift TRANSFER --by USER --reason TEXT
 *   okuructl -c CONF hold list [TRANSFER]
 * Purging itself is okurud's job (purger.c): there is no way to purge from
 * here. The dry run reads the policy file okuru.conf names, which is the
 * one okurud uses unless it was edited since okurud's last start or SIGHUP.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "policy.h"
#include "retention.h"
#include "util.h"

static _Noreturn void
ctl_purge_usage(void)
{
	fputs("usage: okuructl -c CONF purge --dry-run [--at YYYY-MM-DDTHH:MM:SSZ]\n"
	      "       okuructl -c CONF hold place|lift TRANSFER --by USER --reason TEXT\n"
	      "       okuructl -c CONF hold list [TRANSFER]\n",
	      stderr);
	exit(2);
}

struct ctl_dry {
	int64_t at;
	struct retention_policy rp;
	int content, metadata, held;
};

/* ctl_dry_line - one line per purge a transfer would undergo at the given time */
static void
ctl_dry_line(const char *kind, const char *tid, int64_t due, const struct retention_due *d,
	     int metadata)
{
	char when[32], why[200];

	util_time_iso(due, when);
	retention_describe(d, metadata, why, sizeof(why));
	printf("%-8s %s due %s: %s\n", kind, tid, when, why);
}

static int
ctl_dry_cb(const struct db_retention_row *r, void *arg)
{
	struct ctl_dry *x = arg;
	struct retention_input in;
	struct retention_due d;
	int content, metadata;

	db_retention_input(r, &in);
	retention_compute(&in, &x->rp, &d);
	if (d.end == 0)
		return 0;
	content = r->content_purged_at == 0 && d.content_due <= x->at;
	metadata = d.metadata_due <= x->at && (r->content_purged_at != 0 || content);
	if (r->held) {
		char since[32];
		if (!content && !metadata)
			return 0;
		util_time_iso(r->hold_at, since);
		ctl_dry_line("held", r->id, content ? d.content_due : d.metadata_due, &d, !content);
		printf("         %s kept: legal hold placed by %s at %s: \"%s\"\n", r->id,
		       r->hold_by, since, r->hold_reason);
		x->held++;
		return 0;
	}
	if (content) {
		ctl_dry_line("content", r->id, d.content_due, &d, 0);
		x->content++;
	}
	if (metadata) {
		ctl_dry_line("metadata", r->id, d.metadata_due, &d, 1);
		x->metadata++;
	}
	return 0;
}

/* cmd_purge - purge --dry-run [--at TIME]; exit 0 */
int
cmd_purge(const char *confpath, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"at", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_dry x = {.at = util_now()};
	struct policy *pol;
	struct policy_decision pd;
	struct policy_retention pr;
	struct conf c;
	struct db *db;
	char err[1024], when[32];
	int dry = 0, ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'n')
			dry = 1;
		else if (ch == 'a' && util_time_parse(optarg, &x.at) == 0)
			continue;
		else if (ch == 'a') {
			fprintf(stderr, "okuructl: --at %s: want YYYY-MM-DDTHH:MM:SSZ (UTC)\n",
				optarg);
			exit(2);
		} else
			ctl_purge_usage();
	}
	if (optind != argc)
		ctl_purge_usage();
	if (!dry) {
		fputs("okuructl: purge only has --dry-run: okurud purges by itself every "
		      "retention.interval seconds (see okuructl(8))\n",
		      stderr);
		exit(2);
	}
	db = ctl_open_db(confpath, &c);
	if (policy_load(c.policy_file, &pol, err, sizeof(err)) != 0)
		die("%s", err);
	policy_defaults(pol, &pd);
	policy_retention(pol, &pr);
	policy_free(pol);
	x.rp = (struct retention_policy){.content_days = pd.retention_days,
					 .max_expiry_days = pd.max_expiry_days,
					 .metadata_days = pr.metadata_days};
	if (db_retention_due(db, &x.rp, x.at, 1, INT_MAX, ctl_dry_cb, &x) != DB_OK)
		die("cannot read the database");
	util_time_iso(x.at, when);
	printf("# at %s: content of %d transfer(s) and records of %d would be purged; "
	       "%d kept by a legal hold\n",
	       when, x.content, x.metadata, x.held);
	ctl_audit_purge_dry(db, &c, x.at); /* the audit log's own retention (ctl_audit.c) */
	db_close(db);
	conf_free(&c);
	return 0;
}

static int
ctl_hold_cb(const struct db_hold *h, void *arg)
{
	char placed[32], lifted[32];

	(void)arg;
	util_time_iso(h->placed_at, placed);
	printf("%s placed %s by %s: \"%s\"", h->transfer_id, placed, h->placed_by, h->reason);
	if (h->lifted_at == 0) {
		printf("; active\n");
		return 0;
	}
	util_time_iso(h->lifted_at, lifted);
	printf("; lifted %s by %s: \"%s\"\n", lifted, h->lifted_by, h->lift_reason);
	return 0;
}

/* ctl_hold_change - hold place|lift TRANSFER --by USER --reason TEXT */
static int
ctl_hold_change(struct db *db, int lift, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"reason", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	const char *tid = argv[2], *by = NULL, *reason = NULL;
	struct db_user u;
	struct audit_actor who;
	struct passwd *pw;
	char uid[32];
	int ch, r;

	optind = 3;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'b')
			by = optarg;
		else if (ch == 'r')
			reason = optarg;
		else
			ctl_purge_usage();
	}
	if (by == NULL || reason == NULL || optind != argc)
		ctl_purge_usage();
	if (!util_id_valid(tid))
		die("%s is not a transfer id (32 lowercase hex digits)", tid);
	if (!retention_reason_ok(reason))
		die("--reason must be 1 to 1000 bytes of UTF-8 without control characters");
	r = db_user_find(db, by, &u);
	if (r == DB_NOTFOUND)
		die("no such user: %s", by);
	if (r != DB_OK)
		die("cannot read the database");
	if (strcmp(u.role, "admin") != 0 && strcmp(u.role, "auditor") != 0)
		die("%s is a %s: only admins and auditors may place or lift a legal hold", u.name,
		    u.role);
	/* The actor is the OS user, as in ctl_audit; --by is named in the detail. */
	pw = getpwuid(getuid());
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)getuid());
	who = (struct audit_actor){.kind = "admin-cli", .name = pw != NULL ? pw->pw_name : uid};
	r = lift ? db_hold_lift(db, tid, u.id, reason, util_now(), &who)
		 : db_hold_place(db, tid, u.id, reason, util_now(), &who);
	if (r == DB_NOTFOUND)
		die("no such transfer: %s", tid);
	if (r == DB_CONFLICT)
		die(lift ? "transfer %s is not under legal hold"
			 : "transfer %s is already under legal hold",
		    tid);
	if (r != DB_OK)
		die("cannot write to the database");
	printf("legal hold %s on transfer %s by %s\n", lift ? "lifted" : "placed", tid, u.name);
	return 0;
}

/* cmd_hold - hold place|lift|list */
int
cmd_hold(const char *confpath, int argc, char **argv)
{
	struct conf c;
	struct db *db;
	int rc = 0;

	if (argc < 2)
		ctl_purge_usage();
	if (strcmp(argv[1], "list") == 0) {
		if (argc > 3 || (argc == 3 && !util_id_valid(argv[2])))
			ctl_purge_usage();
		db = ctl_open_db(confpath, &c);
		if (argc == 3) {
			struct db_transfer t;
			int r = db_transfer_get(db, argv[2], &t);
			if (r == DB_NOTFOUND)
				die("no such transfer: %s", argv[2]);
			if (r != DB_OK)
				die("cannot read the database");
			db_transfer_free(&t);
		}
		if (db_hold_list(db, argc == 3 ? argv[2] : NULL, ctl_hold_cb, NULL) != DB_OK)
			die("cannot read the database");
	} else if ((strcmp(argv[1], "place") == 0 || strcmp(argv[1], "lift") == 0) && argc >= 3) {
		db = ctl_open_db(confpath, &c);
		rc = ctl_hold_change(db, strcmp(argv[1], "lift") == 0, argc, argv);
	} else {
		ctl_purge_usage();
	}
	db_close(db);
	conf_free(&c);
	return rc;
}
