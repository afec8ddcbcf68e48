/*
 * conf.h - okuru.conf, parsed by libconfig (see okuru.conf(5)).
 *
 * Every setting has an embedded default; relative paths are taken relative
 * to the directory of the configuration file. Unknown settings are errors,
 * so a misspelt limit is not silently ignored.
 */
#ifndef OKURU_CONF_H
#define OKURU_CONF_H

#include <stddef.h>
#include <stdint.h>

#define SCANNER_WORKERS_MAX 32
#define CONF_PROXY_MAX 16

struct conf {
	char *path;
	char *listen_host;
	int listen_port;
	char *public_url;
	char *public_origin; /* public_url as browsers send it in Origin */
	char *data_dir;
	char *database;
	char *storage_dir;
	char *master_key_file;
	char *tls_cert;
	char *tls_key;
	char *tls_priorities;
	int64_t max_file_size;
	int max_files_per_transfer;
	int max_connections;
	int max_per_ip;
	int header_timeout;
	int idle_timeout;
	int64_t min_body_rate;
	int rate_window;
	int max_json_bytes;
	int max_header_bytes;
	int drain_timeout;
	int threads_stack_kib;
	int log_syslog;
	int log_level;
	char *clamav_db;
	int clamav_allow_test;
	int64_t clamav_max_scan_size;
	int64_t clamav_max_file_size;
	int clamav_max_recursion;
	int clamav_max_files;
	int clamav_check_interval;
	int scanner_workers;
	int scanner_timeout;
	int scanner_load_timeout;
	int64_t scanner_memory_limit;
	int scanner_cpu_limit;
	char *scanner_tmpdir;
	char *scanner_program;
	int scanner_quarantine;
	int scanner_require_landlock;
	char *smtp_url;
	char *smtp_ca_file;
	char *mail_from;
	char *mail_from_name;
	char *smtp_username;
	char *smtp_password_file;
	int smtp_timeout;
	int smtp_retry_min;
	int smtp_retry_max;
	int smtp_give_up;
	char *templates_dir;
	char *www_dir;
	char *policy_file;	/* okuru-policy(5) */
	int retention_interval; /* seconds between purger runs */
	char *audit_signing_key;       /* Ed25519 seed, not the master key (audit.h) */
	char *audit_public_key;        /* its public half, for okuructl audit verify */
	int audit_checkpoint_interval; /* seconds between signed checkpoints */
	char *audit_syslog;	       /* udp://H:P, tcp://H:P, unix:/PATH or "" (audit_syslog.c) */
	char *audit_syslog_facility;   /* authpriv, local0..local7 */
	char *audit_checkpoint_mail;   /* an auditor's address for each checkpoint, or "" */
	int links_max_recipients;
	int links_otp_digits;
	int links_otp_lifetime;
	int links_otp_attempts;
	int links_otp_lock;
	int links_otp_per_hour;
	int links_session_lifetime;
	int requests_max_files;
	int64_t requests_max_bytes;
	/* staff login in a browser (session.c, api_session.c) */
	int auth_session_idle;	  /* seconds without a request before a session ends */
	int auth_session_max;	  /* seconds after login a session ends regardless */
	int auth_lockout_failures; /* failed logins in a row that lock an account */
	int auth_lockout_time;	  /* seconds an account stays locked */
	int auth_login_per_minute; /* login attempts per client address and minute */
	int auth_totp_required;	  /* password logins need a TOTP second factor */
	int auth_password_min_length;
	char *auth_totp_issuer;
	char *auth_proxy_header; /* "" = no single sign-on through a proxy */
	int auth_proxy_naddrs;
	char auth_proxy_addrs[CONF_PROXY_MAX][64]; /* as http_client_ip writes them */
	char *auth_client_ca;			   /* "" = no client certificates */
};

#define CONF_DEFAULT_PRIORITIES                                                 \
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+AES-256-GCM:+AES-128-GCM:"             \
	"+CHACHA20-POLY1305:+AEAD:+ECDHE-ECDSA:+ECDHE-RSA:+GROUP-X25519:"       \
	"+GROUP-SECP256R1:+GROUP-SECP384R1:"                                   \
	"+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SECP384R1-SHA384:"            \
	"+SIGN-ECDSA-SECP521R1-SHA512:+SIGN-ECDSA-SHA256:+SIGN-ECDSA-SHA384:"   \
	"+SIGN-ECDSA-SHA512:+SIGN-EDDSA-ED25519:+SIGN-RSA-PSS-RSAE-SHA256:"     \
	"+SIGN-RSA-PSS-RSAE-SHA384:+SIGN-RSA-PSS-RSAE-SHA512:"                  \
	"+SIGN-RSA-PSS-SHA256:+SIGN-RSA-PSS-SHA384:+SIGN-RSA-PSS-SHA512:"       \
	"+SIGN-RSA-SHA256:+SIGN-RSA-SHA384:+SIGN-RSA-SHA512:+COMP-NULL:"        \
	"+CTYPE-X509:%SERVER_PRECEDENCE"

/* conf_load - path NULL gives the built-in defaults, relative to the cwd */
int conf_load(const char *path, struct conf *c, char *err, size_t errlen);
void conf_free(struct conf *c);

int conf_listen(const char *v, struct conf *c);

int conf_public_url_ok(const char *u);

/* conf_quote_ok - can s be written inside a libconfig "..." string as is */
int conf_quote_ok(const char *s);

#endif
