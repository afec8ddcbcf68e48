/*
 * test_mail.c - unit tests for mail.c and html.c: template rendering
 * (placeholders, HTML escaping, caller markup, every refusal with its file
 * and line), the outbox JSON form and its strict unpacking, RFC 2047 header
 * encoding (decoded back here with libsodium, word lengths, UTF-8 never
 * split, folding, small buffers), and every template shipped in templates/
 * ($TEMPLATES_DIR) rendered with all its documented variables, so a broken
 * shipped template fails the build.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "html.h"
#include "mail.h"
#include "tmpdir.h"

static int
fx_setup(void **state)
{
	return tmpdir_fixture_setup(state, "mail");
}

static int
fx_teardown(void **state)
{
	return tmpdir_fixture_teardown(state);
}

/* put - write DIR/name with len bytes of data (len 0: strlen) */
static void
put(struct tmpdir_fixture *fx, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f = fopen(tmpdir_fixture_path(fx, name, path), "wb");

	assert_non_null(f);
	if (len == 0)
		len = strlen(data);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* a template "t" that uses name and link in the subject, text and HTML */
static void
put_t(struct tmpdir_fixture *fx)
{
	put(fx, "t.txt", "Subject: Hello {{name}}\n\nDear {{name}},\nyour link: {{link}}\nbye\n",
	    0);
	put(fx, "t.html", "<p>Dear {{name}},</p>\n<a href=\"{{link}}\">{{link}}</a>\n", 0);
}

static const struct mail_var t_vars[] = {
    {.name = "name", .value = "山田 太郎"},
    {.name = "link", .value = "https://okuru.example/r/abc?x=1&y=2"},
};

/* render - mail_render with fx's directory; err in fx->err */
static int
render(struct tmpdir_fixture *fx, const char *name, const char *to, const struct mail_var *v,
       size_t n, struct mail_msg *m)
{
	fx->err[0] = '\0';
	return mail_render(fx->dir, name, to, v, n, m, fx->err, sizeof(fx->err));
}

/* fails - render must fail, leave m empty and say what in err */
static void
fails(struct tmpdir_fixture *fx, const char *name, const char *to, const struct mail_var *v,
      size_t n, const char *needle)
{
	struct mail_msg m;

	memset(&m, 0x5a, sizeof(m));
	assert_int_equal(render(fx, name, to, v, n, &m), -1);
	assert_null(m.to);
	assert_null(m.subject);
	assert_null(m.text);
	assert_null(m.html);
	if (strstr(fx->err, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", fx->err, needle);
}

static void
test_render(void **state)
{
	struct tmpdir_fixture *fx = *state;
	struct mail_msg m;

	put_t(fx);
	assert_int_equal(render(fx, "t", "taro@client.example", t_vars, 2, &m), 0);
	assert_string_equal(m.to, "taro@client.example");
	assert_string_equal(m.subject, "Hello 山田 太郎");
	assert_string_equal(
	    m.text, "Dear 山田 太郎,\nyour link: https://okuru.example/r/abc?x=1&y=2\nbye\n");
	assert_string_equal(m.html,
			    "<p>Dear 山田 太郎,</p>\n<a href=\"https://okuru.example/r/"
			    "abc?x=1&amp;y=2\">https://okuru.example/r/abc?x=1&amp;y=2</a>\n");
	mail_msg_free(&m);
	assert_null(m.text);
	mail_msg_free(&m); /* twice is harmless */

	/* CRLF templates read as LF; a variable may be unused; extra ones are ignored */
	put(fx, "crlf.txt", "Subject: Fixed\r\n\r\nline one\r\nline two\r\n", 0);
	put(fx, "crlf.html", "<p>x</p>\r\n", 0);
	assert_int_equal(render(fx, "crlf", "a@b.example", t_vars, 2, &m), 0);
	assert_string_equal(m.subject, "Fixed");
	assert_string_equal(m.text, "line one\nline two\n");
	assert_string_equal(m.html, "<p>x</p>\n");
	mail_msg_free(&m);

	/* an empty body is allowed; "Subject:" without a space too */
	put(fx, "empty.txt", "Subject:Only\n\n", 0);
	put(fx, "empty.html", "", 0);
	assert_int_equal(render(fx, "empty", "a@b.example", NULL, 0, &m), 0);
	assert_string_equal(m.subject, "Only");
	assert_string_equal(m.text, "");
	assert_string_equal(m.html, "");
	mail_msg_free(&m);
}

static void
test_render_escaping(void **state)
{
	struct tmpdir_fixture *fx = *state;
	const char *evil = "<script>alert('x')</script> & \"q\"";
	struct mail_var v[] = {
	    {.name = "name", .value = evil},
	    {.name = "link", .value = "https://okuru.example/"},
	};
	struct mail_msg m;

	put_t(fx);
	assert_int_equal(render(fx, "t", "a@b.example", v, 2, &m), 0);
	/* text: as is (a text/plain part cannot run a script) */
	assert_non_null(strstr(m.text, evil));
	assert_non_null(strstr(m.subject, evil));
	/* HTML: escaped, nothing of the markup left */
	assert_null(strstr(m.html, "<script"));
	assert_null(strstr(m.html, "'x'"));
	assert_non_null(strstr(m.html, "<p>Dear &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
				       "&amp; &quot;q&quot;,</p>"));
	mail_msg_free(&m);
}

static void
test_render_markup(void **state)
{
	struct tmpdir_fixture *fx = *state;
	struct mail_var v[] = {
	    {.name = "files",
	     .value = "a.pdf\nb & c.xlsx",
	     .html = "<ul><li>a.pdf</li><li>b &amp; c.xlsx</li></ul>"},
	};
	struct mail_msg m;

	put(fx, "f.txt", "Subject: files\n\nFiles:\n{{files}}\n", 0);
	put(fx, "f.html", "<div>{{files}}</div>", 0);
	assert_int_equal(render(fx, "f", "a@b.example", v, 1, &m), 0);
	assert_string_equal(m.text, "Files:\na.pdf\nb & c.xlsx\n");
	assert_string_equal(m.html, "<div><ul><li>a.pdf</li><li>b &amp; c.xlsx</li></ul></div>");
	mail_msg_free(&m);
}

static void
test_render_placeholder_errors(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char want[PATH_MAX + 64];

	/* unknown name in the HTML, line 3 */
	put(fx, "u.txt", "Subject: s\n\nbody {{name}}\n", 0);
	put(fx, "u.html", "<p>\n{{name}}\n{{nmae}}</p>\n", 0);
	snprintf(want, sizeof(want), "%s/u.html:3: unknown placeholder {{nmae}}", fx->dir);
	fails(fx, "u", "a@b.example", t_vars, 2, want);

	/* unknown name in the subject (line 1) and in the text body (line 5) */
	put(fx, "s.txt", "Subject: {{subjekt}}\n\nbody\n", 0);
	put(fx, "s.html", "<p></p>", 0);
	snprintf(want, sizeof(want), "%s/s.txt:1: unknown placeholder {{subjekt}}", fx->dir);
	fails(fx, "s", "a@b.example", t_vars, 2, want);
	put(fx, "s.txt", "Subject: x\n\none\ntwo\n{{link}} {{lnk}}\n", 0);
	snprintf(want, sizeof(want), "%s/s.txt:5: unknown placeholder {{lnk}}", fx->dir);
	fails(fx, "s", "a@b.example", t_vars, 2, want);

	/* malformed and unterminated placeholders */
	static const char *const bad[] = {"{{name",  "{{ name }}", "{{}}", "{{Name}}",
					  "{{name}", "{{na-me}}",  "x {{", "{{name}x}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[64];

		snprintf(body, sizeof(body), "<p>\n\n%s\n</p>", bad[i]);
		put(fx, "s.txt", "Subject: x\n\nok\n", 0);
		put(fx, "s.html", body, 0);
		snprintf(want, sizeof(want), "%s/s.html:3: unterminated or malformed placeholder",
			 fx->dir);
		fails(fx, "s", "a@b.example", t_vars, 2, want);
	}
	/* single braces are text */
	{
		struct mail_msg m;

		put(fx, "s.html", "<style>p { color: red }</style>{x}", 0);
		assert_int_equal(render(fx, "s", "a@b.example", t_vars, 2, &m), 0);
		assert_string_equal(m.html, "<style>p { color: red }</style>{x}");
		mail_msg_free(&m);
	}
}

static void
test_render_file_errors(void **state)
{
	struct tmpdir_fixture *fx = *state;
	char want[PATH_MAX + 64], *big;

	/* missing files */
	snprintf(want, sizeof(want), "%s/none.txt: No such file", fx->dir);
	fails(fx, "none", "a@b.example", NULL, 0, want);
	put(fx, "half.txt", "Subject: x\n\nbody\n", 0);
	snprintf(want, sizeof(want), "%s/half.html: No such file", fx->dir);
	fails(fx, "half", "a@b.example", NULL, 0, want);

	/* the .txt format */
	put(fx, "f.html", "<p></p>", 0);
	put(fx, "f.txt", "Hello\n\nbody\n", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:1: the first line must be \"Subject: ...\"");
	put(fx, "f.txt", "subject: x\n\nbody\n", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:1: the first line must be");
	put(fx, "f.txt", "Subject: x\nbody\n", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:2: the subject line must be followed");
	put(fx, "f.txt", "Subject: x", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:2: the subject line must be followed");
	put(fx, "f.txt", "Subject: \n\nbody\n", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:1: the subject is empty");

	/* bytes: invalid UTF-8, NUL, lone CR, over 64 KiB */
	put(fx, "f.txt", "Subject: x\n\nok\n\xe3\x81\n", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:4: not valid UTF-8");
	{
		static const char nul[] = "Subject: x\n\nok\0no\n";

		put(fx, "f.txt", nul, sizeof(nul) - 1);
	}
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:3: a NUL byte");
	put(fx, "f.txt", "Subject: x\n\nok\rno\n", 0);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt:3: a carriage return without a line feed");
	big = malloc(64 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'a', 64 * 1024 + 1);
	memcpy(big, "Subject: x\n\n", 12);
	put(fx, "f.txt", big, 64 * 1024 + 1);
	fails(fx, "f", "a@b.example", NULL, 0, "f.txt: larger than 64 KiB");
	put(fx, "f.txt", big, 64 * 1024); /* exactly the limit is fine */
	{
		struct mail_msg m;

		assert_int_equal(render(fx, "f", "a@b.example", NULL, 0, &m), 0);
		assert_int_equal(strlen(m.text), 64 * 1024 - 12);
		mail_msg_free(&m);
	}
	free(big);

	/* a rendered body over 512 KiB */
	{
		char *v = malloc(200 * 1024 + 1);
		struct mail_var var = {.name = "v", .value = v};

		assert_non_null(v);
		memset(v, 'x', 200 * 1024);
		v[200 * 1024] = '\0';
		put(fx, "f.txt", "Subject: x\n\n{{v}}{{v}}{{v}}\n", 0);
		fails(fx, "f", "a@b.example", &var, 1, "larger than 512 KiB");
		free(v);
	}

	/* a directory that does not exist */
	{
		struct mail_msg m;
		char missing[PATH_MAX];

		snprintf(missing, sizeof(missing), "%s/nowhere", fx->dir);
		assert_int_equal(
		    mail_render(missing, "t", "a@b.example", NULL, 0, &m, fx->err, sizeof(fx->err)),
		    -1);
		assert_non_null(strstr(fx->err, "nowhere/t.txt: No such file"));
	}
}

static void
test_render_refusals(void **state)
{
	struct tmpdir_fixture *fx = *state;
	struct mail_var v[2];
	struct mail_msg m;

	put_t(fx);
	/* a line break in a value that lands in the subject */
	static const char *const breaks[] = {"x\r\nBcc: victim@evil.example", "x\nBcc: y",
					     "x\rBcc: y", "tab\there", "del\x7f"};
	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		v[0] = (struct mail_var){.name = "name", .value = breaks[i]};
		v[1] = t_vars[1];
		fails(fx, "t", "a@b.example", v, 2, "t.txt:1: a value would put a line break");
	}
	/* the same value is fine in a body */
	put(fx, "b.txt", "Subject: fixed\n\n{{name}}\n", 0);
	put(fx, "b.html", "<p>{{name}}</p>", 0);
	v[0] = (struct mail_var){.name = "name", .value = "line 1\nline 2"};
	assert_int_equal(render(fx, "b", "a@b.example", v, 1, &m), 0);
	assert_string_equal(m.text, "line 1\nline 2\n");
	mail_msg_free(&m);

	/* recipients */
	static const char *const tos[] = {"",
					  "no-at-sign",
					  "a@b.example\r\nBcc: c@d.example",
					  "a@b.example, c@d.example",
					  "<a@b.example>",
					  "Taro <a@b.example>",
					  "a@@b.example",
					  "a b@c.example",
					  "a@b..example"};
	for (size_t i = 0; i < sizeof(tos) / sizeof(tos[0]); i++)
		fails(fx, "t", tos[i], t_vars, 2, "is not a usable e-mail address");
	fails(fx, "t", NULL, t_vars, 2, "is not a usable e-mail address");

	/* template names */
	put(fx, "Upper.txt", "Subject: x\n\n", 0);
	put(fx, "Upper.html", "", 0);
	static const char *const names[] = {"../t",  "sub/t", "/etc/passwd", "",    "Upper",
					    "t.txt", "t-1",   "..",	     "t\n", "t 1"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fails(fx, names[i], "a@b.example", t_vars, 2,
		      "template name must be a-z, 0-9 and _");
	fails(fx, NULL, "a@b.example", t_vars, 2, "template name must be a-z, 0-9 and _");

	/* digits are allowed in names (sha256) */
	put(fx, "t2.txt", "Subject: digest\n\n{{sha256}}\n", 0);
	put(fx, "t2.html", "<p>{{sha256}}</p>", 0);
	v[0] = (struct mail_var){.name = "sha256", .value = "e3b0c442"};
	assert_int_equal(render(fx, "t2", "a@b.example", v, 1, &m), 0);
	assert_string_equal(m.text, "e3b0c442\n");
	mail_msg_free(&m);

	/* variables */
	v[0] = (struct mail_var){.name = "Name", .value = "x"};
	fails(fx, "t", "a@b.example", v, 1, "template variable 0 has an invalid name");
	v[0] = (struct mail_var){.name = "name", .value = NULL};
	fails(fx, "t", "a@b.example", v, 1, "template variable name has no value");
	v[0] = (struct mail_var){.name = "name", .value = "bad \xff utf-8"};
	fails(fx, "t", "a@b.example", v, 1, "template variable name is not valid UTF-8");
	v[0] = (struct mail_var){.name = "name", .value = "ok", .html = "<b>\xc3</b>"};
	fails(fx, "t", "a@b.example", v, 1, "template variable name is not valid UTF-8");
}

static void
test_pack(void **state)
{
	struct mail_msg m =
			    {
				.to = "taro@client.example",
				.subject = "【ご案内】ファイル \"q\" \\ / test",
				.text = "line 1\nline 2\t\u00e9\nhttps://x.example/?a=1&b=2\n",
				.html = "<p>\"quoted\" &amp; </p>\n",
			    },
			u;
	size_t len = 0;
	char *s = mail_msg_pack(&m, &len);

	(void)state;
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(mail_msg_unpack(s, len, &u), 0);
	assert_string_equal(u.to, m.to);
	assert_string_equal(u.subject, m.subject);
	assert_string_equal(u.text, m.text);
	assert_string_equal(u.html, m.html);
	mail_msg_free(&u);
	free(s);

	/* a message with a missing field does not pack */
	m.html = NULL;
	assert_null(mail_msg_pack(&m, &len));
}

static void
test_unpack_strict(void **state)
{
	static const char *const bad[] = {
	    /* missing key */
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\"}",
	    /* extra key */
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\",\"bcc\":"
	    "\"x\"}",
	    /* a non-string */
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":1,\"html\":\"h\"}",
	    "{\"to\":\"a@b.example\",\"subject\":null,\"text\":\"t\",\"html\":\"h\"}",
	    "{\"to\":[\"a@b.example\"],\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"}",
	    /* a duplicate key hiding the first */
	    "{\"to\":\"a@b.example\",\"to\":\"c@d.example\",\"subject\":\"s\",\"text\":\"t\"}",
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\",\"to\":\"c@d."
	    "example\"}",
	    /* a wrong key of the right count */
	    "{\"To\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"}",
	    /* values that would break the headers */
	    "{\"to\":\"a@b.example\\r\\nBcc: "
	    "x@y.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"}",
	    "{\"to\":\"a@b.example\",\"subject\":\"s\\r\\nBcc: "
	    "x@y.example\",\"text\":\"t\",\"html\":\"h\"}",
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\\u0000hidden\",\"html\":\"h\"}",
	    /* not one object */
	    "[]",
	    "\"x\"",
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"} {}",
	    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"",
	    "",
	};
	struct mail_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&m, 0x5a, sizeof(m));
		if (mail_msg_unpack(bad[i], strlen(bad[i]), &m) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_null(m.to);
		assert_null(m.subject);
		assert_null(m.text);
		assert_null(m.html);
	}
	/* the length is honoured: a valid prefix of a longer buffer */
	{
		const char *ok =
		    "{\"to\":\"a@b.example\",\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"}"
		    "garbage";
		assert_int_equal(mail_msg_unpack(ok, strlen(ok) - 7, &m), 0);
		assert_string_equal(m.html, "h");
		mail_msg_free(&m);
		assert_int_equal(mail_msg_unpack(ok, strlen(ok), &m), -1);
	}
}

/*
 * decode_words - check out is encoded-words of at most 75 characters joined
 * by CRLF SP, each holding whole UTF-8 characters; their decoded bytes in
 * dec. Returns the number of words.
 */
static size_t
decode_words(const char *out, char *dec, size_t declen)
{
	size_t words = 0, o = 0;
	const char *p = out;

	for (;;) {
		const char *end = strstr(p, "\r\n ");
		size_t wlen = end ? (size_t)(end - p) : strlen(p), b64len, binlen;
		unsigned char bin[128];

		assert_true(wlen <= 75);
		assert_true(wlen > 12);
		assert_memory_equal(p, "=?UTF-8?B?", 10);
		assert_memory_equal(p + wlen - 2, "?=", 2);
		b64len = wlen - 12;
		assert_int_equal(sodium_base642bin(bin, sizeof(bin), p + 10, b64len, NULL, &binlen,
						   NULL, sodium_base64_VARIANT_ORIGINAL),
				 0);
		/* no character split across words */
		assert_null(u8_check(bin, binlen));
		assert_true(o + binlen < declen);
		memcpy(dec + o, bin, binlen);
		o += binlen;
		words++;
		if (end == NULL)
			break;
		p = end + 3;
	}
	dec[o] = '\0';
	return words;
}

static void
test_header_encode(void **state)
{
	char out[4096], dec[4096], longv[1200];
	const char *jp = "【ファイル送付のご案内】決算資料 2024年度 / Files sent to you";
	/* 1-, 2-, 3- and 4-byte characters, so word boundaries fall everywhere */
	const char *mixed = "aé漢😀bü字🎌cö語🍣dä文🗾eß書📄fñ様✉gø御🔒hå礼🏦";
	size_t w;

	(void)state;
	/* ASCII printable: as is, exact buffer fits, one less does not */
	assert_int_equal(mail_header_encode("Quarterly report (Q3) - final!", out, sizeof(out)), 0);
	assert_string_equal(out, "Quarterly report (Q3) - final!");
	assert_int_equal(mail_header_encode("abc", out, 4), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(mail_header_encode("abc", out, 3), -1);
	assert_int_equal(mail_header_encode("", out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(mail_header_encode("", out, 0), -1);

	/* Japanese: words of at most 75, decoded back to the value */
	assert_int_equal(mail_header_encode(jp, out, sizeof(out)), 0);
	assert_memory_equal(out, "=?UTF-8?B?", 10);
	w = decode_words(out, dec, sizeof(dec));
	assert_string_equal(dec, jp);
	assert_true(w >= 2); /* 70+ bytes do not fit in one word */

	/* mixed character lengths: never split, decodes back */
	assert_int_equal(mail_header_encode(mixed, out, sizeof(out)), 0);
	decode_words(out, dec, sizeof(dec));
	assert_string_equal(dec, mixed);

	/* a long value folds into many words */
	{
		char lv[3 * 200 + 1];

		for (int i = 0; i < 200; i++)
			memcpy(lv + 3 * i, "あ", 3);
		lv[600] = '\0';
		assert_int_equal(mail_header_encode(lv, out, sizeof(out)), 0);
		w = decode_words(out, dec, sizeof(dec));
		assert_string_equal(dec, lv);
		assert_int_equal(w, 600 / 45 + 1);
		assert_non_null(strstr(out, "?=\r\n =?UTF-8?B?"));
	}

	/* too small: every size short of the full result fails, the full one works */
	{
		size_t need;

		assert_int_equal(mail_header_encode(jp, out, sizeof(out)), 0);
		need = strlen(out) + 1;
		for (size_t n = 0; n < need; n++)
			assert_int_equal(mail_header_encode(jp, dec, n), -1);
		assert_int_equal(mail_header_encode(jp, dec, need), 0);
		assert_string_equal(dec, out);
	}

	/* long ASCII and ASCII that looks like an encoded-word are encoded too */
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	assert_int_equal(mail_header_encode(longv, out, sizeof(out)), 0);
	decode_words(out, dec, sizeof(dec));
	assert_string_equal(dec, longv);
	assert_int_equal(mail_header_encode("=?UTF-8?B?Zm9v?=", out, sizeof(out)), 0);
	decode_words(out, dec, sizeof(dec));
	assert_string_equal(dec, "=?UTF-8?B?Zm9v?=");

	/* refused: line breaks (encoded or not), invalid UTF-8 */
	assert_int_equal(mail_header_encode("a\r\nBcc: x@y.example", out, sizeof(out)), -1);
	assert_int_equal(mail_header_encode("件名\nBcc: x", out, sizeof(out)), -1);
	assert_int_equal(mail_header_encode("a\rb", out, sizeof(out)), -1);
	assert_int_equal(mail_header_encode("bad \xe3\x81", out, sizeof(out)), -1);
	assert_int_equal(mail_header_encode("\xc0\xaf", out, sizeof(out)), -1);
}

static void
test_html_escape(void **state)
{
	char *s;

	(void)state;
	s = html_escape("<a href=\"x\" onclick='y'>&amp;</a> 日本語");
	assert_non_null(s);
	assert_string_equal(s,
			    "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt; "
			    "日本語");
	free(s);
	s = html_escape("");
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	s = html_escape("plain");
	assert_string_equal(s, "plain");
	free(s);
}

/* The shipped templates and the variables each is documented to take. */
struct shipped {
	const char *name;
	const char *vars[9];
};

static const struct shipped shipped[] = {
    {"link",
     {"sender_name", "sender_email", "subject", "message", "files", "expires", "link",
      "verification", NULL}},
    {"otp", {"code", "minutes", "sender_name", NULL}},
    {"receipt", {"recipient", "file_name", "sha256", "when", "ip", "subject", NULL}},
    {"request",
     {"sender_name", "sender_email", "message", "link", "expires", "max_files", "max_bytes", NULL}},
    {"uploaded", {"recipient", "count", "files", "transfer_link", NULL}},
    {"mailfail", {"recipient", "error", "subject", NULL}},
    {"test", {"when", NULL}},
};

/* has_line - does s have a line that is want with only blanks around it? */
static int
has_line(const char *s, const char *want)
{
	size_t n = strlen(want);
	const char *p = s;

	while (*p) {
		size_t len = strcspn(p, "\n"), lead = strspn(p, " \t"), trail = 0;

		while (trail < len - lead &&
		       (p[len - 1 - trail] == ' ' || p[len - 1 - trail] == '\t'))
			trail++;
		if (len >= lead + trail && len - lead - trail == n &&
		    memcmp(p + lead, want, n) == 0)
			return 1;
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

static void
test_shipped_templates(void **state)
{
	const char *dir = getenv("TEMPLATES_DIR");
	char err[1024];

	(void)state;
	if (dir == NULL || dir[0] == '\0')
		fail_msg("TEMPLATES_DIR is not set (make check sets it to the source templates/)");
	for (size_t t = 0; t < sizeof(shipped) / sizeof(shipped[0]); t++) {
		struct mail_var v[9];
		char values[9][64], escaped[9][80];
		struct mail_msg m;
		size_t n;

		for (n = 0; shipped[t].vars[n] != NULL; n++) {
			const char *name = shipped[t].vars[n];

			/* markers that show where each value went, and that HTML escapes */
			snprintf(values[n], sizeof(values[n]), "<%s-value>", name);
			snprintf(escaped[n], sizeof(escaped[n]), "&lt;%s-value&gt;", name);
			if (strcmp(name, "code") == 0) {
				snprintf(values[n], sizeof(values[n]), "31415926");
				snprintf(escaped[n], sizeof(escaped[n]), "31415926");
			}
			v[n] = (struct mail_var){.name = name, .value = values[n]};
		}
		if (mail_render(dir, shipped[t].name, "customer@client.example", v, n, &m, err,
				sizeof(err)) != 0)
			fail_msg("template %s: %s", shipped[t].name, err);
		/* every documented variable is used in the text and in the HTML */
		for (size_t i = 0; i < n; i++) {
			if (strstr(m.text, values[i]) == NULL)
				fail_msg("%s.txt does not use {{%s}}", shipped[t].name, v[i].name);
			if (strstr(m.html, escaped[i]) == NULL)
				fail_msg("%s.html does not use {{%s}}", shipped[t].name, v[i].name);
		}
		/* bilingual, Japanese first */
		{
			const char *en = strstr(m.text, "English follows");

			assert_non_null(en);
			assert_non_null(strstr(m.html, "English follows"));
			assert_true(strlen(m.subject) > 0);
			assert_non_null(strstr(m.subject, " / "));
		}
		assert_memory_equal(m.html, "<!DOCTYPE html>", 15);
		assert_non_null(strstr(m.html, "<html lang=\"ja\">"));
		assert_non_null(strstr(m.html, "<meta charset=\"utf-8\">"));
		if (strcmp(shipped[t].name, "link") == 0 || strcmp(shipped[t].name, "otp") == 0) {
			assert_non_null(
			    strstr(m.text, "okuru never sends files or passwords by e-mail"));
			assert_non_null(strstr(m.text,
					       "okuru がファイルやパスワードをメールでお送りする"
					       "ことはございません"));
			assert_non_null(
			    strstr(m.html, "okuru never sends files or passwords by e-mail"));
		}
		/* tests/integration/mailcatch.sh's mail_code: the code on a line of its own */
		if (strcmp(shipped[t].name, "otp") == 0)
			assert_true(has_line(m.text, "31415926"));
		/* the subject survives encoding */
		{
			char enc[4096];

			assert_int_equal(mail_header_encode(m.subject, enc, sizeof(enc)), 0);
		}
		mail_msg_free(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_render, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_render_escaping, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_render_markup, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_render_placeholder_errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_render_file_errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_render_refusals, fx_setup, fx_teardown),
	    cmocka_unit_test(test_pack),
	    cmocka_unit_test(test_unpack_strict),
	    cmocka_unit_test(test_header_encode),
	    cmocka_unit_test(test_html_escape),
	    cmocka_unit_test(test_shipped_templates),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
