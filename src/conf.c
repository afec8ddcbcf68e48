/*
 * conf.c - load okuru.conf with libconfig and check every value, reporting
 * "file:line: what is wrong" for the first problem found.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit_syslog.h"
#include "cfgerr.h"
#include "conf.h"
#include "log.h"
#include "util.h"

struct conf_known {
	const char *group; /* NULL for top level */
	const char *name;
};

static const struct conf_known conf_known[] = {
	{NULL, "listen"}, {NULL, "public_url"}, {NULL, "data_dir"},
	{NULL, "database"}, {NULL, "storage_dir"}, {NULL, "master_key_file"},
	{NULL, "tls"}, {NULL, "limits"}, {NULL, "log"}, {NULL, "clamav"}, {NULL, "scanner"},
	{NULL, "smtp"}, {NULL, "links"}, {NULL, "requests"}, {NULL, "templates"}, {NULL, "www"},
	{NULL, "policy"}, {NULL, "retention"}, {"retention", "interval"},
	{NULL, "audit"}, {"audit", "signing_key"}, {"audit", "public_key"},
	{"audit", "checkpoint_interval"}, {"audit", "syslog"}, {"audit", "syslog_facility"},
	{"audit", "checkpoint_mail"},
	{"tls", "certificate"}, {"tls", "key"}, {"tls", "priorities"},
	{"limits", "max_file_size"}, {"limits", "max_files_per_transfer"},
	{"limits", "max_connections"}, {"limits", "max_connections_per_ip"},
	{"limits", "header_timeout"}, {"limits", "idle_timeout"},
	{"limits", "min_body_rate"}, {"limits", "rate_window"},
	{"limits", "max_json_bytes"}, {"limits", "max_header_bytes"},
	{"limits", "drain_timeout"}, {"limits", "thread_stack_kib"},
	{"log", "target"}, {"log", "level"},
	{"clamav", "database"}, {"clamav", "allow_test_signatures"},
	{"clamav", "max_scan_size"}, {"clamav", "max_file_size"}, {"clamav", "max_recursion"},
	{"clamav", "max_files"}, {"clamav", "check_interval"},
	{"scanner", "workers"}, {"scanner", "timeout"}, {"scanner", "load_timeout"},
	{"scanner", "memory_limit"}, {"scanner", "cpu_limit"}, {"scanner", "tmpdir"},
	{"scanner", "program"}, {"scanner", "infected"}, {"scanner", "require_landlock"},
	{"smtp", "url"}, {"smtp", "ca_file"}, {"smtp", "from"}, {"smtp", "from_name"},
	{"smtp", "username"}, {"smtp", "password_file"}, {"smtp", "timeout"},
	{"smtp", "retry_min"}, {"smtp", "retry_max"}, {"smtp", "give_up"},
	{"links", "max_recipients"}, {"links", "otp_digits"}, {"links", "otp_lifetime"},
	{"links", "otp_attempts"}, {"links", "otp_lock"}, {"links", "otp_per_hour"},
	{"links", "session_lifetime"},
	{"requests", "max_files"}, {"requests", "max_bytes"},
	{NULL, "auth"}, {"auth", "session_idle"}, {"auth", "session_max"},
	{"auth", "lockout_failures"}, {"auth", "lockout_time"}, {"auth", "login_per_minute"},
	{"auth", "totp_required"}, {"auth", "password_min_length"}, {"auth", "totp_issuer"},
	{"auth", "proxy_header"}, {"auth", "proxy_addresses"}, {"auth", "client_ca"},
};

/* Settings the policy file decides now: a clear pointer, not "unknown". */
static const struct {
	const char *group, *name, *policy;
} conf_moved[] = {
	{"links", "default_expiry_days", "expiry_days"},
	{"links", "max_expiry_days", "max_expiry_days"},
	{"links", "download_limit", "download_limit"},
	{"links", "verification", "verification"},
	{"links", "allow_none", "verification = \"none\""},
	{"requests", "default_expiry_days", "expiry_days"},
	{"requests", "max_expiry_days", "max_expiry_days"},
};

static int
conf_known_name(const char *group, const char *name)
{
	for (size_t i = 0; i < sizeof(conf_known) / sizeof(conf_known[0]); i++) {
		const struct conf_known *k = &conf_known[i];
		if (strcmp(k->name, name) != 0)
			continue;
		if ((group == NULL && k->group == NULL) ||
		    (group != NULL && k->group != NULL && strcmp(group, k->group) == 0))
			return 1;
	}
	return 0;
}

static int
conf_is_group_name(const char *name)
{
	static const char *const groups[] = {"tls",  "limits", "log",	  "clamav",
					     "scanner", "smtp",	  "links", "requests",
					     "retention", "audit", "auth"};

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		if (strcmp(name, groups[g]) == 0)
			return 1;
	return 0;
}

/* conf_check_names - every setting must be one we know */
static int
conf_check_names(config_setting_t *grp, const char *gname, const char *file,
		 char *err, size_t errlen)
{
	int n = config_setting_length(grp);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		for (size_t m = 0; name != NULL && gname != NULL &&
				   m < sizeof(conf_moved) / sizeof(conf_moved[0]); m++)
			if (strcmp(gname, conf_moved[m].group) == 0 &&
			    strcmp(name, conf_moved[m].name) == 0)
				return cfgerr_set(err, errlen, file, s,
						 "%s.%s is decided by the policy file now: set %s "
						 "in its defaults or in a rule (okuru-policy(5))",
						 gname, name, conf_moved[m].policy);
		if (name == NULL || !conf_known_name(gname, name))
			return cfgerr_set(err, errlen, file, s, "unknown setting \"%s%s%s\"",
					 gname ? gname : "", gname ? "." : "",
					 name ? name : "?");
		if (gname == NULL && conf_is_group_name(name) &&
		    config_setting_is_group(s) != CONFIG_TRUE)
			return cfgerr_set(err, errlen, file, s, "\"%s\" must be a group { ... }",
					 name);
		if (gname == NULL && config_setting_is_group(s) == CONFIG_TRUE &&
		    conf_check_names(s, name, file, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/*
 * conf_public_url_ok - https://HOST[:PORT][/PATH] with no trailing slash,
 * query or user part: links are public_url + "/d/TOKEN".
 */
int
conf_public_url_ok(const char *u)
{
	size_t n = strlen(u);

	if (n <= 8 || n > 200 || strncmp(u, "https://", 8) != 0 || u[8] == '/' || u[n - 1] == '/')
		return -1;
	/* No control bytes: the URL goes into every mailed link. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x21 || (unsigned char)u[i] == 0x7f)
			return -1;
	return strpbrk(u + 8, "?#@ \\\"'<>") != NULL ? -1 : 0;
}

/* conf_str - a string setting, defaulting to def; relative paths made absolute */
static int
conf_str(config_t *cf, const char *key, const char *def, int is_path, const char *base,
	 char **out, const char *file, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(cf, key);
	const char *v = def;

	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return cfgerr_set(err, errlen, file, s, "%s must be a string", key);
		v = config_setting_get_string(s);
	}
	if (v == NULL) {
		*out = NULL;
		return 0;
	}
	if (is_path && v[0] != '\0' && v[0] != '/') {
		size_t n = strlen(base) + 1 + strlen(v) + 1;
		*out = malloc(n);
		if (*out != NULL)
			snprintf(*out, n, "%s/%s", base, v);
	} else {
		*out = strdup(v);
	}
	if (*out == NULL)
		return cfgerr_set(err, errlen, file, NULL, "out of memory");
	return 0;
}

static int
conf_int(config_t *cf, const char *key, int64_t def, int64_t min, int64_t max,
	 int64_t *out, const char *file, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(cf, key);
	int64_t v = def;

	if (s != NULL) {
		int t = config_setting_type(s);
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return cfgerr_set(err, errlen, file, s, "%s must be an integer", key);
		v = config_setting_get_int64(s);
	}
	if (v < min || v > max)
		return cfgerr_set(err, errlen, file, s,
				 "%s must be between %lld and %lld (is %lld)", key,
				 (long long)min, (long long)max, (long long)v);
	*out = v;
	return 0;
}

static int
conf_bool(config_t *cf, const char *key, int def, int *out, const char *file, char *err,
	  size_t errlen)
{
	config_setting_t *s = config_lookup(cf, key);

	*out = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfgerr_set(err, errlen, file, s, "%s must be true or false", key);
	*out = config_setting_get_bool(s);
	return 0;
}

/*
 * conf_header_name_ok - "" or an HTTP header name a proxy may set; never
 * one that carries credentials or routing of its own.
 */
static int
conf_header_name_ok(const char *h)
{
	static const char *const refused[] = {"authorization", "cookie", "host", "content-length",
					      "transfer-encoding", "x-csrf-token"};
	size_t n = strlen(h);

	if (n > 64 || strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return -1;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcasecmp(h, refused[i]) == 0)
			return -1;
	return 0;
}

/*
 * conf_addresses - auth.proxy_addresses: a list of IP addresses, each kept
 * in the form http_client_ip writes (inet_ntop), so a comparison of text
 * is a comparison of addresses.
 */
static int
conf_addresses(config_t *cf, const char *key, struct conf *c, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(cf, key);
	int n;

	c->auth_proxy_naddrs = 0;
	if (s == NULL)
		return 0;
	if (config_setting_is_array(s) != CONFIG_TRUE)
		return cfgerr_set(err, errlen, c->path, s, "%s must be a list [\"ADDRESS\", ...]",
				 key);
	n = config_setting_length(s);
	if (n > (int)CONF_PROXY_MAX)
		return cfgerr_set(err, errlen, c->path, s, "%s has more than %u addresses", key,
				 CONF_PROXY_MAX);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		unsigned char bin[16];
		char *out = c->auth_proxy_addrs[i];

		if (v != NULL && inet_pton(AF_INET, v, bin) == 1)
			inet_ntop(AF_INET, bin, out, sizeof(c->auth_proxy_addrs[i]));
		else if (v != NULL && inet_pton(AF_INET6, v, bin) == 1)
			inet_ntop(AF_INET6, bin, out, sizeof(c->auth_proxy_addrs[i]));
		else
			return cfgerr_set(err, errlen, c->path, e,
					 "%s: \"%s\" is not an IP address", key, v ? v : "?");
		c->auth_proxy_naddrs++;
	}
	return 0;
}

/*
 * conf_size - a byte count: an integer, or a string with a binary unit
 * ("10G", "512K"). libconfig 1.5 reads an integer literal above 2^31-1
 * without the L suffix as a wrapped 32-bit value, which no range check can
 * see; the string form has no such trap, so the man page recommends it.
 */
static int
conf_size(config_t *cf, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
	  const char *file, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(cf, key);
	const char *v;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_int(cf, key, def, min, max, out, file, err, errlen);
	v = config_setting_get_string(s);
	if (util_bytes_parse(v, max, out) == 0 && *out >= min)
		return 0;
	return cfgerr_set(err, errlen, file, s,
			 "%s must be a byte count between %lld and %lld, as an integer or a "
			 "string like \"10G\" (units K, M, G, T)",
			 key, (long long)min, (long long)max);
}

/* conf_listen - "host:port" or "[v6]:port" into c->listen_host, c->listen_port */
int
conf_listen(const char *v, struct conf *c)
{
	const char *colon;
	char *end;
	long port;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		c->listen_host = strndup(v + 1, (size_t)(rb - v - 1));
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL || colon == v)
			return -1;
		c->listen_host = strndup(v, (size_t)(colon - v));
	}
	if (c->listen_host == NULL)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	c->listen_port = (int)port;
	return 0;
}

int
conf_quote_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* conf_load - parse and check path into c; on error c is left empty */
int
conf_load(const char *path, struct conf *c, char *err, size_t errlen)
{
	config_t cf;
	char base[PATH_MAX], tmp[PATH_MAX], *listen = NULL, *s = NULL;
	int64_t v;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	config_init(&cf);
	if (path == NULL) {
		/* Built-in defaults only (okuructl scan without -c). */
		if (getcwd(base, sizeof(base)) == NULL) {
			snprintf(err, errlen, "getcwd: %s", strerror(errno));
			config_destroy(&cf);
			return -1;
		}
		c->path = strdup("(built-in defaults)");
		if (c->path == NULL || config_read_string(&cf, "") != CONFIG_TRUE) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		goto parse;
	}
	if (realpath(path, tmp) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		config_destroy(&cf);
		return -1;
	}
	c->path = strdup(tmp);
	snprintf(base, sizeof(base), "%s", tmp);
	dirname(base);

	if (config_read_file(&cf, c->path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read file", c->path);
		else
			snprintf(err, errlen, "%s:%d: %s",
				 config_error_file(&cf) ? config_error_file(&cf) : c->path,
				 config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
parse:
	if (conf_check_names(config_root_setting(&cf), NULL, c->path, err, errlen) != 0)
		goto out;

#define STR(key, def, ispath, field)                                              \
	if (conf_str(&cf, key, def, ispath, base, &c->field, c->path, err, errlen) != 0) \
		goto out;
#define INT(key, def, min, max, field)                                            \
	if (conf_int(&cf, key, def, min, max, &v, c->path, err, errlen) != 0)           \
		goto out;                                                                \
	c->field = (__typeof__(c->field))v;

	if (conf_str(&cf, "listen", "127.0.0.1:8443", 0, base, &listen, c->path, err, errlen) != 0)
		goto out;
	if (conf_listen(listen, c) != 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "listen"),
			  "listen must be \"ADDRESS:PORT\" or \"[IPV6]:PORT\" (is \"%s\")", listen);
		goto out;
	}
	STR("public_url", NULL, 0, public_url);
	if (c->public_url == NULL) {
		size_t n = strlen(c->listen_host) + 32;
		int v6 = strchr(c->listen_host, ':') != NULL; /* "[::1]" in a URL */
		c->public_url = malloc(n);
		if (c->public_url == NULL) {
			cfgerr_set(err, errlen, c->path, NULL, "out of memory");
			goto out;
		}
		snprintf(c->public_url, n, "https://%s%s%s:%d", v6 ? "[" : "",
			 strcmp(c->listen_host, "127.0.0.1") == 0 ? "localhost" : c->listen_host,
			 v6 ? "]" : "", c->listen_port);
	} else if (strncmp(c->public_url, "https://", 8) != 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "public_url"),
			  "public_url must start with https://");
		goto out;
	} else if (conf_public_url_ok(c->public_url) != 0) {
		/* Links are public_url + "/d/TOKEN": a trailing slash would break them. */
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "public_url"),
			  "public_url must be https://HOST[:PORT][/PATH] without a trailing slash, "
			  "query or user (at most 200 bytes)");
		goto out;
	}
	/* What a browser sends as Origin: no path, and the default port left out. */
	{
		char *slash;
		size_t n;
		c->public_origin = strdup(c->public_url);
		if (c->public_origin == NULL) {
			cfgerr_set(err, errlen, c->path, NULL, "out of memory");
			goto out;
		}
		slash = strchr(c->public_origin + 8, '/');
		if (slash != NULL)
			*slash = '\0';
		n = strlen(c->public_origin);
		if (n > 12 && strcmp(c->public_origin + n - 4, ":443") == 0)
			c->public_origin[n - 4] = '\0';
	}
	STR("data_dir", ".", 1, data_dir);
	STR("database", "okuru.db", 0, database);
	STR("storage_dir", "storage", 0, storage_dir);
	STR("master_key_file", "master.key", 0, master_key_file);
	STR("tls.certificate", "tls/cert.pem", 0, tls_cert);
	STR("tls.key", "tls/key.pem", 0, tls_key);
	STR("audit.signing_key", "audit.key", 0, audit_signing_key);
	STR("audit.public_key", "audit.pub", 0, audit_public_key);
	/* The paths above are relative to data_dir, not to the file. */
	{
		char **rel[] = {&c->database, &c->storage_dir, &c->master_key_file,
				&c->tls_cert, &c->tls_key, &c->audit_signing_key,
				&c->audit_public_key};
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			if ((*rel[i])[0] == '/')
				continue;
			size_t n = strlen(c->data_dir) + strlen(*rel[i]) + 2;
			char *p = malloc(n);
			if (p == NULL)
				goto out;
			snprintf(p, n, "%s/%s", c->data_dir, *rel[i]);
			free(*rel[i]);
			*rel[i] = p;
		}
	}
	STR("tls.priorities", CONF_DEFAULT_PRIORITIES, 0, tls_priorities);
	/* The largest file the scanner takes by default: bigger ones could
	 * never be anything but unscannable (blocked). */
	if (conf_size(&cf, "limits.max_file_size", 2000LL << 20, 1, 1LL << 44, &v, c->path, err,
		      errlen) != 0)
		goto out;
	c->max_file_size = v;
	INT("limits.max_files_per_transfer", 100, 1, 10000, max_files_per_transfer);
	INT("limits.max_connections", 256, 4, 10000, max_connections);
	INT("limits.max_connections_per_ip", c->max_connections < 32 ? c->max_connections : 32, 1,
	    10000, max_per_ip);
	INT("limits.header_timeout", 10, 1, 600, header_timeout);
	INT("limits.idle_timeout", 60, 5, 3600, idle_timeout);
	if (conf_size(&cf, "limits.min_body_rate", 4096, 0, 1LL << 30, &v, c->path, err,
		      errlen) != 0)
		goto out;
	c->min_body_rate = v;
	INT("limits.rate_window", 20, 2, 600, rate_window);
	INT("limits.max_json_bytes", 65536, 1024, 1 << 20, max_json_bytes);
	INT("limits.max_header_bytes", 16384, 4096, 1 << 20, max_header_bytes);
	INT("limits.drain_timeout", 30, 0, 3600, drain_timeout);
	INT("limits.thread_stack_kib", 0, 0, 65536, threads_stack_kib);
	if (c->max_per_ip > c->max_connections) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "limits.max_connections_per_ip"),
			  "limits.max_connections_per_ip exceeds limits.max_connections");
		goto out;
	}
	if (conf_str(&cf, "log.target", "stderr", 0, base, &s, c->path, err, errlen) != 0)
		goto out;
	if (strcmp(s, "stderr") == 0)
		c->log_syslog = 0;
	else if (strcmp(s, "syslog") == 0)
		c->log_syslog = 1;
	else {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "log.target"),
			  "log.target must be \"stderr\" or \"syslog\"");
		goto out;
	}
	free(s);
	s = NULL;
	if (conf_str(&cf, "log.level", "info", 0, base, &s, c->path, err, errlen) != 0)
		goto out;
	c->log_level = log_level_parse(s);
	if (c->log_level < 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "log.level"),
			  "log.level must be err, warn, info or debug");
		goto out;
	}
	STR("clamav.database", "/var/lib/clamav", 1, clamav_db);
	if (conf_bool(&cf, "clamav.allow_test_signatures", 0, &c->clamav_allow_test, c->path, err,
		      errlen) != 0)
		goto out;
	/* libclamav takes sizes below 4 GiB (32-bit internally in places). */
	if (conf_size(&cf, "clamav.max_scan_size", 4000LL << 20, 1 << 20, 4000LL << 20, &v,
		      c->path, err, errlen) != 0)
		goto out;
	c->clamav_max_scan_size = v;
	if (conf_size(&cf, "clamav.max_file_size", 2000LL << 20, 1 << 10, 4000LL << 20, &v,
		      c->path, err, errlen) != 0)
		goto out;
	c->clamav_max_file_size = v;
	INT("clamav.max_recursion", 17, 1, 100, clamav_max_recursion);
	INT("clamav.max_files", 10000, 1, 1000000, clamav_max_files);
	INT("clamav.check_interval", 60, 1, 86400, clamav_check_interval);
	INT("scanner.workers", 1, 1, SCANNER_WORKERS_MAX, scanner_workers);
	INT("scanner.timeout", 600, 1, 86400, scanner_timeout);
	INT("scanner.load_timeout", 600, 1, 86400, scanner_load_timeout);
	if (conf_size(&cf, "scanner.memory_limit", 4LL << 30, 0, 1LL << 40, &v, c->path, err,
		      errlen) != 0)
		goto out;
	if (v != 0 && v < (256LL << 20)) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "scanner.memory_limit"),
			  "scanner.memory_limit must be 0 (none) or at least 256M");
		goto out;
	}
	c->scanner_memory_limit = v;
	INT("scanner.cpu_limit", 3600, 10, 1000000, scanner_cpu_limit);
	STR("scanner.tmpdir", "/dev/shm", 1, scanner_tmpdir);
	STR("scanner.program", PKGLIBEXECDIR "/okuru-scanner", 1, scanner_program);
	if (c->scanner_cpu_limit < 2 * c->scanner_timeout) {
		/* A worker retires at half its budget: one more scan must fit. */
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "scanner.cpu_limit"),
			  "scanner.cpu_limit must be at least twice scanner.timeout");
		goto out;
	}
	if (conf_bool(&cf, "scanner.require_landlock", 1, &c->scanner_require_landlock, c->path,
		      err, errlen) != 0)
		goto out;
	free(s);
	s = NULL;
	if (conf_str(&cf, "scanner.infected", "destroy", 0, base, &s, c->path, err, errlen) != 0)
		goto out;
	if (strcmp(s, "destroy") == 0)
		c->scanner_quarantine = 0;
	else if (strcmp(s, "quarantine") == 0)
		c->scanner_quarantine = 1;
	else {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "scanner.infected"),
			  "scanner.infected must be \"destroy\" or \"quarantine\"");
		goto out;
	}
	free(s);
	s = NULL;
	STR("templates", PKGDATADIR "/templates", 1, templates_dir);
	STR("www", PKGDATADIR "/www", 1, www_dir);
	STR("policy", PKGDATADIR "/policy/default.policy", 1, policy_file);
	INT("retention.interval", 600, 1, 86400, retention_interval);
	INT("audit.checkpoint_interval", 3600, 1, 7 * 86400, audit_checkpoint_interval);
	STR("audit.syslog", "", 0, audit_syslog);
	if (c->audit_syslog[0] != '\0' && audit_syslog_target_parse(c->audit_syslog, NULL) != 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "audit.syslog"),
			  "audit.syslog must be \"udp://HOST:PORT\", \"tcp://HOST:PORT\" or "
			  "\"unix:/PATH\" (is \"%s\")",
			  c->audit_syslog);
		goto out;
	}
	STR("audit.syslog_facility", "authpriv", 0, audit_syslog_facility);
	if (audit_syslog_facility_code(c->audit_syslog_facility) < 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "audit.syslog_facility"),
			  "audit.syslog_facility must be authpriv or local0 to local7");
		goto out;
	}
	STR("audit.checkpoint_mail", "", 0, audit_checkpoint_mail);
	if (c->audit_checkpoint_mail[0] != '\0' && util_mailbox_ok(c->audit_checkpoint_mail) != 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "audit.checkpoint_mail"),
			  "audit.checkpoint_mail must be one plain address (user@domain)");
		goto out;
	}
	STR("smtp.url", "", 0, smtp_url);
	STR("smtp.ca_file", "", 1, smtp_ca_file);
	STR("smtp.from", "okuru@localhost", 0, mail_from);
	STR("smtp.from_name", "okuru", 0, mail_from_name);
	STR("smtp.username", "", 0, smtp_username);
	STR("smtp.password_file", "", 1, smtp_password_file);
	INT("smtp.timeout", 60, 5, 3600, smtp_timeout);
	INT("smtp.retry_min", 60, 1, 86400, smtp_retry_min);
	INT("smtp.retry_max", 3600, 1, 86400, smtp_retry_max);
	INT("smtp.give_up", 172800, 60, 30 * 86400, smtp_give_up);
	if (c->smtp_retry_max < c->smtp_retry_min) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "smtp.retry_max"),
			  "smtp.retry_max must not be below smtp.retry_min");
		goto out;
	}
	/* Its domain ends every Message-ID (DB_MSGIDMAX): keep it well inside. */
	if (util_mailbox_ok(c->mail_from) != 0 || strlen(strchr(c->mail_from, '@')) > 200) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "smtp.from"),
			  "smtp.from must be one plain address (user@domain)");
		goto out;
	}
	if (strpbrk(c->mail_from_name, "\r\n\"<>\\") != NULL) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "smtp.from_name"),
			  "smtp.from_name must be a name without quotes, angle brackets, "
			  "backslashes or line breaks");
		goto out;
	}
	if ((c->smtp_username[0] != '\0') != (c->smtp_password_file[0] != '\0')) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "smtp.username"),
			  "smtp.username and smtp.password_file go together");
		goto out;
	}
	INT("links.max_recipients", 50, 1, 1000, links_max_recipients);
	INT("links.otp_digits", 8, 6, 8, links_otp_digits);
	INT("links.otp_lifetime", 600, 60, 3600, links_otp_lifetime);
	INT("links.otp_attempts", 5, 1, 20, links_otp_attempts);
	INT("links.otp_lock", 900, 60, 86400, links_otp_lock);
	INT("links.otp_per_hour", 5, 1, 100, links_otp_per_hour);
	INT("links.session_lifetime", 3600, 300, 86400, links_session_lifetime);
	INT("requests.max_files", 20, 1, 10000, requests_max_files);
	if (conf_size(&cf, "requests.max_bytes", 2000LL << 20, 1, 1LL << 44, &v, c->path, err,
		      errlen) != 0)
		goto out;
	c->requests_max_bytes = v;
	INT("auth.session_idle", 1800, 60, 86400, auth_session_idle);
	INT("auth.session_max", 43200, 300, 7 * 86400, auth_session_max);
	INT("auth.lockout_failures", 5, 1, 100, auth_lockout_failures);
	INT("auth.lockout_time", 900, 60, 7 * 86400, auth_lockout_time);
	INT("auth.login_per_minute", 20, 1, 100000, auth_login_per_minute);
	if (conf_bool(&cf, "auth.totp_required", 1, &c->auth_totp_required, c->path, err,
		      errlen) != 0)
		goto out;
	INT("auth.password_min_length", 12, 8, 128, auth_password_min_length);
	STR("auth.totp_issuer", "okuru", 0, auth_totp_issuer);
	if (c->auth_totp_issuer[0] == '\0' || strlen(c->auth_totp_issuer) > 64 ||
	    strchr(c->auth_totp_issuer, ':') != NULL) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "auth.totp_issuer"),
			  "auth.totp_issuer must be 1-64 characters without a colon");
		goto out;
	}
	STR("auth.proxy_header", "", 0, auth_proxy_header);
	if (conf_header_name_ok(c->auth_proxy_header) != 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "auth.proxy_header"),
			  "auth.proxy_header must be a header name (letters, digits, -), not "
			  "Authorization, Cookie or Host");
		goto out;
	}
	if (conf_addresses(&cf, "auth.proxy_addresses", c, err, errlen) != 0)
		goto out;
	if ((c->auth_proxy_header[0] != '\0') != (c->auth_proxy_naddrs > 0)) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "auth.proxy_header"),
			  "auth.proxy_header and auth.proxy_addresses go together: single sign-on "
			  "needs both the header and the proxies it is taken from");
		goto out;
	}
	STR("auth.client_ca", "", 1, auth_client_ca);
	if (c->smtp_url[0] != '\0' && strncmp(c->smtp_url, "smtps://", 8) != 0 &&
	    strncmp(c->smtp_url, "smtp://", 7) != 0) {
		cfgerr_set(err, errlen, c->path, config_lookup(&cf, "smtp.url"),
			  "smtp.url must be smtps://HOST[:PORT] or smtp://HOST[:PORT] (STARTTLS "
			  "is then required)");
		goto out;
	}
#undef STR
#undef INT
	rc = 0;
out:
	free(listen);
	free(s);
	config_destroy(&cf);
	if (rc != 0)
		conf_free(c);
	return rc;
}

void
conf_free(struct conf *c)
{
	char *strs[] = {c->path, c->listen_host, c->public_url, c->data_dir, c->database,
			c->storage_dir, c->master_key_file, c->tls_cert, c->tls_key,
			c->tls_priorities, c->clamav_db, c->smtp_url, c->smtp_ca_file,
			c->mail_from, c->scanner_tmpdir, c->scanner_program,
			c->templates_dir, c->mail_from_name, c->smtp_username, c->public_origin,
			c->smtp_password_file, c->www_dir,
			c->policy_file, c->audit_signing_key, c->audit_public_key,
			c->audit_syslog, c->audit_syslog_facility, c->audit_checkpoint_mail,
			c->auth_totp_issuer, c->auth_proxy_header, c->auth_client_ca};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	memset(c, 0, sizeof(*c));
}
