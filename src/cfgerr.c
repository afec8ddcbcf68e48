/*
 * cfgerr.c - see cfgerr.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "cfgerr.h"

int
cfgerr_set(char *err, size_t errlen, const char *file, const config_setting_t *s,
	   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s != NULL && config_setting_source_line(s) > 0)
		snprintf(err, errlen, "%s:%u: %s", file, config_setting_source_line(s), msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
	return -1;
}
