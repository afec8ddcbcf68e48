/*
 * cfgerr.h - the one form of a configuration error, for okuru.conf and
 * policy files alike: "FILE:LINE: message", or "FILE: message" when
 * libconfig knows no line for the setting.
 */
#ifndef OKURU_CFGERR_H
#define OKURU_CFGERR_H

#include <libconfig.h>
#include <stddef.h>

/* cfgerr_set - write the error into err; returns -1 for "return cfgerr_set(...)" */
int cfgerr_set(char *err, size_t errlen, const char *file, const config_setting_t *s,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
