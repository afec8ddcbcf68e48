/*
 * ctl.h - what okuructl's command files share with okuructl.c.
 */
#ifndef OKURU_CTL_H
#define OKURU_CTL_H

#include <stdint.h>

/* die - "okuructl: MESSAGE" on stderr and exit (1, or 2 where a command says) */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct conf;
struct db;

/* ctl_open_db - load CONF (required) and open its database, or die */
struct db *ctl_open_db(const char *confpath, struct conf *c);

int cmd_policy(const char *confpath, int argc, char **argv);
/* ctl_purge.c: purge --dry-run, hold place|lift|list */
int cmd_purge(const char *confpath, int argc, char **argv);
int cmd_hold(const char *confpath, int argc, char **argv);
/* ctl_audit.c: audit verify|checkpoint|keygen, and okuructl's own audit records */
int cmd_audit(const char *confpath, int argc, char **argv);
/* ctl_audit_export.c: audit export [--from T] [--to T] [--event E] --format csv|jsonl */
int cmd_audit_export(const char *confpath, int argc, char **argv);
/* ctl_audit_purge_dry - print what an audit purge at AT would remove (okuructl purge --dry-run) */
void ctl_audit_purge_dry(struct db *db, const struct conf *c, int64_t at);
struct json_t;
/* ctl_audit - append an admin-cli record (takes the detail reference); dies on failure */
void ctl_audit(struct db *db, const char *event, const char *object_kind, const char *object_id,
	       struct json_t *detail);

/* ---- staff accounts (ctl_user.c) ---- */
struct audit_actor;
/* ctl_actor - okuructl's audit actor: admin-cli, the OS user (or "uid:N", kept in UID) */
void ctl_actor(struct audit_actor *who, char uid[32]);
/* ctl_user_admin - 1 when okuructl user SUB is one of ctl_user.c's */
int ctl_user_admin(const char *sub);
/* cmd_user_admin - user show|list|passwd|totp-reset|disable|enable|unlock|cert|end-sessions */
int cmd_user_admin(const char *confpath, int argc, char **argv);

#endif
