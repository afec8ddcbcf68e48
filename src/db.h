/*
 * db.h - metadata in SQLite: users, API tokens, transfers, files.
 *
 * WAL with synchronous=FULL: a commit is on disk when it returns. Every
 * statement is a constant string prepared with bound parameters. One
 * connection per process, serialised by a mutex, so multi-statement
 * operations are atomic with respect to other threads.
 */
#ifndef OKURU_DB_H
#define OKURU_DB_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "retention.h"
#include "util.h"

enum db_rc {
	DB_ERROR = -1,
	DB_OK = 0,
	DB_NOTFOUND = 1,
	DB_CONFLICT = 2,
	DB_TOOBIG = 3, /* over a byte limit (db_upload_create for an upload link) */
};

#define DB_NAMEMAX 64
#define DB_EMAILMAX 254
#define DB_SCAN_DETAILMAX 256
#define DB_SCAN_VERSIONMAX 512
#define DB_GROUPMAX 64
#define DB_MAXGROUPS 32
#define DB_TYPEMAX 128 /* a detected media type with its NUL (SCAN_TYPEMAX) */

struct db;
struct audit_actor;

struct db_user {
	int64_t id;
	char name[DB_NAMEMAX + 1];
	char email[DB_EMAILMAX + 1];
	char role[16];
};

struct db_transfer {
	char id[UTIL_IDLEN + 1];
	int64_t owner_id;
	char *subject;
	char *message;
	char state[16];
	int64_t created;
};

struct db_file {
	char id[UTIL_IDLEN + 1];
	char transfer_id[UTIL_IDLEN + 1];
	char name[256];
	int64_t size;
	char sha256[65];
	char state[16];
	char key_id[KEYS_IDLEN + 1];
	unsigned char wrapped[KEYS_WRAPPEDBYTES];
	int64_t created;
	/* the latest scan (empty until one finishes) */
	char scan_verdict[16];
	char scan_reason[16];
	char scan_detail[DB_SCAN_DETAILMAX];
	char scan_engine[32];
	char scan_db_version[DB_SCAN_VERSIONMAX];
	int64_t scanned_at;
	int64_t scan_ms;
	int shredded; /* data key erased: the content is gone for good */
	char uploader[UTIL_IDLEN + 1]; /* the upload link a counterparty used, or "" */
	char detected_type[DB_TYPEMAX]; /* libmagic's media type, "" until scanned or unknown */
};

/* One scan attempt, as recorded in the scans table. */
struct db_scan {
	const char *file_id;
	const char *verdict; /* clean, infected, unscannable, error */
	const char *reason;
	const char *detail;
	const char *engine;
	const char *db_version;
	const char *type; /* detected media type, "" when unknown */
	int64_t finished;
	int64_t ms;
};

typedef int (*db_file_cb)(const struct db_file *f, void *arg);

int db_open(const char *path, int create, struct db **out, char *err, size_t errlen);
/* db_open_reader - a read-only connection to an opened, migrated database (db.c) */
int db_open_reader(const char *path, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);
int db_schema_version(struct db *db);
int db_ping(struct db *db);

int db_user_add(struct db *db, const char *name, const char *email, const char *role,
		int64_t *id);
int db_user_find(struct db *db, const char *name, struct db_user *u);
int db_user_get(struct db *db, int64_t id, struct db_user *u);
int db_token_add(struct db *db, int64_t user_id, const char *token_id,
		 const unsigned char hash[32]);
int db_token_lookup(struct db *db, const char *token_id, struct db_user *u,
		    unsigned char hash[32]);
/* db_token_used - record "auth.token_used" when the address changed or an interval passed */
#define DB_TOKEN_USE_INTERVAL 3600
int db_token_used(struct db *db, const char *token_id, const struct audit_actor *who,
		  int64_t now);

/* The mutations below take WHO and append their audit records in their own transaction. */
int db_transfer_create(struct db *db, const struct db_transfer *t, const struct audit_actor *who);
int db_transfer_get(struct db *db, const char *id, struct db_transfer *t);
void db_transfer_free(struct db_transfer *t);

int db_file_insert(struct db *db, const struct db_file *f, int max_files, int64_t max_bytes,
		   const struct audit_actor *who, char *why, size_t whylen);
int db_file_get(struct db *db, const char *transfer_id, const char *file_id,
		struct db_file *f);
int db_file_name_taken(struct db *db, const char *transfer_id, const char *name);
int db_file_remove(struct db *db, const char *transfer_id, const char *file_id,
		   const struct audit_actor *who, int64_t now);
/* db_file_count - the transfer's files plus its unfinished tus uploads (each holds a slot) */
int db_file_count(struct db *db, const char *transfer_id, int *n);
int db_file_list(struct db *db, const char *transfer_id, db_file_cb cb, void *arg);
int db_file_all(struct db *db, db_file_cb cb, void *arg);
int db_file_set_state(struct db *db, const char *file_id, const char *state);
int db_file_exists(struct db *db, const char *file_id);

int db_file_scan_requeue(struct db *db, int *n);
int db_file_scan_claim(struct db *db, struct db_file *f);
int db_file_scan_done(struct db *db, const struct db_scan *sc, int shred);
int db_file_queued(struct db *db, int *n);

/* ---- resumable uploads, tus (db_uploads.c) ---- */

#define DB_UPLOAD_STAGINGMAX (UTIL_IDLEN + 5) /* "<random id>.part" */

/* An unfinished tus upload; its id becomes the file's id when it completes. */
struct db_upload {
	char id[UTIL_IDLEN + 1];
	char transfer_id[UTIL_IDLEN + 1];
	int64_t owner_id;		  /* a staff user's upload, or 0 */
	char link_id[UTIL_IDLEN + 1]; /* an upload link's (a counterparty's), or "" */
	char name[256];
	int64_t length;
	int64_t offset; /* durable bytes: whole chunks, fsynced */
	char key_id[KEYS_IDLEN + 1];
	unsigned char wrapped[KEYS_WRAPPEDBYTES];
	char staging[DB_UPLOAD_STAGINGMAX + 1];
	int64_t created;
	int64_t updated;
};

typedef int (*db_upload_cb)(const struct db_upload *u, void *arg);

/* upload.created, checked against the transfer like db_file_insert (see db_uploads.c) */
int db_upload_create(struct db *db, const struct db_upload *u, int max_files, int64_t max_bytes,
		     const struct audit_actor *who, char *why, size_t whylen);
int db_upload_get(struct db *db, const char *id, struct db_upload *u);
/* upload.appended: the durable offset after a PATCH (outcome "partial" when cut off) */
int db_upload_progress(struct db *db, const char *id, int64_t offset, int64_t received, int cut,
		       const struct audit_actor *who);
/* the file row (file.uploaded) and the upload row's removal, in one transaction */
int db_upload_finish(struct db *db, const char *id, const struct db_file *f, int max_files,
		     int64_t max_bytes, const struct audit_actor *who, char *why, size_t whylen);
/* EVENT (upload.terminated, upload.expired) with REASON, and the row removed */
int db_upload_remove(struct db *db, const char *id, const char *event, const char *reason,
		     int64_t idle_before, const struct audit_actor *who);
/* db_upload_idle - at most LIMIT uploads not updated since BEFORE */
int db_upload_idle(struct db *db, int64_t before, int limit, db_upload_cb cb, void *arg);
int db_upload_all(struct db *db, db_upload_cb cb, void *arg);
/* db_upload_staging_exists - 1 when a row names this staging file, 0 if not, -1 */
int db_upload_staging_exists(struct db *db, const char *staging);
/* counterparty uploads (tus through an upload link, schema 11): */
/* db_upload_link_bytes - bytes a link has taken: its files plus its unfinished uploads */
int db_upload_link_bytes(struct db *db, const char *link_id, int64_t *bytes);
/* db_upload_link_ended - at most LIMIT uploads of links that ended or whose transfer is no draft */
int db_upload_link_ended(struct db *db, int64_t now, int limit, db_upload_cb cb, void *arg);
/* db_upload_of_link - at most LIMIT unfinished uploads of one link */
int db_upload_of_link(struct db *db, const char *link_id, int limit, db_upload_cb cb, void *arg);

/* ---- sending (db_links.c) ---- */

/* A link: one recipient's download link, or a counterparty's upload link. */
struct db_link {
	char id[UTIL_IDLEN + 1];
	char kind[12]; /* download, upload */
	char transfer_id[UTIL_IDLEN + 1];
	char address[DB_EMAILMAX + 1];
	unsigned char token_hash[32];
	int64_t created;
	int64_t expires_at;
	int64_t revoked_at;
	int64_t verified_at;
	int64_t otp_expires;
	int otp_failures;
	int64_t locked_until;
	int max_files;	   /* upload links */
	int64_t max_bytes; /* upload links */
	int64_t completed_at;
};

/* The transfer fields sending sets. */
struct db_send {
	const char *transfer_id;
	int64_t sent_at;
	int64_t expires_at;
	int download_limit;
	const char *verification;
	const char *passphrase; /* crypto_pwhash_str, or "" */
	const char *message;	/* NULL keeps the draft's */
	/* the policy decision */
	const char *policy;	/* the decision as JSON, kept on the transfer */
	int64_t release_at;	/* link mails not before (send delay) */
	int expiry_days;	/* links live this long after release */
	int max_expiry_days;	/* and may be extended to this */
	int approvals_needed;	/* > 0: pending until approved, mails held */
	const char *approval_group;
	int approval_self;
	int64_t approval_expires;
	int retention_days;
	int allow_unscannable;
	int allow_encrypted;
	int64_t sent_by; /* who pressed send: not an approver unless self is allowed */
	const char *file_ids; /* the files the policy decided on: their ids, sorted, comma-joined */
};

struct db_sendinfo {
	char origin[12];
	int64_t sent_at;
	int64_t expires_at;
	int download_limit;
	char verification[16];
	char passphrase[128];
	int64_t revoked_at;
	char state[16];
	int64_t release_at;
	int64_t ended_at;
	int allow_unscannable;
	int allow_encrypted;
	int expiry_days;
	int approvals_needed;
	char approval_group[DB_GROUPMAX + 1];
	int approval_self;
	int64_t approval_expires;
	int retention_days;
	int64_t owner_id;
	int64_t content_purged_at;
	int max_expiry_days;
	int64_t sent_by;
};

/* A message to queue, sealed by outbox.c; inserted in the caller's transaction. */
#define DB_MSGIDMAX 320 /* "<" 32 hex "@" domain (253) ">" */
struct db_mail {
	const char *kind; /* link, otp, receipt, request, uploaded, mailfail */
	/* Copies, not pointers: a prepared mail outlives the rows it came from. */
	char to[DB_EMAILMAX + 1];
	char transfer_id[UTIL_IDLEN + 1]; /* or "" */
	char link_id[UTIL_IDLEN + 1];	  /* or "" */
	char message_id[DB_MSGIDMAX];
	char key_id[KEYS_IDLEN + 1];
	unsigned char wrapped[KEYS_WRAPPEDBYTES];
	unsigned char *sealed;
	size_t sealed_len;
};

/* An outbox row, as the mailer reads it. */
struct db_outbox {
	int64_t id;
	int64_t created;
	char kind[16];
	char to[DB_EMAILMAX + 1];
	char transfer_id[UTIL_IDLEN + 1];
	char link_id[UTIL_IDLEN + 1];
	char message_id[DB_MSGIDMAX];
	char key_id[KEYS_IDLEN + 1];
	unsigned char wrapped[KEYS_WRAPPEDBYTES];
	unsigned char *sealed; /* malloc'd */
	size_t sealed_len;
	char state[12];
	int attempts;
	int64_t next_attempt;
	char last_error[256];
	int last_code;
	int64_t sent_at;
	char tls[128];
};

struct db_download {
	const char *link_id;
	const char *file_id;
	int64_t started;
	int64_t finished;
	const char *ip;
	const char *user_agent;
	int64_t range_start;
	int64_t length;
	int64_t bytes;
	int complete;
};

/* A download as listed back (GET /api/v1/transfers/ID). */
struct db_download_row {
	char file_id[UTIL_IDLEN + 1];
	int64_t started;
	int64_t finished;
	char ip[64];
	char user_agent[256];
	int64_t range_start;
	int64_t length;
	int64_t bytes;
	int complete;
};

enum db_verify {
	DB_VERIFY_OK = 0,
	DB_VERIFY_WRONG = 1,  /* attempts left */
	DB_VERIFY_LOCKED = 2, /* too many failures: locked_until */
	DB_VERIFY_NOCODE = 3, /* no live code (never asked, expired or used) */
};

typedef int (*db_link_cb)(const struct db_link *l, void *arg);
typedef int (*db_download_cb)(const struct db_download_row *d, void *arg);

int db_transfer_sendinfo(struct db *db, const char *id, struct db_sendinfo *si);
int db_transfer_send(struct db *db, const struct db_send *s, const struct db_link *links,
		     size_t nlinks, const struct db_mail *mails, size_t nmails,
		     const struct audit_actor *who, char *why, size_t whylen);
int db_transfer_refused(struct db *db, const char *transfer_id, const char *policy, int64_t now,
			const struct audit_actor *who);
int db_transfer_revoke(struct db *db, const char *transfer_id, int *recalled,
		       const struct audit_actor *who);
int db_transfer_extend(struct db *db, const char *transfer_id, int64_t expires_at,
		       const struct audit_actor *who);
int db_request_create(struct db *db, const struct db_transfer *t, const struct db_link *l,
		      const struct db_mail *m, const char *policy, int retention_days,
		      const struct audit_actor *who);
int db_request_done(struct db *db, const char *link_id, const char *transfer_id, int64_t now,
		    const struct db_mail *m, const struct audit_actor *who);

int db_link_by_hash(struct db *db, const unsigned char hash[32], struct db_link *l);
int db_link_get(struct db *db, const char *transfer_id, const char *link_id, struct db_link *l);
int db_link_list(struct db *db, const char *transfer_id, const char *kind, db_link_cb cb,
		 void *arg);
int db_link_revoke(struct db *db, const char *transfer_id, const char *link_id, int64_t now,
		   const struct audit_actor *who);
int db_link_attempt(struct db *db, const char *link_id, const char *action, const char *outcome,
		    const char *ip, const char *user_agent);

/* db_otp_issue - records "otp.requested" by WHO with the code's mail */
int db_otp_issue(struct db *db, const char *link_id, const unsigned char hash[32], int64_t expires,
		 int per_hour, int64_t now, const struct db_mail *m, const struct audit_actor *who);
/* db_link_verify - records otp.* or passphrase.* (verified, failed, locked) by WHO */
int db_link_verify(struct db *db, const char *link_id, const unsigned char *code_hash,
		   int external_ok, int max_attempts, int lock_secs, int64_t now,
		   const unsigned char session_hash[32], int64_t session_expires,
		   enum db_verify *out, int *left, const struct audit_actor *who);
int db_link_locked(struct db *db, const char *link_id, int64_t now, int64_t *until);
int db_session_check(struct db *db, const unsigned char hash[32], const char *link_id,
		     int64_t now);

int db_download_reserve(struct db *db, const char *link_id, const char *file_id, int limit,
			int64_t size, int64_t len);
/* db_download_record - records "file.downloaded" by WHO in the same transaction */
int db_download_record(struct db *db, const struct db_download *d, int64_t size,
		       const struct db_mail *receipt, int *first, const struct audit_actor *who);
int db_download_list(struct db *db, const char *link_id, db_download_cb cb, void *arg);
int db_download_state(struct db *db, const char *link_id, const char *file_id, int limit,
		      int64_t size, int *completed, int *usable);

/* ---- policy: groups, approvers, votes (db_policy.c) ---- */
struct db_vote {
	int64_t approver_id;
	char approver[DB_NAMEMAX + 1];
	char decision[12]; /* approve, reject */
	char comment[1001];
	int64_t at;
};

typedef int (*db_user_cb)(const struct db_user *u, void *arg);
typedef int (*db_id_cb)(const char *id, void *arg);
typedef int (*db_vote_cb)(const struct db_vote *v, void *arg);

int db_user_group(struct db *db, int64_t user_id, const char *grp, int add);
int db_user_groups(struct db *db, int64_t user_id, char groups[][DB_GROUPMAX + 1], size_t *n);
int db_approvers(struct db *db, const char *group, db_user_cb cb, void *arg);
int db_pending(struct db *db, db_id_cb cb, void *arg);
int db_votes(struct db *db, const char *transfer_id, db_vote_cb cb, void *arg);
int db_transfer_policy(struct db *db, const char *transfer_id, char **json, int64_t *at);
int db_vote(struct db *db, const char *transfer_id, int64_t approver_id, int approve,
	    const char *comment, int64_t now, const struct db_mail *notify_approve,
	    const struct db_mail *notify_reject, const struct audit_actor *who,
	    const char **outcome, char *why, size_t whylen);
int db_lapsed(struct db *db, int64_t now, char ids[][UTIL_IDLEN + 1], size_t max, size_t *n);
int db_lapse(struct db *db, const char *transfer_id, int64_t now, const struct db_mail *notify);

/* ---- outbox (db_outbox.c) ---- */
int db_outbox_due(struct db *db, int64_t now, struct db_outbox *o);
int db_outbox_next_time(struct db *db, int64_t *t);
int db_outbox_result(struct db *db, int64_t id, const char *state, int attempts,
		     int64_t next_attempt, int code, const char *error, const char *tls,
		     int64_t now, const struct db_mail *notify);
int db_outbox_latest(struct db *db, const char *link_id, const char *kind, struct db_outbox *o);
void db_outbox_free(struct db_outbox *o);
int db_outbox_queued(struct db *db, int *n);

/* ---- retention and legal hold (db_retention.c) ---- */

/* A transfer's fields that decide its retention, and its active hold if any. */
struct db_retention_row {
	char id[UTIL_IDLEN + 1];
	char state[16];
	int64_t created;
	int64_t expires_at;
	int64_t revoked_at;
	int64_t ended_at;
	int retention_days; /* -1: the policy's default */
	int64_t content_purged_at;
	int held;
	char hold_by[DB_NAMEMAX + 1];
	int64_t hold_at;
	char hold_reason[RETENTION_REASON_MAX + 1];
};

/* What a purge did, or why it did not. */
struct db_purge {
	int64_t files;
	int64_t bytes;
	char reason[160];    /* as recorded in purges.reason */
	const char *blocked; /* with DB_CONFLICT: "legal hold", ... */
};

struct db_hold {
	int64_t id;
	char transfer_id[UTIL_IDLEN + 1];
	char placed_by[DB_NAMEMAX + 1];
	int64_t placed_at;
	char reason[RETENTION_REASON_MAX + 1];
	char lifted_by[DB_NAMEMAX + 1]; /* "" while active */
	int64_t lifted_at;		/* 0 while active */
	char lift_reason[RETENTION_REASON_MAX + 1];
};

typedef int (*db_retention_cb)(const struct db_retention_row *r, void *arg);
typedef int (*db_hold_cb)(const struct db_hold *h, void *arg);
typedef int (*db_id_cb)(const char *id, void *arg);

void db_retention_input(const struct db_retention_row *r, struct retention_input *in);
int db_retention_get(struct db *db, const char *tid, struct db_retention_row *r);
int db_retention_due(struct db *db, const struct retention_policy *p, int64_t at, int with_held,
		     int limit, db_retention_cb cb, void *arg);
/* db_purge_content, db_purge_metadata - record purge.content / purge.metadata by WHO */
int db_purge_content(struct db *db, const char *tid, const struct retention_policy *p, int64_t now,
		     struct db_purge *pg, const struct audit_actor *who);
int db_purge_metadata(struct db *db, const char *tid, const struct retention_policy *p, int64_t now,
		      struct db_purge *pg, const struct audit_actor *who);
int db_purge_pending(struct db *db, const char *tid, int limit, db_id_cb cb, void *arg);
int db_purge_blob_done(struct db *db, const char *file_id);
int db_hold_place(struct db *db, const char *tid, int64_t user_id, const char *reason, int64_t now,
		  const struct audit_actor *who);
int db_hold_lift(struct db *db, const char *tid, int64_t user_id, const char *reason, int64_t now,
		 const struct audit_actor *who);
int db_hold_list(struct db *db, const char *tid, db_hold_cb cb, void *arg);

/* ---- the audit log (db_audit.c; the hashing is in audit.c) ---- */
struct audit_event;
struct audit_checkpoint;
struct audit_actor;
struct json_t;

/* A stored record, as read back: the text is valid during the callback only. */
struct db_audit_row {
	int64_t seq, at;
	const char *actor_kind, *actor, *ip, *user_agent, *event, *object_kind, *object_id,
		*outcome, *detail;
	const unsigned char *prev, *hash; /* NULL unless the column holds 32 bytes */
};

/* db_audit_append_locked - append inside the caller's transaction (db_begin) */
int db_audit_append_locked(struct db *db, const struct audit_event *ev, int64_t now,
			   int64_t *seq);
/* db_audit_append - the same in a transaction of its own */
int db_audit_append(struct db *db, const struct audit_event *ev, int64_t now, int64_t *seq);
/*
 * db_audit_record_locked - append WHO did EVENT to OBJECT_KIND/OBJECT_ID with
 * OUTCOME inside the caller's transaction, so the record and the change it
 * describes commit or roll back together. Takes DETAIL's reference (NULL is
 * {}); by convention a record about a transfer's file, link or mail names
 * the transfer as detail "transfer" and a recipient as detail "recipient",
 * which is what GET /api/v1/audit filters on.
 */
int db_audit_record_locked(struct db *db, const struct audit_actor *who, const char *event,
			   const char *object_kind, const char *object_id, const char *outcome,
			   struct json_t *detail, int64_t now);
/* db_audit_record - the same in a transaction of its own */
int db_audit_record(struct db *db, const struct audit_actor *who, const char *event,
		    const char *object_kind, const char *object_id, const char *outcome,
		    struct json_t *detail, int64_t now);
struct audit_flood;
void db_audit_record_bounded(struct db *db, struct audit_flood *flood,
			     const struct audit_actor *who, const char *event,
			     const char *object_kind, const char *object_id, struct json_t *detail,
			     int64_t now);
/* db_audit_head - the last record's seq and hash (seq 0 and zeros for an empty log) */
int db_audit_head(struct db *db, int64_t *seq, unsigned char hash[32]);
/* db_audit_each - every record in seq order; a non-zero cb return stops (returned) */
int db_audit_each(struct db *db, int (*cb)(const struct db_audit_row *r, void *arg), void *arg);
/* db_audit_each_after - the records after seq AFTER, at most LIMIT (-1: all), under the db lock */
int db_audit_each_after(struct db *db, int64_t after, int limit,
			int (*cb)(const struct db_audit_row *r, void *arg), void *arg);
/*
 * db_audit_forward_get/_set/_cp_set - the last seq and checkpoint id the
 * syslog forwarder sent (schema 7, db_audit_forward.c); a set never lowers them
 */
int db_audit_forward_get(struct db *db, int64_t *last_seq, int64_t *last_cp);
int db_audit_forward_set(struct db *db, int64_t last_seq, int64_t now);
int db_audit_forward_cp_set(struct db *db, int64_t last_cp, int64_t now);
/* db_audit_checkpoint_add_mail - store CP and queue M (NULL: none) in one transaction */
int db_audit_checkpoint_add_mail(struct db *db, const struct audit_checkpoint *cp,
				 const struct db_mail *m);
/* db_audit_checkpoint_next - the first checkpoint with id > AFTER_ID, DB_NOTFOUND when none */
int db_audit_checkpoint_next(struct db *db, int64_t after_id, int64_t *id,
			     struct audit_checkpoint *cp);
/* db_audit_checkpoint_last - the newest checkpoint, DB_NOTFOUND when none */
int db_audit_checkpoint_last(struct db *db, struct audit_checkpoint *cp);
int db_audit_checkpoint_each(struct db *db,
			     int (*cb)(const struct audit_checkpoint *cp, void *arg), void *arg);

/* ---- audit retention (db_audit_purge.c) ---- */
struct audit_signer;

/* What an audit purge removes: records first_seq..through_seq (through_seq 0: nothing). */
struct db_audit_purge {
	int64_t cutoff; /* records at or after this time stay */
	int64_t first_seq, through_seq, records;
	int64_t through_at;
	unsigned char through_hash[32];
};

/*
 * db_audit_purge_plan - the leading records older than CUTOFF, never the
 * newest and, when KEEP_FROM > 0, none at or after seq KEEP_FROM
 */
int db_audit_purge_plan(struct db *db, int64_t cutoff, int64_t keep_from,
			struct db_audit_purge *p);
/*
 * db_audit_purge - in one transaction: a checkpoint at through_seq signed
 * with S (unless a valid one is stored), an audit.purged record by WHO,
 * then the records through through_seq and the checkpoints before it are
 * deleted. DB_NOTFOUND when nothing is old enough.
 */
struct audit_anchor;
/* db_audit_anchor_each - every purge anchor, by through_seq */
int db_audit_anchor_each(struct db *db, int (*cb)(const struct audit_anchor *a, void *arg),
			 void *arg);
int db_audit_purge(struct db *db, const struct audit_signer *s, const struct audit_actor *who,
		   int audit_days, int64_t now, int64_t keep_from, struct db_audit_purge *p);

/* ---- staff accounts: administration (db_users.c) ---- */
#define DB_CERTDNMAX 1024 /* a TLS client certificate's subject DN, in bytes */

/* A user's account as an administrator sees it: never the hash or the TOTP secret. */
struct db_user_state {
	int64_t id;
	char name[DB_NAMEMAX + 1];
	char email[DB_EMAILMAX + 1];
	char role[16];
	char groups[DB_MAXGROUPS][DB_GROUPMAX + 1];
	size_t ngroups;
	int disabled;
	int has_password;
	int64_t pw_changed;
	int totp_enrolled; /* a confirmed TOTP secret */
	int totp_pending;  /* an enrolment begun and not confirmed */
	int failed_logins;
	int64_t locked_until;
	char cert_dn[DB_CERTDNMAX + 1]; /* "" = none */
	int64_t sessions;		/* live browser sessions */
	int64_t created;
};

typedef int (*db_user_state_cb)(const struct db_user_state *s, void *arg);

/*
 * Each mutation below finds the user by NAME, disabled or not (DB_NOTFOUND
 * when there is none), and records its audit event by WHO in the same
 * transaction. Setting a password, resetting TOTP and disabling also end
 * every live session of the user; *ended (may be NULL) says how many.
 * WHY (may be NULL) explains a DB_CONFLICT.
 */
/* db_users_create - a new user with groups and a password hash ("" = none): user.added */
int db_users_create(struct db *db, const char *name, const char *email, const char *role,
		    const char *const *groups, size_t ngroups, const char *pw_hash, int64_t now,
		    const struct audit_actor *who, int64_t *id);
int db_users_get(struct db *db, const char *name, struct db_user_state *s);
/* db_users_list - every user by name; a non-zero cb return stops the list (DB_ERROR) */
int db_users_list(struct db *db, db_user_state_cb cb, void *arg);
/* user.password_set */
int db_users_password(struct db *db, const char *name, const char *pw_hash, int64_t now,
		      const struct audit_actor *who, int64_t *ended);
/* user.totp_reset */
int db_users_totp_reset(struct db *db, const char *name, int64_t now, const struct audit_actor *who,
			int64_t *ended);
/* user.disabled / user.enabled; DB_CONFLICT when already so, or the DN is taken */
int db_users_disable(struct db *db, const char *name, int disable, int64_t now,
		     const struct audit_actor *who, int64_t *ended, const char **why);
/* user.unlocked */
int db_users_unlock(struct db *db, const char *name, int64_t now, const struct audit_actor *who);
/* user.cert_set / user.cert_cleared (DN ""); DB_CONFLICT when another enabled user has DN */
int db_users_cert(struct db *db, const char *name, const char *dn, int64_t now,
		  const struct audit_actor *who, const char **why);
/* user.sessions_ended */
int db_users_end_sessions(struct db *db, const char *name, int64_t now,
			  const struct audit_actor *who, int64_t *ended);

#endif
