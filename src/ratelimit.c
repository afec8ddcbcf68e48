/*
 * ratelimit.c - per-address counters in a fixed table (ratelimit.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct ratelimit *
ratelimit_new(void)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	crypto_shorthash_keygen(r->hashkey);
	return r;
}

void
ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int
ratelimit_take(struct ratelimit *r, const char *key, int per_minute, int64_t now)
{
	unsigned char h[crypto_shorthash_BYTES];
	int64_t window = now / 60;
	struct ratelimit_slot *s = NULL, *oldest = NULL;
	uint64_t start;
	int ok;

	char v6[RATELIMIT_KEYMAX];
	const char *p = key;

	/* An IPv6 client owns its whole /64: count the prefix, or one host is countless. */
	if (strchr(key, ':') != NULL) {
		struct in6_addr a;
		if (inet_pton(AF_INET6, key, &a) == 1) {
			memset(a.s6_addr + 8, 0, 8);
			if (inet_ntop(AF_INET6, &a, v6, sizeof(v6)) != NULL)
				p = v6;
		}
	}
	key = p;
	crypto_shorthash(h, (const unsigned char *)key, strlen(key), r->hashkey);
	memcpy(&start, h, sizeof(start));
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < RATELIMIT_PROBE && s == NULL; i++) {
		struct ratelimit_slot *t = &r->slot[(start + i) % RATELIMIT_SLOTS];
		if (strncmp(t->key, key, RATELIMIT_KEYMAX - 1) == 0 && t->key[0] != '\0')
			s = t;
		else if (oldest == NULL || t->window < oldest->window)
			oldest = t;
	}
	if (s == NULL) {
		s = oldest;
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window = window;
		s->count = 0;
	}
	if (s->window != window) {
		s->window = window;
		s->count = 0;
	}
	ok = s->count < per_minute;
	if (ok)
		s->count++;
	pthread_mutex_unlock(&r->lock);
	return ok;
}
