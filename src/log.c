/*
 * log.c - line-oriented event log to stderr or syslog.
 *
 * A line is formatted completely into a local buffer and then written with
 * one write(2) (or one syslog(3) call), so lines from concurrent connection
 * threads never interleave.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_syslog;
static int log_max = LOG_LVL_INFO;
static const char *log_ident = "okuru";

static const char *const level_names[] = {"err", "warn", "info", "debug"};
static const int level_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* log_open - choose the sink; ident is kept by pointer (a string literal) */
void
log_open(const char *ident, int use_syslog)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* log_set_level - events above level are dropped */
void
log_set_level(int level)
{
	if (level >= LOG_LVL_ERR && level <= LOG_LVL_DEBUG)
		log_max = level;
}

/* log_level_parse - "err".."debug" to a level, -1 when unknown */
int
log_level_parse(const char *s)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/* log_quote - a value safe to put on a log line */
const char *
log_quote(char *buf, size_t bufsz, const char *s)
{
	size_t o = 0;
	int bare = s[0] != '\0';

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' ||
		    *p == 0x7f)
			bare = 0;
	if (bare && strlen(s) < bufsz) {
		memcpy(buf, s, strlen(s) + 1);
		return buf;
	}
	if (bufsz < 8) {
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 6 >= bufsz) {
			buf[o++] = '.';
			buf[o++] = '.';
			break;
		}
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p < ' ' || *p == 0x7f) {
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", *p);
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void
log_vwrite(int level, const char *event, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0;
	int r;

	if (!log_syslog) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s[%ld]: ",
			     ts.tv_nsec / 1000000, log_ident, (long)getpid());
		if (r > 0)
			n += (size_t)r;
	}
	r = snprintf(line + n, sizeof(line) - n, "level=%s event=%s%s",
		     level_names[level], event, fmt && *fmt ? " " : "");
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line) && fmt && *fmt) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	/* Whatever got in, a line stays one line. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (log_syslog) {
		line[n] = '\0';
		syslog(level_prio[level], "%s", line);
	} else {
		line[n++] = '\n';
		ssize_t w = write(STDERR_FILENO, line, n);
		(void)w;
	}
}

/* log_event - one event line */
void
log_event(int level, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	log_vwrite(level, event, fmt, ap);
	va_end(ap);
}

/* fatal - the environment is unusable: log and exit(1) */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

/* panic - an internal invariant broke: log and abort for a core */
void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, "panic", fmt, ap);
	va_end(ap);
	abort();
}
