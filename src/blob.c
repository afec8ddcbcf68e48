/*
 * blob.c - where ciphertext lives on disk, and the order of operations that
 * makes an upload durable before it is acknowledged:
 *   write staging file -> fsync(file) -> rename into blobs/ -> fsync(dir)
 * and only then the caller commits the row. A crash at any point leaves
 * either a staging file (removed at start-up) or a blob without a row
 * (removed at start-up); never a row pointing at a partial blob. A tus
 * upload's staging file is the exception that outlives a restart: it lives
 * in uploads/, named by its uploads row (see blob_upload_recover).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "blob.h"
#include "db.h"
#include "log.h"
#include "store.h"
#include "util.h"

static int blob_upload_recover(const char *root, struct db *db, struct blob_recovery *rec);

static int
blob_path(const char *root, const char *file_id, char out[PATH_MAX])
{
	if (!util_id_valid(file_id))
		return -1;
	if (snprintf(out, PATH_MAX, "%s/blobs/%.2s/%s", root, file_id, file_id) >= PATH_MAX)
		return -1;
	return 0;
}

static int
blob_mkdir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * blob_lock - hold STORAGE/.lock for the life of the process. A second
 * okurud on the same storage would otherwise run start-up recovery and
 * delete the first one's staging files before failing to bind.
 */
int
blob_lock(const char *root, char *err, size_t errlen)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/.lock", root);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "storage lock %s: %s", p, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "storage %s is in use by another okurud (%s is locked)", root,
			 p);
		close(fd);
		return -1;
	}
	return fd; /* deliberately kept open: the lock ends with the process */
}

/* blob_init_dirs - create the storage tree (okuructl init) */
int
blob_init_dirs(const char *root, char *err, size_t errlen)
{
	char p[PATH_MAX];

	if (blob_mkdir(root) != 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/tmp", root);
	if (blob_mkdir(p) != 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/orphans", root);
	if (blob_mkdir(p) != 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/uploads", root); /* tus */
	if (blob_mkdir(p) != 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/blobs", root);
	if (blob_mkdir(p) != 0)
		goto fail;
	for (int i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%s/blobs/%02x", root, i);
		if (blob_mkdir(p) != 0)
			goto fail;
		if (util_fsync_dir(p) != 0)
			goto fail;
	}
	snprintf(p, sizeof(p), "%s/blobs", root);
	if (util_fsync_dir(p) != 0 || util_fsync_dir(root) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "storage %s: %s: %s", root, p, strerror(errno));
	return -1;
}

/* blob_check_dirs - the tree exists and is writable (start-up, health) */
int
blob_check_dirs(const char *root, char *err, size_t errlen)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/tmp", root);
	if (access(p, W_OK | X_OK) != 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/blobs/ff", root);
	if (access(p, W_OK | X_OK) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "storage %s: %s", p, strerror(errno));
	return -1;
}

/* blob_staging_open - a new, empty, private staging file */
int
blob_staging_open(const char *root, char path[PATH_MAX])
{
	char id[UTIL_IDLEN + 1];

	util_id_new(id);
	if (snprintf(path, PATH_MAX, "%s/tmp/%s.part", root, id) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* blob_commit - make the staging file durable under its final name */
int
blob_commit(const char *root, int fd, const char *staging, const char *file_id)
{
	char dst[PATH_MAX], dir[PATH_MAX];

	if (blob_path(root, file_id, dst) != 0) {
		errno = EINVAL;
		return -1;
	}
	/* Never retry a failed fsync: the page cache may have dropped the data. */
	if (fsync(fd) != 0)
		return -1;
	if (rename(staging, dst) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/blobs/%.2s", root, file_id);
	if (util_fsync_dir(dir) != 0) {
		int saved = errno;
		unlink(dst);
		errno = saved;
		return -1;
	}
	return 0;
}

int
blob_open(const char *root, const char *file_id)
{
	char p[PATH_MAX];

	if (blob_path(root, file_id, p) != 0) {
		errno = EINVAL;
		return -1;
	}
	return open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/* blob_remove - delete a blob durably */
int
blob_remove(const char *root, const char *file_id)
{
	char p[PATH_MAX], dir[PATH_MAX];

	if (blob_path(root, file_id, p) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (unlink(p) != 0 && errno != ENOENT)
		return -1;
	snprintf(dir, sizeof(dir), "%s/blobs/%.2s", root, file_id);
	return util_fsync_dir(dir);
}

struct blob_rowcheck {
	const char *root;
	struct db *db;
	char (*broken)[UTIL_IDLEN + 1];
	size_t nbroken, cap;
	int err;
};

/* A row whose blob is missing or of the wrong size is marked broken. */
static int
blob_check_row(const struct db_file *f, void *arg)
{
	struct blob_rowcheck *rc = arg;
	char p[PATH_MAX];
	struct stat st;

	if (strcmp(f->state, "broken") == 0)
		return 0;
	if (blob_path(rc->root, f->id, p) != 0)
		return 0;
	if (f->shredded) {
		/* Its key is gone: the ciphertext is noise. A crash between the
		 * commit that erased the key and the unlink leaves it here. */
		if (stat(p, &st) == 0 && blob_remove(rc->root, f->id) == 0)
			log_event(LOG_LVL_INFO, "recover.shredded_removed", "file=%s", f->id);
		return 0;
	}
	if (stat(p, &st) == 0 && (uint64_t)st.st_size == store_blob_size((uint64_t)f->size))
		return 0;
	if (rc->nbroken == rc->cap) {
		size_t ncap = rc->cap ? rc->cap * 2 : 16;
		void *n = realloc(rc->broken, ncap * sizeof(*rc->broken));
		if (n == NULL) {
			rc->err = 1;
			return 1;
		}
		rc->broken = n;
		rc->cap = ncap;
	}
	memcpy(rc->broken[rc->nbroken++], f->id, UTIL_IDLEN + 1);
	return 0;
}

/*
 * blob_sweep_dir - staging files are deleted (never acknowledged, and their
 * data key died with the process). A committed blob that no row names is
 * moved to orphans/ rather than deleted: normally it is an upload that
 * crashed between rename and commit, but it may also mean okurud was started
 * against an older copy of the database, and then deleting would destroy
 * files a restored database could still open. orphans/ is never served.
 */
static int
blob_sweep_dir(const char *root, const char *dir, struct db *db, int staging, int *removed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX], to[PATH_MAX], q[600];
	int r;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (staging) {
			r = unlink(p);
		} else {
			int has = util_id_valid(e->d_name) ? db_file_exists(db, e->d_name) : 0;
			if (has < 0) {
				closedir(d);
				return -1;
			}
			if (has)
				continue;
			snprintf(to, sizeof(to), "%s/orphans/%s", root, e->d_name);
			r = rename(p, to);
		}
		if (r == 0) {
			(*removed)++;
			log_event(LOG_LVL_WARN,
				  staging ? "recover.staging_removed" : "recover.orphan_moved",
				  "file=%s", log_quote(q, sizeof(q), e->d_name));
		}
	}
	closedir(d);
	return util_fsync_dir(dir);
}

/*
 * blob_recover - at start-up, before serving: drop staging files and blobs
 * that no row names (their upload was never acknowledged), and mark rows
 * whose blob is missing or damaged as broken so they are never served.
 */
int
blob_recover(const char *root, struct db *db, struct blob_recovery *rec)
{
	char p[PATH_MAX];
	struct blob_rowcheck rc = {.root = root, .db = db};

	memset(rec, 0, sizeof(*rec));
	snprintf(p, sizeof(p), "%s/orphans", root);
	if (blob_mkdir(p) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/tmp", root);
	if (blob_sweep_dir(root, p, db, 1, &rec->staging_removed) != 0)
		return -1;
	for (int i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%s/blobs/%02x", root, i);
		if (blob_sweep_dir(root, p, db, 0, &rec->orphans_moved) != 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/orphans", root);
	if (rec->orphans_moved > 0 && util_fsync_dir(p) != 0)
		return -1;
	if (db_file_all(db, blob_check_row, &rc) != DB_OK || rc.err) {
		free(rc.broken);
		return -1;
	}
	for (size_t i = 0; i < rc.nbroken; i++) {
		if (db_file_set_state(db, rc.broken[i], "broken") == DB_OK) {
			rec->rows_broken++;
			log_event(LOG_LVL_ERR, "recover.row_broken", "file=%s", rc.broken[i]);
		}
	}
	free(rc.broken);
	return blob_upload_recover(root, db, rec);
}

/* ---- tus uploads ---------------------------------------------------------- */

/* blob_upload_name_ok - "<id>.part", the only names the uploads directory holds */
static int
blob_upload_name_ok(const char *name)
{
	char id[UTIL_IDLEN + 1];

	if (strlen(name) != UTIL_IDLEN + 5 || strcmp(name + UTIL_IDLEN, ".part") != 0)
		return 0;
	memcpy(id, name, UTIL_IDLEN);
	id[UTIL_IDLEN] = '\0';
	return util_id_valid(id);
}

/* blob_upload_path - STORAGE/uploads/NAME, for a well-formed name only */
int
blob_upload_path(const char *root, const char *name, char path[PATH_MAX])
{
	if (!blob_upload_name_ok(name) ||
	    snprintf(path, PATH_MAX, "%s/uploads/%s", root, name) >= PATH_MAX) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * blob_upload_create - a new, empty, private staging file for a tus upload;
 * its name (to store in the uploads row) and path. The caller makes the
 * directory entry durable (blob_upload_sync) before the row names it.
 */
int
blob_upload_create(const char *root, char name[UTIL_IDLEN + 6], char path[PATH_MAX])
{
	char id[UTIL_IDLEN + 1];

	util_id_new(id);
	snprintf(name, UTIL_IDLEN + 6, "%s.part", id);
	if (blob_upload_path(root, name, path) != 0)
		return -1;
	return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* blob_upload_sync - fsync the uploads directory (a staging file created or removed) */
int
blob_upload_sync(const char *root)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/uploads", root);
	return util_fsync_dir(p);
}

/* blob_upload_open - reopen an upload's staging file to go on writing */
int
blob_upload_open(const char *root, const char *name, char path[PATH_MAX])
{
	if (blob_upload_path(root, name, path) != 0)
		return -1;
	return open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
}

/* blob_upload_remove - delete an upload's staging file durably (gone already is fine) */
int
blob_upload_remove(const char *root, const char *name)
{
	char p[PATH_MAX];

	if (blob_upload_path(root, name, p) != 0)
		return -1;
	if (unlink(p) != 0 && errno != ENOENT)
		return -1;
	return blob_upload_sync(root);
}

struct blob_upload_check {
	const char *root;
	char (*lost)[UTIL_IDLEN + 1];
	size_t n, cap;
	int err;
};

/* blob_upload_row - note an upload row whose staging file is missing */
static int
blob_upload_row(const struct db_upload *u, void *arg)
{
	struct blob_upload_check *uc = arg;
	char p[PATH_MAX];
	struct stat st;

	if (blob_upload_path(uc->root, u->staging, p) == 0 && stat(p, &st) == 0)
		return 0;
	if (uc->n == uc->cap) {
		size_t ncap = uc->cap ? uc->cap * 2 : 16;
		void *n = realloc(uc->lost, ncap * sizeof(*uc->lost));
		if (n == NULL) {
			uc->err = 1;
			return 1;
		}
		uc->lost = n;
		uc->cap = ncap;
	}
	memcpy(uc->lost[uc->n++], u->id, UTIL_IDLEN + 1);
	return 0;
}

/*
 * blob_upload_recover - unfinished tus uploads survive a restart: their
 * staging files stay. A file no uploads row names (a creation that crashed
 * before its commit, or an upload that completed or ended but whose file
 * was not yet removed) is deleted; a row whose file is missing cannot go
 * on and is removed (upload.terminated, reason staging_lost).
 */
static int
blob_upload_recover(const char *root, struct db *db, struct blob_recovery *rec)
{
	struct blob_upload_check uc = {.root = root};
	char p[PATH_MAX], q[600];
	struct dirent *e;
	DIR *d;
	int has;

	snprintf(p, sizeof(p), "%s/uploads", root);
	if (blob_mkdir(p) != 0 || (d = opendir(p)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		has = blob_upload_name_ok(e->d_name) ? db_upload_staging_exists(db, e->d_name) : 0;
		if (has < 0) {
			closedir(d);
			return -1;
		}
		if (has)
			continue;
		snprintf(p, sizeof(p), "%s/uploads/%s", root, e->d_name);
		if (unlink(p) == 0) {
			rec->uploads_removed++;
			log_event(LOG_LVL_WARN, "recover.upload_staging_removed", "file=%s",
				  log_quote(q, sizeof(q), e->d_name));
		}
	}
	closedir(d);
	if (blob_upload_sync(root) != 0)
		return -1;
	if (db_upload_all(db, blob_upload_row, &uc) != DB_OK || uc.err) {
		free(uc.lost);
		return -1;
	}
	for (size_t i = 0; i < uc.n; i++) {
		if (db_upload_remove(db, uc.lost[i], "upload.terminated", "staging_lost", 0,
				     &audit_system) == DB_OK) {
			rec->uploads_lost++;
			log_event(LOG_LVL_ERR, "recover.upload_lost", "upload=%s", uc.lost[i]);
		}
	}
	free(uc.lost);
	return 0;
}
