/*
 * log.h - one event per line, to stderr or syslog; fatal and panic paths.
 *
 * Every line is "level=L event=E key=value ...". Values that came from a
 * client pass through log_quote() so a hostile filename cannot forge a line.
 * fatal() is for a bad environment (exit 1); panic() is for a broken
 * invariant (abort). OKURU_ASSERT is never compiled out.
 */
#ifndef OKURU_LOG_H
#define OKURU_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void log_open(const char *ident, int use_syslog);
void log_set_level(int level);
int log_level_parse(const char *s);

void log_event(int level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* log_quote - render s as a log value: bare when safe, else "..." with
 * control bytes, quotes and backslashes escaped. Always NUL-terminates. */
const char *log_quote(char *buf, size_t bufsz, const char *s);

_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define OKURU_ASSERT(x)                                                        \
	do {                                                                   \
		if (!(x))                                                      \
			panic("assertion failed: %s at %s:%d", #x, __FILE__,   \
			      __LINE__);                                       \
	} while (0)

#endif
