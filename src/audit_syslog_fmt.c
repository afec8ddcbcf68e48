/*
 * audit_syslog_fmt.c - the audit.syslog target parser and the RFC 5424
 * encoder (see audit_syslog.h). Only fixed-form values go into the header;
 * record fields go into PARAM-VALUEs, escaped per RFC 5424 section 6.3.3,
 * and the detail JSON is the MSG, marked UTF-8 with a BOM (section 6.4).
 */
#include "config.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "audit_syslog.h"
#include "db.h"

#define AUDIT_SYSLOG_NOTICE 5
#define AUDIT_SYSLOG_WARNING 4

/* audit_syslog_url_part - one part of a parsed URL into out; -1 when absent or too long */
static int
audit_syslog_url_part(CURLU *u, CURLUPart what, char *out, size_t outlen)
{
	char *v = NULL;
	int rc = -1;

	if (curl_url_get(u, what, &v, 0) == CURLUE_OK && v != NULL && strlen(v) < outlen) {
		snprintf(out, outlen, "%s", v);
		rc = 0;
	}
	curl_free(v);
	return rc;
}

/* audit_syslog_url_absent - 0 when the URL has no such part */
static int
audit_syslog_url_absent(CURLU *u, CURLUPart what)
{
	char *v = NULL;
	CURLUcode r = curl_url_get(u, what, &v, 0);
	int absent = r != CURLUE_OK || v == NULL || v[0] == '\0' ||
		     (what == CURLUPART_PATH && strcmp(v, "/") == 0);

	curl_free(v);
	return absent ? 0 : -1;
}

int
audit_syslog_target_parse(const char *url, struct audit_syslog_target *out)
{
	struct audit_syslog_target t;
	char scheme[8], port[8], *end;
	CURLU *u;
	long n;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return -1;
	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] != '/' || strlen(url + 5) >= sizeof(t.path))
			return -1;
		t.proto = AUDIT_SYSLOG_UNIX;
		snprintf(t.path, sizeof(t.path), "%s", url + 5);
		if (out != NULL)
			*out = t;
		return 0;
	}
	if (strncmp(url, "udp://", 6) != 0 && strncmp(url, "tcp://", 6) != 0)
		return -1;
	/* HOST:PORT and nothing else: libcurl would read "h:514/" as path "/", like "h:514". */
	if (strpbrk(url + 6, "/?#@\\") != NULL)
		return -1;
	u = curl_url();
	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    audit_syslog_url_part(u, CURLUPART_SCHEME, scheme, sizeof(scheme)) != 0 ||
	    audit_syslog_url_part(u, CURLUPART_HOST, t.host, sizeof(t.host)) != 0 ||
	    audit_syslog_url_part(u, CURLUPART_PORT, port, sizeof(port)) != 0 ||
	    audit_syslog_url_absent(u, CURLUPART_USER) != 0 ||
	    audit_syslog_url_absent(u, CURLUPART_PASSWORD) != 0 ||
	    audit_syslog_url_absent(u, CURLUPART_OPTIONS) != 0 ||
	    audit_syslog_url_absent(u, CURLUPART_PATH) != 0 ||
	    audit_syslog_url_absent(u, CURLUPART_QUERY) != 0 ||
	    audit_syslog_url_absent(u, CURLUPART_FRAGMENT) != 0)
		goto out;
	n = strtol(port, &end, 10);
	if (*end != '\0' || n < 1 || n > 65535)
		goto out;
	snprintf(t.port, sizeof(t.port), "%ld", n);
	t.proto = strcmp(scheme, "tcp") == 0 ? AUDIT_SYSLOG_TCP : AUDIT_SYSLOG_UDP;
	/* An IPv6 literal comes back as "[::1]": getaddrinfo wants it bare. */
	if (t.host[0] == '[') {
		size_t hl = strlen(t.host);
		if (hl < 3 || t.host[hl - 1] != ']')
			goto out;
		memmove(t.host, t.host + 1, hl - 2);
		t.host[hl - 2] = '\0';
	}
	if (t.host[0] == '\0')
		goto out;
	if (out != NULL)
		*out = t;
	rc = 0;
out:
	curl_url_cleanup(u);
	return rc;
}

int
audit_syslog_facility_code(const char *name)
{
	if (strcmp(name, "authpriv") == 0)
		return 10;
	if (strncmp(name, "local", 5) == 0 && name[5] >= '0' && name[5] <= '7' && name[6] == '\0')
		return 16 + (name[5] - '0');
	return -1;
}

char *
audit_syslog_sd_escape(const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += (*p == '"' || *p == '\\' || *p == ']') ? 2 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == ']')
			*o++ = '\\';
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* audit_syslog_time - RFC 5424 TIMESTAMP (RFC 3339, UTC) */
static void
audit_syslog_time(int64_t at, char out[32])
{
	time_t t = (time_t)at;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "-");
}

/* audit_syslog_header_name - HOSTNAME: 1..255 printable ASCII without spaces, else "-" */
static const char *
audit_syslog_header_name(const char *h)
{
	size_t n = h != NULL ? strlen(h) : 0;

	if (n == 0 || n > 255)
		return "-";
	for (size_t i = 0; i < n; i++)
		if (h[i] < 33 || h[i] > 126)
			return "-";
	return h;
}

char *
audit_syslog_record(int facility, const char *hostname, long pid, const struct db_audit_row *r,
		    size_t *len)
{
	const char *names[] = {"event",	  "actor_kind",	 "actor",    "ip",
			       "outcome", "object_kind", "object_id"};
	const char *vals[] = {r->event,	  r->actor_kind,  r->actor,    r->ip,
			      r->outcome, r->object_kind, r->object_id};
	char *esc[sizeof(vals) / sizeof(vals[0])] = {0};
	char when[32], hash[2 * AUDIT_HASHBYTES + 1] = "";
	int sev = strcmp(r->outcome, "ok") == 0 ? AUDIT_SYSLOG_NOTICE : AUDIT_SYSLOG_WARNING;
	char *buf = NULL;
	size_t cap, used;
	int n, ok = 1;

	audit_syslog_time(r->at, when);
	if (r->hash != NULL)
		sodium_bin2hex(hash, sizeof(hash), r->hash, AUDIT_HASHBYTES);
	cap = 512 + strlen(r->detail);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		esc[i] = audit_syslog_sd_escape(vals[i]);
		if (esc[i] == NULL)
			ok = 0;
		else
			cap += strlen(names[i]) + strlen(esc[i]) + 4;
	}
	if (ok)
		buf = malloc(cap);
	if (buf == NULL)
		goto out;
	n = snprintf(buf, cap,
		     "<%d>1 %s %s okurud %ld audit [" AUDIT_SYSLOG_SDID " seq=\"%lld\" hash=\"%s\"",
		     facility * 8 + sev, when, audit_syslog_header_name(hostname), pid,
		     (long long)r->seq, hash);
	used = (size_t)n;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		used += (size_t)snprintf(buf + used, cap - used, " %s=\"%s\"", names[i], esc[i]);
	/* The MSG: a BOM says it is UTF-8 (RFC 5424 6.4), then the detail JSON. */
	used += (size_t)snprintf(buf + used, cap - used, "] \xEF\xBB\xBF%s", r->detail);
	*len = used;
out:
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		free(esc[i]);
	return buf;
}

char *
audit_syslog_checkpoint(int facility, const char *hostname, long pid,
			const struct audit_checkpoint *cp, size_t *len)
{
	char when[32], text[512], hash[2 * AUDIT_HASHBYTES + 1], sig[2 * AUDIT_SIGBYTES + 1];
	size_t cap = 1536;
	char *buf;
	int n;

	if (audit_checkpoint_text(cp, text, sizeof(text)) != 0)
		return NULL;
	audit_syslog_time(cp->at, when);
	sodium_bin2hex(hash, sizeof(hash), cp->hash, AUDIT_HASHBYTES);
	sodium_bin2hex(sig, sizeof(sig), cp->sig, AUDIT_SIGBYTES);
	buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	n = snprintf(buf, cap,
		     "<%d>1 %s %s okurud %ld checkpoint [" AUDIT_SYSLOG_CP_SDID
		     " seq=\"%lld\" hash=\"%s\" at=\"%lld\" key_id=\"%s\" signature=\"%s\"] "
		     "\xEF\xBB\xBF%s",
		     facility * 8 + AUDIT_SYSLOG_NOTICE, when, audit_syslog_header_name(hostname),
		     pid, (long long)cp->seq, hash, (long long)cp->at, cp->key_id, sig, text);
	if (n < 0 || (size_t)n >= cap) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}
