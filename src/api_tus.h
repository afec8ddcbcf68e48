/*
 * api_tus.h - resumable staff uploads: the tus 1.0 protocol (core, creation
 * and termination) at /api/v1/uploads. See api_tus.c and
 * docs/ARCHITECTURE.md "Resumable uploads (tus)".
 */
#ifndef OKURU_API_TUS_H
#define OKURU_API_TUS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* An upload not PATCHed for this long expires (api_tus_expire_run). */
#define API_TUS_EXPIRE_SECONDS (24 * 3600)

/* api_tus_route - is url /api/v1/uploads or below it */
int api_tus_route(const char *url);
/* api_tus_handle - every call of a request api_tus_route accepted (user authenticated) */
enum MHD_Result api_tus_handle(struct server *srv, struct MHD_Connection *c, struct req *rq,
			       const char *url, const char *method, const char *data,
			       size_t *data_size, int first);
/* api_tus_done - a request ends: a PATCH cut off keeps its whole chunks */
void api_tus_done(struct server *srv, struct req *rq, int completed);
/* api_tus_expire_run - end uploads idle since before now - API_TUS_EXPIRE_SECONDS (purger) */
void api_tus_expire_run(struct server *srv, int64_t now);

#endif
