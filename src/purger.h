/*
 * purger.h - okurud's retention thread: every retention.interval seconds it
 * purges the content of transfers whose retention has passed
 * (crypto-shredding: keys erased in one commit, then blobs removed), then
 * the records of those whose metadata retention has passed. A transfer
 * under legal hold is never purged. The rules are in retention.h; what
 * changes in the database in db_retention.c.
 */
#ifndef OKURU_PURGER_H
#define OKURU_PURGER_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct purger;

/* What one run did. */
struct purger_stats {
	int content;	   /* transfers whose content was purged */
	int metadata;	   /* transfers whose records were purged */
	int64_t files;	   /* files crypto-shredded */
	int64_t bytes;	   /* their size */
	int blobs_removed; /* blob files deleted */
	int blobs_failed;  /* blob files left for the next run */
	int skipped;	   /* held or otherwise stopped between listing and purging */
	int errors;	   /* database failures */
};

int purger_start(struct server *srv, char *err, size_t errlen);
void purger_stop(struct server *srv);
/* purger_run - one run at time now: 0 when nothing failed, else -1 (logged) */
int purger_run(struct server *srv, int64_t now, struct purger_stats *st);

#endif
