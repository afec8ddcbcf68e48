/*
 * tls.c - certificate handling with GnuTLS. A certificate and key pair is
 * first checked together (gnutls_certificate_set_x509_key_file catches a key
 * that does not match), then imported for the retrieve callback through
 * which okurud hands GnuTLS whatever pair is current.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls.h"
#include "util.h"

/* tls_creds_load - a certificate chain and its private key, both PEM */
int
tls_creds_load(const char *certfile, const char *keyfile, struct tls_creds **out,
	       char *err, size_t errlen)
{
	gnutls_certificate_credentials_t check;
	gnutls_datum_t kd = {NULL, 0};
	struct tls_creds *c;
	int r;

	if (gnutls_certificate_allocate_credentials(&check) < 0) {
		snprintf(err, errlen, "tls: out of memory");
		return -1;
	}
	r = gnutls_certificate_set_x509_key_file(check, certfile, keyfile, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(check);
	if (r < 0) {
		snprintf(err, errlen, "tls certificate %s / key %s: %s", certfile, keyfile,
			 gnutls_strerror(r));
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "tls: out of memory");
		return -1;
	}
	c->npcert = TLS_MAXCHAIN;
	r = gnutls_pcert_list_import_x509_file(c->pcert, &c->npcert, certfile,
					       GNUTLS_X509_FMT_PEM, NULL, NULL, 0);
	if (r < 0) {
		c->npcert = 0;
		snprintf(err, errlen, "tls certificate %s: %s", certfile, gnutls_strerror(r));
		goto fail;
	}
	r = gnutls_load_file(keyfile, &kd);
	if (r < 0) {
		snprintf(err, errlen, "tls key %s: %s", keyfile, gnutls_strerror(r));
		goto fail;
	}
	if ((r = gnutls_privkey_init(&c->key)) < 0 ||
	    (r = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		snprintf(err, errlen, "tls key %s: %s", keyfile, gnutls_strerror(r));
		goto fail;
	}
	sodium_memzero(kd.data, kd.size);
	gnutls_free(kd.data);
	*out = c;
	return 0;
fail:
	if (kd.data != NULL) {
		sodium_memzero(kd.data, kd.size);
		gnutls_free(kd.data);
	}
	tls_creds_free(c);
	return -1;
}

void
tls_creds_free(struct tls_creds *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* tls_priorities_check - does GnuTLS accept the priority string */
int
tls_priorities_check(const char *prio, char *err, size_t errlen)
{
	gnutls_priority_t p;
	const char *where = NULL;
	int r = gnutls_priority_init(&p, prio, &where);

	if (r < 0) {
		snprintf(err, errlen, "tls.priorities: %s near \"%.40s\"", gnutls_strerror(r),
			 where ? where : "");
		return -1;
	}
	gnutls_priority_deinit(p);
	return 0;
}

static int
tls_write_datum(const char *path, const gnutls_datum_t *d, mode_t mode, char *err,
		size_t errlen)
{
	if (util_write_new_file(path, d->data, d->size, mode) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* tls_san_host - host as an IP address entry if it is one, else a DNS name */
static int
tls_san_host(gnutls_x509_crt_t crt, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
							    GNUTLS_FSAN_APPEND);
	if (inet_pton(AF_INET6, host, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
							    GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
						    (unsigned)strlen(host), GNUTLS_FSAN_APPEND);
}

/*
 * tls_selfsigned_create - an ECDSA P-256 key and a certificate for host,
 * "localhost" and 127.0.0.1, valid for 398 days (the browser maximum).
 */
int
tls_selfsigned_create(const char *certfile, const char *keyfile, const char *host,
		      char *err, size_t errlen)
{
	gnutls_x509_privkey_t pk = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
	unsigned char serial[16], lo[4] = {127, 0, 0, 1};
	time_t now = time(NULL);
	int r, rc = -1;

	randombytes_buf(serial, sizeof(serial));
	serial[0] &= 0x7f;
	if ((r = gnutls_x509_privkey_init(&pk)) < 0 ||
	    (r = gnutls_x509_privkey_generate(
		     pk, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (r = gnutls_x509_crt_init(&crt)) < 0 || (r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(crt, now + 398L * 86400)) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
					       (unsigned)strlen(host))) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
					       "okuru self-signed", 17)) < 0 ||
	    (r = tls_san_host(crt, host)) < 0 ||
	    (strcmp(host, "localhost") != 0 &&
	     (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
						       GNUTLS_FSAN_APPEND)) < 0) ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo, 4,
						      GNUTLS_FSAN_APPEND)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, pk)) < 0 ||
	    (r = gnutls_x509_crt_sign2(crt, crt, pk, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd)) < 0 ||
	    (r = gnutls_x509_privkey_export2(pk, GNUTLS_X509_FMT_PEM, &kd)) < 0) {
		snprintf(err, errlen, "self-signed certificate: %s", gnutls_strerror(r));
		goto out;
	}
	if (tls_write_datum(keyfile, &kd, 0600, err, errlen) != 0 ||
	    tls_write_datum(certfile, &cd, 0644, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	if (kd.data != NULL) {
		sodium_memzero(kd.data, kd.size);
		gnutls_free(kd.data);
	}
	gnutls_free(cd.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (pk != NULL)
		gnutls_x509_privkey_deinit(pk);
	return rc;
}

int
tls_client_ca_load(const char *path, gnutls_x509_trust_list_t *trust, char **pem, char *err,
		   size_t errlen)
{
	const size_t max = 1 << 20;
	unsigned char *buf = malloc(max + 1);
	gnutls_datum_t d;
	size_t n;
	int r;

	*trust = NULL;
	*pem = NULL;
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (util_read_small_file(path, buf, max, &n) != 0) {
		snprintf(err, errlen, "auth.client_ca %s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	d.data = buf;
	d.size = (unsigned)n;
	if (gnutls_x509_trust_list_init(trust, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		free(buf);
		return -1;
	}
	r = gnutls_x509_trust_list_add_trust_mem(*trust, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (r <= 0) {
		snprintf(err, errlen, "auth.client_ca %s: no CA certificate in it (%s)", path,
			 r < 0 ? gnutls_strerror(r) : "empty");
		gnutls_x509_trust_list_deinit(*trust, 1);
		*trust = NULL;
		free(buf);
		return -1;
	}
	*pem = (char *)buf;
	return 0;
}
