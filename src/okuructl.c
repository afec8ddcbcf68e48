/*
 * okuructl.c - the administrator's and auditor's command line.
 *   okuructl init --data-dir DIR [options]      create a new installation
 *   okuructl -c CONF user add NAME --email ADDR --role ROLE [--group G]...
 *   okuructl -c CONF user group NAME add|remove GROUP   policy groups
 *   okuructl -c CONF user token NAME             issue another API token
 *   okuructl -c CONF user show|list|passwd|totp-reset|disable|enable|unlock|cert|end-sessions
 *                                                staff accounts (ctl_user.c)
 *   okuructl [-c CONF] scan [options] FILE...    scan local files as okurud would
 *   okuructl -c CONF mail test ADDR              send the "test" template to ADDR
 *   okuructl -c CONF purge --dry-run [--at TIME] what the purger would purge
 *   okuructl -c CONF hold place|lift|list ...   legal hold (ctl_purge.c)
 *   okuructl -c CONF audit verify|checkpoint|keygen|export   the audit log (ctl_audit*.c)
 * Errors are one line on stderr and exit status 1 (2 for usage).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "blob.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "keys.h"
#include "log.h"
#include "mail.h"
#include "policy.h"
#include "scan_worker.h"
#include "smtp.h"
#include "tls.h"
#include "user.h"
#include "util.h"

/* scan exits 2 on errors (1 means "not clean"); everything else 1 */
static int die_status = 1;

_Noreturn void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("okuructl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(die_status);
}

/* absolute - a path given on the command line, made absolute against the cwd */
static const char *
absolute(const char *in, char out[PATH_MAX])
{
	char cwd[PATH_MAX];

	if (in == NULL || in[0] == '/')
		return in;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		die("getcwd: %s", strerror(errno));
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", cwd, in) >= PATH_MAX)
		die("path too long: %s", in);
	return out;
}

static _Noreturn void
usage(void)
{
	fputs("usage: okuructl init --data-dir DIR [--listen ADDR:PORT] [--public-url URL]\n"
	      "                     [--clamav-db DIR] [--allow-test-signatures] [--scanner PROGRAM]\n"
	      "                     [--smtp-url URL] [--smtp-ca-file FILE]\n"
	      "                     [--mail-from ADDR] [--tls-cert FILE --tls-key FILE]\n"
	      "       okuructl -c CONF user add NAME --email ADDR --role sender|approver|auditor|admin\n"
	      "                     [--group GROUP]...\n"
	      "       okuructl -c CONF user group NAME add|remove GROUP\n"
	      "       okuructl -c CONF user show NAME\n"
	      "       okuructl -c CONF user token NAME\n"
	      "       okuructl -c CONF user list [--json]\n"
	      "       okuructl -c CONF user passwd|totp-reset|unlock|end-sessions NAME\n"
	      "       okuructl -c CONF user disable|enable NAME\n"
	      "       okuructl -c CONF user cert NAME DN|--clear\n"
	      "       okuructl [-c CONF] scan [--database DIR] [--allow-test-signatures]\n"
	      "                     [--scanner PROGRAM] FILE...\n"
	      "       okuructl -c CONF mail test ADDR\n"
	      "       okuructl -c CONF purge --dry-run [--at YYYY-MM-DDTHH:MM:SSZ]\n"
	      "       okuructl -c CONF hold place|lift TRANSFER --by USER --reason TEXT\n"
	      "       okuructl -c CONF hold list [TRANSFER]\n"
	      "       okuructl -c CONF audit verify [--checkpoint FILE]... [--public-key FILE]\n"
	      "       okuructl -c CONF audit checkpoint --out FILE\n"
	      "       okuructl -c CONF audit keygen\n"
	      "       okuructl -c CONF audit export [--from T] [--to T] [--event E] --format csv|jsonl\n"
	      "                                     [--out FILE]\n"
	      "       okuructl policy check FILE\n"
	      "       okuructl [-c CONF] policy explain [--policy FILE] --sender USER\n"
	      "                [--role ROLE] [--group GROUP]... --recipient ADDR...\n"
	      "                [--file NAME:SIZE[:TYPE]]...\n"
	      "                [--verdict clean|unscannable|infected|error] [--encrypted]\n",
	      stderr);
	exit(2);
}

/* join - dir/name into out (PATH_MAX), or die */
static void
join(char out[PATH_MAX], const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b + 1 > PATH_MAX)
		die("path too long: %s/%s", dir, name);
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
}

/* mkdir_parents - create the missing parents of path, like mkdir -p */
static void
mkdir_parents(const char *path)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		die("path too long: %s", path);
	memcpy(buf, path, strlen(path) + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			die("%s: %s", buf, strerror(errno));
		*p = '/';
	}
}

static int
dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static void
check_value(const char *what, const char *v)
{
	if (v != NULL && !conf_quote_ok(v))
		die("%s may not contain quotes, backslashes or control characters", what);
}

static void
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"public-url", required_argument, NULL, 'u'},
		{"clamav-db", required_argument, NULL, 'C'},
		{"smtp-url", required_argument, NULL, 's'},
		{"smtp-ca-file", required_argument, NULL, 'a'},
		{"mail-from", required_argument, NULL, 'f'},
		{"tls-cert", required_argument, NULL, 'T'},
		{"tls-key", required_argument, NULL, 'K'},
		{"allow-test-signatures", no_argument, NULL, 'X'},
		{"scanner", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	int allow_test = 0;
	const char *scanner = NULL;
	const char *dir = NULL, *listen = "127.0.0.1:8443", *url = NULL;
	const char *clamav = "/var/lib/clamav", *smtp = "", *ca = "", *from = "okuru@localhost";
	const char *cert = NULL, *key = NULL;
	char absdir[PATH_MAX], p[PATH_MAX], p2[PATH_MAX], err[1024], text[4 * PATH_MAX + 4096];
	char certabs[PATH_MAX], keyabs[PATH_MAX], clamavabs[PATH_MAX], scannerabs[PATH_MAX];
	struct db *db;
	struct conf c;
	int ch, e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'u': url = optarg; break;
		case 'C': clamav = optarg; break;
		case 's': smtp = optarg; break;
		case 'a': ca = optarg; break;
		case 'f': from = optarg; break;
		case 'T': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'X': allow_test = 1; break;
		case 'S': scanner = optarg; break;
		default: usage();
		}
	}
	if (dir == NULL || optind != argc || (cert == NULL) != (key == NULL))
		usage();
	check_value("--data-dir", dir);
	check_value("--listen", listen);
	check_value("--public-url", url);
	/* Relative paths would be read against the new data directory. */
	clamav = absolute(clamav, clamavabs);
	scanner = absolute(scanner, scannerabs);
	check_value("--clamav-db", clamav);
	check_value("--scanner", scanner);
	check_value("--smtp-url", smtp);
	check_value("--smtp-ca-file", ca);
	check_value("--mail-from", from);
	check_value("--tls-cert", cert);
	check_value("--tls-key", key);
	{
		struct conf lc;
		memset(&lc, 0, sizeof(lc));
		if (conf_listen(listen, &lc) != 0) {
			free(lc.listen_host);
			die("--listen must be ADDRESS:PORT or [IPV6]:PORT");
		}
		free(lc.listen_host);
	}
	if (url != NULL && conf_public_url_ok(url) != 0)
		die("--public-url must be https://HOST[:PORT][/PATH] without a trailing slash, query "
		    "or user (at most 200 bytes)");
	if (smtp[0] != '\0' && strncmp(smtp, "smtps://", 8) != 0 && strncmp(smtp, "smtp://", 7) != 0)
		die("--smtp-url must be smtps://HOST[:PORT] or smtp://HOST[:PORT]");
	if (util_mailbox_ok(from) != 0)
		die("--mail-from must be one plain address (user@domain)");
	if (cert != NULL) {
		struct tls_creds *tc;
		if (realpath(cert, certabs) == NULL)
			die("%s: %s", cert, strerror(errno));
		if (realpath(key, keyabs) == NULL)
			die("%s: %s", key, strerror(errno));
		if (tls_creds_load(certabs, keyabs, &tc, err, sizeof(err)) != 0)
			die("%s", err);
		tls_creds_free(tc);
		cert = certabs;
		key = keyabs;
	}

	mkdir_parents(dir);
	if (mkdir(dir, 0700) != 0) {
		if (errno != EEXIST)
			die("%s: %s", dir, strerror(errno));
		e = dir_is_empty(dir);
		if (e < 0)
			die("%s: %s", dir, strerror(errno));
		if (!e)
			die("%s already exists and is not empty; refusing to overwrite anything", dir);
	}
	if (realpath(dir, absdir) == NULL)
		die("%s: %s", dir, strerror(errno));
	chmod(absdir, 0700);

	join(p, absdir, "master.key");
	if (keys_generate_file(p, err, sizeof(err)) != 0)
		die("%s", err);
	join(p, absdir, "audit.key");
	join(p2, absdir, "audit.pub");
	if (audit_keygen(p, p2, err, sizeof(err)) != 0)
		die("%s", err);
	join(p, absdir, "okuru.db");
	if (db_open(p, 1, &db, err, sizeof(err)) != 0)
		die("%s", err);
	db_close(db);
	join(p, absdir, "storage");
	if (blob_init_dirs(p, err, sizeof(err)) != 0)
		die("%s", err);
	if (cert == NULL) {
		char host[256];
		const char *h = listen, *colon = strrchr(listen, ':');
		size_t n = colon ? (size_t)(colon - h) : strlen(h);
		if (url != NULL && strncmp(url, "https://", 8) == 0) {
			h = url + 8;
			n = strcspn(h, ":/");
		}
		if (n >= sizeof(host))
			n = 0;
		snprintf(host, sizeof(host), "%.*s", (int)n, h);
		if (n == 0 || host[0] == '[' || strcmp(host, "0.0.0.0") == 0 ||
		    strcmp(host, "127.0.0.1") == 0)
			snprintf(host, sizeof(host), "localhost");
		join(p, absdir, "tls");
		if (mkdir(p, 0700) != 0)
			die("%s: %s", p, strerror(errno));
		join(p, absdir, "tls/cert.pem");
		join(p2, absdir, "tls/key.pem");
		if (tls_selfsigned_create(p, p2, host, err, sizeof(err)) != 0)
			die("%s", err);
		cert = "tls/cert.pem";
		key = "tls/key.pem";
	}

	e = snprintf(text, sizeof(text),
		     "# okuru.conf - see okuru.conf(5). Created by okuructl init.\n"
		     "listen = \"%s\";\n"
		     "%s%s%s"
		     "data_dir = \"%s\";\n"
		     "# database, storage_dir and master_key_file default to okuru.db,\n"
		     "# storage and master.key under data_dir; audit.signing_key and\n"
		     "# audit.public_key to audit.key and audit.pub.\n"
		     "\n"
		     "tls = {\n"
		     "  certificate = \"%s\";\n"
		     "  key = \"%s\";\n"
		     "};\n"
		     "\n"
		     "limits = {\n"
		     "  max_file_size = \"2000M\";       # units K, M, G, T; above clamav.max_file_size\n"
		     "                                 # files are unscannable (blocked)\n"
		     "  max_files_per_transfer = 100;\n"
		     "  max_connections = 256;\n"
		     "  max_connections_per_ip = 32;\n"
		     "  header_timeout = 10;            # seconds to send TLS handshake + headers\n"
		     "  idle_timeout = 60;\n"
		     "  min_body_rate = 4096;           # bytes/s, averaged over rate_window\n"
		     "  rate_window = 20;\n"
		     "};\n"
		     "\n"
		     "log = {\n"
		     "  target = \"stderr\";\n"
		     "  level = \"info\";\n"
		     "};\n"
		     "\n"
		     "clamav = {\n"
		     "  database = \"%s\";           # where freshclam writes\n"
		     "%s"
		     "  max_file_size = \"2000M\";     # larger files are unscannable (blocked)\n"
		     "  max_scan_size = \"4000M\";     # bytes scanned per file, archives unpacked\n"
		     "  max_recursion = 17;\n"
		     "  max_files = 10000;\n"
		     "  check_interval = 60;           # seconds between signature update checks\n"
		     "};\n"
		     "\n"
		     "scanner = {\n"
		     "  workers = 1;                   # each holds its own engine (~1.2 GiB, full set)\n"
		     "  timeout = 600;                 # seconds per file, then killed: not clean\n"
		     "  memory_limit = \"4G\";\n"
		     "  tmpdir = \"/dev/shm\";          # must be tmpfs\n"
		     "  infected = \"destroy\";         # or \"quarantine\"\n"
		     "  require_landlock = true;       # refuse to scan on a kernel without it\n"
		     "%s%s%s"
		     "};\n"
		     "\n"
		     "smtp = {\n"
		     "  url = \"%s\";\n"
		     "  ca_file = \"%s\";\n"
		     "  from = \"%s\";\n"
		     "};\n",
		     listen, url ? "public_url = \"" : "", url ? url : "", url ? "\";\n" : "",
		     absdir, cert, key, clamav,
		     allow_test ? "  # DEMO ONLY: a test database; real malware is not detected.\n"
				  "  allow_test_signatures = true;\n"
				: "",
		     scanner ? "  program = \"" : "", scanner ? scanner : "", scanner ? "\";\n" : "",
		     smtp, ca, from);
	if (e < 0 || (size_t)e >= sizeof(text))
		die("configuration too long");
	join(p, absdir, "okuru.conf");
	if (util_write_new_file(p, text, (size_t)e, 0600) != 0)
		die("%s: %s", p, strerror(errno));
	if (conf_load(p, &c, err, sizeof(err)) != 0)
		die("the new configuration does not load: %s", err);
	conf_free(&c);
	printf("okuru initialised in %s\nconfiguration: %s\n", absdir, p);
}

/* ctl_open_db - the configuration and its database, or die */
struct db *
ctl_open_db(const char *confpath, struct conf *c)
{
	char err[1024];
	struct db *db;

	if (confpath == NULL)
		die("-c CONF is required");
	if (conf_load(confpath, c, err, sizeof(err)) != 0)
		die("%s", err);
	if (db_open(c->database, 0, &db, err, sizeof(err)) != 0)
		die("%s", err);
	return db;
}

static void
issue_token(struct db *db, int64_t user_id, const char *name)
{
	char token[AUTH_TOKEN_MAX], id[AUTH_TOKEN_IDLEN + 1];
	unsigned char hash[AUTH_HASHBYTES];

	auth_token_new(token, id, hash);
	if (db_token_add(db, user_id, id, hash) != DB_OK)
		die("cannot store the token for %s", name);
	ctl_audit(db, "user.token_issued", "user", name, json_pack("{ss}", "token_id", id));
	printf("API token for %s (shown once; only its hash is stored):\n%s\n", name, token);
	sodium_memzero(token, sizeof(token));
}

static void
cmd_user(const char *confpath, int argc, char **argv)
{
	struct conf c;
	struct db *db;
	struct db_user u;

	if (argc >= 2 && ctl_user_admin(argv[1]))
		exit(cmd_user_admin(confpath, argc, argv));
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "add") == 0) {
		static const struct option opts[] = {
			{"email", required_argument, NULL, 'e'},
			{"role", required_argument, NULL, 'r'},
			{"group", required_argument, NULL, 'g'},
			{NULL, 0, NULL, 0},
		};
		const char *name = argv[2], *email = NULL, *role = NULL, *field, *why;
		const char *groups[DB_MAXGROUPS + 1]; /* one more is refused by user_fields_check */
		struct audit_actor who;
		char uid[32];
		size_t ng = 0;
		int64_t id;
		int ch, r;

		optind = 3;
		while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
			if (ch == 'e')
				email = optarg;
			else if (ch == 'r')
				role = optarg;
			else if (ch == 'g' && ng <= DB_MAXGROUPS)
				groups[ng++] = optarg;
			else if (ch != 'g')
				usage();
		}
		if (email == NULL || role == NULL || optind != argc)
			usage();
		/* The same rules as POST /api/v1/admin/users (user.c). */
		if (user_fields_check(name, email, role, groups, ng, &field, &why) != 0)
			die("%s", why);
		ctl_actor(&who, uid);
		db = ctl_open_db(confpath, &c);
		/* The user, the groups and user.added commit together (db_users.c). */
		r = db_users_create(db, name, email, role, groups, ng, "", util_now(), &who, &id);
		if (r == DB_CONFLICT)
			die("user %s already exists", name);
		if (r != DB_OK)
			die("cannot add user %s", name);
		printf("user %s created (role %s, e-mail %s)\n", name, role, email);
		for (size_t g = 0; g < ng; g++)
			printf("user %s is in group %s\n", name, groups[g]);
		issue_token(db, id, name);
	} else if (strcmp(argv[1], "group") == 0 && argc == 5 &&
		   (strcmp(argv[3], "add") == 0 || strcmp(argv[3], "remove") == 0)) {
		/* okuructl user group NAME add|remove GROUP */
		int add = strcmp(argv[3], "add") == 0, r;
		if (!policy_name_ok(argv[4]))
			die("group must be 1-64 characters of A-Z a-z 0-9 . _ -");
		db = ctl_open_db(confpath, &c);
		if (db_user_find(db, argv[2], &u) != DB_OK)
			die("no such user: %s", argv[2]);
		r = db_user_group(db, u.id, argv[4], add);
		if (r == DB_NOTFOUND)
			die("user %s is not in group %s", argv[2], argv[4]);
		if (r == DB_CONFLICT)
			die("user %s is already in %d groups, the most there may be", argv[2],
			    DB_MAXGROUPS);
		if (r != DB_OK)
			die("cannot change the groups of %s", argv[2]);
		ctl_audit(db, add ? "user.group_added" : "user.group_removed", "user", argv[2],
			  json_pack("{ss}", "group", argv[4]));
		printf("user %s %s group %s\n", argv[2], add ? "is now in" : "has left", argv[4]);
	} else if (strcmp(argv[1], "token") == 0 && argc == 3) {
		db = ctl_open_db(confpath, &c);
		if (db_user_find(db, argv[2], &u) != DB_OK)
			die("no such user: %s", argv[2]);
		issue_token(db, u.id, u.name);
	} else {
		usage();
	}
	db_close(db);
	conf_free(&c);
}

static int
scan_start(struct scan_worker *w, const char *program, const struct scan_msg_config *cfg,
	   int timeout_ms, struct scan_msg_ready *ready)
{
	char err[SCAN_PATHMAX + 64];
	union scan_msg m;
	int r;

	char tag[32];

	snprintf(tag, sizeof(tag), "ctl%ld", (long)getpid());
	if (scan_worker_spawn(program, cfg, tag, w, err, sizeof(err)) != 0)
		die("%s", err);
	r = scan_worker_recv(w, timeout_ms, &m);
	if (r == 1 && m.type == SCAN_MSG_READY) {
		*ready = m.ready;
		ready->engine[sizeof(ready->engine) - 1] = '\0';
		ready->db_version[sizeof(ready->db_version) - 1] = '\0';
		return 0;
	}
	if (r == 1 && m.type == SCAN_MSG_LOADFAIL) {
		m.loadfail.reason[sizeof(m.loadfail.reason) - 1] = '\0';
		scan_worker_stop(w, 0);
		die("%s", m.loadfail.reason);
	}
	{
		char ex[64];
		int st = scan_worker_stop(w, r == 0 ? 0 : 1000);
		scan_worker_describe_exit(st, ex, sizeof(ex));
		die("the scanner %s did not start (%s)", program,
		    r == 0 ? "loading took longer than scanner.load_timeout" : ex);
	}
}

/*
 * cmd_scan - the engine, limits and sandbox okurud uses, on local files:
 * one line per file, "NAME: clean|infected|unscannable|error [reason]
 * [detail] [type=MEDIA/TYPE]", the type last and only when detected.
 * Exit 0 when every file is clean, 1 when any is infected or unscannable,
 * 2 when any could not be scanned at all.
 */
static int
cmd_scan(const char *confpath, int argc, char **argv)
{
	static const struct option opts[] = {
		{"database", required_argument, NULL, 'd'},
		{"allow-test-signatures", no_argument, NULL, 't'},
		{"scanner", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct conf c;
	struct scan_msg_config cfg;
	struct scan_msg_ready ready;
	struct scan_worker w;
	char err[1024];
	const char *db = NULL, *program = NULL;
	int allow_test = 0, ch, worst = 0;
	uint64_t id = 0;

	die_status = 2;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'd')
			db = optarg;
		else if (ch == 't')
			allow_test = 1;
		else if (ch == 's')
			program = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	if (conf_load(confpath, &c, err, sizeof(err)) != 0)
		die("%s", err);
	scan_worker_config(&c, LOG_LVL_WARN, &cfg);
	if (db != NULL)
		scan_strlcpy(cfg.database, db, sizeof(cfg.database));
	if (allow_test)
		cfg.allow_test_signatures = 1;
	if (program == NULL)
		program = c.scanner_program;
	scan_start(&w, program, &cfg, c.scanner_load_timeout * 1000, &ready);
	fprintf(stderr, "okuructl: %s, %u signatures from %s (%s)\n", ready.engine,
		ready.signatures, cfg.database, ready.db_version);
	if (!ready.official)
		fprintf(stderr, "okuructl: WARNING: TEST SIGNATURE DATABASE - real malware "
				"will not be detected\n");

	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		union scan_msg m;
		struct stat st;
		/* O_NONBLOCK: a FIFO must not hang us before the regular-file check */
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r;

		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			printf("%s: error (%s)\n", path, fd < 0 ? strerror(errno) : "not a regular file");
			if (fd >= 0)
				close(fd);
			worst = 2;
			continue;
		}
		r = scan_worker_send_job(&w, ++id, fd, (uint64_t)st.st_size, NULL);
		close(fd);
		r = r == 0 ? scan_worker_recv(&w, c.scanner_timeout * 1000, &m) : -1;
		if (r == 1 && m.type == SCAN_MSG_RESULT && m.result.id == id) {
			/* detail and media_type were checked by scan_proto_recv */
			printf("%s: %s", path, scan_verdict_name(m.result.verdict));
			if (m.result.reason != SCAN_REASON_NONE)
				printf(" (%s)", scan_reason_name(m.result.reason));
			if (m.result.detail[0] != '\0')
				printf(" %s", m.result.detail);
			if (m.result.media_type[0] != '\0')
				printf(" type=%s", m.result.media_type);
			putchar('\n');
			if (m.result.verdict == SCAN_ERROR)
				worst = 2;
			else if (m.result.verdict != SCAN_CLEAN && worst < 1)
				worst = 1;
			if ((m.result.flags & SCAN_RESULT_RETIRING) && i + 1 < argc) {
				fprintf(stderr, "okuructl: the scanner worker used half its CPU "
						"budget (scanner.cpu_limit); starting a new one\n");
				scan_worker_stop(&w, 2000);
				scan_start(&w, program, &cfg, c.scanner_load_timeout * 1000, &ready);
			}
			continue;
		}
		/* Timed out, crashed or broke the protocol: not clean; next file, new worker. */
		{
			char ex[64];
			int stt = scan_worker_stop(&w, 0);
			scan_worker_describe_exit(stt, ex, sizeof(ex));
			printf("%s: error (%s) worker %s\n", path, r == 0 ? "timeout" : "crashed", ex);
			worst = 2;
			if (i + 1 < argc)
				scan_start(&w, program, &cfg, c.scanner_load_timeout * 1000, &ready);
		}
	}
	fflush(stdout);
	scan_worker_stop(&w, 2000);
	conf_free(&c);
	return worst;
}

/* The SMTP password file: one line, at most this many bytes. */
/*
 * cmd_mail - "mail test ADDR": render the test template and deliver it now,
 * with exactly the settings okurud uses. Exit 0 when the server accepted it,
 * 1 when it was not sent, 2 for a usage or configuration error.
 */
static int
cmd_mail(const char *confpath, int argc, char **argv)
{
	struct conf c;
	struct mail_msg m;
	struct smtp_conf sc;
	struct smtp_result r;
	struct mail_var vars[1];
	char err[1024], when[32], id[UTIL_IDLEN + 1], msgid[UTIL_IDLEN + 300];
	char *pw = NULL;
	int rc;

	die_status = 2;
	if (argc != 3 || strcmp(argv[1], "test") != 0)
		usage();
	if (confpath == NULL)
		die("-c CONF is required");
	if (util_mailbox_ok(argv[2]) != 0)
		die("\"%s\" is not a usable e-mail address", argv[2]);
	if (conf_load(confpath, &c, err, sizeof(err)) != 0)
		die("%s", err);
	if (c.smtp_url[0] == '\0')
		die("mail is not configured (smtp.url)");
	util_time_iso(util_now(), when);
	vars[0] = (struct mail_var){.name = "when", .value = when};
	if (mail_render(c.templates_dir, "test", argv[2], vars, 1, &m, err, sizeof(err)) != 0)
		die("%s", err);
	util_id_new(id);
	snprintf(msgid, sizeof(msgid), "<%s@%s>", id, strchr(c.mail_from, '@') + 1);

	if (c.smtp_password_file[0] != '\0') {
		pw = sodium_malloc(SMTP_PASSWORDMAX + 1);
		if (pw == NULL)
			die("out of memory");
		if (smtp_password_read(c.smtp_password_file, pw, err, sizeof(err)) != 0)
			die("%s", err);
	}
	sc = (struct smtp_conf){
	    .url = c.smtp_url,
	    .ca_file = c.smtp_ca_file,
	    .from = c.mail_from,
	    .from_name = c.mail_from_name,
	    .username = c.smtp_username,
	    .password = pw != NULL ? pw : "",
	    .timeout = c.smtp_timeout,
	};
	if (smtp_init() != 0)
		die("libcurl initialisation failed");
	rc = smtp_send(&sc, &m, msgid, &r);
	if (pw != NULL) {
		sodium_memzero(pw, SMTP_PASSWORDMAX + 1);
		sodium_free(pw);
	}
	smtp_cleanup();
	mail_msg_free(&m);
	if (rc != 0) {
		conf_free(&c);
		die_status = 1;
		die("not sent: %s", r.error);
	}
	printf("sent to %s over %s (%ld)\n", argv[2], r.tls, r.code);
	conf_free(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *confpath = NULL;
	int i = 1;

	umask(077);
	log_open("okuructl", 0);
	log_set_level(LOG_LVL_WARN);
	if (sodium_init() < 0)
		die("libsodium initialisation failed");
	while (i < argc && strcmp(argv[i], "-c") == 0) {
		if (i + 1 >= argc)
			usage();
		confpath = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		usage();
	if (strcmp(argv[i], "init") == 0)
		cmd_init(argc - i, argv + i);
	else if (strcmp(argv[i], "user") == 0)
		cmd_user(confpath, argc - i, argv + i);
	else if (strcmp(argv[i], "scan") == 0)
		return cmd_scan(confpath, argc - i, argv + i);
	else if (strcmp(argv[i], "mail") == 0)
		return cmd_mail(confpath, argc - i, argv + i);
	else if (strcmp(argv[i], "policy") == 0)
		return cmd_policy(confpath, argc - i, argv + i);
	else if (strcmp(argv[i], "purge") == 0)
		return cmd_purge(confpath, argc - i, argv + i);
	else if (strcmp(argv[i], "hold") == 0)
		return cmd_hold(confpath, argc - i, argv + i);
	else if (strcmp(argv[i], "audit") == 0)
		return cmd_audit(confpath, argc - i, argv + i);
	else
		usage();
	return 0;
}
