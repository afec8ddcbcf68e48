/*
 * test_auth_pw.c - staff login primitives: TOTP codes against RFC 6238's
 * own test vectors (SHA-1, truncated to 6 digits), the ±1 step window and
 * single use, base32 against RFC 4648's vectors, the otpauth URI, and
 * Argon2id passwords (match, mismatch, the no-password dummy, the rules).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "auth_pw.h"
#include "totp.h"

static const unsigned char rfc_secret[] = "12345678901234567890";

static void
test_totp_rfc6238(void **state)
{
	/* RFC 6238 appendix B, SHA-1 column, last six of the eight digits */
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {{59, "287082"},	 {1111111109, "081804"}, {1111111111, "050471"},
		 {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}};
	char out[TOTP_DIGITS + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(totp_code(rfc_secret, 20, (uint64_t)(v[i].t / TOTP_PERIOD), out), 0);
		assert_string_equal(out, v[i].code);
	}
}

static void
test_totp_window(void **state)
{
	char code[TOTP_DIGITS + 1], bad[TOTP_DIGITS + 1];
	int64_t now = 1111111111, step = -1;

	(void)state;
	assert_int_equal(totp_code(rfc_secret, 20, (uint64_t)(now / 30), code), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, now, code, 0, &step), 1);
	assert_int_equal(step, now / 30);
	/* the same step again is refused: a code is good once */
	assert_int_equal(totp_verify(rfc_secret, 20, now, code, step, &step), 0);
	/* a step either side is accepted, two steps away is not */
	assert_int_equal(totp_verify(rfc_secret, 20, now + 30, code, 0, &step), 1);
	assert_int_equal(totp_verify(rfc_secret, 20, now - 30, code, 0, &step), 1);
	assert_int_equal(totp_verify(rfc_secret, 20, now + 61, code, 0, &step), 0);
	/* shapes that are not six digits */
	assert_int_equal(totp_verify(rfc_secret, 20, now, "", 0, &step), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, now, "12345", 0, &step), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, now, "1234567", 0, &step), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, now, "12a456", 0, &step), 0);
	memcpy(bad, code, sizeof(bad));
	bad[5] = bad[5] == '9' ? '0' : (char)(bad[5] + 1);
	assert_int_equal(totp_verify(rfc_secret, 20, now, bad, 0, &step), 0);
}

static void
test_base32(void **state)
{
	/* RFC 4648 section 10, without the padding */
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"",	  "MY",	      "MZXQ",	    "MZXW6",
					  "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
	char buf[TOTP_B32MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(totp_base32((const unsigned char *)in[i], strlen(in[i]), buf,
					     sizeof(buf)),
				 0);
		assert_string_equal(buf, out[i]);
	}
	assert_int_equal(totp_base32((const unsigned char *)"foobar", 6, buf, 10), -1);
}

static void
test_uri(void **state)
{
	char uri[TOTP_URIMAX];

	(void)state;
	assert_int_equal(totp_uri(rfc_secret, 20, "okuru Bank", "taro@example.jp", uri,
				  sizeof(uri)),
			 0);
	assert_string_equal(uri, "otpauth://totp/okuru%20Bank:taro%40example.jp"
				 "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=okuru%20Bank"
				 "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(totp_uri(rfc_secret, 20, "okuru", "taro", uri, 40), -1);
}

static void
test_password(void **state)
{
	char h[AUTH_PW_STRBYTES], longpw[AUTH_PW_MAXBYTES + 2];
	const char *why;
	int rehash = 1;

	(void)state;
	assert_int_equal(auth_pw_hash("correct horse battery", h), 0);
	assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
	assert_int_equal(auth_pw_verify(h, "correct horse battery", &rehash), 1);
	assert_int_equal(rehash, 0);
	assert_int_equal(auth_pw_verify(h, "correct horse batterx", &rehash), 0);
	/* no password set: never matches, not even the empty string */
	assert_int_equal(auth_pw_verify("", "", &rehash), 0);
	assert_int_equal(auth_pw_verify("", "okuru dummy password", &rehash), 0);
	/* longer than we accept never matches, even if its prefix would */
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(auth_pw_hash("aaaa", h), 0);
	assert_int_equal(auth_pw_verify(h, longpw, &rehash), 0);

	assert_int_equal(auth_pw_check("correct horse battery", "taro", 12, &why), 0);
	assert_int_equal(auth_pw_check("short", "taro", 12, &why), -1);
	assert_string_equal(why, "the password is too short");
	/* twelve characters, thirty-six bytes: characters count */
	assert_int_equal(auth_pw_check("送る送る送る送る送る送る", "taro", 12, &why), 0);
	assert_int_equal(auth_pw_check("送る送る送る送る送る", "taro", 12, &why), -1);
	assert_int_equal(auth_pw_check("taro.yamada.1", "taro.yamada.1", 12, &why), -1);
	assert_int_equal(auth_pw_check("tab\there is bad", "taro", 12, &why), -1);
	assert_int_equal(auth_pw_check("\xff\xfe not utf-8 at all", "taro", 12, &why), -1);
	assert_int_equal(auth_pw_check(longpw, "taro", 12, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238), cmocka_unit_test(test_totp_window),
		cmocka_unit_test(test_base32),	     cmocka_unit_test(test_uri),
		cmocka_unit_test(test_password),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
