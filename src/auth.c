/*
 * auth.c - make and check API tokens. A token is shown once (okuructl prints
 * it) and stored only as a hash; a database reader cannot use what it sees.
 */
#include "config.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "db.h"

#define AUTH_SECRETBYTES 32U
#define AUTH_PREFIX "okr_"
static const char auth_hash_key[] = "okuru api token hash v1";

static void
auth_hash(const char *token, unsigned char hash[AUTH_HASHBYTES])
{
	crypto_generichash(hash, AUTH_HASHBYTES, (const unsigned char *)token, strlen(token),
			   (const unsigned char *)auth_hash_key, sizeof(auth_hash_key) - 1);
}

/* auth_token_new - a fresh token, its id and its hash */
int
auth_token_new(char token[AUTH_TOKEN_MAX], char id[AUTH_TOKEN_IDLEN + 1],
	       unsigned char hash[AUTH_HASHBYTES])
{
	unsigned char rid[AUTH_TOKEN_IDLEN / 2], secret[AUTH_SECRETBYTES];
	size_t n;

	randombytes_buf(rid, sizeof(rid));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(id, AUTH_TOKEN_IDLEN + 1, rid, sizeof(rid));
	memcpy(token, AUTH_PREFIX, sizeof(AUTH_PREFIX) - 1);
	n = sizeof(AUTH_PREFIX) - 1;
	memcpy(token + n, id, AUTH_TOKEN_IDLEN);
	n += AUTH_TOKEN_IDLEN;
	token[n++] = '_';
	sodium_bin2base64(token + n, AUTH_TOKEN_MAX - n, secret, sizeof(secret),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(secret, sizeof(secret));
	auth_hash(token, hash);
	return 0;
}

/* auth_token_parse - check the shape and derive the lookup id and hash */
int
auth_token_parse(const char *token, char id[AUTH_TOKEN_IDLEN + 1],
		 unsigned char hash[AUTH_HASHBYTES])
{
	size_t n = strlen(token), p = sizeof(AUTH_PREFIX) - 1;

	if (n != p + AUTH_TOKEN_IDLEN + 1 + 43 || memcmp(token, AUTH_PREFIX, p) != 0 ||
	    token[p + AUTH_TOKEN_IDLEN] != '_')
		return -1;
	for (size_t i = 0; i < AUTH_TOKEN_IDLEN; i++) {
		char c = token[p + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	for (size_t i = p + AUTH_TOKEN_IDLEN + 1; i < n; i++) {
		char c = token[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_'))
			return -1;
	}
	memcpy(id, token + p, AUTH_TOKEN_IDLEN);
	id[AUTH_TOKEN_IDLEN] = '\0';
	auth_hash(token, hash);
	return 0;
}

/* auth_bearer - resolve an "Authorization: Bearer ..." header to a user */
int
auth_bearer(struct db *db, const char *authorization, struct db_user *u,
	    char id[AUTH_TOKEN_IDLEN + 1], const char **why)
{
	unsigned char want[AUTH_HASHBYTES], have[AUTH_HASHBYTES];
	int r;

	id[0] = '\0';
	*why = "no_token";
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return AUTH_DENIED;
	authorization += 7;
	while (*authorization == ' ')
		authorization++;
	*why = "malformed";
	if (auth_token_parse(authorization, id, have) != 0) {
		id[0] = '\0';
		return AUTH_DENIED;
	}
	*why = "unknown";
	r = db_token_lookup(db, id, u, want);
	if (r == DB_ERROR)
		return AUTH_ERROR;
	if (r != DB_OK)
		return AUTH_DENIED;
	*why = "mismatch";
	r = sodium_memcmp(want, have, AUTH_HASHBYTES) == 0 ? AUTH_OK : AUTH_DENIED;
	sodium_memzero(want, sizeof(want));
	sodium_memzero(have, sizeof(have));
	return r;
}
