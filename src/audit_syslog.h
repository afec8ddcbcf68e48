/*
 * audit_syslog.h - forwarding the audit log to a syslog collector as RFC
 * 5424 messages (okuru.conf audit.syslog). The target parser and the
 * message encoder are here (audit_syslog_fmt.c, shared with okuructl and
 * the unit tests); okurud's forwarder thread is audit_syslog.c. It tails
 * the audit table and the checkpoints after the position kept in the
 * audit_forward row (schema 7), so a restart resumes where it stopped,
 * and a failed send is retried later without blocking any request.
 */
#ifndef OKURU_AUDIT_SYSLOG_H
#define OKURU_AUDIT_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_SYSLOG_SDID "okuru@32473"
#define AUDIT_SYSLOG_CP_SDID "okuru-checkpoint@32473"

enum audit_syslog_proto { AUDIT_SYSLOG_UDP, AUDIT_SYSLOG_TCP, AUDIT_SYSLOG_UNIX };

struct audit_syslog_target {
	enum audit_syslog_proto proto;
	char host[256]; /* without [] for IPv6 */
	char port[6];
	char path[108]; /* unix: the socket */
};

struct audit_checkpoint;
struct db_audit_row;

/*
 * audit_syslog_target_parse - "udp://HOST:PORT", "tcp://HOST:PORT" (parsed
 * with libcurl's URL API: no user, path, query or fragment; the port is
 * required) or "unix:/PATH". t may be NULL to check only. 0 or -1.
 */
int audit_syslog_target_parse(const char *url, struct audit_syslog_target *t);

/* audit_syslog_facility_code - authpriv 10, local0..local7 16..23, else -1 */
int audit_syslog_facility_code(const char *name);

/* audit_syslog_sd_escape - a PARAM-VALUE with '"', '\' and ']' escaped (RFC 5424 6.3.3); malloc'd
 */
char *audit_syslog_sd_escape(const char *s);

/*
 * audit_syslog_record - the RFC 5424 message for one record (no framing):
 * <PRI>1 TIMESTAMP HOSTNAME okurud PROCID audit [okuru@32473 ...] BOM detail.
 * Severity notice, warning when outcome is not "ok". malloc'd, *len set.
 */
char *audit_syslog_record(int facility, const char *hostname, long pid,
			  const struct db_audit_row *r, size_t *len);
/* audit_syslog_checkpoint - the same for a signed checkpoint (MSGID checkpoint, MSG the export
 * text) */
char *audit_syslog_checkpoint(int facility, const char *hostname, long pid,
			      const struct audit_checkpoint *cp, size_t *len);

struct audit_syslog;
struct conf;
struct db;

/* okurud's forwarder thread (audit_syslog.c); *out NULL when audit.syslog is empty */
int audit_syslog_start(const struct conf *c, struct db *db, struct audit_syslog **out, char *err,
		       size_t errlen);
/* audit_syslog_wake - records or a checkpoint were added: look now rather than at the next tick */
void audit_syslog_wake(struct audit_syslog *s);
/* audit_syslog_stop - one last pass (a few seconds at most), then the thread ends */
void audit_syslog_stop(struct audit_syslog *s);

#endif
