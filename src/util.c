/*
 * util.c - ids from libsodium, clocks, and the durable-write helpers
 * (write, fsync the file, fsync its directory) every stored byte goes through.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* util_id_new - a fresh random id */
void
util_id_new(char out[UTIL_IDLEN + 1])
{
	unsigned char raw[UTIL_IDLEN / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, UTIL_IDLEN + 1, raw, sizeof(raw));
}

/* util_id_valid - exactly 32 lowercase hex digits */
int
util_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= UTIL_IDLEN)
			return 0;
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == UTIL_IDLEN;
}

int64_t
util_now(void)
{
	return (int64_t)time(NULL);
}

/* util_mono - monotonic seconds, for deadlines */
double
util_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* util_time_iso - RFC 3339 UTC */
void
util_time_iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * util_time_parse - the one form util_time_iso writes, YYYY-MM-DDTHH:MM:SSZ
 * (UTC, years 1970 to 9999), back to seconds. 0, or -1 for anything else,
 * a day that does not exist (February 30) included.
 */
int
util_time_parse(const char *s, int64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm, back;
	time_t t;
	int v[6], k = 0;

	if (strlen(s) != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -1;
	}
	for (size_t i = 0; i < sizeof(shape) - 1; k++) {
		size_t n = k == 0 ? 4 : 2;
		v[k] = 0;
		for (size_t j = 0; j < n; j++)
			v[k] = v[k] * 10 + (s[i + j] - '0');
		i += n + 1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != v[2] ||
	    back.tm_mon != v[1] - 1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* util_fsync_dir - make a rename or unlink in dir durable */
int
util_fsync_dir(const char *dir)
{
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* util_write_all - write len bytes or fail */
int
util_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* util_pread_all - read exactly len bytes at off; short file is EIO */
int
util_pread_all(int fd, void *buf, size_t len, off_t off)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t r = pread(fd, p, len, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

/*
 * util_write_new_file - create path (never replacing an existing file) with
 * the given mode, write data, fsync it and its directory.
 */
int
util_write_new_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char dirbuf[PATH_MAX];
	int fd, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) != 0 || util_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	if (close(fd) != 0)
		return -1;
	if (strlen(path) >= sizeof(dirbuf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dirbuf, path, strlen(path) + 1);
	return util_fsync_dir(dirname(dirbuf));
}

/* util_read_small_fd - read fd to its end, at most max bytes (EFBIG beyond) */
int
util_read_small_fd(int fd, unsigned char *buf, size_t max, size_t *len)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, max - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == max) {
			char extra;
			if (read(fd, &extra, 1) != 0) {
				errno = EFBIG;
				return -1;
			}
			break;
		}
	}
	*len = n;
	return 0;
}

/* util_read_small_file - read a whole file of at most max bytes */
int
util_read_small_file(const char *path, unsigned char *buf, size_t max, size_t *len)
{
	int fd, r, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = util_read_small_fd(fd, buf, max, len);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/*
 * util_mailbox_ok - a bare address local@domain with nothing that could
 * break out of a mail header or an SMTP command.
 */
int
util_mailbox_ok(const char *a)
{
	const char *at = strchr(a, '@');
	size_t n = strlen(a);

	if (n == 0 || n > 254 || at == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || at - a > 64)
		return -1;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("<>()[]\\,;:\"", *p) != NULL)
			return -1;
	if (at[1] == '.' || a[n - 1] == '.' || strstr(at, "..") != NULL)
		return -1;
	return 0;
}

/*
 * util_append - append s to the malloc'd string *buf of length *len; on
 * failure set *failed and leave *buf as it was (later calls do nothing).
 */
void
util_append(char **buf, size_t *len, int *failed, const char *s)
{
	size_t n = strlen(s);
	char *nb = *failed ? NULL : realloc(*buf, *len + n + 1);

	if (nb == NULL) {
		*failed = 1;
		return;
	}
	memcpy(nb + *len, s, n + 1);
	*buf = nb;
	*len += n;
}

/* util_bytes_parse - "123", "10K", "512M", "2G", "1T" (binary units), at most max */
int
util_bytes_parse(const char *v, int64_t max, int64_t *out)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end != '\0' || max < 0 || n > ((unsigned long long)max >> shift))
		return -1;
	*out = (int64_t)(n << shift);
	return 0;
}

void
util_utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char c;

	/* Back to the lead byte of the last character (at most 3 continuation bytes). */
	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return;
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/*
 * util_open_secret - open a key or password file for reading: no symlink,
 * a regular file only its owner can read (mode 0600 or 0400), checked on
 * the descriptor that is then read, not on whatever the path named before.
 * Returns the descriptor, or -1 with err naming what (e.g. "master key").
 */
int
util_open_secret(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "%s %s: must be a regular file only its owner can read, mode 0600 or "
			 "0400 (is %04o)",
			 what, path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}
