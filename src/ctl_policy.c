/*
 * ctl_policy.c - okuructl policy check FILE and okuructl policy explain:
 * validate a policy file (errors with file:line), and show for a made-up
 * send which rule decides each part and why (a dry run for compliance),
 * and which files' detected types contradict their extensions.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "policy.h"
#include "policy_dump.h"
#include "util.h"

#define CTL_MAXITEMS 1000

static void
ctl_policy_usage(void)
{
	fputs("usage: okuructl policy check FILE\n"
	      "       okuructl [-c CONF] policy explain [--policy FILE] --sender USER\n"
	      "                [--role ROLE] [--group GROUP]... --recipient ADDR...\n"
	      "                [--file NAME:SIZE[:TYPE]]...\n"
	      "                [--verdict clean|unscannable|infected|error] [--encrypted]\n",
	      stderr);
	exit(2);
}

static void
ctl_policy_line(const struct policy_decision *d, enum policy_part part, const char *value)
{
	printf("%-13s %-40s %s: %s\n", policy_part_name(part), value,
	       strcmp(d->rule[part], "default") == 0 ? "default" : d->rule[part], d->why[part]);
}

/*
 * ctl_policy_sender - with a configuration, the sender's role and groups
 * come from the database unless given; without one they are what was given.
 */
static void
ctl_policy_sender(const char *confpath, const char *sender, const char **role,
		  const char **groups, size_t *ng, char **path)
{
	static char gbuf[DB_MAXGROUPS][DB_GROUPMAX + 1];
	static char rbuf[16];
	struct conf c;
	struct db *db;
	struct db_user u;
	char err[1024];
	size_t n = 0;

	if (confpath == NULL)
		return;
	if (conf_load(confpath, &c, err, sizeof(err)) != 0)
		die("%s", err);
	if (*path == NULL && (*path = strdup(c.policy_file)) == NULL)
		die("out of memory");
	if (db_open(c.database, 0, &db, err, sizeof(err)) != 0)
		die("%s", err);
	if (db_user_find(db, sender, &u) == DB_OK) {
		if (*role == NULL) {
			snprintf(rbuf, sizeof(rbuf), "%s", u.role);
			*role = rbuf;
		}
		if (*ng == 0 && db_user_groups(db, u.id, gbuf, &n) == DB_OK) {
			for (size_t i = 0; i < n; i++)
				groups[i] = gbuf[i];
			*ng = n;
		}
	} else if (*role == NULL) {
		fprintf(stderr, "okuructl: note: no user %s in the database; role sender, "
				"no groups\n", sender);
	}
	db_close(db);
	conf_free(&c);
}

static int
ctl_policy_explain(const char *confpath, int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},   {"sender", required_argument, NULL, 's'},
		{"role", required_argument, NULL, 'r'},	    {"recipient", required_argument, NULL, 't'},
		{"file", required_argument, NULL, 'f'},	    {"verdict", required_argument, NULL, 'v'},
		{"encrypted", no_argument, NULL, 'e'},	    {"group", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	const char *sender = NULL, *role = NULL, *verdict = "clean";
	const char *groups[DB_MAXGROUPS];
	char *path = NULL;
	size_t ng = 0;
	static const char *rcpts[CTL_MAXITEMS];
	static struct policy_file files[CTL_MAXITEMS];
	static char specs[CTL_MAXITEMS][600];
	size_t nr = 0, nf = 0;
	int encrypted = 0, ch;
	struct policy *p;
	struct policy_decision d;
	struct policy_request rq;
	char err[600], why[400], v[120];
	enum policy_outcome o;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			free(path);
			if ((path = strdup(optarg)) == NULL)
				die("out of memory");
			break;
		case 'g':
			if (ng == DB_MAXGROUPS)
				die("at most %d --group", DB_MAXGROUPS);
			groups[ng++] = optarg;
			break;
		case 's': sender = optarg; break;
		case 'r': role = optarg; break;
		case 'v': verdict = optarg; break;
		case 'e': encrypted = 1; break;
		case 't':
			if (nr == CTL_MAXITEMS || util_mailbox_ok(optarg) != 0)
				die("--recipient %s: not a plain address (user@domain)", optarg);
			rcpts[nr++] = optarg;
			break;
		case 'f': {
			char *c1, *c2;
			int64_t size;
			if (nf == CTL_MAXITEMS || strlen(optarg) >= sizeof(specs[0]))
				die("--file %s: too long or too many", optarg);
			snprintf(specs[nf], sizeof(specs[nf]), "%s", optarg);
			c1 = strchr(specs[nf], ':');
			if (c1 == NULL)
				die("--file %s: want NAME:SIZE[:TYPE]", optarg);
			*c1++ = '\0';
			c2 = strchr(c1, ':');
			if (c2 != NULL)
				*c2++ = '\0';
			if (specs[nf][0] == '\0' || util_bytes_parse(c1, 1LL << 50, &size) != 0)
				die("--file %s: want NAME:SIZE[:TYPE], SIZE like 1048576 or 10M", optarg);
			files[nf] = (struct policy_file){.name = specs[nf], .size = size,
							 .type = c2 ? c2 : ""};
			nf++;
			break;
		}
		default: ctl_policy_usage();
		}
	}
	if (sender == NULL || nr == 0 || optind != argc)
		ctl_policy_usage();
	ctl_policy_sender(confpath, sender, &role, groups, &ng, &path);
	if (path == NULL)
		die("--policy FILE is needed without -c CONF");
	if (role == NULL)
		role = "sender";
	if (strcmp(verdict, "clean") != 0 && strcmp(verdict, "unscannable") != 0 &&
	    strcmp(verdict, "infected") != 0 && strcmp(verdict, "error") != 0)
		die("--verdict must be clean, unscannable, infected or error");
	for (size_t i = 0; i < nf; i++) {
		files[i].verdict = encrypted ? "unscannable" : verdict;
		files[i].encrypted = encrypted;
	}
	if (policy_load(path, &p, err, sizeof(err)) != 0)
		die("%s", err);
	rq = (struct policy_request){.sender = sender, .sender_role = role,
				     .sender_groups = groups, .ngroups = ng, .recipients = rcpts,
				     .nrecipients = nr, .files = files, .nfiles = nf};
	policy_eval(p, &rq, &d);
	o = policy_outcome(&d, &rq, why, sizeof(why));
	printf("outcome       %s: %s\n", policy_outcome_name(o), why);
	for (int part = 0; part < POLICY_NPARTS; part++) {
		policy_part_value(&d, (enum policy_part)part, v, sizeof(v));
		ctl_policy_line(&d, (enum policy_part)part, v);
	}
	/* Shown whether or not a rule acts on it. */
	for (size_t i = 0; i < nf; i++)
		if (policy_type_mismatch(p, &files[i], why, sizeof(why)))
			printf("%-13s %s\n", "mismatch", why);
	policy_free(p);
	free(path);
	return o == POLICY_DENIED || o == POLICY_BLOCKED ? 1 : 0;
}

/* cmd_policy - okuructl policy check|explain */
int
cmd_policy(const char *confpath, int argc, char **argv)
{
	struct policy *p;
	char err[600], line[4400];

	if (argc >= 2 && strcmp(argv[1], "explain") == 0)
		return ctl_policy_explain(confpath, argc - 1, argv + 1);
	if (argc != 3 || strcmp(argv[1], "check") != 0)
		ctl_policy_usage();
	if (policy_load(argv[2], &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* The same sentence GET /api/v1/admin/status shows (policy_dump.c). */
	policy_summary(p, argv[2], line, sizeof(line));
	printf("%s\n", line);
	policy_free(p);
	return 0;
}
