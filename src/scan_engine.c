/*
 * scan_engine.c - load a libclamav engine and turn its answers into okuru's
 * verdicts.
 *
 * Failing closed is the point of this file. libclamav reports some limits
 * only as heuristics ("Heuristics.Limits.Exceeded.*") and, without
 * CL_SCAN_HEURISTIC_EXCEEDS_MAX, would call a file clean when it skipped
 * part of it; an encrypted archive is likewise only a heuristic. Both are
 * "unscannable" here, never clean. A read error (a blob that fails its
 * authentication) makes the verdict "error" whatever libclamav said about
 * the bytes it did get.
 */
#include "config.h"

#include <clamav.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "scan_engine.h"
#include "scan_worker.h"

struct scan_engine {
	struct cl_engine *cl;
	uint64_t max_file_size;
};

static int scan_engine_inited;

/*
 * Set when libclamav says it could not read part of the map: it then skips
 * what it could not read (an archive member, say) and may still answer
 * clean. The worker is single-threaded, so a static is enough.
 */
static int scan_engine_read_trouble;

/* libclamav's own messages go to our log, one event per message. */
static void
scan_engine_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	char q[600];
	int lvl = severity == CL_MSG_ERROR ? LOG_LVL_ERR
		  : severity == CL_MSG_WARN ? LOG_LVL_WARN
					    : LOG_LVL_DEBUG;
	size_t n;

	(void)fullmsg;
	(void)ctx;
	if (msg == NULL)
		return;
	if (strstr(msg, "fmap_readpage") != NULL || strstr(msg, "fmap_need") != NULL)
		scan_engine_read_trouble = 1;
	snprintf(q, sizeof(q), "%s", msg);
	n = strlen(q);
	while (n > 0 && (q[n - 1] == '\n' || q[n - 1] == '\r'))
		q[--n] = '\0';
	{
		char quoted[1300];
		log_event(lvl, "clamav.message", "text=%s", log_quote(quoted, sizeof(quoted), q));
	}
}

int
scan_engine_official(const char *dir)
{
	static const char *const want[2] = {"main", "daily"};
	char p[SCAN_PATHMAX + 16];
	struct stat st;

	for (int i = 0; i < 2; i++) {
		int found = 0;
		for (int k = 0; k < 2 && !found; k++) {
			snprintf(p, sizeof(p), "%s/%s.%s", dir, want[i], k == 0 ? "cvd" : "cld");
			found = stat(p, &st) == 0 && S_ISREG(st.st_mode);
		}
		if (!found)
			return 0;
	}
	return 1;
}



/* A short digest of a local signature file, so its version is auditable too. */
static int
scan_engine_file_digest(const char *path, char hex[13])
{
	crypto_generichash_state h;
	unsigned char buf[65536], out[6];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_generichash_update(&h, buf, (unsigned long long)n);
	close(fd);
	if (n < 0)
		return -1;
	crypto_generichash_final(&h, out, sizeof(out));
	sodium_bin2hex(hex, 13, out, sizeof(out));
	return 0;
}


/*
 * scan_engine_version - "daily:27450 main:62 bytecode:335 local.ndb@3f2a..."
 * Official databases by their version number, local files by a digest of
 * their content: enough to tell afterwards exactly what a verdict was
 * reached with.
 */
static void
scan_engine_version(const char *dir, char *out, size_t outsz)
{
	char **names, p[SCAN_PATHMAX + 300];
	size_t n, o = 0;

	out[0] = '\0';
	if (scan_db_list(dir, &names, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char item[300];
		const char *dot = strrchr(names[i], '.');
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		item[0] = '\0';
		if (strcmp(dot, ".cvd") == 0 || strcmp(dot, ".cld") == 0) {
			struct cl_cvd *h = cl_cvdhead(p);
			if (h != NULL) {
				snprintf(item, sizeof(item), "%.*s:%u", (int)(dot - names[i]),
					 names[i], h->version);
				cl_cvdfree(h);
			}
		} else {
			char hex[13];
			if (scan_engine_file_digest(p, hex) == 0)
				snprintf(item, sizeof(item), "%.200s@%s", names[i], hex);
		}
		if (item[0] != '\0') {
			size_t need = strlen(item) + (o ? 1 : 0);
			if (o + need + 16 < outsz)
				o += (size_t)snprintf(out + o, outsz - o, "%s%s", o ? " " : "", item);
			else if (o + 4 < outsz && strstr(out, " ...") == NULL)
				o += (size_t)snprintf(out + o, outsz - o, " ...");
		}
	}
	scan_db_list_free(names, n);
}

static int
scan_engine_set(struct cl_engine *cl, enum cl_engine_field f, long long v, const char *name,
		char *err, size_t errlen)
{
	cl_error_t r = cl_engine_set_num(cl, f, v);

	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "cannot set %s: %s", name, cl_strerror(r));
		return -1;
	}
	return 0;
}

/*
 * libclamav cuts an archive member larger than max_file_size down to that
 * size ("trimming output size to maxfilesize"), scans the part it kept and,
 * even with CL_SCAN_HEURISTIC_EXCEEDS_MAX, says nothing: a ZIP holding a
 * 3 GiB member with malware past the cut scans clean. Every inner layer is
 * seen here; one that reaches the limit was (or may have been) cut, and the
 * whole file is then unscannable.
 */
struct scan_layers {
	uint64_t max_file_size;
	int cut;
};

static cl_error_t
scan_engine_layer(int fd, const char *type, const char **ancestors, size_t parent_file_size,
		  const char *file_name, size_t file_size, const char *file_buffer,
		  uint32_t recursion_level, uint32_t layer_attributes, void *context)
{
	struct scan_layers *sl = context;

	(void)fd;
	(void)type;
	(void)ancestors;
	(void)parent_file_size;
	(void)file_name;
	(void)file_buffer;
	(void)layer_attributes;
	if (sl != NULL && recursion_level > 0 && sl->max_file_size > 0 &&
	    (uint64_t)file_size >= sl->max_file_size)
		sl->cut = 1;
	return CL_CLEAN;
}

int
scan_engine_load(const struct scan_msg_config *cfg, struct scan_engine **out,
		 struct scan_msg_ready *ready, char *err, size_t errlen)
{
	struct scan_engine *e;
	unsigned int sigs = 0;
	cl_error_t r;

	*out = NULL;
	if (!scan_engine_inited) {
		cl_set_clcb_msg(scan_engine_msg);
		r = cl_init(CL_INIT_DEFAULT);
		if (r != CL_SUCCESS) {
			snprintf(err, errlen, "libclamav initialisation failed: %s", cl_strerror(r));
			return -1;
		}
		scan_engine_inited = 1;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->max_file_size = cfg->max_file_size;
	e->cl = cl_engine_new();
	if (e->cl == NULL) {
		snprintf(err, errlen, "cannot create a libclamav engine");
		free(e);
		return -1;
	}
	r = cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, cfg->tmpdir);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "cannot set the temp directory: %s", cl_strerror(r));
		goto fail;
	}
	if (scan_engine_set(e->cl, CL_ENGINE_KEEPTMP, 0, "keeptmp", err, errlen) != 0 ||
	    scan_engine_set(e->cl, CL_ENGINE_MAX_SCANSIZE, (long long)cfg->max_scan_size,
			    "max_scan_size", err, errlen) != 0 ||
	    scan_engine_set(e->cl, CL_ENGINE_MAX_FILESIZE, (long long)cfg->max_file_size,
			    "max_file_size", err, errlen) != 0 ||
	    scan_engine_set(e->cl, CL_ENGINE_MAX_RECURSION, cfg->max_recursion, "max_recursion",
			    err, errlen) != 0 ||
	    scan_engine_set(e->cl, CL_ENGINE_MAX_FILES, cfg->max_files, "max_files", err,
			    errlen) != 0 ||
	    scan_engine_set(e->cl, CL_ENGINE_MAX_SCANTIME, cfg->max_scan_time_ms, "max_scan_time",
			    err, errlen) != 0)
		goto fail;
	{
		char **names;
		size_t n;
		if (scan_db_list(cfg->database, &names, &n) != 0) {
			snprintf(err, errlen, "signature directory %s: %s", cfg->database,
				 strerror(errno));
			goto fail;
		}
		scan_db_list_free(names, n);
		if (n == 0) {
			snprintf(err, errlen, "no signatures in %s: run freshclam", cfg->database);
			goto fail;
		}
	}
	if (!cfg->allow_test_signatures && !scan_engine_official(cfg->database)) {
		snprintf(err, errlen,
			 "%s has no official ClamAV databases (main and daily .cvd/.cld): run "
			 "freshclam (a test database needs clamav.allow_test_signatures, or "
			 "okuructl scan --allow-test-signatures: demo only)",
			 cfg->database);
		goto fail;
	}
	r = cl_load(cfg->database, e->cl, &sigs, CL_DB_STDOPT);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "cannot load signatures from %s: %s", cfg->database,
			 cl_strerror(r));
		goto fail;
	}
	if (sigs == 0) {
		snprintf(err, errlen, "no signatures loaded from %s (run freshclam)", cfg->database);
		goto fail;
	}
	cl_engine_set_clcb_file_inspection(e->cl, scan_engine_layer);
	r = cl_engine_compile(e->cl);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "cannot compile the signatures: %s", cl_strerror(r));
		goto fail;
	}
	memset(ready, 0, sizeof(*ready));
	ready->type = SCAN_MSG_READY;
	ready->signatures = sigs;
	ready->official = (uint32_t)scan_engine_official(cfg->database);
	snprintf(ready->engine, sizeof(ready->engine), "ClamAV %s", cl_retver());
	scan_engine_version(cfg->database, ready->db_version, sizeof(ready->db_version));
	*out = e;
	return 0;
fail:
	cl_engine_free(e->cl);
	free(e);
	return -1;
}

static int
scan_engine_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static void
scan_engine_set_result(struct scan_msg_result *res, uint32_t verdict, uint32_t reason,
		       const char *detail)
{
	res->verdict = verdict;
	res->reason = reason;
	scan_strlcpy(res->detail, detail ? detail : "", sizeof(res->detail));
}

void
scan_engine_scan(struct scan_engine *e, void *handle, size_t len, scan_engine_read_fn fn,
		 const int *read_failed, struct scan_msg_result *res)
{
	struct cl_scan_options opt;
	const char *virname = NULL;
	unsigned long scanned = 0;
	struct scan_layers sl = {.max_file_size = e->max_file_size, .cut = 0};
	cl_fmap_t *map;
	cl_error_t r;

	if (len == 0) {
		/* Nothing to carry anything: libclamav cannot map it either. */
		scan_engine_set_result(res, SCAN_CLEAN, SCAN_REASON_NONE, "empty file");
		return;
	}
	if (e->max_file_size > 0 && len > e->max_file_size) {
		scan_engine_set_result(res, SCAN_UNSCANNABLE, SCAN_REASON_LIMIT,
				       "Heuristics.Limits.Exceeded.MaxFileSize");
		return;
	}
	memset(&opt, 0, sizeof(opt));
	opt.general = CL_SCAN_GENERAL_HEURISTICS;
	opt.parse = ~0U; /* every parser libclamav has, as clamscan does */
	opt.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
			CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	/*
	 * No page aging: libclamav 1.4 re-reads an aged-out page only after an
	 * fstat() of the handle as if it were a descriptor, which fails for a
	 * callback handle; the ZIP parser then skipped members past ~8 MiB and
	 * the file scanned clean. Without aging every page is read once (and
	 * the worker holds up to the file's size in memory, within RLIMIT_AS).
	 */
	scan_engine_read_trouble = 0;
	map = cl_fmap_open_handle(handle, 0, len, fn, 0);
	if (map == NULL) {
		scan_engine_set_result(res, SCAN_ERROR, SCAN_REASON_ENGINE, "cannot map the file");
		return;
	}
	r = cl_scanmap_callback(map, NULL, &virname, &scanned, e->cl, &opt, &sl);
	cl_fmap_close(map);
	if (*read_failed) {
		scan_engine_set_result(res, SCAN_ERROR, SCAN_REASON_INTEGRITY,
				       "the stored file could not be read or failed authentication");
		return;
	}
	if (scan_engine_read_trouble) {
		/* Part of the file went unread: whatever the answer, not clean. */
		scan_engine_set_result(res, SCAN_ERROR, SCAN_REASON_ENGINE,
				       "libclamav could not read part of the file");
		return;
	}
	switch (r) {
	case CL_CLEAN:
		if (sl.cut)
			scan_engine_set_result(res, SCAN_UNSCANNABLE, SCAN_REASON_LIMIT,
					       "Heuristics.Limits.Exceeded.MaxFileSize (inner file)");
		else
			scan_engine_set_result(res, SCAN_CLEAN, SCAN_REASON_NONE, "");
		return;
	case CL_VIRUS:
		if (virname == NULL)
			scan_engine_set_result(res, SCAN_INFECTED, SCAN_REASON_NONE, "unnamed");
		else if (scan_engine_prefix(virname, "Heuristics.Encrypted."))
			scan_engine_set_result(res, SCAN_UNSCANNABLE, SCAN_REASON_ENCRYPTED, virname);
		else if (scan_engine_prefix(virname, "Heuristics.Limits.Exceeded"))
			scan_engine_set_result(res, SCAN_UNSCANNABLE, SCAN_REASON_LIMIT, virname);
		else
			scan_engine_set_result(res, SCAN_INFECTED, SCAN_REASON_NONE, virname);
		return;
	case CL_EMAXREC:
	case CL_EMAXSIZE:
	case CL_EMAXFILES:
	case CL_ETIMEOUT:
		scan_engine_set_result(res, SCAN_UNSCANNABLE, SCAN_REASON_LIMIT, cl_strerror(r));
		return;
	default:
		scan_engine_set_result(res, SCAN_ERROR, SCAN_REASON_ENGINE, cl_strerror(r));
		return;
	}
}

void
scan_engine_free(struct scan_engine *e)
{
	if (e == NULL)
		return;
	cl_engine_free(e->cl);
	free(e);
}
