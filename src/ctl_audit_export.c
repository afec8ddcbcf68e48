/*
 * ctl_audit_export.c - okuructl audit export: the audit log (or a time
 * range or event of it) as CSV or JSON Lines, streamed row by row from
 * db_audit_query, so a log of millions of records needs no more memory
 * than one record.
 *   audit export [--from T] [--to T] [--event E] --format csv|jsonl [--out FILE]
 * CSV is for Excel: UTF-8 with a byte order mark (without it Excel reads
 * Japanese as mojibake), CRLF, RFC 4180 quoting and a formula guard
 * (audit_csv_field). JSONL has one record per line, as GET /api/v1/audit
 * gives it. --out creates a new file (0600: the log names people and
 * addresses) and never overwrites one; a failed export removes it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_export.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "db_audit_query.h"

#define CTL_EXPORT_USAGE                                                                           \
	"usage: okuructl -c CONF audit export [--from T] [--to T] [--event E] "                    \
	"--format csv|jsonl [--out FILE]"

struct ctl_export {
	FILE *out;
	int jsonl;
	int64_t rows;
};

#define CTL_EXPORT_FAILED 2

static int
ctl_export_row(const struct db_audit_row *r, void *arg)
{
	struct ctl_export *x = arg;
	json_t *o;
	int rc;

	if (!x->jsonl) {
		rc = audit_csv_row(x->out, r);
	} else {
		/* UTF-8 as is (no \u escapes): jq and Python read it, and people can too. */
		o = audit_row_json(r);
		rc = o == NULL || json_dumpf(o, x->out, JSON_COMPACT) != 0 ||
			     fputc('\n', x->out) == EOF
			 ? -1
			 : 0;
		json_decref(o);
	}
	if (rc != 0)
		return CTL_EXPORT_FAILED;
	x->rows++;
	return 0;
}

/* ctl_export_time - T for --from/--to, or die */
static int64_t
ctl_export_time(const char *opt, const char *s)
{
	int64_t v;

	if (audit_time_parse(s, &v) != 0)
		die("--%s must be YYYY-MM-DDTHH:MM:SSZ (UTC) or Unix seconds, not %s", opt, s);
	return v;
}

int
cmd_audit_export(const char *confpath, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'f'},  {"to", required_argument, NULL, 't'},
	    {"event", required_argument, NULL, 'e'}, {"format", required_argument, NULL, 'F'},
	    {"out", required_argument, NULL, 'o'},   {NULL, 0, NULL, 0},
	};
	struct db_audit_filter f;
	struct ctl_export x = {.out = stdout};
	const char *format = NULL, *outpath = NULL;
	struct conf c;
	struct db *db;
	int ch, fd, r, bad;

	memset(&f, 0, sizeof(f));
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'f') {
			f.has_from = 1;
			f.from = ctl_export_time("from", optarg);
		} else if (ch == 't') {
			f.has_to = 1;
			f.to = ctl_export_time("to", optarg);
		} else if (ch == 'e') {
			if (!db_audit_filter_event_ok(optarg))
				die("--event must be an event name (user.added) or a prefix "
				    "(user.*)");
			f.event = optarg;
		} else if (ch == 'F') {
			format = optarg;
		} else if (ch == 'o') {
			outpath = optarg;
		} else {
			die(CTL_EXPORT_USAGE);
		}
	}
	if (optind != argc)
		die("unexpected argument: %s", argv[optind]);
	if (format == NULL || (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0))
		die(CTL_EXPORT_USAGE);
	if (f.has_from && f.has_to && f.from >= f.to)
		die("--from must be before --to");
	x.jsonl = strcmp(format, "jsonl") == 0;
	db = ctl_open_db(confpath, &c);
	if (outpath != NULL) {
		fd = open(outpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		x.out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (x.out == NULL) {
			int e = errno;
			if (fd >= 0) {
				close(fd);
				unlink(outpath);
			}
			db_close(db);
			conf_free(&c);
			die("cannot create %s: %s%s", outpath, strerror(e),
			    e == EEXIST ? " (export never overwrites a file)" : "");
		}
	}
	bad = !x.jsonl && fputs("\xEF\xBB\xBF" AUDIT_CSV_HEADER "\r\n", x.out) == EOF;
	r = bad ? CTL_EXPORT_FAILED : db_audit_query(db, &f, ctl_export_row, &x);
	bad = r != DB_OK;
	if (fflush(x.out) != 0 || ferror(x.out))
		bad = 1;
	if (outpath != NULL) {
		if (fsync(fileno(x.out)) != 0 || fclose(x.out) != 0)
			bad = 1;
		if (bad)
			unlink(outpath);
	}
	db_close(db);
	conf_free(&c);
	if (bad && r == DB_ERROR)
		die("cannot read the audit log");
	if (bad)
		die("export failed: %s", strerror(errno));
	if (outpath != NULL)
		fprintf(stderr, "exported %lld records to %s\n", (long long)x.rows, outpath);
	return 0;
}
