/*
 * auth_pw.h - staff passwords: libsodium's Argon2id strings
 * (crypto_pwhash_str), a length rule, and a gate that bounds how many
 * hashes run at once (each takes AUTH_PW_MEMLIMIT bytes of memory; a burst
 * of logins must not exhaust the machine).
 */
#ifndef OKURU_AUTH_PW_H
#define OKURU_AUTH_PW_H

#include <sodium.h>
#include <stddef.h>

#define AUTH_PW_STRBYTES crypto_pwhash_STRBYTES
#define AUTH_PW_MAXBYTES 256U /* longer is refused, not cut */
#define AUTH_PW_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define AUTH_PW_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/* auth_pw_check - 0 when PW may be a password for user NAME, else -1 and WHY */
int auth_pw_check(const char *pw, const char *name, int min_chars, const char **why);
/* auth_pw_hash - the Argon2id string of PW; -1 when out of memory */
int auth_pw_hash(const char *pw, char out[AUTH_PW_STRBYTES]);
/*
 * auth_pw_verify - 1 when PW matches STORED, 0 when not, -1 on error. An
 * empty STORED (no password set) is checked against a fixed dummy hash so
 * the answer takes as long as a real one, and never matches.
 * *rehash is set when STORED was made with weaker parameters than ours.
 */
int auth_pw_verify(const char *stored, const char *pw, int *rehash);

#endif
