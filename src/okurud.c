/*
 * okurud.c - the okuru daemon: load the configuration, keys and database,
 * recover the storage area, serve HTTPS, and handle signals (TERM/INT drain
 * and exit, HUP reload). All signals are blocked in every thread and taken
 * synchronously here with sigwait, so no handler runs in async context.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "audit_cp.h"
#include "audit_syslog.h"
#include "blob.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "mail.h"
#include "mailer.h"
#include "outbox.h"
#include "policy.h"
#include "purger.h"
#include "scan_worker.h"
#include "scanner.h"
#include "smtp.h"
#include "store.h"
#include "tls.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr, "usage: okurud -c FILE [-t]\n"
			"  -c FILE  configuration file (okuru.conf(5))\n"
			"  -t       check the configuration, keys and certificate, then exit\n");
	exit(2);
}

static void
okurud_harden(void)
{
	struct rlimit rl = {0, 0};

	/* A core dump would hold the master key and plaintext. */
	setrlimit(RLIMIT_CORE, &rl);
	umask(077);
}

/*
 * okurud_check_mail - the SMTP password file and every template a running
 * okurud may need, so a typo shows at -t and not at the first send.
 */
static int
okurud_check_mail(const struct conf *c, char *err, size_t errlen)
{
	static const char *const names[] = {"link", "otp", "receipt", "request", "uploaded",
					    "mailfail", "approval", "approval_result"};
	char path[4096];
	char *pw;

	if (c->smtp_url[0] == '\0') {
		fprintf(stderr, "okurud: warning: smtp.url is empty: nothing can be sent\n");
		return 0;
	}
	if (c->smtp_password_file[0] != '\0') {
		pw = sodium_malloc(SMTP_PASSWORDMAX + 1);
		if (pw == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (smtp_password_read(c->smtp_password_file, pw, err, errlen) != 0) {
			sodium_free(pw);
			return -1;
		}
		sodium_free(pw);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int html = 0; html < 2; html++) {
			snprintf(path, sizeof(path), "%s/%s.%s", c->templates_dir, names[i],
				 html ? "html" : "txt");
			if (access(path, R_OK) != 0) {
				snprintf(err, errlen, "templates: %.900s: %s", path, strerror(errno));
				return -1;
			}
		}
	}
	for (int js = 0; js < 2; js++) {
		snprintf(path, sizeof(path), "%s/%s", c->www_dir, js ? "upload.js" : "okuru.css");
		if (access(path, R_OK) != 0) {
			snprintf(err, errlen, "www: %.900s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * okurud_audit_key - the audit signing key, and its public half must match
 * the configured public key (else verification would fail later). No key,
 * no service: events would go unsigned.
 */
static int
okurud_audit_key(const struct conf *c, struct audit_signer **out, char *err, size_t errlen)
{
	unsigned char pk[AUDIT_PKBYTES];

	if (audit_signer_load(c->audit_signing_key, out, err, errlen) != 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n,
			 " (create the audit keys with \"okuructl audit keygen\")");
		return -1;
	}
	if (audit_pub_load(c->audit_public_key, pk, err, errlen) != 0 ||
	    (memcmp(pk, audit_signer_pk(*out), AUDIT_PKBYTES) != 0 &&
	     snprintf(err, errlen, "audit.public_key %s is not the public half of %s",
		      c->audit_public_key, c->audit_signing_key) > 0)) {
		audit_signer_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* okurud_audit - a record by okurud itself (actor "system"); a failure is logged */
static void
okurud_audit(struct db *db, const char *event, const char *outcome, const char *detail)
{
	struct audit_event ev = {.actor_kind = audit_system.kind, .actor = audit_system.name,
				 .event = event, .object_kind = "okurud", .outcome = outcome,
				 .detail = detail};

	if (db_audit_append(db, &ev, util_now(), NULL) != DB_OK)
		log_event(LOG_LVL_ERR, "audit.append_failed", "event=%s", event);
}

/*
 * okurud_check - what -t checks beyond the syntax: TLS and key files, the
 * scanner program, its temp dir and the signature directory. The signatures
 * themselves are loaded only by a worker (okurud does not link libclamav).
 */
static int
okurud_check(const struct conf *c, char *err, size_t errlen)
{
	struct keyring *kr = NULL;
	struct tls_creds *tc = NULL;
	unsigned char fp[32];

	if (tls_priorities_check(c->tls_priorities, err, errlen) != 0)
		return -1;
	if (tls_creds_load(c->tls_cert, c->tls_key, &tc, err, errlen) != 0)
		return -1;
	tls_creds_free(tc);
	if (keys_load(c->master_key_file, &kr, err, errlen) != 0)
		return -1;
	keys_free(kr);
	{
		struct audit_signer *as;
		if (okurud_audit_key(c, &as, err, errlen) != 0)
			return -1;
		audit_signer_free(as);
	}
	if (access(c->scanner_program, X_OK) != 0) {
		snprintf(err, errlen, "scanner.program %s: %s", c->scanner_program, strerror(errno));
		return -1;
	}
	if (scan_worker_tmpdir_ok(c->scanner_tmpdir, err, errlen) != 0)
		return -1;
	if (scan_db_fingerprint(c->clamav_db, fp) != 0) {
		snprintf(err, errlen, "clamav.database %s: %s", c->clamav_db, strerror(errno));
		return -1;
	}
	{
		struct policy *pol;
		if (policy_load(c->policy_file, &pol, err, errlen) != 0)
			return -1;
		policy_free(pol);
	}
	if (okurud_check_mail(c, err, errlen) != 0)
		return -1;
	if (c->max_file_size > c->clamav_max_file_size)
		fprintf(stderr, "okurud: warning: limits.max_file_size is above "
				"clamav.max_file_size: uploads between the two are stored but "
				"unscannable, so blocked\n");
	return 0;
}

/* okurud_cp_mail - the auditor's copy of a new checkpoint (audit.checkpoint_mail) */
static int
okurud_cp_mail(const struct audit_checkpoint *cp, void *arg, struct db_mail *m)
{
	const struct server *srv = arg;
	char text[512], seq[24], when[32], err[512];

	if (srv->conf.audit_checkpoint_mail[0] == '\0')
		return 1;
	if (audit_checkpoint_text(cp, text, sizeof(text)) != 0)
		return -1;
	snprintf(seq, sizeof(seq), "%lld", (long long)cp->seq);
	util_time_iso(cp->at, when);
	{
		struct mail_var vars[] = {
			{"checkpoint", text, NULL},
			{"seq", seq, NULL},
			{"when", when, NULL},
		};
		if (outbox_prepare(srv->keys, &srv->conf, "checkpoint",
				   srv->conf.audit_checkpoint_mail, vars,
				   sizeof(vars) / sizeof(vars[0]), NULL, NULL, m, err,
				   sizeof(err)) != 0) {
			log_event(LOG_LVL_ERR, "audit.checkpoint_mail_failed", "error=\"%s\"", err);
			return -1;
		}
	}
	return 0;
}

/* okurud_cp_signed - a checkpoint was stored: the syslog forwarder sends it now */
static void
okurud_cp_signed(const struct audit_checkpoint *cp, void *arg)
{
	const struct server *srv = arg;

	(void)cp;
	audit_syslog_wake(srv->audit_syslog);
}

int
main(int argc, char **argv)
{
	const char *confpath = NULL;
	int check = 0, ch;
	char err[1024], q[1100];
	struct server srv;
	struct blob_recovery rec;
	sigset_t sigs;
	int lockfd;
	struct audit_signer *asigner = NULL;
	struct audit_cp *acp = NULL;
	struct audit_syslog *asys = NULL;
	struct audit_cp_hooks hooks;

	while ((ch = getopt(argc, argv, "c:th")) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 't':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (confpath == NULL || optind != argc)
		usage();
	okurud_harden();
	log_open("okurud", 0);
	if (sodium_init() < 0)
		fatal("error=\"libsodium initialisation failed\"");
	memset(&srv, 0, sizeof(srv));
	srv.started = util_now(); /* GET /api/v1/admin/status */
	if (conf_load(confpath, &srv.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "okurud: %s\n", err);
		return 1;
	}
	if (check) {
		int rc = okurud_check(&srv.conf, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "okurud: %s\n", err);
		else
			printf("okurud: configuration %s is valid\n", srv.conf.path);
		conf_free(&srv.conf);
		return rc != 0;
	}
	log_open("okurud", srv.conf.log_syslog);
	log_set_level(srv.conf.log_level);
	if (srv.conf.max_file_size > srv.conf.clamav_max_file_size)
		log_event(LOG_LVL_WARN, "config.unscannable_sizes",
			  "limits.max_file_size=%lld clamav.max_file_size=%lld "
			  "warning=\"uploads between the two are stored but unscannable, so blocked\"",
			  (long long)srv.conf.max_file_size, (long long)srv.conf.clamav_max_file_size);

	/* Block signals before any thread exists, so all of them inherit it. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* No policy, no service: nothing may be sent under rules nobody wrote. */
	if (policy_load(srv.conf.policy_file, &srv.policy, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	log_event(LOG_LVL_INFO, "policy.loaded", "file=%s rules=%zu", srv.conf.policy_file,
		  policy_nrules(srv.policy));
	if (keys_load(srv.conf.master_key_file, &srv.keys, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	if (okurud_audit_key(&srv.conf, &asigner, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	if (db_open(srv.conf.database, 0, &srv.db, err, sizeof(err)) != 0 ||
	    db_open_reader(srv.conf.database, &srv.db_read, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	srv.audit_signer = asigner;
	if (audit_syslog_start(&srv.conf, srv.db, &asys, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	srv.audit_syslog = asys;
	/* srv outlives the checkpoint thread: audit_cp_stop runs before anything is freed. */
	hooks = (struct audit_cp_hooks){.mail = okurud_cp_mail,
					.mail_free = outbox_mail_free,
					.signed_cb = okurud_cp_signed,
					.arg = &srv};
	if (audit_cp_start(srv.db, asigner, &hooks, srv.conf.audit_checkpoint_interval, &acp, err,
			   sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	if (blob_check_dirs(srv.conf.storage_dir, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	lockfd = blob_lock(srv.conf.storage_dir, err, sizeof(err));
	if (lockfd < 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	if (blob_recover(srv.conf.storage_dir, srv.db, &rec) != 0)
		fatal("error=\"storage recovery failed\"");
	log_event(LOG_LVL_INFO, "recover.done", "staging_removed=%d orphans_moved=%d rows_broken=%d",
		  rec.staging_removed, rec.orphans_moved, rec.rows_broken);
	{
		struct scanner_env env = {.db = srv.db, .keys = srv.keys,
					  .storage_dir = srv.conf.storage_dir,
					  .log_level = srv.conf.log_level};
		if (scanner_start(&srv.conf, &env, &srv.scanner, err, sizeof(err)) != 0)
			fatal("error=%s", log_quote(q, sizeof(q), err));
	}
	if (smtp_init() != 0)
		fatal("error=\"libcurl initialisation failed\"");
	if (mailer_start(&srv.conf, srv.db, srv.keys, &srv.mailer, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	if (srv.mailer == NULL)
		log_event(LOG_LVL_WARN, "mail.disabled",
			  "warning=\"smtp.url is empty: transfers cannot be sent\"");
	if (http_start(&srv, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	/* After http_start, which sets up the lock the policy is read under. */
	if (purger_start(&srv, err, sizeof(err)) != 0)
		fatal("error=%s", log_quote(q, sizeof(q), err));
	log_event(LOG_LVL_INFO, "okurud.started", "listen=%s:%d public_url=%s storage_cipher=%s version=%s",
		  srv.conf.listen_host, srv.conf.listen_port, srv.conf.public_url,
		  store_cipher_default() == STORE_CIPHER_AES256GCM ? "aes256gcm" : "chacha20poly1305",
		  PACKAGE_VERSION);
	{
		char d[128];
		snprintf(d, sizeof(d), "{\"version\":\"%s\",\"pid\":%ld}", PACKAGE_VERSION,
			 (long)getpid());
		okurud_audit(srv.db, "okurud.started", "ok", d);
	}

	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_event(LOG_LVL_INFO, "reload.begin", "signal=HUP");
			if (http_reload(&srv, srv.conf.path) == 0)
				okurud_audit(srv.db, "config.reloaded", "ok", NULL);
			else
				okurud_audit(srv.db, "config.reload_failed", "failed", NULL);
			continue;
		}
		log_event(LOG_LVL_INFO, "shutdown.begin", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
		break;
	}
	purger_stop(&srv);
	http_drain_and_stop(&srv);
	mailer_stop(srv.mailer);
	smtp_cleanup();
	scanner_stop(srv.scanner);
	okurud_audit(srv.db, "okurud.stopped", "ok", NULL);
	audit_cp_stop(acp); /* the last checkpoint covers okurud.stopped */
	audit_syslog_stop(asys); /* after the last checkpoint: it is sent too */
	audit_signer_free(asigner);
	db_close(srv.db_read);
	db_close(srv.db);
	keys_free(srv.keys);
	policy_free(srv.policy);
	close(lockfd);
	log_event(LOG_LVL_INFO, "shutdown.done", "status=clean");
	conf_free(&srv.conf);
	return 0;
}
