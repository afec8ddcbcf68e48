/*
 * auth.h - API tokens: "okr_" + 16-hex id + "_" + 43 base64url chars
 * (256 random bits). The database keeps the id and a BLAKE2b hash of the
 * whole token; the lookup is by id and the hash is compared in constant time.
 */
#ifndef OKURU_AUTH_H
#define OKURU_AUTH_H

#include <stddef.h>

#define AUTH_TOKEN_IDLEN 16U
#define AUTH_TOKEN_MAX 80U
#define AUTH_HASHBYTES 32U
#define AUTH_CSRF_MAX 44U /* base64url of 32 bytes, and its NUL */

struct db;
struct db_user;

int auth_token_new(char token[AUTH_TOKEN_MAX], char id[AUTH_TOKEN_IDLEN + 1],
		   unsigned char hash[AUTH_HASHBYTES]);
int auth_token_parse(const char *token, char id[AUTH_TOKEN_IDLEN + 1],
		     unsigned char hash[AUTH_HASHBYTES]);

/* Session cookies: the same shape with "oks_" and a hash key of their own. */
void auth_session_new(char token[AUTH_TOKEN_MAX], char id[AUTH_TOKEN_IDLEN + 1],
		      unsigned char hash[AUTH_HASHBYTES]);
int auth_session_parse(const char *token, char id[AUTH_TOKEN_IDLEN + 1],
		       unsigned char hash[AUTH_HASHBYTES]);
void auth_csrf(const char *cookie, char out[AUTH_CSRF_MAX]);
int auth_csrf_ok(const char *cookie, const char *sent);

enum auth_rc { AUTH_OK = 0, AUTH_DENIED = 1, AUTH_ERROR = -1 };
/* auth_bearer - the header's user; ID gets the token id when it parses (else ""),
 * WHY the reason for AUTH_DENIED: "no_token", "malformed", "unknown", "mismatch" */
int auth_bearer(struct db *db, const char *authorization, struct db_user *u,
		char id[AUTH_TOKEN_IDLEN + 1], const char **why);

#endif
