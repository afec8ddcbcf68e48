/*
 * audit.c - the audit log's cryptography (see audit.h): the record hash,
 * the signing key, checkpoint signatures and the checkpoint export file.
 * Nothing here touches the database.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "util.h"

const struct audit_actor audit_system = {.kind = "system", .name = "okurud"};

int
audit_flood_take(struct audit_flood *f, int64_t now, int *left_out)
{
	int take;

	*left_out = 0;
	pthread_mutex_lock(&f->lock);
	if (now - f->window >= 60) {
		*left_out = f->dropped;
		f->window = now;
		f->used = f->dropped = 0;
	}
	take = f->used < AUDIT_FLOOD_PER_MIN;
	if (take)
		f->used++;
	else
		f->dropped++;
	pthread_mutex_unlock(&f->lock);
	return take;
}

struct audit_signer {
	unsigned char sk[crypto_sign_SECRETKEYBYTES]; /* sodium_malloc'd, read-only */
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
};

static const char audit_record_label[] = "okuru audit record v1";
static const char audit_checkpoint_label[] = "okuru audit checkpoint v1";

static void
audit_put_u32(crypto_generichash_state *h, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};

	crypto_generichash_update(h, b, sizeof(b));
}

static void
audit_put_u64(unsigned char b[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static void
audit_put_i64(crypto_generichash_state *h, int64_t v)
{
	unsigned char b[8];

	audit_put_u64(b, (uint64_t)v);
	crypto_generichash_update(h, b, sizeof(b));
}

/* audit_put_str - a 4-byte big-endian length, then the bytes (NULL is "") */
static void
audit_put_str(crypto_generichash_state *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	audit_put_u32(h, (uint32_t)n);
	if (n > 0)
		crypto_generichash_update(h, (const unsigned char *)s, n);
}

int
audit_event_ok(const struct audit_event *ev)
{
	const char *f[] = {ev->actor_kind, ev->actor, ev->ip, ev->user_agent, ev->event,
			   ev->object_kind, ev->object_id, ev->outcome};
	static const char *const kinds[] = {"user", "recipient", "system", "admin-cli"};
	int known = 0;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i] != NULL && strlen(f[i]) > AUDIT_FIELDMAX)
			return -1;
	if (ev->detail != NULL && strlen(ev->detail) > AUDIT_DETAILMAX)
		return -1;
	for (size_t i = 0; ev->actor_kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(ev->actor_kind, kinds[i]) == 0)
			known = 1;
	return known && ev->event != NULL && ev->event[0] != '\0' ? 0 : -1;
}

/*
 * audit_hash - BLAKE2b-256 (unkeyed) of:
 *   u32 len ‖ "okuru audit record v1" ‖ i64 seq ‖ i64 at ‖
 *   9 × (u32 len ‖ bytes): actor_kind actor ip user_agent event object_kind
 *                          object_id outcome detail ‖ prev (32 bytes)
 * every integer big-endian. detail NULL is hashed as "{}".
 */
void
audit_hash(int64_t seq, int64_t at, const struct audit_event *ev,
	   const unsigned char prev[AUDIT_HASHBYTES], unsigned char out[AUDIT_HASHBYTES])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, AUDIT_HASHBYTES);
	audit_put_str(&h, audit_record_label);
	audit_put_i64(&h, seq);
	audit_put_i64(&h, at);
	audit_put_str(&h, ev->actor_kind);
	audit_put_str(&h, ev->actor);
	audit_put_str(&h, ev->ip);
	audit_put_str(&h, ev->user_agent);
	audit_put_str(&h, ev->event);
	audit_put_str(&h, ev->object_kind);
	audit_put_str(&h, ev->object_id);
	audit_put_str(&h, ev->outcome);
	audit_put_str(&h, ev->detail ? ev->detail : "{}");
	crypto_generichash_update(&h, prev, AUDIT_HASHBYTES);
	crypto_generichash_final(&h, out, AUDIT_HASHBYTES);
}

void
audit_key_id(const unsigned char pk[AUDIT_PKBYTES], char out[AUDIT_KEYIDLEN + 1])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), pk, AUDIT_PKBYTES, NULL, 0);
	sodium_bin2hex(out, AUDIT_KEYIDLEN + 1, h, AUDIT_KEYIDLEN / 2);
}

int
audit_keygen(const char *keypath, const char *pubpath, char *err, size_t errlen)
{
	unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char *sk;
	char hex[2 * AUDIT_PKBYTES + 2];
	struct stat st;

	if (lstat(keypath, &st) == 0 || lstat(pubpath, &st) == 0) {
		snprintf(err, errlen, "%s or %s already exists; refusing to overwrite an audit key",
			 keypath, pubpath);
		return -1;
	}
	sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (sk == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_free(sk);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	strcat(hex, "\n");
	if (util_write_new_file(keypath, seed, sizeof(seed), 0600) != 0) {
		snprintf(err, errlen, "%s: %s", keypath, strerror(errno));
		sodium_memzero(seed, sizeof(seed));
		return -1;
	}
	sodium_memzero(seed, sizeof(seed));
	if (util_write_new_file(pubpath, hex, strlen(hex), 0644) != 0) {
		snprintf(err, errlen, "%s: %s", pubpath, strerror(errno));
		unlink(keypath);
		return -1;
	}
	return 0;
}

int
audit_signer_load(const char *keypath, struct audit_signer **out, char *err, size_t errlen)
{
	unsigned char seed[crypto_sign_SEEDBYTES + 1];
	struct audit_signer *s;
	size_t len = 0;
	int fd, r;

	fd = util_open_secret(keypath, "audit signing key", err, errlen);
	if (fd < 0)
		return -1;
	r = util_read_small_fd(fd, seed, sizeof(seed), &len);
	close(fd);
	if (r != 0 || len != crypto_sign_SEEDBYTES) {
		sodium_memzero(seed, sizeof(seed));
		snprintf(err, errlen, "audit signing key %s: must hold exactly %d bytes", keypath,
			 crypto_sign_SEEDBYTES);
		return -1;
	}
	s = sodium_malloc(sizeof(*s));
	if (s == NULL) {
		sodium_memzero(seed, sizeof(seed));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	crypto_sign_seed_keypair(s->pk, s->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	sodium_mprotect_readonly(s);
	*out = s;
	return 0;
}

void
audit_signer_free(struct audit_signer *s)
{
	if (s != NULL)
		sodium_free(s); /* wipes */
}

const unsigned char *
audit_signer_pk(const struct audit_signer *s)
{
	return s->pk;
}

int
audit_pub_load(const char *path, unsigned char pk[AUDIT_PKBYTES], char *err, size_t errlen)
{
	unsigned char buf[2 * AUDIT_PKBYTES + 2];
	size_t len = 0, binlen = 0;

	if (util_read_small_file(path, buf, sizeof(buf) - 1, &len) != 0) {
		snprintf(err, errlen, "audit public key %s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (len != 2 * AUDIT_PKBYTES ||
	    sodium_hex2bin(pk, AUDIT_PKBYTES, (const char *)buf, len, NULL, &binlen, NULL) != 0 ||
	    binlen != AUDIT_PKBYTES) {
		snprintf(err, errlen, "audit public key %s: must be %d hex digits", path,
			 2 * AUDIT_PKBYTES);
		return -1;
	}
	return 0;
}

/* audit_msg_label - a signed message's start: u32 len (big-endian) ‖ label; its length */
static size_t
audit_msg_label(unsigned char *m, const char *label)
{
	size_t ln = strlen(label);

	m[0] = m[1] = m[2] = 0;
	m[3] = (unsigned char)ln;
	memcpy(m + 4, label, ln);
	return 4 + ln;
}

/* audit_msg_verify - 0 when KEY_ID is pk's and SIG is pk's signature of M */
static int
audit_msg_verify(const unsigned char pk[AUDIT_PKBYTES], const char *key_id,
		 const unsigned char sig[AUDIT_SIGBYTES], const unsigned char *m, size_t n)
{
	char id[AUDIT_KEYIDLEN + 1];

	audit_key_id(pk, id);
	if (strcmp(id, key_id) != 0)
		return -1;
	return crypto_sign_verify_detached(sig, m, n, pk) == 0 ? 0 : -1;
}

/* audit_checkpoint_msg - u32 len ‖ label ‖ i64 seq ‖ hash (32) ‖ i64 at, big-endian */
static size_t
audit_checkpoint_msg(const struct audit_checkpoint *cp, unsigned char *m)
{
	size_t n = audit_msg_label(m, audit_checkpoint_label);

	audit_put_u64(m + n, (uint64_t)cp->seq);
	n += 8;
	memcpy(m + n, cp->hash, AUDIT_HASHBYTES);
	n += AUDIT_HASHBYTES;
	audit_put_u64(m + n, (uint64_t)cp->at);
	return n + 8;
}

void
audit_checkpoint_sign(const struct audit_signer *s, struct audit_checkpoint *cp)
{
	unsigned char m[128];
	size_t n;

	audit_key_id(s->pk, cp->key_id);
	n = audit_checkpoint_msg(cp, m);
	crypto_sign_detached(cp->sig, NULL, m, n, s->sk);
}

int
audit_checkpoint_verify(const unsigned char pk[AUDIT_PKBYTES], const struct audit_checkpoint *cp)
{
	unsigned char m[128];

	return audit_msg_verify(pk, cp->key_id, cp->sig, m, audit_checkpoint_msg(cp, m));
}

static const char audit_anchor_label[] = "okuru audit purge anchor v1";

/*
 * audit_anchor_msg - u32 len ‖ label ‖ i64 first_seq ‖ i64 through_seq ‖
 * hash (32) ‖ i64 through_at ‖ i64 purged_at ‖ i64 audit_days, big-endian
 */
static size_t
audit_anchor_msg(const struct audit_anchor *a, unsigned char *m)
{
	size_t n = audit_msg_label(m, audit_anchor_label);
	const int64_t v[] = {a->through_at, a->purged_at, a->audit_days};

	audit_put_u64(m + n, (uint64_t)a->first_seq);
	n += 8;
	audit_put_u64(m + n, (uint64_t)a->through_seq);
	n += 8;
	memcpy(m + n, a->through_hash, AUDIT_HASHBYTES);
	n += AUDIT_HASHBYTES;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++, n += 8)
		audit_put_u64(m + n, (uint64_t)v[i]);
	return n;
}

void
audit_anchor_sign(const struct audit_signer *s, struct audit_anchor *a)
{
	unsigned char m[160];
	size_t n;

	audit_key_id(s->pk, a->key_id);
	n = audit_anchor_msg(a, m);
	crypto_sign_detached(a->sig, NULL, m, n, s->sk);
}

int
audit_anchor_verify(const unsigned char pk[AUDIT_PKBYTES], const struct audit_anchor *a)
{
	unsigned char m[160];

	return audit_msg_verify(pk, a->key_id, a->sig, m, audit_anchor_msg(a, m));
}

int
audit_checkpoint_text(const struct audit_checkpoint *cp, char *text, size_t len)
{
	char hash[2 * AUDIT_HASHBYTES + 1], sig[2 * AUDIT_SIGBYTES + 1];
	int n;

	sodium_bin2hex(hash, sizeof(hash), cp->hash, AUDIT_HASHBYTES);
	sodium_bin2hex(sig, sizeof(sig), cp->sig, AUDIT_SIGBYTES);
	n = snprintf(text, len,
		     "okuru-audit-checkpoint v1\nseq %lld\nhash %s\nat %lld\nkey_id %s\n"
		     "signature %s\n",
		     (long long)cp->seq, hash, (long long)cp->at, cp->key_id, sig);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
audit_checkpoint_write(const char *path, const struct audit_checkpoint *cp)
{
	char text[512];

	if (audit_checkpoint_text(cp, text, sizeof(text)) != 0)
		return -1;
	return util_write_new_file(path, text, strlen(text), 0644);
}

/* audit_hex_field - "NAME HEX" with exactly len bytes */
static int
audit_hex_field(const char *line, const char *name, unsigned char *out, size_t len)
{
	size_t nl = strlen(name), binlen = 0;

	if (strncmp(line, name, nl) != 0 || line[nl] != ' ' || strlen(line + nl + 1) != 2 * len)
		return -1;
	if (sodium_hex2bin(out, len, line + nl + 1, 2 * len, NULL, &binlen, NULL) != 0 ||
	    binlen != len)
		return -1;
	return 0;
}

static int
audit_int_field(const char *line, const char *name, int64_t *out)
{
	size_t nl = strlen(name);
	char *end;
	long long v;

	if (strncmp(line, name, nl) != 0 || line[nl] != ' ' || line[nl + 1] < '0' ||
	    line[nl + 1] > '9')
		return -1;
	errno = 0;
	v = strtoll(line + nl + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

int
audit_checkpoint_read(const char *path, struct audit_checkpoint *cp, char *err, size_t errlen)
{
	unsigned char buf[1024];
	char *lines[6], *p;
	size_t len = 0, n = 0;
	unsigned char id[AUDIT_KEYIDLEN / 2];

	memset(cp, 0, sizeof(*cp));
	if (util_read_small_file(path, buf, sizeof(buf) - 1, &len) != 0) {
		snprintf(err, errlen, "checkpoint %s: %s", path, strerror(errno));
		return -1;
	}
	buf[len] = '\0';
	p = (char *)buf;
	while (n < 6 && p != NULL && *p != '\0') {
		char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	if (n != 6 || *p != '\0' || strcmp(lines[0], "okuru-audit-checkpoint v1") != 0 ||
	    audit_int_field(lines[1], "seq", &cp->seq) != 0 || cp->seq < 1 ||
	    audit_hex_field(lines[2], "hash", cp->hash, AUDIT_HASHBYTES) != 0 ||
	    audit_int_field(lines[3], "at", &cp->at) != 0 ||
	    audit_hex_field(lines[4], "key_id", id, sizeof(id)) != 0 ||
	    audit_hex_field(lines[5], "signature", cp->sig, AUDIT_SIGBYTES) != 0) {
		snprintf(err, errlen, "checkpoint %s: not an okuru audit checkpoint (v1)", path);
		return -1;
	}
	sodium_bin2hex(cp->key_id, sizeof(cp->key_id), id, sizeof(id));
	return 0;
}
