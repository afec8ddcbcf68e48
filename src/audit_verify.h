/*
 * audit_verify.h - verify the audit log: every record's hash and the chain,
 * every stored (or supplied) checkpoint's signature and its agreement with
 * the record at its seq, and, for a log whose head was purged, the signed
 * purge anchors. Shared by "okuructl audit verify" (ctl_audit.c) and
 * GET /api/v1/audit/verify (api_audit_verify.c).
 */
#ifndef OKURU_AUDIT_VERIFY_H
#define OKURU_AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"

struct db;

#define AUDIT_VERIFY_PROBLEMMAX 512

/* A checkpoint from outside the database (an exported file) and where it came from. */
struct audit_verify_extra {
	struct audit_checkpoint cp;
	const char *from;
};

struct audit_verify_result {
	int ok;		   /* 1: no problem found */
	int64_t records;   /* records verified */
	int64_t first_seq; /* 0 for an empty log */
	int64_t last_seq;
	unsigned char last_hash[AUDIT_HASHBYTES];
	size_t checkpoints; /* stored and supplied */
	size_t anchors;	    /* purge anchors */
	int has_last_checkpoint;
	struct audit_checkpoint last_checkpoint; /* the newest, by seq */
	const char *last_checkpoint_from;	 /* "stored" or the file it came from */
	/* The first problem, "record N: ...", "checkpoint at record N ...", or "". */
	char problem[AUDIT_VERIFY_PROBLEMMAX];
};

/*
 * audit_verify_run - verify DB's log against public key PK and the
 * checkpoints in EXTRA (NEXTRA of them, may be 0). 0 when the verification
 * ran (res->ok tells the outcome, res->problem the first problem found);
 * -1 when it could not run (the database could not be read, no memory),
 * with res->problem saying which. Records are read in batches (the
 * connection's lock is not held for the whole walk), so records appended
 * meanwhile are verified too.
 */
int audit_verify_run(struct db *db, const unsigned char pk[AUDIT_PKBYTES],
		     const struct audit_verify_extra *extra, size_t nextra,
		     struct audit_verify_result *res);

#endif
