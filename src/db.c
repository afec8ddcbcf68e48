/*
 * db.c - the SQLite store of metadata, its schema migrations, and the
 * queries okuru makes. Every statement text below is a constant; values are
 * always bound with sqlite3_bind_*.
 */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "db_int.h"
#include "jsonutil.h"
#include "log.h"


/*
 * Migrations, in order; user_version is the number applied. Never edit
 * one that has shipped: add the next.
 */
static const char *const db_migrations[] = {
	/* 1: users, tokens, transfers, files */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  email TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('sender','approver','auditor','admin')),"
	"  created INTEGER NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE api_tokens ("
	"  id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  hash BLOB NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE transfers ("
	"  id TEXT PRIMARY KEY,"
	"  owner_id INTEGER NOT NULL REFERENCES users(id),"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  message TEXT NOT NULL DEFAULT '',"
	"  state TEXT NOT NULL DEFAULT 'draft',"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX transfers_owner ON transfers(owner_id);"
	"CREATE TABLE files ("
	"  id TEXT PRIMARY KEY,"
	"  transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	"  name TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  wrapped_key BLOB NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (transfer_id, name));",
	/* 2: scan verdicts on files, every scan attempt in scans, crypto-shredding */
	"ALTER TABLE files ADD COLUMN scan_verdict TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE files ADD COLUMN scan_reason TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE files ADD COLUMN scan_detail TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE files ADD COLUMN scan_engine TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE files ADD COLUMN scan_db_version TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE files ADD COLUMN scanned_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE files ADD COLUMN scan_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE files ADD COLUMN shredded INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX files_state ON files(state, created);"
	"CREATE TABLE scans ("
	"  id INTEGER PRIMARY KEY,"
	"  file_id TEXT NOT NULL REFERENCES files(id),"
	"  verdict TEXT NOT NULL"
	"    CHECK (verdict IN ('clean','infected','unscannable','error')),"
	"  reason TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  engine TEXT NOT NULL,"
	"  db_version TEXT NOT NULL,"
	"  finished INTEGER NOT NULL,"
	"  ms INTEGER NOT NULL);"
	"CREATE INDEX scans_file ON scans(file_id);",
	/* 3: sending: links (download and upload), recipient sessions, downloads, outbox */
	"ALTER TABLE transfers ADD COLUMN origin TEXT NOT NULL DEFAULT 'upload';"
	"ALTER TABLE transfers ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN download_limit INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN verification TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE transfers ADD COLUMN passphrase TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE transfers ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE files ADD COLUMN uploader TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE links ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('download','upload')),"
	"  transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	"  address TEXT NOT NULL,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  revoked_at INTEGER NOT NULL DEFAULT 0,"
	"  verified_at INTEGER NOT NULL DEFAULT 0,"
	"  otp_hash BLOB,"
	"  otp_expires INTEGER NOT NULL DEFAULT 0,"
	"  otp_failures INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  max_files INTEGER NOT NULL DEFAULT 0,"
	"  max_bytes INTEGER NOT NULL DEFAULT 0,"
	"  message TEXT NOT NULL DEFAULT '',"
	"  completed_at INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (transfer_id, kind, address));"
	"CREATE TABLE link_sessions ("
	"  hash BLOB PRIMARY KEY,"
	"  link_id TEXT NOT NULL REFERENCES links(id),"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE TABLE link_attempts ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  link_id TEXT,"
	"  action TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  user_agent TEXT NOT NULL);"
	"CREATE INDEX link_attempts_link ON link_attempts(link_id, at);"
	"CREATE TABLE downloads ("
	"  id INTEGER PRIMARY KEY,"
	"  link_id TEXT NOT NULL REFERENCES links(id),"
	"  file_id TEXT NOT NULL REFERENCES files(id),"
	"  started INTEGER NOT NULL,"
	"  finished INTEGER NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  user_agent TEXT NOT NULL,"
	"  range_start INTEGER NOT NULL,"
	"  length INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  complete INTEGER NOT NULL);"
	"CREATE INDEX downloads_link ON downloads(link_id);"
	"CREATE TABLE download_progress ("
	"  link_id TEXT NOT NULL REFERENCES links(id),"
	"  file_id TEXT NOT NULL REFERENCES files(id),"
	"  have INTEGER NOT NULL DEFAULT 0,"
	"  completed INTEGER NOT NULL DEFAULT 0,"
	"  served INTEGER NOT NULL DEFAULT 0,"
	"  sent INTEGER NOT NULL DEFAULT 0,"
	"  first_completed INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (link_id, file_id));"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  to_addr TEXT NOT NULL,"
	"  transfer_id TEXT,"
	"  link_id TEXT,"
	"  message_id TEXT NOT NULL,"
	"  key_id TEXT,"
	"  wrapped BLOB,"
	"  sealed BLOB,"
	"  state TEXT NOT NULL CHECK (state IN ('queued','sent','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  last_code INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  tls TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt);"
	"CREATE INDEX outbox_link ON outbox(link_id, kind);",
	/*
	 * 4: the policy decision on each transfer, approval, send delay,
	 * retention and legal hold, detected file types, user groups.
	 * transfers.state: draft, pending (waiting for approval), sent,
	 * revoked, recalled (by the sender before any mail left), rejected
	 * (by an approver), lapsed (the approval request expired). ended_at is
	 * when a transfer stopped being usable other than by expiry.
	 */
	"ALTER TABLE transfers ADD COLUMN policy TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE transfers ADD COLUMN policy_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN release_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN expiry_days INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN max_expiry_days INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN approvals_needed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN approval_group TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE transfers ADD COLUMN approval_self INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN sent_by INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN approval_expires INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN retention_days INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE transfers ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN content_purged_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN allow_unscannable INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE transfers ADD COLUMN allow_encrypted INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX transfers_state ON transfers(state);"
	"ALTER TABLE files ADD COLUMN detected_type TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE outbox ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE user_groups ("
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  grp TEXT NOT NULL,"
	"  PRIMARY KEY (user_id, grp));"
	"CREATE TABLE approvals ("
	"  id INTEGER PRIMARY KEY,"
	"  transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	"  approver_id INTEGER NOT NULL REFERENCES users(id),"
	"  decision TEXT NOT NULL CHECK (decision IN ('approve','reject')),"
	"  comment TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  UNIQUE (transfer_id, approver_id));"
	"CREATE TABLE legal_holds ("
	"  id INTEGER PRIMARY KEY,"
	"  transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	"  placed_by INTEGER NOT NULL REFERENCES users(id),"
	"  placed_at INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  lifted_by INTEGER REFERENCES users(id),"
	"  lifted_at INTEGER NOT NULL DEFAULT 0,"
	"  lift_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX legal_holds_transfer ON legal_holds(transfer_id, lifted_at);"
	"CREATE TABLE purges ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  transfer_id TEXT NOT NULL,"
	"  what TEXT NOT NULL CHECK (what IN ('content','metadata')),"
	"  files INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  reason TEXT NOT NULL);",
	/*
	 * 5: the audit log (audit.h, db_audit.c): a hash chain of records,
	 * seq 1, 2, 3... without gaps, and signed checkpoints. The triggers
	 * stop okuru's own connection from changing or removing a record;
	 * against someone who can drop them the chain and the signatures are
	 * the protection.
	 */
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user','recipient','system','admin-cli')),"
	"  actor TEXT NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  user_agent TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  object_kind TEXT NOT NULL,"
	"  object_id TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev BLOB NOT NULL CHECK (length(prev) = 32),"
	"  hash BLOB NOT NULL CHECK (length(hash) = 32));"
	"CREATE TABLE audit_checkpoints ("
	"  id INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL,"
	"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
	"  at INTEGER NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  signature BLOB NOT NULL CHECK (length(signature) = 64));"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
	"  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
	"  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints "
	"  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;"
	"CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
	"  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;",
	/*
	 * 6: when a token's use was last put in the audit log, and from where:
	 * a use is recorded when the address changes or an hour has passed,
	 * not on every request (each action is recorded on its own anyway).
	 */
	"ALTER TABLE api_tokens ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE api_tokens ADD COLUMN used_ip TEXT NOT NULL DEFAULT '';",
	/*
	 * 7: how far okurud's syslog forwarder (audit_syslog.c) has sent the
	 * audit log: one row, so a restart resumes after the last record a
	 * collector accepted, and the audit purge keeps what is not sent yet;
	 * last_checkpoint is the audit_checkpoints id last sent the same way.
	 */
	"CREATE TABLE audit_forward ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  last_seq INTEGER NOT NULL,"
	"  last_checkpoint INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"INSERT INTO audit_forward (id, last_seq, last_checkpoint, updated) VALUES (1, 0, 0, 0);",
	/*
	 * 8: indexes for GET /api/v1/audit and okuructl audit export
	 * (db_audit_query.c), each ending in seq so a filtered page is read in
	 * seq order and stops at its LIMIT. detail's "transfer" and
	 * "recipient" are copied into columns at append (db_audit.c), because
	 * an index on json_extract() is refused under trusted_schema = OFF.
	 * The copies are outside the hash: they are an index, not evidence
	 * (verify reads detail). Filling them for existing records needs the
	 * no-update trigger out of the way for the length of this migration.
	 */
	"ALTER TABLE audit ADD COLUMN transfer_ref TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE audit ADD COLUMN recipient_ref TEXT NOT NULL DEFAULT '';"
	"DROP TRIGGER audit_no_update;"
	"UPDATE audit SET "
	"  transfer_ref = coalesce(json_extract(detail, '$.transfer'), ''),"
	"  recipient_ref = coalesce(json_extract(detail, '$.recipient'), '')"
	"  WHERE json_valid(detail);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
	"  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"CREATE INDEX audit_by_transfer ON audit(transfer_ref, seq);"
	"CREATE INDEX audit_by_recipient ON audit(recipient_ref, seq);"
	"CREATE INDEX audit_by_actor ON audit(actor, seq);"
	"CREATE INDEX audit_by_event ON audit(event, seq);"
	"CREATE INDEX audit_by_at ON audit(at);"
	/*
	 * Purge anchors (audit.h struct audit_anchor): one signed statement
	 * per audit purge, kept for good (a few rows a year), so verify can
	 * tell a log whose head was purged from one whose head was cut.
	 */
	"CREATE TABLE audit_anchors ("
	"  id INTEGER PRIMARY KEY,"
	"  first_seq INTEGER NOT NULL,"
	"  through_seq INTEGER NOT NULL,"
	"  through_hash BLOB NOT NULL CHECK (length(through_hash) = 32),"
	"  through_at INTEGER NOT NULL,"
	"  purged_at INTEGER NOT NULL,"
	"  audit_days INTEGER NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  signature BLOB NOT NULL CHECK (length(signature) = 64));"
	"CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors "
	"  BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;"
	"CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors "
	"  BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;",
	/*
	 * 9: staff login in a browser (auth_pw.c, totp.c, session.c).
	 * pw_hash is libsodium's Argon2id string ('' = no password login). The
	 * TOTP secret is never stored in the clear: it is a random data key
	 * wrapped by the master keyring (keys.h, the same wrapping as a file's
	 * key, bound to "totp:<user id>"), NULL until enrolment is confirmed;
	 * totp_pending holds an enrolment begun and not yet confirmed, by the
	 * session totp_pending_session (no other session may see or confirm it).
	 * totp_last_step refuses a code used twice. failed_logins and
	 * locked_until are the lockout. cert_dn maps a TLS client certificate's
	 * subject to the user.
	 * A session is the cookie's id and a hash of the whole cookie, like an
	 * API token; stage 'enroll' may only enrol a second factor.
	 */
	"ALTER TABLE users ADD COLUMN pw_hash TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN pw_changed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN totp_wrapped BLOB;"
	"ALTER TABLE users ADD COLUMN totp_key_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN totp_pending BLOB;"
	"ALTER TABLE users ADD COLUMN totp_pending_key_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN totp_pending_session TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN cert_dn TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX users_cert_dn ON users(cert_dn) WHERE cert_dn != '';"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
	"  method TEXT NOT NULL CHECK (method IN ('password','proxy','certificate')),"
	"  stage TEXT NOT NULL CHECK (stage IN ('full','enroll')),"
	"  created INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  user_agent TEXT NOT NULL,"
	"  ended INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX sessions_user ON sessions(user_id, ended);",
	/*
	 * 10: resumable uploads (tus, api_tus.c, db_uploads.c). One row per
	 * upload begun and not yet finished; the id becomes the file's id, and
	 * the data key is wrapped (bound to it) as a file's is. durable_offset
	 * counts what is durable: whole chunks sealed and fsynced in the staging file
	 * (STORAGE/uploads/<staging>). The name is unique among a transfer's
	 * unfinished uploads as among its files.
	 */
	"CREATE TABLE uploads ("
	"  id TEXT PRIMARY KEY,"
	"  transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	"  owner_id INTEGER NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL,"
	"  length INTEGER NOT NULL CHECK (length >= 0),"
	"  durable_offset INTEGER NOT NULL DEFAULT 0"
	"    CHECK (durable_offset >= 0 AND durable_offset <= length),"
	"  key_id TEXT NOT NULL,"
	"  wrapped_key BLOB NOT NULL,"
	"  staging TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  UNIQUE (transfer_id, name));"
	"CREATE INDEX uploads_updated ON uploads(updated);",
	/*
	 * 11: a counterparty's resumable uploads (tus through an upload link,
	 * recipient.c). An upload belongs to a staff user (owner_id) or to an
	 * upload link (link_id), never both: owner_id becomes nullable, which
	 * SQLite can only do by building the table again. Rows keep their values;
	 * the old ones are staff uploads (link_id NULL).
	 */
	"CREATE TABLE uploads_v11 ("
	"  id TEXT PRIMARY KEY,"
	"  transfer_id TEXT NOT NULL REFERENCES transfers(id),"
	"  owner_id INTEGER REFERENCES users(id),"
	"  link_id TEXT REFERENCES links(id),"
	"  name TEXT NOT NULL,"
	"  length INTEGER NOT NULL CHECK (length >= 0),"
	"  durable_offset INTEGER NOT NULL DEFAULT 0"
	"    CHECK (durable_offset >= 0 AND durable_offset <= length),"
	"  key_id TEXT NOT NULL,"
	"  wrapped_key BLOB NOT NULL,"
	"  staging TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  CHECK ((owner_id IS NULL) != (link_id IS NULL)),"
	"  UNIQUE (transfer_id, name));"
	"INSERT INTO uploads_v11 (id, transfer_id, owner_id, link_id, name, length, durable_offset,"
	"  key_id, wrapped_key, staging, created, updated)"
	"  SELECT id, transfer_id, owner_id, NULL, name, length, durable_offset, key_id,"
	"  wrapped_key, staging, created, updated FROM uploads;"
	"DROP TABLE uploads;"
	"ALTER TABLE uploads_v11 RENAME TO uploads;"
	"CREATE INDEX uploads_updated ON uploads(updated);"
	"CREATE INDEX uploads_link ON uploads(link_id) WHERE link_id IS NOT NULL;",
};
#define DB_NMIGRATIONS ((int)(sizeof(db_migrations) / sizeof(db_migrations[0])))

void
db_lock(struct db *db)
{
	if (pthread_mutex_lock(&db->lock) != 0)
		panic("db mutex lock failed");
}

void
db_unlock(struct db *db)
{
	pthread_mutex_unlock(&db->lock);
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		log_event(LOG_LVL_ERR, "db.prepare", "error=\"%s\"", sqlite3_errmsg(db->h));
		return NULL;
	}
	return st;
}

int
db_exec_locked(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_event(LOG_LVL_ERR, "db.exec", "error=\"%s\"", msg ? msg : "?");
		sqlite3_free(msg);
		return DB_ERROR;
	}
	return DB_OK;
}

static int
db_user_version(struct db *db)
{
	sqlite3_stmt *st = db_prepare(db, "PRAGMA user_version");
	int v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* db_migrate - bring the schema up to date, one transaction per step */
static int
db_migrate(struct db *db, char *err, size_t errlen)
{
	int v = db_user_version(db);

	if (v < 0) {
		snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db->h));
		return -1;
	}
	if (v > DB_NMIGRATIONS) {
		snprintf(err, errlen,
			 "database schema version %d is newer than this okuru (%d)", v,
			 DB_NMIGRATIONS);
		return -1;
	}
	for (; v < DB_NMIGRATIONS; v++) {
		/* PRAGMA takes no bound parameters; the number is ours, not input. */
		static const char *const set_version[] = {
			"PRAGMA user_version = 1",
			"PRAGMA user_version = 2",
			"PRAGMA user_version = 3",
			"PRAGMA user_version = 4",
			"PRAGMA user_version = 5",
			"PRAGMA user_version = 6",
			"PRAGMA user_version = 7",
			"PRAGMA user_version = 8",
			"PRAGMA user_version = 9",
			"PRAGMA user_version = 10",
			"PRAGMA user_version = 11",
		};
		_Static_assert(sizeof(set_version) / sizeof(set_version[0]) == DB_NMIGRATIONS,
			       "one user_version statement per migration");
		if (db_exec_locked(db, "BEGIN IMMEDIATE") != DB_OK)
			goto fail;
		if (db_exec_locked(db, db_migrations[v]) != DB_OK ||
		    db_exec_locked(db, set_version[v]) != DB_OK) {
			db_exec_locked(db, "ROLLBACK");
			goto fail;
		}
		if (db_exec_locked(db, "COMMIT") != DB_OK)
			goto fail;
		log_event(LOG_LVL_INFO, "db.migrate", "version=%d", v + 1);
	}
	return 0;
fail:
	snprintf(err, errlen, "schema migration %d failed: %s", v + 1, sqlite3_errmsg(db->h));
	return -1;
}

/* db_connect - a connection with FLAGS, extended result codes and a busy timeout */
static struct db *
db_connect(const char *path, int flags, char *err, size_t errlen)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path,
			 db->h ? sqlite3_errmsg(db->h) : "cannot open");
		db_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, 10000);
	return db;
}

/* db_open - open (or with create, make) the database and migrate it */
int
db_open(const char *path, int create, struct db **out, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW;
	struct db *db;
	sqlite3_stmt *st;

	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if ((db = db_connect(path, flags, err, errlen)) == NULL)
		return -1;
	if (db_exec_locked(db, "PRAGMA journal_mode = WAL") != DB_OK ||
	    db_exec_locked(db, "PRAGMA synchronous = FULL") != DB_OK ||
	    db_exec_locked(db, "PRAGMA foreign_keys = ON") != DB_OK ||
	    db_exec_locked(db, "PRAGMA trusted_schema = OFF") != DB_OK ||
	    /* Erased secrets (sealed mail bodies, code hashes) must not linger in free pages. */
	    db_exec_locked(db, "PRAGMA secure_delete = ON") != DB_OK) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db->h));
		goto fail;
	}
	/* WAL must really be on: it is what makes commits durable and readers free. */
	st = db_prepare(db, "PRAGMA journal_mode");
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		sqlite3_finalize(st);
		snprintf(err, errlen, "database %s: cannot enable WAL", path);
		goto fail;
	}
	sqlite3_finalize(st);
	if (db_retention_init_locked(db) != DB_OK) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db->h));
		goto fail;
	}
	if (db_migrate(db, err, errlen) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

/*
 * db_open_reader - a second, read-only connection to a database okurud has
 * opened and migrated: long reads (GET /api/v1/audit over millions of
 * records) run on it without holding the writer's lock; WAL lets them
 * proceed while commits go on.
 */
int
db_open_reader(const char *path, struct db **out, char *err, size_t errlen)
{
	struct db *db = db_connect(
		path, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW, err, errlen);

	if (db == NULL)
		return -1;
	if (db_exec_locked(db, "PRAGMA trusted_schema = OFF") != DB_OK ||
	    db_exec_locked(db, "PRAGMA query_only = ON") != DB_OK) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db->h));
		goto fail;
	}
	if (db_schema_version(db) != DB_NMIGRATIONS) {
		snprintf(err, errlen, "database %s: not at schema version %d", path,
			 DB_NMIGRATIONS);
		goto fail;
	}
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->h);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

int
db_schema_version(struct db *db)
{
	int v;

	db_lock(db);
	v = db_user_version(db);
	db_unlock(db);
	return v;
}

/* db_ping - can the database answer a query */
int
db_ping(struct db *db)
{
	return db_schema_version(db) == DB_NMIGRATIONS ? DB_OK : DB_ERROR;
}

void
db_copy_text(char *dst, size_t dstsz, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, dstsz, "%s", t ? (const char *)t : "");
}

/* db_begin - take the lock and begin a write transaction (end it with db_finish_locked) */
int
db_begin(struct db *db)
{
	db_lock(db);
	if (db_exec_locked(db, "BEGIN IMMEDIATE") != DB_OK) {
		db_unlock(db);
		return DB_ERROR;
	}
	return DB_OK;
}

/*
 * db_finish_locked - end the transaction a function began with BEGIN
 * IMMEDIATE: COMMIT when r is DB_OK (an error if the commit fails), else
 * ROLLBACK; then release the lock. Returns the outcome.
 */
int
db_finish_locked(struct db *db, int r)
{
	if (r == DB_OK && db_exec_locked(db, "COMMIT") != DB_OK)
		r = DB_ERROR;
	if (r != DB_OK)
		db_exec_locked(db, "ROLLBACK");
	db_unlock(db);
	return r;
}

/* db_step_done - run a write statement; map constraint failures to CONFLICT */
int
db_step_done(struct db *db, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	sqlite3_finalize(st);
	if (r == SQLITE_DONE)
		return DB_OK;
	if ((r & 0xff) == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	log_event(LOG_LVL_ERR, "db.step", "error=\"%s\"", sqlite3_errmsg(db->h));
	return DB_ERROR;
}

int
db_user_add(struct db *db, const char *name, const char *email, const char *role,
	    int64_t *id)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "INSERT INTO users (name, email, role, created) "
			    "VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, util_now());
	r = db_step_done(db, st);
	if (r == DB_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(db->h);
	db_unlock(db);
	return r;
}

/* db_user_row - id, name, email, role from columns COL.. */
void
db_user_row(sqlite3_stmt *st, int col, struct db_user *u)
{
	u->id = sqlite3_column_int64(st, col);
	db_copy_text(u->name, sizeof(u->name), st, col + 1);
	db_copy_text(u->email, sizeof(u->email), st, col + 2);
	db_copy_text(u->role, sizeof(u->role), st, col + 3);
}

int
db_user_find(struct db *db, const char *name, struct db_user *u)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT id, name, email, role FROM users "
			    "WHERE name = ?1 AND disabled = 0");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_user_row(st, 0, u);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/* db_user_get - a user by id, disabled or not (a transfer's owner) */
int
db_user_get(struct db *db, int64_t id, struct db_user *u)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT id, name, email, role FROM users WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_user_row(st, 0, u);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

int
db_token_add(struct db *db, int64_t user_id, const char *token_id,
	     const unsigned char hash[32])
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "INSERT INTO api_tokens (id, user_id, hash, created) "
			    "VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_blob(st, 3, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, util_now());
	r = db_step_done(db, st);
	db_unlock(db);
	return r;
}

/* db_token_lookup - the live token's user and stored hash (compared by the caller) */
int
db_token_lookup(struct db *db, const char *token_id, struct db_user *u,
		unsigned char hash[32])
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT t.hash, u.id, u.name, u.email, u.role "
			    "FROM api_tokens t JOIN users u ON u.id = t.user_id "
			    "WHERE t.id = ?1 AND t.revoked = 0 AND u.disabled = 0");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(hash, sqlite3_column_blob(st, 0), 32);
		db_user_row(st, 1, u);
		r = DB_OK;
	} else {
		r = (r == SQLITE_DONE || r == SQLITE_ROW) ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

int
db_token_used(struct db *db, const char *token_id, const struct audit_actor *who, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	/* Only a use worth recording changes the row (and costs a commit). */
	st = db_prepare(db, "UPDATE api_tokens SET used_at = ?2, used_ip = ?3 "
			    "WHERE id = ?1 AND (used_ip != ?3 OR used_at <= ?2 - ?4)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, who->ip ? who->ip : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, DB_TOKEN_USE_INTERVAL);
	r = db_step_done(db, st);
	if (r == DB_OK && sqlite3_changes(db->h) == 1)
		r = db_audit_record_locked(db, who, "auth.token_used", "token", token_id, "ok", NULL,
					   now);
	return db_finish_locked(db, r);
}

/* db_transfer_create - a new draft, recorded as transfer.created (no subject or message) */
int
db_transfer_create(struct db *db, const struct db_transfer *t, const struct audit_actor *who)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "INSERT INTO transfers (id, owner_id, subject, message, state, created) "
			    "VALUES (?1, ?2, ?3, ?4, 'draft', ?5)");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, t->owner_id);
	sqlite3_bind_text(st, 3, t->subject ? t->subject : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, t->message ? t->message : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, t->created);
	r = db_step_done(db, st);
	if (r == DB_OK)
		r = db_audit_record_locked(db, who, "transfer.created", "transfer", t->id, "ok",
					   NULL, t->created);
	return db_finish_locked(db, r);
}

int
db_transfer_get(struct db *db, const char *id, struct db_transfer *t)
{
	sqlite3_stmt *st;
	int r;

	memset(t, 0, sizeof(*t));
	db_lock(db);
	st = db_prepare(db, "SELECT id, owner_id, subject, message, state, created "
			    "FROM transfers WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_copy_text(t->id, sizeof(t->id), st, 0);
		t->owner_id = sqlite3_column_int64(st, 1);
		t->subject = strdup((const char *)sqlite3_column_text(st, 2));
		t->message = strdup((const char *)sqlite3_column_text(st, 3));
		db_copy_text(t->state, sizeof(t->state), st, 4);
		t->created = sqlite3_column_int64(st, 5);
		r = (t->subject && t->message) ? DB_OK : DB_ERROR;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	if (r != DB_OK)
		db_transfer_free(t);
	return r;
}

void
db_transfer_free(struct db_transfer *t)
{
	free(t->subject);
	free(t->message);
	t->subject = t->message = NULL;
}

#define DB_FILE_COLS "id, transfer_id, name, size, sha256, state, key_id, wrapped_key, created"
#define DB_FILE_SCAN_COLS                                                      \
	", scan_reason, scan_detail, scan_engine, scan_db_version, scanned_at, scan_ms, shredded, " \
	"scan_verdict, uploader, detected_type"

static void
db_file_row(sqlite3_stmt *st, struct db_file *f)
{
	memset(f, 0, sizeof(*f));
	db_copy_text(f->id, sizeof(f->id), st, 0);
	db_copy_text(f->transfer_id, sizeof(f->transfer_id), st, 1);
	db_copy_text(f->name, sizeof(f->name), st, 2);
	f->size = sqlite3_column_int64(st, 3);
	db_copy_text(f->sha256, sizeof(f->sha256), st, 4);
	db_copy_text(f->state, sizeof(f->state), st, 5);
	db_copy_text(f->key_id, sizeof(f->key_id), st, 6);
	if (sqlite3_column_bytes(st, 7) == KEYS_WRAPPEDBYTES)
		memcpy(f->wrapped, sqlite3_column_blob(st, 7), KEYS_WRAPPEDBYTES);
	f->created = sqlite3_column_int64(st, 8);
	if (sqlite3_column_count(st) < 17)
		return;
	db_copy_text(f->scan_reason, sizeof(f->scan_reason), st, 9);
	db_copy_text(f->scan_detail, sizeof(f->scan_detail), st, 10);
	db_copy_text(f->scan_engine, sizeof(f->scan_engine), st, 11);
	db_copy_text(f->scan_db_version, sizeof(f->scan_db_version), st, 12);
	f->scanned_at = sqlite3_column_int64(st, 13);
	f->scan_ms = sqlite3_column_int64(st, 14);
	f->shredded = sqlite3_column_int(st, 15);
	db_copy_text(f->scan_verdict, sizeof(f->scan_verdict), st, 16);
	db_copy_text(f->uploader, sizeof(f->uploader), st, 17);
	db_copy_text(f->detected_type, sizeof(f->detected_type), st, 18);
}

/*
 * db_int_locked - one integer from a query with a text parameter ?1 and, if
 * the query has one, an integer ?2. DB_NOTFOUND when it returns no row.
 */
int
db_int_locked(struct db *db, const char *sql, const char *p1, int64_t p2, int64_t *out)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, p2);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? DB_OK : r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
}

int
db_exists(struct db *db, const char *sql, const char *p1, const char *p2)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, sql);
	if (st == NULL) {
		db_unlock(db);
		return -1;
	}
	sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
	if (p2 != NULL)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	r = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/*
 * db_text_locked - one text column from a query with text parameters ?1
 * and, if the query has one, ?2, into OUT ("" for NULL). DB_NOTFOUND when
 * it returns no row.
 */
int
db_text_locked(struct db *db, const char *sql, const char *p1, const char *p2, char *out,
	       size_t outlen)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int r;

	out[0] = '\0';
	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		db_copy_text(out, outlen, st, 0);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? DB_OK : r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
}

/*
 * db_record_locked - db_audit_record_locked for a detail that must be
 * there: a NULL detail (json_pack failed: no memory, or a string that is
 * not UTF-8) fails the record, and so the change, instead of logging {}.
 */
int
db_record_locked(struct db *db, const struct audit_actor *who, const char *event,
		 const char *object_kind, const char *object_id, const char *outcome,
		 json_t *detail, int64_t now)
{
	if (detail == NULL) {
		log_event(LOG_LVL_ERR, "audit.detail_failed", "event=%s", event);
		return DB_ERROR;
	}
	return db_audit_record_locked(db, who, event, object_kind, object_id, outcome, detail, now);
}

/*
 * db_file_uploaded_locked - record file.uploaded: what was stored, and for a
 * counterparty's upload the link and address it came through.
 */
static int
db_file_uploaded_locked(struct db *db, const struct db_file *f, const struct audit_actor *who,
			int64_t now)
{
	json_t *d = json_pack("{s:s, s:s, s:I, s:s}", "transfer", f->transfer_id, "name", f->name,
			      "size", (json_int_t)f->size, "sha256", f->sha256);

	if (d == NULL)
		return DB_ERROR;
	if (f->uploader[0] != '\0') {
		char addr[DB_EMAILMAX + 1];
		if (json_object_set_new(d, "upload_link", json_string(f->uploader)) != 0 ||
		    db_text_locked(db, "SELECT address FROM links WHERE id = ?1", f->uploader, NULL,
				   addr, sizeof(addr)) != DB_OK ||
		    json_object_set_new(d, "recipient", json_string(addr)) != 0) {
			json_decref(d);
			return DB_ERROR;
		}
	}
	return db_record_locked(db, who, "file.uploaded", "file", f->id, "ok", d, now);
}

/*
 * db_file_insert - add a stored file, in one transaction with every check
 * that an upload racing a state change could otherwise slip past: the
 * transfer is still a draft, it holds fewer than max_files, and for a
 * counterparty's upload (f->uploader, a link id) the link is still live
 * and its files stay within max_bytes. DB_CONFLICT says which in why.
 */
int
db_file_insert(struct db *db, const struct db_file *f, int max_files, int64_t max_bytes,
	       const struct audit_actor *who, char *why, size_t whylen)
{
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	r = db_file_insert_locked(db, f, max_files, max_bytes, who, why, whylen);
	return db_finish_locked(db, r);
}

/* db_file_insert_locked - db_file_insert inside the caller's transaction (a tus upload's end) */
int
db_file_insert_locked(struct db *db, const struct db_file *f, int max_files, int64_t max_bytes,
		      const struct audit_actor *who, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int64_t n = -1, v = 0, now = util_now();
	int r;

	/* A draft whose content was purged (abandoned, see retention.h) takes no more. */
	r = db_int_locked(db, "SELECT state = 'draft' AND content_purged_at = 0 FROM transfers "
			      "WHERE id = ?1", f->transfer_id, 0, &v);
	if (r == DB_OK && v == 0) {
		snprintf(why, whylen, "files can only be added to a draft transfer");
		r = DB_CONFLICT;
	}
	if (r == DB_OK && f->uploader[0] != '\0') {
		r = db_int_locked(db, "SELECT revoked_at = 0 AND completed_at = 0 AND expires_at > ?2 "
				      "FROM links WHERE id = ?1 AND kind = 'upload'",
				  f->uploader, now, &v);
		if (r == DB_OK && v == 0) {
			snprintf(why, whylen, "the upload link has ended");
			r = DB_CONFLICT;
		}
		/* Unfinished tus uploads through the link hold their length (db_uploads.c). */
		if (r == DB_OK)
			r = db_upload_link_bytes_locked(db, f->uploader, f->id, &v);
		if (r == DB_OK && v + f->size > max_bytes) {
			snprintf(why, whylen, "the upload request's byte limit (%lld) is reached",
				 (long long)max_bytes);
			r = DB_CONFLICT;
		}
	}
	/*
	 * Unfinished tus uploads hold a slot each (db_upload_create counts
	 * them): a PUT must not take the slot of an upload still arriving,
	 * whose whole file would then be refused at its end. An upload's own
	 * row (its id is the file's) is not counted against itself.
	 */
	if (r == DB_OK) {
		st = db_prepare(db, "SELECT (SELECT count(*) FROM files WHERE transfer_id = ?1) + "
				    "(SELECT count(*) FROM uploads WHERE transfer_id = ?1 AND id <> ?2)");
		if (st == NULL) {
			r = DB_ERROR;
		} else {
			sqlite3_bind_text(st, 1, f->transfer_id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, f->id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int64(st, 0);
			else
				r = DB_ERROR;
			sqlite3_finalize(st);
			st = NULL;
		}
	}
	if (r == DB_OK && n >= max_files) {
		snprintf(why, whylen,
			 "the transfer has the maximum number of files (%d, unfinished uploads "
			 "included)",
			 max_files);
		r = DB_CONFLICT;
	}
	if (r != DB_OK)
		goto done;
	st = db_prepare(db, "INSERT INTO files (" DB_FILE_COLS ", uploader) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, f->transfer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, f->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, f->size);
	sqlite3_bind_text(st, 5, f->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, f->state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, f->key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 8, f->wrapped, KEYS_WRAPPEDBYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, f->created);
	sqlite3_bind_text(st, 10, f->uploader, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r == DB_CONFLICT)
		snprintf(why, whylen, "the transfer already has a file with this name");
	if (r == DB_OK)
		r = db_file_uploaded_locked(db, f, who, now);
done:
	return r;
}

int
db_file_get(struct db *db, const char *transfer_id, const char *file_id, struct db_file *f)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT " DB_FILE_COLS DB_FILE_SCAN_COLS " FROM files "
			    "WHERE id = ?1 AND transfer_id = ?2");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, transfer_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_file_row(st, f);
		r = DB_OK;
	} else {
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	}
	sqlite3_finalize(st);
	db_unlock(db);
	return r;
}

/*
 * db_file_remove - take file FILE_ID out of draft TRANSFER_ID: its row and
 * its scans go, file.removed (name, size, SHA-256, verdict) is recorded,
 * in one transaction. Not while the scanner holds it ("scanning") and never
 * once the transfer has left the draft: DB_CONFLICT. The caller removes the
 * blob after the commit; a crash in between leaves an orphan that start-up
 * recovery moves aside.
 */
int
db_file_remove(struct db *db, const char *transfer_id, const char *file_id,
	       const struct audit_actor *who, int64_t now)
{
	struct db_file f;
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "SELECT " DB_FILE_COLS DB_FILE_SCAN_COLS " FROM files "
			    "WHERE id = ?1 AND transfer_id = ?2 AND "
			    "(SELECT state FROM transfers WHERE id = ?2) = 'draft'");
	if (st == NULL)
		return db_finish_locked(db, DB_ERROR);
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, transfer_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		db_file_row(st, &f);
	r = r == SQLITE_ROW ? DB_OK : r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
	sqlite3_finalize(st);
	if (r == DB_OK && strcmp(f.state, "scanning") == 0)
		r = DB_CONFLICT;
	if (r == DB_OK && (st = db_prepare(db, "DELETE FROM scans WHERE file_id = ?1")) == NULL)
		r = DB_ERROR;
	if (r == DB_OK) {
		sqlite3_bind_text(st, 1, file_id, -1, SQLITE_TRANSIENT);
		r = db_step_done(db, st);
	}
	if (r == DB_OK && (st = db_prepare(db, "DELETE FROM files WHERE id = ?1 AND "
					       "state != 'scanning'")) == NULL)
		r = DB_ERROR;
	if (r == DB_OK) {
		sqlite3_bind_text(st, 1, file_id, -1, SQLITE_TRANSIENT);
		r = db_step_done(db, st);
		if (r == DB_OK && sqlite3_changes(db->h) != 1)
			r = DB_CONFLICT;
	}
	if (r == DB_OK)
		r = db_record_locked(db, who, "file.removed", "file", file_id, "ok",
				     json_pack("{s:s, s:s, s:I, s:s, s:s}", "transfer", transfer_id,
					       "name", f.name, "size", (json_int_t)f.size, "sha256",
					       f.sha256, "verdict", f.state),
				     now);
	return db_finish_locked(db, r);
}

/* db_file_name_taken - 1 when the transfer has a file of that name, 0 if not, -1 */
int
db_file_name_taken(struct db *db, const char *transfer_id, const char *name)
{
	return db_exists(db, "SELECT 1 FROM files WHERE transfer_id = ?1 AND name = ?2",
			 transfer_id, name);
}

int
db_file_count(struct db *db, const char *transfer_id, int *n)
{
	sqlite3_stmt *st;
	int r = DB_ERROR;

	db_lock(db);
	st = db_prepare(db, "SELECT (SELECT count(*) FROM files WHERE transfer_id = ?1) + "
			    "(SELECT count(*) FROM uploads WHERE transfer_id = ?1)");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*n = sqlite3_column_int(st, 0);
			r = DB_OK;
		}
		sqlite3_finalize(st);
	}
	db_unlock(db);
	return r;
}

static int
db_file_iter(struct db *db, sqlite3_stmt *st, db_file_cb cb, void *arg)
{
	struct db_file f;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		db_file_row(st, &f);
		if (cb(&f, arg) != 0) {
			r = SQLITE_ABORT; /* callbacks stop only on failure */
			break;
		}
	}
	sqlite3_finalize(st);
	(void)db;
	return r == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* db_file_list - a transfer's files, oldest first; cb runs under the db lock */
int
db_file_list(struct db *db, const char *transfer_id, db_file_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT " DB_FILE_COLS DB_FILE_SCAN_COLS " FROM files "
			    "WHERE transfer_id = ?1 ORDER BY created, rowid");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_TRANSIENT);
	r = db_file_iter(db, st, cb, arg);
	db_unlock(db);
	return r;
}

/* db_file_all - every file row (start-up recovery); cb runs under the db lock */
int
db_file_all(struct db *db, db_file_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "SELECT " DB_FILE_COLS DB_FILE_SCAN_COLS " FROM files ORDER BY rowid");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	r = db_file_iter(db, st, cb, arg);
	db_unlock(db);
	return r;
}

int
db_file_set_state(struct db *db, const char *file_id, const char *state)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "UPDATE files SET state = ?2 WHERE id = ?1");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
	r = db_step_done(db, st);
	if (r == DB_OK && sqlite3_changes(db->h) == 0)
		r = DB_NOTFOUND;
	db_unlock(db);
	return r;
}

/* db_file_exists - 1 when a row names this blob id, 0 if not, -1 on error */
int
db_file_exists(struct db *db, const char *file_id)
{
	return db_exists(db, "SELECT 1 FROM files WHERE id = ?1", file_id, NULL);
}

/* db_file_scan_requeue - files left "scanning" by a stopped okurud go back in the queue */
int
db_file_scan_requeue(struct db *db, int *n)
{
	sqlite3_stmt *st;
	int r;

	db_lock(db);
	st = db_prepare(db, "UPDATE files SET state = 'uploaded' WHERE state = 'scanning'");
	if (st == NULL) {
		db_unlock(db);
		return DB_ERROR;
	}
	r = db_step_done(db, st);
	*n = r == DB_OK ? sqlite3_changes(db->h) : 0;
	db_unlock(db);
	return r;
}

/* db_file_scan_claim - the oldest file waiting for a scan, now marked "scanning" */
int
db_file_scan_claim(struct db *db, struct db_file *f)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "SELECT " DB_FILE_COLS DB_FILE_SCAN_COLS " FROM files "
			    "WHERE state = 'uploaded' ORDER BY created, rowid LIMIT 1");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_finalize(st);
		r = r == SQLITE_DONE ? DB_NOTFOUND : DB_ERROR;
		goto done;
	}
	db_file_row(st, f);
	sqlite3_finalize(st);
	st = db_prepare(db, "UPDATE files SET state = 'scanning' WHERE id = ?1");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_TRANSIENT);
	if ((r = db_step_done(db, st)) == DB_OK)
		snprintf(f->state, sizeof(f->state), "scanning");
done:
	return db_finish_locked(db, r);
}

/* db_scan_bind - ?1..?8 of both statements that record a scan */
static void
db_scan_bind(sqlite3_stmt *st, const struct db_scan *sc)
{
	sqlite3_bind_text(st, 1, sc->file_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sc->verdict, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, sc->reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, sc->detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, sc->engine, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, sc->db_version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, sc->finished);
	sqlite3_bind_int64(st, 8, sc->ms);
}

/*
 * db_scan_audit_locked - "file.scanned" (outcome the verdict) and, when the
 * key was erased with it, "file.shredded": by the system, in the verdict's
 * transaction. The scanner's texts (signature name, engine, versions) come
 * from another process: jsonutil_text keeps them valid UTF-8.
 */
static int
db_scan_audit_locked(struct db *db, const struct db_scan *sc, int shred)
{
	char tid[UTIL_IDLEN + 1] = "", name[256] = "";
	sqlite3_stmt *st = db_prepare(db, "SELECT transfer_id, name FROM files WHERE id = ?1");
	json_t *d;
	int r;

	if (st == NULL)
		return DB_ERROR;
	sqlite3_bind_text(st, 1, sc->file_id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_copy_text(tid, sizeof(tid), st, 0);
		db_copy_text(name, sizeof(name), st, 1);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return DB_ERROR;
	d = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:I}", "transfer", tid, "name",
		      jsonutil_text(name), "verdict", sc->verdict, "reason", sc->reason,
		      strcmp(sc->verdict, "infected") == 0 ? "signature" : "detail",
		      jsonutil_text(sc->detail), "engine", jsonutil_text(sc->engine), "db_version",
		      jsonutil_text(sc->db_version), "type", jsonutil_text(sc->type), "ms",
		      (json_int_t)sc->ms);
	if (d == NULL)
		return DB_ERROR;
	r = db_audit_record_locked(db, &audit_system, "file.scanned", "file", sc->file_id,
				   sc->verdict, d, sc->finished);
	if (r == DB_OK && shred)
		r = db_audit_record_locked(db, &audit_system, "file.shredded", "file", sc->file_id,
					   "ok",
					   json_pack("{s:s, s:o, s:s}", "transfer", tid, "name",
						     jsonutil_text(name), "reason", "infected"),
					   sc->finished);
	return r;
}

/*
 * db_file_scan_done - record a verdict: one row in scans (the history
 * auditors read) and the file's current state and detected type, in one
 * transaction. With
 * shred, the wrapped data key is erased in the same commit: from then on
 * the blob cannot be decrypted by anyone, whether or not it is removed.
 */
int
db_file_scan_done(struct db *db, const struct db_scan *sc, int shred)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	st = db_prepare(db, "INSERT INTO scans (file_id, verdict, reason, detail, engine, "
			    "db_version, finished, ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	db_scan_bind(st, sc);
	if ((r = db_step_done(db, st)) != DB_OK)
		goto done;
	st = db_prepare(db, "UPDATE files SET state = ?2, scan_verdict = ?2, scan_reason = ?3, "
			    "scan_detail = ?4, "
			    "scan_engine = ?5, scan_db_version = ?6, scanned_at = ?7, scan_ms = ?8, "
			    "shredded = ?9, detected_type = ?10, "
			    "wrapped_key = CASE WHEN ?9 THEN x'' ELSE wrapped_key END, "
			    "key_id = CASE WHEN ?9 THEN '' ELSE key_id END "
			    "WHERE id = ?1 AND state = 'scanning'");
	if (st == NULL) {
		r = DB_ERROR;
		goto done;
	}
	db_scan_bind(st, sc);
	sqlite3_bind_int(st, 9, shred ? 1 : 0);
	sqlite3_bind_text(st, 10, sc->type ? sc->type : "", -1, SQLITE_TRANSIENT);
	if ((r = db_step_done(db, st)) == DB_OK && sqlite3_changes(db->h) != 1)
		r = DB_NOTFOUND;
	if (r == DB_OK)
		r = db_scan_audit_locked(db, sc, shred);
done:
	return db_finish_locked(db, r);
}

/* db_file_queued - how many files wait for a scan */
int
db_file_queued(struct db *db, int *n)
{
	sqlite3_stmt *st;
	int r = DB_ERROR;

	db_lock(db);
	st = db_prepare(db, "SELECT count(*) FROM files WHERE state IN ('uploaded','scanning')");
	if (st != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			*n = sqlite3_column_int(st, 0);
			r = DB_OK;
		}
		sqlite3_finalize(st);
	}
	db_unlock(db);
	return r;
}
