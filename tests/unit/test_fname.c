/*
 * test_fname.c - unit tests for client file name rules (fname.c): ASCII
 * and Japanese names pass unchanged, decomposed input comes out in NFC, and
 * what could pose as a path or hide an extension is refused (invalid UTF-8,
 * separators, control characters, "." and "..", edge spaces and dots,
 * bidirectional controls), as is anything over 255 bytes after NFC or too
 * big for the caller's buffer.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "fname.h"

#define OUTSZ (FNAME_MAXBYTES + 1)

/* NFD "ガ": KATAKANA LETTER KA + COMBINING VOICED SOUND MARK */
#define GA_NFD "\xe3\x82\xab\xe3\x82\x99"
/* NFC "ガ": KATAKANA LETTER GA (U+30AC) */
#define GA_NFC "\xe3\x82\xac"

/* norm_ok - in (inlen bytes) is accepted and normalises to want */
static void
norm_ok(const char *in, size_t inlen, const char *want)
{
	char out[OUTSZ + 8];
	const char *why = NULL;

	memset(out, 'X', sizeof(out));
	if (fname_normalize(in, inlen, out, OUTSZ, &why) != 0)
		fail_msg("refused \"%.*s\": %s", (int)inlen, in, why);
	assert_null(why);
	assert_string_equal(out, want);
	assert_int_equal(out[OUTSZ], 'X'); /* nothing written past outsz */
}

/*
 * norm_bad - in (inlen bytes) is refused with a reason that mentions what;
 * the output buffer is roomy, so the 255-byte limit is fname's own.
 */
static void
norm_bad(const char *in, size_t inlen, const char *what)
{
	char out[4 * OUTSZ];
	const char *why = NULL;

	if (fname_normalize(in, inlen, out, sizeof(out), &why) != -1)
		fail_msg("accepted \"%.*s\" as \"%s\"", (int)inlen, in, out);
	assert_non_null(why);
	if (strstr(why, what) == NULL)
		fail_msg("\"%.*s\" refused with \"%s\", expected \"%s\"", (int)inlen, in, why,
			 what);
}

#define OK(s) norm_ok(s, sizeof(s) - 1, s)
#define BAD(s, what) norm_bad(s, sizeof(s) - 1, what)

static void
test_ascii(void **state)
{
	OK("report.pdf");
	OK("a");
	OK("Quarterly Report (final) v2.docx");
	OK(".hidden");
	OK("a..b");
	OK("archive.tar.gz");
	OK("x~!@#$%^&()_+-=[]{};',");
	/* the length given is what counts, not a terminator */
	norm_ok("report.pdf-and-more", 10, "report.pdf");
}

static void
test_japanese(void **state)
{
	OK("報告書 2026年度.pdf");
	OK("見積書_株式会社オクル.xlsx");
	OK("\xe3\x82\xac" "イド.txt");
	OK("Résumé.pdf"); /* precomposed é is already NFC */
}

/* test_nfc - decomposed (macOS) input comes out composed */
static void
test_nfc(void **state)
{
	norm_ok(GA_NFD, 6, GA_NFC);
	norm_ok(GA_NFD "イド.txt", 6 + 6 + 4, GA_NFC "イド.txt");
	/* e + COMBINING ACUTE ACCENT -> U+00E9 */
	norm_ok("Re\xcc\x81sume\xcc\x81.pdf", 14, "R\xc3\xa9sum\xc3\xa9.pdf");
	/* Hangul jamo HIEUH A NIEUN -> U+D55C */
	norm_ok("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", 9, "\xed\x95\x9c");
}

static void
test_invalid_utf8(void **state)
{
	BAD("\xff", "UTF-8");
	BAD("abc\xc3", "UTF-8");           /* truncated sequence */
	BAD("\xc3\x28", "UTF-8");          /* bad continuation */
	BAD("\xc0\xaf", "UTF-8");          /* overlong "/" */
	BAD("\xe0\x80\xae", "UTF-8");      /* overlong "." */
	BAD("\xed\xa0\x80.txt", "UTF-8");  /* UTF-16 surrogate */
	BAD("\xf4\x90\x80\x80", "UTF-8");  /* above U+10FFFF */
	BAD("\x80name", "UTF-8");          /* lone continuation */
}

static void
test_separators(void **state)
{
	BAD("a/b", "separator");
	BAD("/", "separator");
	BAD("/etc/passwd", "separator");
	BAD("../x", "separator");
	BAD("a\\b", "separator");
	BAD("..\\x", "separator");
	/* a fullwidth solidus is a different character, and allowed */
	OK("a\xef\xbc\x8f" "b");
}

static void
test_controls(void **state)
{
	BAD("a\x01" "b", "control");
	BAD("a\x7f" "b", "control");
	BAD("a\xc2\x85" "b", "control"); /* U+0085 NEXT LINE */
	BAD("a\xc2\x9f" "b", "control"); /* U+009F */
	BAD("a\tb", "control");
	BAD("a\nb", "control");
	BAD("a\rb", "control");
	BAD("\x1b[31mred", "control");
	BAD("a\0b", "control");           /* a NUL inside the given length */
	BAD("a\xef\xbb\xbf" "b", "control"); /* U+FEFF */
	BAD("a\xef\xbf\xb9" "b", "control"); /* U+FFF9 interlinear annotation */
	OK("a\xc2\xa0" "b");                 /* U+00A0 is not a control */
}

/* test_bidi - direction overrides, embeddings, isolates and marks */
static void
test_bidi(void **state)
{
	BAD("invoice\xe2\x80\xae" "fdp.exe", "direction"); /* U+202E RLO */
	BAD("a\xe2\x80\xad" "b", "direction");             /* U+202D LRO */
	BAD("a\xe2\x80\xaa" "b", "direction");             /* U+202A LRE */
	BAD("a\xe2\x81\xa6" "b", "direction");             /* U+2066 LRI */
	BAD("a\xe2\x81\xa9" "b", "direction");             /* U+2069 PDI */
	BAD("a\xe2\x80\x8f" "b", "direction");             /* U+200F RLM */
	BAD("a\xd8\x9c" "b", "direction");                 /* U+061C ALM */
}

static void
test_dots_and_spaces(void **state)
{
	BAD("", "empty");
	norm_bad("abc", 0, "empty");
	BAD(".", "\".\"");
	BAD("..", "\"..\"");
	BAD("...", "dot");
	BAD("name.", "dot");
	BAD(" name", "space");
	BAD("name ", "space");
	BAD(" ", "space");
	BAD("report.pdf ", "space");
	OK("a b");
}

/* test_length - 255 bytes after NFC is the limit */
static void
test_length(void **state)
{
	char in[2048], want[512];
	size_t i;

	memset(in, 'a', sizeof(in));
	in[255] = '\0';
	norm_ok(in, 255, in);
	in[255] = 'a';
	norm_bad(in, 256, "too long");
	norm_bad(in, 4 * FNAME_MAXBYTES + 1, "too long");

	/* 85 three-byte characters are 255 bytes; one more ASCII byte is too many */
	for (i = 0; i < 85; i++)
		memcpy(in + 3 * i, "あ", 3);
	in[255] = '\0';
	norm_ok(in, 255, in);
	in[255] = 'x';
	norm_bad(in, 256, "too long");

	/* 85 NFD "ガ" are 510 bytes, but 255 in NFC: accepted */
	for (i = 0; i < 85; i++) {
		memcpy(in + 6 * i, GA_NFD, 6);
		memcpy(want + 3 * i, GA_NFC, 3);
	}
	want[255] = '\0';
	norm_ok(in, 510, want);
	/* 86 of them are 258 bytes in NFC: refused */
	memcpy(in + 510, GA_NFD, 6);
	norm_bad(in, 516, "too long");
}

/* test_outsz - the caller's buffer must hold the name and its NUL */
static void
test_outsz(void **state)
{
	char out[16];
	const char *why = NULL;

	memset(out, 'X', sizeof(out));
	assert_int_equal(fname_normalize("abcd", 4, out, 4, &why), -1);
	assert_non_null(why);
	assert_int_equal(out[0], 'X');
	why = NULL;
	assert_int_equal(fname_normalize("abcd", 4, out, 0, &why), -1);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(fname_normalize("abcd", 4, out, 5, &why), 0);
	assert_string_equal(out, "abcd");
	/* NFC shrinks 6 bytes to 3, which fit in 4 */
	memset(out, 'X', sizeof(out));
	assert_int_equal(fname_normalize(GA_NFD, 6, out, 4, &why), 0);
	assert_string_equal(out, GA_NFC);
	assert_int_equal(fname_normalize(GA_NFD, 6, out, 3, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_japanese),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_dots_and_spaces),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_outsz),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
