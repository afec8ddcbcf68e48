/*
 * ratelimit.h - at most N events a minute per key (a client address), in
 * memory, for logins. A fixed table: memory does not grow with the number
 * of addresses an attacker uses; under such a flood old entries are
 * replaced, so the bound is per address while the table holds it.
 */
#ifndef OKURU_RATELIMIT_H
#define OKURU_RATELIMIT_H

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 4096U
#define RATELIMIT_PROBE 8U
#define RATELIMIT_KEYMAX 64U

struct ratelimit_slot {
	char key[RATELIMIT_KEYMAX];
	int64_t window; /* the minute counted, now / 60 */
	int count;
};

struct ratelimit {
	pthread_mutex_t lock;
	unsigned char hashkey[crypto_shorthash_KEYBYTES]; /* random: no chosen collisions */
	struct ratelimit_slot slot[RATELIMIT_SLOTS];
};

struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *r);
/* ratelimit_take - 1 when KEY may have one more event this minute (it is counted), else 0 */
int ratelimit_take(struct ratelimit *r, const char *key, int per_minute, int64_t now);

#endif
