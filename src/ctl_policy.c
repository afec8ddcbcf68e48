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

#include "ctl.h"
#include "policy.h"
#include "util.h"

#define CTL_MAXITEMS 1000

static void
ctl_policy_usage(void)
{
	fputs("usage: okuructl policy check FILE\n"
	      "       okuructl policy explain --policy FILE --sender USER [--role ROLE]\n"
	      "                --recipient ADDR... [--file NAME:SIZE[:TYPE]]...\n"
	      "                [--verdict clean|unscannable|infected|error] [--encrypted]\n",
	      stderr);
	exit(2);
}

static const char *const ctl_outcomes[] = {"send", "hold", "approval", "blocked", "denied"};

static void
ctl_policy_line(const struct policy_decision *d, enum policy_part part, const char *value)
{
	printf("%-13s %-40s %s: %s\n", policy_part_name(part), value,
	       strcmp(d->rule[part], "default") == 0 ? "default" : d->rule[part], d->why[part]);
}

static int
ctl_policy_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},   {"sender", required_argument, NULL, 's'},
		{"role", required_argument, NULL, 'r'},	    {"recipient", required_argument, NULL, 't'},
		{"file", required_argument, NULL, 'f'},	    {"verdict", required_argument, NULL, 'v'},
		{"encrypted", no_argument, NULL, 'e'},	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *sender = NULL, *role = "sender", *verdict = "clean";
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
		case 'p': path = optarg; break;
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
	if (path == NULL || sender == NULL || nr == 0 || optind != argc)
		ctl_policy_usage();
	if (strcmp(verdict, "clean") != 0 && strcmp(verdict, "unscannable") != 0 &&
	    strcmp(verdict, "infected") != 0 && strcmp(verdict, "error") != 0)
		die("--verdict must be clean, unscannable, infected or error");
	for (size_t i = 0; i < nf; i++) {
		files[i].verdict = encrypted ? "unscannable" : verdict;
		files[i].encrypted = encrypted;
	}
	if (policy_load(path, &p, err, sizeof(err)) != 0)
		die("%s", err);
	rq = (struct policy_request){.sender = sender, .sender_role = role, .recipients = rcpts,
				     .nrecipients = nr, .files = files, .nfiles = nf};
	policy_eval(p, &rq, &d);
	o = policy_outcome(&d, &rq, why, sizeof(why));
	printf("outcome       %s: %s\n", ctl_outcomes[o], why);
	ctl_policy_line(&d, POLICY_DENY, d.deny ? "deny" : "allow");
	if (d.approvals > 0)
		snprintf(v, sizeof(v), "%d from %s, %s, %dh", d.approvals, d.approval_group,
			 d.approval_self ? "self allowed" : "not self", d.approval_hours);
	else
		snprintf(v, sizeof(v), "none");
	ctl_policy_line(&d, POLICY_APPROVAL, v);
	snprintf(v, sizeof(v), "%d minutes", d.delay_minutes);
	ctl_policy_line(&d, POLICY_DELAY, v);
	snprintf(v, sizeof(v), "%d days (at most %d)", d.expiry_days, d.max_expiry_days);
	ctl_policy_line(&d, POLICY_EXPIRY, v);
	snprintf(v, sizeof(v), "%d per recipient and file", d.download_limit);
	ctl_policy_line(&d, POLICY_DOWNLOADS, v);
	ctl_policy_line(&d, POLICY_VERIFICATION, d.verification);
	ctl_policy_line(&d, POLICY_UNSCANNABLE, d.allow_unscannable ? "allowed" : "blocked");
	ctl_policy_line(&d, POLICY_ENCRYPTED, d.allow_encrypted ? "allowed" : "blocked");
	snprintf(v, sizeof(v), "%d days after the end", d.retention_days);
	ctl_policy_line(&d, POLICY_RETENTION, v);
	/* Shown whether or not a rule acts on it. */
	for (size_t i = 0; i < nf; i++)
		if (policy_type_mismatch(p, &files[i], why, sizeof(why)))
			printf("%-13s %s\n", "mismatch", why);
	policy_free(p);
	return o == POLICY_DENIED || o == POLICY_BLOCKED ? 1 : 0;
}

/* cmd_policy - okuructl policy check|explain */
int
cmd_policy(int argc, char **argv)
{
	struct policy *p;
	struct policy_retention r;
	char err[600];

	if (argc >= 2 && strcmp(argv[1], "explain") == 0)
		return ctl_policy_explain(argc - 1, argv + 1);
	if (argc != 3 || strcmp(argv[1], "check") != 0)
		ctl_policy_usage();
	if (policy_load(argv[2], &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	policy_retention(p, &r);
	printf("%s: valid, %zu rules; content kept %d days after a transfer ends by default, "
	       "metadata %d days, audit records %d days\n",
	       argv[2], policy_nrules(p), r.content_days, r.metadata_days, r.audit_days);
	policy_free(p);
	return 0;
}
