/*
 * scan_proto.c - send and receive the scanner's typed messages, with at
 * most one descriptor riding along (SCM_RIGHTS). Both ends treat anything
 * unexpected as a protocol error: a compromised worker cannot make okurud
 * read past a message or keep descriptors it never asked for.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scan_proto.h"

int
scan_proto_send(int sock, const void *msg, size_t len, int fd)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)msg;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static size_t
scan_proto_size(uint32_t type)
{
	switch (type) {
	case SCAN_MSG_CONFIG:
		return sizeof(struct scan_msg_config);
	case SCAN_MSG_READY:
		return sizeof(struct scan_msg_ready);
	case SCAN_MSG_LOADFAIL:
		return sizeof(struct scan_msg_loadfail);
	case SCAN_MSG_JOB:
		return sizeof(struct scan_msg_job);
	case SCAN_MSG_RESULT:
		return sizeof(struct scan_msg_result);
	default:
		return 0;
	}
}

ssize_t
scan_proto_recv(int sock, union scan_msg *m, int *fd)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t n;
	int nfds = 0, bad = 0;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	memset(m, 0, sizeof(*m));
	iov.iov_base = m;
	iov.iov_len = sizeof(*m);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* Descriptors first: even an empty packet may carry some (an empty
	 * SEQPACKET message also reads as 0, like the peer closing). */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds++ == 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (n == 0 && nfds == 0 && !bad && (mh.msg_flags & MSG_CTRUNC) == 0)
		return 0;
	if (n == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || bad || nfds > 1 ||
	    (size_t)n < sizeof(uint32_t) || (size_t)n != scan_proto_size(m->type) ||
	    (nfds == 1) != (m->type == SCAN_MSG_JOB)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EPROTO;
		return -1;
	}
	if (m->type == SCAN_MSG_RESULT) {
		/* Text from a worker that parsed hostile data: checked here, once. */
		m->result.detail[sizeof(m->result.detail) - 1] = '\0';
		/* A type cut short could be another type: unterminated means none. */
		if (memchr(m->result.media_type, '\0', sizeof(m->result.media_type)) == NULL ||
		    !scan_type_ok(m->result.media_type))
			memset(m->result.media_type, 0, sizeof(m->result.media_type));
	}
	return n;
}

/* scan_type_char - a character of an RFC 6838 name, lower case only */
static int
scan_type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$&-^_.+", c) != NULL);
}

/* scan_type_part - the length of the name s up to end, or 0 if it is not one */
static size_t
scan_type_part(const char *s, char end)
{
	size_t n;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (n = 0; s[n] != end; n++)
		if (!scan_type_char(s[n]))
			return 0;
	return n;
}

int
scan_type_ok(const char *s)
{
	size_t a, b;

	if (strnlen(s, SCAN_TYPEMAX) >= SCAN_TYPEMAX || (a = scan_type_part(s, '/')) == 0)
		return 0;
	b = scan_type_part(s + a + 1, '\0');
	return b > 0;
}

const char *
scan_verdict_name(uint32_t v)
{
	switch (v) {
	case SCAN_CLEAN:
		return "clean";
	case SCAN_INFECTED:
		return "infected";
	case SCAN_UNSCANNABLE:
		return "unscannable";
	default:
		return "error";
	}
}

const char *
scan_reason_name(uint32_t r)
{
	switch (r) {
	case SCAN_REASON_NONE:
		return "";
	case SCAN_REASON_ENCRYPTED:
		return "encrypted";
	case SCAN_REASON_LIMIT:
		return "limit";
	case SCAN_REASON_TIMEOUT:
		return "timeout";
	case SCAN_REASON_CRASHED:
		return "crashed";
	case SCAN_REASON_INTEGRITY:
		return "integrity";
	default:
		return "engine";
	}
}

void
scan_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}
