/*
 * outbox.c - seal messages for the outbox and open them for delivery.
 *
 * Sealed form: XChaCha20-Poly1305 nonce (24) || ciphertext of the packed
 * message (mail_msg_pack), under a random per-message key wrapped with the
 * master key (keys_wrap, bound to "outbox:" + Message-ID). The Message-ID
 * is also the associated data, so a sealed body cannot be moved to another
 * row. Once a message is sent or has failed for good, db_outbox.c erases
 * both the body and the wrapped key.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "util.h"

#define OUTBOX_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define OUTBOX_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

static void
outbox_label(char out[DB_MSGIDMAX + 8], const char *message_id)
{
	snprintf(out, DB_MSGIDMAX + 8, "outbox:%s", message_id);
}

/* outbox_message_id - "<random@domain of the sender address>" */
static void
outbox_message_id(const char *from, char out[DB_MSGIDMAX])
{
	char id[UTIL_IDLEN + 1];
	const char *at = strchr(from, '@');

	util_id_new(id);
	snprintf(out, DB_MSGIDMAX, "<%s@%s>", id, at != NULL ? at + 1 : "localhost");
}

/*
 * outbox_prepare - render template tmpl for to and seal it into out, ready
 * for a db_* call that queues it in the same transaction as its cause.
 */
int
outbox_prepare(const struct keyring *kr, const struct conf *c, const char *tmpl, const char *to,
	       const struct mail_var *vars, size_t nvars, const char *transfer_id,
	       const char *link_id, struct db_mail *out, char *err, size_t errlen)
{
	struct mail_msg m;
	unsigned char dk[KEYS_KEYBYTES];
	char label[DB_MSGIDMAX + 8];
	unsigned long long clen;
	char *packed;
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (mail_render(c->templates_dir, tmpl, to, vars, nvars, &m, err, errlen) != 0)
		return -1;
	packed = mail_msg_pack(&m, &plen);
	mail_msg_free(&m);
	if (packed == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->kind = tmpl;
	snprintf(out->to, sizeof(out->to), "%s", to);
	snprintf(out->transfer_id, sizeof(out->transfer_id), "%s", transfer_id ? transfer_id : "");
	snprintf(out->link_id, sizeof(out->link_id), "%s", link_id ? link_id : "");
	outbox_message_id(c->mail_from, out->message_id);
	outbox_label(label, out->message_id);
	out->sealed_len = OUTBOX_NONCE + plen + OUTBOX_TAG;
	out->sealed = malloc(out->sealed_len);
	keys_data_key_new(dk);
	if (out->sealed == NULL || keys_wrap(kr, label, dk, out->wrapped, out->key_id) != 0) {
		sodium_memzero(dk, sizeof(dk));
		sodium_memzero(packed, plen);
		free(packed);
		outbox_mail_free(out);
		snprintf(err, errlen, "cannot seal the message");
		return -1;
	}
	randombytes_buf(out->sealed, OUTBOX_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out->sealed + OUTBOX_NONCE, &clen,
						   (unsigned char *)packed, plen,
						   (const unsigned char *)out->message_id,
						   strlen(out->message_id), NULL, out->sealed, dk);
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(packed, plen);
	free(packed);
	return 0;
}

void
outbox_mail_free(struct db_mail *m)
{
	free(m->sealed);
	m->sealed = NULL;
	m->sealed_len = 0;
}

/* outbox_open - the message a queued row holds; -1 if it does not open */
int
outbox_open(const struct keyring *kr, const struct db_outbox *o, struct mail_msg *m)
{
	unsigned char dk[KEYS_KEYBYTES];
	char label[DB_MSGIDMAX + 8];
	unsigned long long plen;
	unsigned char *plain;
	int r;

	if (o->sealed == NULL || o->sealed_len < OUTBOX_NONCE + OUTBOX_TAG)
		return -1;
	outbox_label(label, o->message_id);
	if (keys_unwrap(kr, o->key_id, label, o->wrapped, KEYS_WRAPPEDBYTES, dk) != 0)
		return -1;
	plain = malloc(o->sealed_len);
	if (plain == NULL) {
		sodium_memzero(dk, sizeof(dk));
		return -1;
	}
	r = crypto_aead_xchacha20poly1305_ietf_decrypt(
		plain, &plen, NULL, o->sealed + OUTBOX_NONCE, o->sealed_len - OUTBOX_NONCE,
		(const unsigned char *)o->message_id, strlen(o->message_id), o->sealed, dk);
	sodium_memzero(dk, sizeof(dk));
	if (r == 0)
		r = mail_msg_unpack((const char *)plain, (size_t)plen, m);
	sodium_memzero(plain, o->sealed_len);
	free(plain);
	return r == 0 ? 0 : -1;
}
