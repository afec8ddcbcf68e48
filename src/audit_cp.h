/*
 * audit_cp.h - okurud's checkpoint thread: every audit.checkpoint_interval
 * seconds, when records were appended since the last checkpoint, it signs
 * the chain head (seq, hash, time) with the audit signing key and stores
 * the checkpoint; audit_cp_stop signs a last one at clean shutdown.
 */
#ifndef OKURU_AUDIT_CP_H
#define OKURU_AUDIT_CP_H

#include <stddef.h>
#include <stdint.h>

struct audit_checkpoint;
struct audit_cp;
struct audit_signer;
struct db;
struct db_mail;

/*
 * What else happens when a checkpoint is signed (okurud.c): mail prepares
 * the auditor's copy (0 prepared, 1 none wanted, -1 failed), queued in the
 * checkpoint's own transaction; signed runs after the commit (it wakes the
 * syslog forwarder). Either may be NULL.
 */
struct audit_cp_hooks {
	int (*mail)(const struct audit_checkpoint *cp, void *arg, struct db_mail *m);
	void (*mail_free)(struct db_mail *m);
	void (*signed_cb)(const struct audit_checkpoint *cp, void *arg);
	void *arg;
};

/* audit_cp_now - sign the head if it is newer than the last checkpoint: 1 signed, 0 none, -1 error */
int audit_cp_now(struct db *db, const struct audit_signer *s, const struct audit_cp_hooks *h,
		 int64_t now);
int audit_cp_start(struct db *db, const struct audit_signer *s, const struct audit_cp_hooks *h,
		   int interval, struct audit_cp **out, char *err, size_t errlen);
/* audit_cp_stop - end the thread, then one last checkpoint (before the database closes) */
void audit_cp_stop(struct audit_cp *cp);

#endif
