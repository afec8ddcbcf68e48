/*
 * util.h - small helpers used everywhere: ids, time, durable file writes.
 */
#ifndef OKURU_UTIL_H
#define OKURU_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A server-generated id: 128 random bits as 32 lowercase hex digits. */
#define UTIL_IDLEN 32

void util_id_new(char out[UTIL_IDLEN + 1]);
int util_id_valid(const char *s);

int64_t util_now(void);
double util_mono(void);
void util_time_iso(int64_t t, char out[32]);
int util_time_parse(const char *s, int64_t *out);

int util_fsync_dir(const char *dir);
int util_write_new_file(const char *path, const void *data, size_t len,
			mode_t mode);
int util_read_small_fd(int fd, unsigned char *buf, size_t max, size_t *len);
int util_read_small_file(const char *path, unsigned char *buf, size_t max,
			 size_t *len);
int util_write_all(int fd, const void *buf, size_t len);
int util_pread_all(int fd, void *buf, size_t len, off_t off);

int util_bytes_parse(const char *v, int64_t max, int64_t *out);
void util_append(char **buf, size_t *len, int *failed, const char *s);

/* util_mailbox_ok - 0 for a plain local@domain address safe in headers and SMTP */
int util_mailbox_ok(const char *a);

/* util_open_secret - a key or password file: no symlink, regular, owner-only; fd or -1 */
int util_open_secret(const char *path, const char *what, char *err, size_t errlen);

/* util_utf8_trim - drop a multi-byte character cut short at the end of s */
void util_utf8_trim(char *s);

#endif
