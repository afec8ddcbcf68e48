/*
 * tls.h - server certificates for GnuTLS: load (and reload on SIGHUP), check
 * a priority string, and make the self-signed certificate okuructl init uses
 * when none is configured.
 */
#ifndef OKURU_TLS_H
#define OKURU_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>

#define TLS_MAXCHAIN 8U

struct tls_creds {
	gnutls_pcert_st pcert[TLS_MAXCHAIN];
	unsigned int npcert;
	gnutls_privkey_t key;
	struct tls_creds *retired_next; /* kept until exit; see http.c */
};

int tls_creds_load(const char *certfile, const char *keyfile, struct tls_creds **out,
		   char *err, size_t errlen);
void tls_creds_free(struct tls_creds *c);
/*
 * tls_client_ca_load - the CA certificates (PEM) that client certificates
 * must chain to: a trust list for verifying them, and the PEM text itself
 * (libmicrohttpd asks clients for a certificate when it is given one).
 */
int tls_client_ca_load(const char *path, gnutls_x509_trust_list_t *trust, char **pem,
		       char *err, size_t errlen);
int tls_priorities_check(const char *prio, char *err, size_t errlen);
int tls_selfsigned_create(const char *certfile, const char *keyfile, const char *host,
			  char *err, size_t errlen);

#endif
