/*
 * audit.h - the tamper-evident audit log: the record hash chain, the
 * Ed25519 signing key that is separate from the master key, signed
 * checkpoints and their export file. The SQL is in db_audit.c; the
 * encodings are written out byte by byte in docs/ARCHITECTURE.md
 * ("Audit log").
 */
#ifndef OKURU_AUDIT_H
#define OKURU_AUDIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASHBYTES 32
#define AUDIT_PKBYTES 32
#define AUDIT_SIGBYTES 64
#define AUDIT_KEYIDLEN 16 /* hex digits: the first 8 bytes of BLAKE2b-256(public key) */
#define AUDIT_FIELDMAX 4096    /* bytes per text field; longer ones are refused */
#define AUDIT_DETAILMAX 65536 /* bytes of detail JSON: a send to 1,000 recipients fits */

/* What happened. NULL text fields are stored and hashed as "" (detail as "{}"). */
struct audit_event {
	const char *actor_kind; /* user, recipient, system, admin-cli */
	const char *actor;
	const char *ip;
	const char *user_agent;
	const char *event; /* e.g. "user.added", "okurud.started" */
	const char *object_kind;
	const char *object_id;
	const char *outcome; /* "ok", "failed", ... */
	const char *detail;  /* compact JSON object */
};

/*
 * Who did it: the acting party of a record. okurud's HTTP layer fills one
 * per request (http.c: the client's address and User-Agent; the user once
 * the token checks out, the recipient's address once the link does);
 * background threads use audit_system.
 */
struct audit_actor {
	const char *kind; /* user, recipient, system, admin-cli */
	const char *name;
	const char *ip;
	const char *user_agent;
};

extern const struct audit_actor audit_system;

/*
 * A bound on records anyone can cause without credentials (a bad token, an
 * unknown link): each is a commit, so at most PER a minute, process-wide;
 * the first record of a new minute says how many were left out.
 */
struct audit_flood {
	pthread_mutex_t lock;
	int64_t window;
	int used, dropped;
};
#define AUDIT_FLOOD_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}
#define AUDIT_FLOOD_PER_MIN 60

/* audit_flood_take - 1 when one more record fits; *left_out: dropped in the last window */
int audit_flood_take(struct audit_flood *f, int64_t now, int *left_out);

struct audit_checkpoint {
	int64_t seq; /* the last record it covers */
	int64_t at;  /* Unix seconds when it was signed */
	unsigned char hash[AUDIT_HASHBYTES]; /* that record's hash */
	char key_id[AUDIT_KEYIDLEN + 1];
	unsigned char sig[AUDIT_SIGBYTES];
};

/*
 * A purge anchor: okurud's (or okuructl's) signed statement that records
 * first_seq..through_seq were removed at purged_at under audit_days, the
 * last of them having hash through_hash and time through_at. Signed under
 * its own label, so an ordinary checkpoint can never stand in for one.
 */
struct audit_anchor {
	int64_t first_seq, through_seq, through_at, purged_at, audit_days;
	unsigned char through_hash[AUDIT_HASHBYTES];
	char key_id[AUDIT_KEYIDLEN + 1];
	unsigned char sig[AUDIT_SIGBYTES];
};

struct audit_signer;

/* audit_event_ok - 0 when every field is within AUDIT_FIELDMAX and actor_kind is known */
int audit_event_ok(const struct audit_event *ev);

/* audit_hash - the record hash: BLAKE2b-256 over the v1 encoding (ARCHITECTURE.md) */
void audit_hash(int64_t seq, int64_t at, const struct audit_event *ev,
		const unsigned char prev[AUDIT_HASHBYTES], unsigned char out[AUDIT_HASHBYTES]);

/* audit_key_id - hex of the first 8 bytes of BLAKE2b-256(pk) */
void audit_key_id(const unsigned char pk[AUDIT_PKBYTES], char out[AUDIT_KEYIDLEN + 1]);

/* audit_keygen - create KEYPATH (the 32-byte seed, 0600) and PUBPATH (hex); never overwrites */
int audit_keygen(const char *keypath, const char *pubpath, char *err, size_t errlen);

/* audit_signer_load - the signing key (no symlink, owner-only mode) into guarded memory */
int audit_signer_load(const char *keypath, struct audit_signer **out, char *err, size_t errlen);
void audit_signer_free(struct audit_signer *s);
const unsigned char *audit_signer_pk(const struct audit_signer *s);

/* audit_pub_load - a public key file (64 hex digits and a newline) */
int audit_pub_load(const char *path, unsigned char pk[AUDIT_PKBYTES], char *err, size_t errlen);

/* audit_checkpoint_sign - fill cp->key_id and cp->sig from seq, at and hash */
void audit_checkpoint_sign(const struct audit_signer *s, struct audit_checkpoint *cp);
/* audit_checkpoint_verify - 0 when the key id and the signature match pk */
int audit_checkpoint_verify(const unsigned char pk[AUDIT_PKBYTES],
			    const struct audit_checkpoint *cp);

/* audit_anchor_sign / _verify - the same for a purge anchor (its own label) */
void audit_anchor_sign(const struct audit_signer *s, struct audit_anchor *a);
int audit_anchor_verify(const unsigned char pk[AUDIT_PKBYTES], const struct audit_anchor *a);

/* The export file: "okuru-audit-checkpoint v1" and five "name value" lines. */
/* audit_checkpoint_text - the export file's text (mail, syslog); 0, or -1 when len is short */
int audit_checkpoint_text(const struct audit_checkpoint *cp, char *text, size_t len);
int audit_checkpoint_write(const char *path, const struct audit_checkpoint *cp);
int audit_checkpoint_read(const char *path, struct audit_checkpoint *cp, char *err,
			  size_t errlen);

#endif
