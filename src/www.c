/*
 * www.c - the static files of okuru's pages, from the www directory
 * (okuru.conf "www"): stylesheets, scripts and images under /static/, and
 * the staff app's one HTML page at "/". Names are [a-z0-9-]+ and a known
 * extension, so no path can leave the directory. The app page carries the
 * strict CSP: scripts and styles only from this origin, nothing inline.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

#define WWW_MAXBYTES (1U << 20)

static const char www_app_csp[] =
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

/* www_file - NAME from the www directory with TYPE, or 404 */
static enum MHD_Result
www_file(struct server *srv, struct MHD_Connection *c, const char *name, const char *type,
	 const char *csp, const char *cache)
{
	char path[4096];
	unsigned char *buf;
	struct MHD_Response *r;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", srv->conf.www_dir, name);
	buf = malloc(WWW_MAXBYTES);
	if (buf == NULL)
		return http_error(c, 503, "out of memory");
	if (util_read_small_file(path, buf, WWW_MAXBYTES, &n) != 0) {
		free(buf);
		return http_error(c, 404, "not found");
	}
	r = MHD_create_response_from_buffer(n, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", cache);
	if (csp != NULL) {
		MHD_add_response_header(r, "Content-Security-Policy", csp);
		/* With no-referrer, Chromium sends "Origin: null" on the app's own
		 * POSTs, which the Origin check must refuse. */
		MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	}
	return http_send(c, 200, r);
}

/* www_static - /static/NAME: [a-z0-9-]+.(css|js|svg) only */
enum MHD_Result
www_static(struct server *srv, struct MHD_Connection *c, const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {{".css", "text/css; charset=utf-8"},
		     {".js", "text/javascript; charset=utf-8"},
		     {".svg", "image/svg+xml"}};
	const char *dot = strrchr(name, '.'), *type = NULL;

	for (const char *p = name; dot != NULL && p < dot; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			dot = NULL;
	for (size_t i = 0; dot != NULL && dot != name && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			type = types[i].type;
	if (type == NULL)
		return http_error(c, 404, "not found");
	/* Short: a new release's scripts must reach open pages soon. */
	return www_file(srv, c, name, type, NULL, "public, max-age=300");
}

/* www_app - "/": the staff app (www/index.html); everything else it fetches */
enum MHD_Result
www_app(struct server *srv, struct MHD_Connection *c)
{
	return www_file(srv, c, "index.html", "text/html; charset=utf-8", www_app_csp, "no-store");
}
