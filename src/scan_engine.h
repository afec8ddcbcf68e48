/*
 * scan_engine.h - libclamav, as okuru uses it: one engine loaded from a
 * signature directory with explicit limits, scanning data it reads through
 * a callback (never a path), and a verdict that fails closed.
 */
#ifndef OKURU_SCAN_ENGINE_H
#define OKURU_SCAN_ENGINE_H

#include <stddef.h>
#include <sys/types.h>

#include "scan_proto.h"

struct scan_engine;

/* pread-like: count bytes at offset into buf; bytes read, 0 at end, -1 */
typedef off_t (*scan_engine_read_fn)(void *handle, void *buf, size_t count, off_t offset);

/*
 * scan_engine_load - load and compile the signatures named by cfg. Fills
 * ready (count, version, official or test). Fails when nothing loads, and
 * when only unofficial signatures load unless cfg allows test signatures.
 */
int scan_engine_load(const struct scan_msg_config *cfg, struct scan_engine **out,
		     struct scan_msg_ready *ready, char *err, size_t errlen);

/*
 * scan_engine_scan - scan len bytes read through fn; fills res (verdict,
 * reason, detail). *read_failed set by the caller's reader forces an error
 * verdict: data that could not be read was not scanned.
 */
void scan_engine_scan(struct scan_engine *e, void *handle, size_t len, scan_engine_read_fn fn,
		      const int *read_failed, struct scan_msg_result *res);

void scan_engine_free(struct scan_engine *e);

/* scan_engine_official - 1 when dir holds main and daily (.cvd or .cld) */
int scan_engine_official(const char *dir);

#endif
