/*
 * api_tus.h - resumable uploads: the tus 1.0 protocol (core, creation and
 * termination), a staff user's at /api/v1/uploads and a counterparty's at
 * /u/TOKEN/uploads. See api_tus.c and docs/ARCHITECTURE.md "Resumable
 * uploads (tus)".
 */
#ifndef OKURU_API_TUS_H
#define OKURU_API_TUS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* An upload not PATCHed for this long expires (api_tus_expire_run). */
#define API_TUS_EXPIRE_SECONDS (24 * 3600)

/* Whose uploads a request works on, and within which limits. */
struct api_tus_owner {
	int64_t user_id;	 /* a staff user's (rq->user.id), or 0 */
	const char *link_id;	 /* an upload link's (a counterparty's), or NULL */
	const char *transfer_id; /* the link's transfer (its creations name none) */
	const char *prefix;	 /* the uploads' URL: /api/v1/uploads or /u/TOKEN/uploads */
	int64_t max_size;	 /* one new upload's length at most (Tus-Max-Size) */
	int max_files;		 /* the transfer's files and unfinished uploads */
	int64_t max_bytes;	 /* the link's max_bytes; INT64_MAX for staff */
};

/* api_tus_route - is url /api/v1/uploads or below it */
int api_tus_route(const char *url);
/* api_tus_handle - every call of a request api_tus_route accepted (user authenticated) */
enum MHD_Result api_tus_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
			       const char *url, const char *method, const char *data,
			       size_t *data_size, int first);
/* api_tus_continue - a later call of a PATCH that api_tus_handle or api_tus_link began */
enum MHD_Result api_tus_continue(struct server *srv, struct MHD_Connection *c, struct req *rq,
				 const char *data, size_t *data_size);
/*
 * api_tus_link - a counterparty's request, the link and session checked
 * (recipient.c): a PATCH in its first call (headers only), any other
 * method with its body read. id is "" for the collection.
 */
enum MHD_Result api_tus_link(struct server *srv, struct MHD_Connection *c, struct req *rq,
			     const struct api_tus_owner *o, const char *id, const char *method);
/* api_tus_refuse - refuse a PATCH before its body (read and dropped unless Expect: 100-continue) */
enum MHD_Result api_tus_refuse(struct MHD_Connection *c, struct req *rq, unsigned status,
			       const char *msg);
/* api_tus_error - {"error": msg} with the tus headers */
enum MHD_Result api_tus_error(struct MHD_Connection *c, unsigned status, const char *msg);
/* api_tus_link_end - end an upload link's unfinished uploads (upload.terminated, reason) */
void api_tus_link_end(struct server *srv, const char *link_id, const char *reason,
		      const struct audit_actor *who);
/* api_tus_done - a request ends: a PATCH cut off keeps its whole chunks */
void api_tus_done(struct server *srv, struct req *rq, int completed);
/* api_tus_expire_run - end uploads idle since before now - API_TUS_EXPIRE_SECONDS (purger) */
void api_tus_expire_run(struct server *srv, int64_t now);

#endif
