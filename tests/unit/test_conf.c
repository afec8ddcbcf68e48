/*
 * test_conf.c - unit tests for the okuru.conf loader (conf.c): the embedded
 * defaults, paths made absolute (data_dir against the file's directory, the
 * rest against data_dir), listen address forms, and the refusals, each
 * reported as "FILE:LINE: what": syntax errors, unknown (misspelt) settings,
 * wrong types, out-of-range limits, a non-https public_url, a non-SMTP
 * smtp.url and an unknown log level. Also conf_quote_ok(). Each test writes
 * its files in its own temporary directory, removed afterwards.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tmpdir.h"

struct fixture {
	char dir[256];		/* as created */
	char real[PATH_MAX];	/* realpath(dir), what conf.c reports */
	char path[PATH_MAX];	/* dir/okuru.conf */
	char err[1024];
	struct conf c;
};

/* fx_setup - a fresh temporary directory per test, and the file's name in it */
static int
fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (tmpdir_make(fx->dir, sizeof(fx->dir), "conf") != 0) {
		free(fx);
		return -1;
	}
	if (realpath(fx->dir, fx->real) == NULL ||
	    snprintf(fx->path, sizeof(fx->path), "%s/okuru.conf", fx->dir) >=
		(int)sizeof(fx->path)) {
		tmpdir_remove(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

/* fx_teardown - free the loaded configuration, remove everything the test made */
static int
fx_teardown(void **state)
{
	struct fixture *fx = *state;

	conf_free(&fx->c);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* load - write text as the configuration file and load it */
static int
load(struct fixture *fx, const char *text)
{
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	conf_free(&fx->c);
	fx->err[0] = '\0';
	return conf_load(fx->path, &fx->c, fx->err, sizeof(fx->err));
}

/* joined - fx->real + "/" + rest */
static const char *
joined(struct fixture *fx, const char *rest, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", fx->real, rest);

	assert_true(n > 0 && n < PATH_MAX);
	return out;
}

/* load_ok - text loads; fail with the loader's message if not */
static void
load_ok(struct fixture *fx, const char *text)
{
	if (load(fx, text) != 0)
		fail_msg("refused: %s\n--- config ---\n%s", fx->err, text);
}

/* load_bad - text is refused with exactly "REALPATH:LINE: what" (what a prefix) */
static void
load_bad(struct fixture *fx, const char *text, int line, const char *what)
{
	char want[PATH_MAX + 256];

	if (load(fx, text) == 0)
		fail_msg("accepted:\n%s", text);
	if (line > 0)
		snprintf(want, sizeof(want), "%s/okuru.conf:%d: %s", fx->real, line, what);
	else
		snprintf(want, sizeof(want), "%s/okuru.conf: %s", fx->real, what);
	if (strncmp(fx->err, want, strlen(want)) != 0)
		fail_msg("error \"%s\", expected it to begin \"%s\"", fx->err, want);
	/* a refused load leaves nothing behind */
	assert_null(fx->c.path);
	assert_null(fx->c.listen_host);
	assert_null(fx->c.data_dir);
}

/* test_defaults - an empty file means every default */
static void
test_defaults(void **state)
{
	struct fixture *fx = *state;
	char p[PATH_MAX];
	struct conf *c = &fx->c;

	load_ok(fx, "# nothing set\n");
	assert_string_equal(c->path, joined(fx, "okuru.conf", p));
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8443);
	assert_string_equal(c->public_url, "https://localhost:8443");
	assert_int_equal(c->max_file_size, 2000LL * 1024 * 1024);
	assert_int_equal(c->max_files_per_transfer, 100);
	assert_int_equal(c->max_connections, 256);
	assert_int_equal(c->max_per_ip, 32);
	assert_int_equal(c->header_timeout, 10);
	assert_int_equal(c->idle_timeout, 60);
	assert_int_equal(c->min_body_rate, 4096);
	assert_int_equal(c->rate_window, 20);
	assert_int_equal(c->max_json_bytes, 65536);
	assert_int_equal(c->max_header_bytes, 16384);
	assert_int_equal(c->drain_timeout, 30);
	assert_int_equal(c->threads_stack_kib, 0);
	assert_int_equal(c->log_syslog, 0);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_string_equal(c->tls_priorities, CONF_DEFAULT_PRIORITIES);
	assert_string_equal(c->clamav_db, "/var/lib/clamav");
	assert_int_equal(c->clamav_allow_test, 0);
	assert_int_equal(c->clamav_max_file_size, 2000LL << 20);
	assert_int_equal(c->clamav_max_scan_size, 4000LL << 20);
	assert_int_equal(c->clamav_max_recursion, 17);
	assert_int_equal(c->clamav_max_files, 10000);
	assert_int_equal(c->clamav_check_interval, 60);
	assert_int_equal(c->scanner_workers, 1);
	assert_int_equal(c->scanner_timeout, 600);
	assert_int_equal(c->scanner_load_timeout, 600);
	assert_int_equal(c->scanner_memory_limit, 4LL << 30);
	assert_int_equal(c->scanner_cpu_limit, 3600);
	assert_string_equal(c->scanner_tmpdir, "/dev/shm");
	assert_string_equal(c->scanner_program, PKGLIBEXECDIR "/okuru-scanner");
	assert_int_equal(c->scanner_quarantine, 0);
	assert_int_equal(c->scanner_require_landlock, 1);
	assert_string_equal(c->smtp_url, "");
	assert_string_equal(c->smtp_ca_file, "");
	assert_string_equal(c->mail_from, "okuru@localhost");
	assert_int_equal(c->links_otp_attempts, 5);
	assert_string_equal(c->policy_file, PKGDATADIR "/policy/default.policy");
	assert_int_equal(c->retention_interval, 600);
	assert_int_equal(c->smtp_retry_min, 60);
	/* data_dir defaults to the file's own directory */
	assert_string_equal(c->data_dir, joined(fx, ".", p));
	assert_string_equal(c->database, joined(fx, "./okuru.db", p));
	assert_string_equal(c->storage_dir, joined(fx, "./storage", p));
	assert_string_equal(c->master_key_file, joined(fx, "./master.key", p));
	assert_string_equal(c->tls_cert, joined(fx, "./tls/cert.pem", p));
	assert_string_equal(c->tls_key, joined(fx, "./tls/key.pem", p));
}

/* test_paths - relative paths resolve against data_dir, absolute ones stay */
static void
test_paths(void **state)
{
	struct fixture *fx = *state;
	char p[PATH_MAX];
	struct conf *c = &fx->c;

	load_ok(fx, "data_dir = \"data\";\n"
		    "database = \"/var/db/okuru.db\";\n"
		    "storage_dir = \"blobs\";\n"
		    "tls = { certificate = \"certs/c.pem\"; key = \"/etc/okuru/k.pem\"; };\n"
		    "clamav = { database = \"clamdb\"; };\n"
		    "smtp = { ca_file = \"ca.pem\"; };\n");
	assert_string_equal(c->data_dir, joined(fx, "data", p));
	assert_string_equal(c->database, "/var/db/okuru.db");
	assert_string_equal(c->storage_dir, joined(fx, "data/blobs", p));
	assert_string_equal(c->master_key_file, joined(fx, "data/master.key", p));
	assert_string_equal(c->tls_cert, joined(fx, "data/certs/c.pem", p));
	assert_string_equal(c->tls_key, "/etc/okuru/k.pem");
	/* these two are relative to the file, not to data_dir */
	assert_string_equal(c->clamav_db, joined(fx, "clamdb", p));
	assert_string_equal(c->smtp_ca_file, joined(fx, "ca.pem", p));

	load_ok(fx, "data_dir = \"/srv/okuru\";\n");
	assert_string_equal(c->data_dir, "/srv/okuru");
	assert_string_equal(c->database, "/srv/okuru/okuru.db");
	assert_string_equal(c->master_key_file, "/srv/okuru/master.key");
}

/* test_settings - values given are the values loaded */
static void
test_settings(void **state)
{
	struct fixture *fx = *state;
	struct conf *c = &fx->c;

	/* Above 2^31 - 1 libconfig 1.5 needs the L suffix (okuru.conf(5)). */
	load_ok(fx, "listen = \"0.0.0.0:443\";\n"
		    "public_url = \"https://files.example.jp\";\n"
		    "limits = {\n"
		    "  max_file_size = 21474836480L;\n"
		    "  max_files_per_transfer = 10000;\n"
		    "  max_connections = 4;\n"
		    "  max_connections_per_ip = 4;\n"
		    "  min_body_rate = 0;\n"
		    "  thread_stack_kib = 65536;\n"
		    "};\n"
		    "log = { target = \"syslog\"; level = \"debug\"; };\n"
		    "smtp = { url = \"smtps://mail.example.jp:465\"; from = \"okuru@example.jp\"; };\n");
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 443);
	assert_string_equal(c->public_url, "https://files.example.jp");
	assert_int_equal(c->max_file_size, 20LL * 1024 * 1024 * 1024);
	assert_int_equal(c->max_files_per_transfer, 10000);
	assert_int_equal(c->max_connections, 4);
	assert_int_equal(c->max_per_ip, 4);
	assert_int_equal(c->min_body_rate, 0);
	assert_int_equal(c->threads_stack_kib, 65536);
	assert_int_equal(c->log_syslog, 1);
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_string_equal(c->smtp_url, "smtps://mail.example.jp:465");
	assert_string_equal(c->mail_from, "okuru@example.jp");

	load_ok(fx, "limits = { max_file_size = 17592186044416L; };\n"
		    "smtp = { url = \"smtp://localhost\"; };\n"
		    "log = { level = \"err\"; };\n");
	assert_int_equal(c->max_file_size, 1LL << 44);
	assert_string_equal(c->smtp_url, "smtp://localhost");
	assert_int_equal(c->log_level, LOG_LVL_ERR);
}

/* test_listen - "host:port" and "[v6]:port"; malformed ones refused */
static void
test_listen(void **state)
{
	static const char *const bad[] = {
		"localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:84x",
		":8443", "[::1]9443", "[::1", "[::1]:", "127.0.0.1:-1", "",
	};
	struct fixture *fx = *state;
	struct conf *c = &fx->c;
	char text[256];

	load_ok(fx, "listen = \"[::1]:9443\";\n");
	assert_string_equal(c->listen_host, "::1");
	assert_int_equal(c->listen_port, 9443);
	/* an IPv6 literal in a URL goes in brackets (RFC 3986) */
	assert_string_equal(c->public_url, "https://[::1]:9443");

	load_ok(fx, "listen = \"[::]:65535\";\n");
	assert_string_equal(c->listen_host, "::");
	assert_int_equal(c->listen_port, 65535);

	load_ok(fx, "listen = \"files.example.jp:1\";\n");
	assert_string_equal(c->listen_host, "files.example.jp");
	assert_int_equal(c->listen_port, 1);
	assert_string_equal(c->public_url, "https://files.example.jp:1");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# listen\n\nlisten = \"%s\";\n", bad[i]);
		load_bad(fx, text, 3, "listen must be");
	}
}

/* test_sending - the smtp, links and requests groups and their cross-checks */
static void
test_sending(void **state)
{
	struct fixture *fx = *state;
	struct conf *c = &fx->c;

	load_ok(fx, "links = { otp_digits = 6; };\n"
		    "retention = { interval = 5; };\n"
		    "smtp = { from = \"files@bank.example\"; from_name = \"Bank files\"; };\n"
		    "requests = { max_bytes = \"10M\"; };\n");
	assert_int_equal(c->links_otp_digits, 6);
	assert_int_equal(c->retention_interval, 5);
	assert_string_equal(c->mail_from_name, "Bank files");
	assert_int_equal(c->requests_max_bytes, 10LL << 20);
	/* Decided by the policy file now: the error says where to go. */
	load_bad(fx, "\nlinks = { verification = \"none\"; };\n", 2,
		 "links.verification is decided by the policy file now");
	load_bad(fx, "\nlinks = { download_limit = 3; };\n", 2,
		 "links.download_limit is decided by the policy file now: set download_limit");
	load_bad(fx, "\nrequests = { max_expiry_days = 3; };\n", 2,
		 "requests.max_expiry_days is decided by the policy file now");
	load_bad(fx, "\nretention = 5;\n", 2, "\"retention\" must be a group");
	load_bad(fx, "\nretention = { interval = 0; };\n", 2, "retention.interval");
	load_bad(fx, "\nsmtp = { from = \"a b@bank.example\"; };\n", 2, "smtp.from");
	load_bad(fx, "\nsmtp = { from = \"x@y\\r\\nBcc: z@w\"; };\n", 2, "smtp.from");
	load_bad(fx, "\nsmtp = { from_name = \"a\\\"b\"; };\n", 2, "smtp.from_name");
	load_bad(fx, "\nsmtp = { username = \"u\"; };\n", 2, "smtp.username");
	load_bad(fx, "\nsmtp = { retry_min = 100; retry_max = 10; };\n", 2, "smtp.retry_max");
	load_bad(fx, "\nlinks = { otp_digits = 4; };\n", 2, "links.otp_digits");
	load_bad(fx, "\nrequests = { max_pages = 4; };\n", 2, "unknown setting");
}

/* test_syntax_error - libconfig's message, with the file and the line */
static void
test_syntax_error(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "listen = \"127.0.0.1:8443\";\nlimits = {\n  max_file_size = ;\n};\n", 3,
		 "syntax error");
	load_bad(fx, "# a comment\nlisten = \"127.0.0.1:8443\";\n\n= 5;\n", 4, "syntax error");
	load_bad(fx, "limits = {\n  max_connections = 10;\n\n", 4, "syntax error");
	/* an unterminated string or group is reported where the file ends */
	load_bad(fx, "listen = \"unterminated;\n", 2, "syntax error");
}

/* test_unknown_setting - a misspelt name is refused, with its line */
static void
test_unknown_setting(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "listen = \"127.0.0.1:8443\";\nlimits = {\n  max_filesize = 1000;\n};\n",
		 3, "unknown setting \"limits.max_filesize\"");
	load_bad(fx, "\nlisen = \"127.0.0.1:8443\";\n", 2, "unknown setting \"lisen\"");
	load_bad(fx, "tls = {};\nlogging = { level = \"info\"; };\n", 2,
		 "unknown setting \"logging\"");
	/* a known name in the wrong group is unknown there */
	load_bad(fx, "log = {\n  max_connections = 10;\n};\n", 2,
		 "unknown setting \"log.max_connections\"");
	load_bad(fx, "max_connections = 10;\n", 1, "unknown setting \"max_connections\"");
}

/* test_wrong_type - a string for a number, a number for a string or group */
static void
test_wrong_type(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "limits = {\n  max_connections = \"many\";\n};\n", 2,
		 "limits.max_connections must be an integer");
	load_bad(fx, "limits = {\n  max_file_size = 1.5;\n};\n", 2,
		 "limits.max_file_size must be an integer");
	load_bad(fx, "\nlisten = 8443;\n", 2, "listen must be a string");
	load_bad(fx, "public_url = true;\n", 1, "public_url must be a string");
	load_bad(fx, "log = {\n  level = 3;\n};\n", 2, "log.level must be a string");
	load_bad(fx, "\n\ntls = \"yes\";\n", 3, "\"tls\" must be a group");
	load_bad(fx, "limits = ( 1, 2 );\n", 1, "\"limits\" must be a group");
}

/* test_out_of_range - limits outside their bounds, with the line */
static void
test_out_of_range(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "limits = {\n  max_connections = 2;\n};\n", 2,
		 "limits.max_connections must be between 4 and 10000 (is 2)");
	load_bad(fx, "limits = {\n\n  max_file_size = 0;\n};\n", 3,
		 "limits.max_file_size must be between 1 and 17592186044416 (is 0)");
	load_bad(fx, "limits = {\n  max_file_size = 17592186044417L;\n};\n", 2,
		 "limits.max_file_size must be between");
	load_bad(fx, "limits = {\n  header_timeout = -1;\n};\n", 2,
		 "limits.header_timeout must be between 1 and 600 (is -1)");
	load_bad(fx, "limits = {\n  max_json_bytes = 1048577;\n};\n", 2,
		 "limits.max_json_bytes must be between 1024 and 1048576 (is 1048577)");
	load_bad(fx, "limits = {\n  max_connections = 10;\n  max_connections_per_ip = 11;\n};\n",
		 3, "limits.max_connections_per_ip exceeds limits.max_connections");
}

/* test_scanner - the clamav and scanner groups: values, refusals, defaults alone */
static void
test_scanner(void **state)
{
	struct fixture *fx = *state;
	char p[PATH_MAX];
	struct conf c0;

	load_ok(fx, "clamav = { allow_test_signatures = true; max_file_size = \"64M\";\n"
		    "  max_scan_size = \"128M\"; max_recursion = 5; max_files = 50;\n"
		    "  check_interval = 5; };\n"
		    "scanner = { workers = 3; timeout = 30; load_timeout = 90;\n"
		    "  memory_limit = \"2G\"; cpu_limit = 100; tmpdir = \"shm\";\n"
		    "  program = \"/opt/okuru/scanner\"; infected = \"quarantine\";\n"
		    "  require_landlock = false; };\n");
	assert_int_equal(fx->c.clamav_allow_test, 1);
	assert_int_equal(fx->c.clamav_max_file_size, 64LL << 20);
	assert_int_equal(fx->c.clamav_max_scan_size, 128LL << 20);
	assert_int_equal(fx->c.clamav_max_recursion, 5);
	assert_int_equal(fx->c.clamav_max_files, 50);
	assert_int_equal(fx->c.clamav_check_interval, 5);
	assert_int_equal(fx->c.scanner_workers, 3);
	assert_int_equal(fx->c.scanner_timeout, 30);
	assert_int_equal(fx->c.scanner_load_timeout, 90);
	assert_int_equal(fx->c.scanner_memory_limit, 2LL << 30);
	assert_int_equal(fx->c.scanner_cpu_limit, 100);
	assert_string_equal(fx->c.scanner_tmpdir, joined(fx, "shm", p));
	assert_string_equal(fx->c.scanner_program, "/opt/okuru/scanner");
	assert_int_equal(fx->c.scanner_quarantine, 1);
	assert_int_equal(fx->c.scanner_require_landlock, 0);
	load_ok(fx, "scanner = { memory_limit = 0; };\n");
	assert_int_equal(fx->c.scanner_memory_limit, 0);

	load_bad(fx, "clamav = {\n  allow_test_signatures = 1;\n};\n", 2,
		 "clamav.allow_test_signatures must be true or false");
	load_bad(fx, "clamav = {\n  max_file_size = \"5G\";\n};\n", 2,
		 "clamav.max_file_size must be a byte count");
	load_bad(fx, "scanner = {\n  workers = 33;\n};\n", 2,
		 "scanner.workers must be between 1 and 32 (is 33)");
	load_bad(fx, "scanner = {\n  memory_limit = \"100M\";\n};\n", 2,
		 "scanner.memory_limit must be 0 (none) or at least 256M");
	load_bad(fx, "scanner = {\n\n  infected = \"delete\";\n};\n", 3,
		 "scanner.infected must be \"destroy\" or \"quarantine\"");
	load_bad(fx, "scanner = {\n  timeout = 100;\n  cpu_limit = 199;\n};\n", 3,
		 "scanner.cpu_limit must be at least twice scanner.timeout");
	load_bad(fx, "scanner = {\n  sandbox = false;\n};\n", 2,
		 "unknown setting \"scanner.sandbox\"");

	/* No file at all: the built-in defaults (okuructl scan without -c). */
	fx->err[0] = '\0';
	assert_int_equal(conf_load(NULL, &c0, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(c0.path, "(built-in defaults)");
	assert_string_equal(c0.clamav_db, "/var/lib/clamav");
	assert_int_equal(c0.scanner_timeout, 600);
	conf_free(&c0);
}

static void
test_public_url(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "\npublic_url = \"http://files.example.jp\";\n", 2,
		 "public_url must start with https://");
	load_bad(fx, "public_url = \"files.example.jp\";\n", 1,
		 "public_url must start with https://");
	load_bad(fx, "public_url = \"HTTP://files.example.jp\";\n", 1,
		 "public_url must start with https://");
	load_ok(fx, "public_url = \"https://files.example.jp/okuru\";\n");
	assert_string_equal(fx->c.public_url, "https://files.example.jp/okuru");
	assert_string_equal(fx->c.public_origin, "https://files.example.jp");
	load_ok(fx, "public_url = \"https://files.example.jp:443\";\n");
	assert_string_equal(fx->c.public_origin, "https://files.example.jp");
	load_ok(fx, "public_url = \"https://files.example.jp:8443/x\";\n");
	assert_string_equal(fx->c.public_origin, "https://files.example.jp:8443");
	load_bad(fx, "public_url = \"https://files.example.jp/\";\n", 1,
		 "public_url must be https://HOST");
	load_bad(fx, "public_url = \"https://u@files.example.jp\";\n", 1,
		 "public_url must be https://HOST");
	/* Control bytes would go into every mailed link. */
	load_bad(fx, "public_url = \"https://files.example.jp/a\\tb\";\n", 1,
		 "public_url must be https://HOST");
	load_bad(fx, "public_url = \"https://files.example.jp/a\\x7fb\";\n", 1,
		 "public_url must be https://HOST");
}

static void
test_smtp_url(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "smtp = {\n  url = \"http://mail.example.jp\";\n};\n", 2,
		 "smtp.url must be smtps://");
	load_bad(fx, "smtp = {\n  url = \"mail.example.jp:25\";\n};\n", 2,
		 "smtp.url must be smtps://");
	load_ok(fx, "smtp = { url = \"\"; };\n");
	assert_string_equal(fx->c.smtp_url, "");
}

static void
test_log(void **state)
{
	struct fixture *fx = *state;

	load_bad(fx, "log = {\n  level = \"bogus\";\n};\n", 2,
		 "log.level must be err, warn, info or debug");
	load_bad(fx, "log = {\n  level = \"\";\n};\n", 2, "log.level must be");
	load_bad(fx, "log = {\n  target = \"file\";\n};\n", 2,
		 "log.target must be \"stderr\" or \"syslog\"");
	load_ok(fx, "log = { level = \"warn\"; target = \"stderr\"; };\n");
	assert_int_equal(fx->c.log_level, LOG_LVL_WARN);
	assert_int_equal(fx->c.log_syslog, 0);
}

static void
test_missing_file(void **state)
{
	struct fixture *fx = *state;
	char p[PATH_MAX];
	int n = snprintf(p, sizeof(p), "%s/nonexistent.conf", fx->dir);

	assert_true(n > 0 && n < (int)sizeof(p));
	assert_int_equal(conf_load(p, &fx->c, fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "nonexistent.conf"));
	assert_non_null(strstr(fx->err, strerror(ENOENT)));
	assert_null(fx->c.path);
}

static void
test_quote_ok(void **state)
{
	assert_true(conf_quote_ok(""));
	assert_true(conf_quote_ok("127.0.0.1:8443"));
	assert_true(conf_quote_ok("https://files.example.jp/a b"));
	assert_true(conf_quote_ok("/var/lib/okuru/報告書"));
	assert_false(conf_quote_ok("a\"b"));
	assert_false(conf_quote_ok("\""));
	assert_false(conf_quote_ok("a\\b"));
	assert_false(conf_quote_ok("a\nb"));
	assert_false(conf_quote_ok("a\tb"));
	assert_false(conf_quote_ok("\x1f"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_paths, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_settings, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_listen, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sending, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_setting, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_scanner, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_public_url, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_url, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_log, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, fx_setup, fx_teardown),
		cmocka_unit_test(test_quote_ok),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
