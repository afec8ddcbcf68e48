/*
 * auth.c - make and check API tokens and session cookies. A token is shown
 * once (okuructl prints it), a cookie lives only in the browser; both are
 * stored only as a hash, so a database reader cannot use what it sees.
 */
#include "config.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "db.h"

#define AUTH_SECRETBYTES 32U
#define AUTH_PREFIX "okr_"
#define AUTH_SESSION_PREFIX "oks_"
static const char auth_hash_key[] = "okuru api token hash v1";
static const char auth_session_key[] = "okuru session hash v1";
static const char auth_csrf_key[] = "okuru session csrf v1";

static void
auth_hash(const char *key, size_t keylen, const char *token, unsigned char hash[AUTH_HASHBYTES])
{
	crypto_generichash(hash, AUTH_HASHBYTES, (const unsigned char *)token, strlen(token),
			   (const unsigned char *)key, keylen);
}

/*
 * auth_make - PREFIX + 16 hex id + "_" + 43 base64url characters of 256
 * random bits, and its hash under KEY. API tokens and session cookies share
 * the shape; their different prefixes and hash keys keep one from ever
 * passing for the other.
 */
static void
auth_make(const char *prefix, const char *key, size_t keylen, char token[AUTH_TOKEN_MAX],
	  char id[AUTH_TOKEN_IDLEN + 1], unsigned char hash[AUTH_HASHBYTES])
{
	unsigned char rid[AUTH_TOKEN_IDLEN / 2], secret[AUTH_SECRETBYTES];
	size_t n = strlen(prefix);

	randombytes_buf(rid, sizeof(rid));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(id, AUTH_TOKEN_IDLEN + 1, rid, sizeof(rid));
	memcpy(token, prefix, n);
	memcpy(token + n, id, AUTH_TOKEN_IDLEN);
	n += AUTH_TOKEN_IDLEN;
	token[n++] = '_';
	sodium_bin2base64(token + n, AUTH_TOKEN_MAX - n, secret, sizeof(secret),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(secret, sizeof(secret));
	auth_hash(key, keylen, token, hash);
}

/* auth_parse - check a token's shape, then derive its lookup id and hash */
static int
auth_parse(const char *prefix, const char *key, size_t keylen, const char *token,
	   char id[AUTH_TOKEN_IDLEN + 1], unsigned char hash[AUTH_HASHBYTES])
{
	size_t n = strlen(token), p = strlen(prefix);

	if (n != p + AUTH_TOKEN_IDLEN + 1 + 43 || memcmp(token, prefix, p) != 0 ||
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
	auth_hash(key, keylen, token, hash);
	return 0;
}

/* auth_token_new - a fresh API token, its id and its hash */
int
auth_token_new(char token[AUTH_TOKEN_MAX], char id[AUTH_TOKEN_IDLEN + 1],
	       unsigned char hash[AUTH_HASHBYTES])
{
	auth_make(AUTH_PREFIX, auth_hash_key, sizeof(auth_hash_key) - 1, token, id, hash);
	return 0;
}

/* auth_token_parse - an API token's lookup id and hash */
int
auth_token_parse(const char *token, char id[AUTH_TOKEN_IDLEN + 1],
		 unsigned char hash[AUTH_HASHBYTES])
{
	return auth_parse(AUTH_PREFIX, auth_hash_key, sizeof(auth_hash_key) - 1, token, id, hash);
}

/* auth_session_new - a fresh session cookie value, its id and its hash */
void
auth_session_new(char token[AUTH_TOKEN_MAX], char id[AUTH_TOKEN_IDLEN + 1],
		 unsigned char hash[AUTH_HASHBYTES])
{
	auth_make(AUTH_SESSION_PREFIX, auth_session_key, sizeof(auth_session_key) - 1, token, id,
		  hash);
}

/* auth_session_parse - a session cookie's lookup id and hash */
int
auth_session_parse(const char *token, char id[AUTH_TOKEN_IDLEN + 1],
		   unsigned char hash[AUTH_HASHBYTES])
{
	return auth_parse(AUTH_SESSION_PREFIX, auth_session_key, sizeof(auth_session_key) - 1,
			  token, id, hash);
}

/*
 * auth_csrf - the CSRF token of a session: a keyed hash of the whole cookie
 * value. Only a page that was given it (GET /api/v1/session answers it) can
 * send it back; another site's page can make the browser send the cookie,
 * never read the answer, and cannot compute this without the cookie.
 */
void
auth_csrf(const char *cookie, char out[AUTH_CSRF_MAX])
{
	unsigned char h[AUTH_HASHBYTES];

	auth_hash(auth_csrf_key, sizeof(auth_csrf_key) - 1, cookie, h);
	sodium_bin2base64(out, AUTH_CSRF_MAX, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(h, sizeof(h));
}

/* auth_csrf_ok - SENT is the CSRF token of COOKIE; compared in constant time */
int
auth_csrf_ok(const char *cookie, const char *sent)
{
	char want[AUTH_CSRF_MAX];
	int ok;

	if (sent == NULL || strlen(sent) != AUTH_CSRF_MAX - 1)
		return 0;
	auth_csrf(cookie, want);
	ok = sodium_memcmp(want, sent, AUTH_CSRF_MAX - 1) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
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
