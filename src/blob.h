/*
 * blob.h - the storage area: staging files, durable commit, open, removal
 * and start-up recovery. Blobs are named only by server-generated file ids:
 *   STORAGE/tmp/<random>.part       being written
 *   STORAGE/blobs/<id[0..1]>/<id>    committed (fsynced, renamed, dir fsynced)
 *   STORAGE/orphans/<id>             committed blobs no row named at start-up
 *   STORAGE/uploads/<random>.part    unfinished tus uploads (an uploads row each)
 */
#ifndef OKURU_BLOB_H
#define OKURU_BLOB_H

#include <limits.h>
#include <stddef.h>

#include "util.h"

struct db;

struct blob_recovery {
	int staging_removed;
	int orphans_moved;
	int rows_broken;
	int uploads_removed; /* tus staging files no upload row named */
	int uploads_lost;    /* upload rows whose staging file was gone */
};

int blob_lock(const char *root, char *err, size_t errlen);
int blob_init_dirs(const char *root, char *err, size_t errlen);
int blob_check_dirs(const char *root, char *err, size_t errlen);
int blob_staging_open(const char *root, char path[PATH_MAX]);
int blob_commit(const char *root, int fd, const char *staging, const char *file_id);
int blob_open(const char *root, const char *file_id);
int blob_remove(const char *root, const char *file_id);
int blob_recover(const char *root, struct db *db, struct blob_recovery *rec);

/* tus uploads' staging files, kept across restarts (STORAGE/uploads/) */
int blob_upload_create(const char *root, char name[UTIL_IDLEN + 6], char path[PATH_MAX]);
int blob_upload_path(const char *root, const char *name, char path[PATH_MAX]);
int blob_upload_open(const char *root, const char *name, char path[PATH_MAX]);
int blob_upload_remove(const char *root, const char *name);
int blob_upload_sync(const char *root);

#endif
