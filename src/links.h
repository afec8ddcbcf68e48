/*
 * links.h - the secrets of sending: link tokens, recipient session ids,
 * one-time codes and passphrases. Tokens and session ids are 256 random
 * bits from libsodium in base64url; the database keeps only keyed BLAKE2b
 * hashes (a distinct key per kind, so one kind never matches another), and
 * passphrases only as Argon2id strings.
 */
#ifndef OKURU_LINKS_H
#define OKURU_LINKS_H

#include <sodium.h>

#define LINKS_TOKENLEN 43U /* base64url of 32 bytes, no padding */
#define LINKS_HASHBYTES 32U
#define LINKS_PASSMIN 8U
#define LINKS_PASSMAX 256U

enum links_kind { LINKS_TOKEN, LINKS_SESSION };

void links_secret_new(enum links_kind k, char out[LINKS_TOKENLEN + 1],
		      unsigned char hash[LINKS_HASHBYTES]);
int links_secret_hash(enum links_kind k, const char *s, unsigned char hash[LINKS_HASHBYTES]);

void links_otp_new(int digits, const char *link_id, char code[9],
		   unsigned char hash[LINKS_HASHBYTES]);
int links_otp_hash(const char *code, int digits, const char *link_id,
		   unsigned char hash[LINKS_HASHBYTES]);

int links_passphrase_hash(const char *pass, char out[crypto_pwhash_STRBYTES]);
int links_passphrase_check(const char *stored, const char *pass);

#endif
