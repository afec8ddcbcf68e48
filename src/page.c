/*
 * page.c - build and send the HTML pages (see page.h). Values go through
 * page_text, which escapes them; only this file's own constant markup goes
 * through page_raw. No inline script or style: the policy forbids both.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "page.h"

static const char *const page_strings[PM_COUNT][2] = {
	[PM_TITLE_LINK] = {"Files sent to you", "ファイルが届いています"},
	[PM_TITLE_GONE] = {"Link not available", "リンクは利用できません"},
	[PM_GONE] = {"This link does not exist, has expired, has been withdrawn by its sender, or "
		     "has been used as often as allowed. Please ask the sender for a new one.",
		     "このリンクは存在しないか、有効期限が切れたか、送信者により取り消されたか、"
		     "ダウンロード回数の上限に達しています。送信者に新しいリンクをご依頼ください。"},
	[PM_FROM] = {"From", "送信者"},
	[PM_SUBJECT] = {"Subject", "件名"},
	[PM_MESSAGE] = {"Message", "メッセージ"},
	[PM_EXPIRES] = {"Available until", "有効期限"},
	[PM_FILES] = {"Files", "ファイル"},
	[PM_NAME] = {"Name", "ファイル名"},
	[PM_SIZE] = {"Size", "サイズ"},
	[PM_DOWNLOAD] = {"Download", "ダウンロード"},
	[PM_DOWNLOADS_LEFT] = {"downloads left", "回ダウンロード可能"},
	[PM_NONE_LEFT] = {"No downloads left", "ダウンロード回数の上限に達しました"},
	[PM_VERIFY_OTP] = {"To download, confirm your e-mail address: we will send a one-time code "
			   "to the address this link was sent to.",
			   "ダウンロードの前に本人確認を行います。このリンクの宛先メールアドレスに"
			   "ワンタイムコードをお送りします。"},
	[PM_SEND_CODE] = {"Send me a code", "コードを送信"},
	[PM_CODE_SENT] = {"A code has been sent to your address.", "コードをお送りしました。"},
	[PM_CODE] = {"One-time code", "ワンタイムコード"},
	[PM_VERIFY] = {"Confirm", "確認"},
	[PM_VERIFY_PASS] = {"To download, enter the passphrase the sender gave you (by phone or in "
			    "person; okuru never sends it by mail).",
			    "ダウンロードするには、送信者から電話や対面で伝えられたパスフレーズを"
			    "入力してください（okuru はパスフレーズをメールで送りません）。"},
	[PM_PASSPHRASE] = {"Passphrase", "パスフレーズ"},
	[PM_WRONG] = {"That was not right. Attempts left:", "正しくありません。残りの試行回数:"},
	[PM_LOCKED] = {"Too many wrong attempts. The link is locked until",
		       "誤りが続いたため、このリンクは次の時刻までロックされています:"},
	[PM_NOCODE] = {"There is no valid code: it has expired or was already used. Ask for a new one.",
		       "有効なコードがありません（期限切れまたは使用済み）。新しいコードを"
		       "ご請求ください。"},
	[PM_TOO_MANY_CODES] = {"Too many codes were requested. Please try again in an hour.",
			       "コードの請求回数が多すぎます。1時間後にもう一度お試しください。"},
	[PM_VERIFIED] = {"Confirmed. You can download the files below.",
			 "本人確認が完了しました。以下のファイルをダウンロードできます。"},
	[PM_NEVER_MAIL] = {"okuru never sends files or passwords by e-mail.",
			   "okuru はファイルやパスワードをメールで送ることはありません。"},
	[PM_TITLE_UPLOAD] = {"Files requested from you", "ファイルのアップロード依頼"},
	[PM_UPLOAD_INTRO] = {"Please upload the requested files here instead of sending them by "
			     "e-mail. Every file is checked for viruses; encrypted archives "
			     "(password-protected ZIP files) cannot be checked and are blocked.",
			     "ご依頼のファイルはメール添付ではなく、こちらからアップロードして"
			     "ください。すべてのファイルはウイルス検査され、暗号化された圧縮"
			     "ファイル（パスワード付きZIP）は検査できないためブロックされます。"},
	[PM_UPLOAD_LIMITS] = {"Limits", "上限"},
	[PM_UPLOAD_CHOOSE] = {"Choose files to upload", "アップロードするファイルを選択"},
	[PM_UPLOAD_DONE_BUTTON] = {"I have uploaded everything", "アップロードを完了する"},
	[PM_UPLOAD_FINISHED] = {"Thank you. The requester has been told that your files are ready.",
				"ありがとうございました。依頼者にアップロード完了を通知しました。"},
	[PM_UPLOADED_FILES] = {"Uploaded files", "アップロード済みのファイル"},
	[PM_SCAN_STATE] = {"Virus check", "ウイルス検査"},
	[PM_BAD_REQUEST] = {"The request could not be understood.", "リクエストを処理できません。"},
	[PM_LANGUAGE] = {"Language", "言語"},
	[PM_VERIFIED_UPLOAD] = {"Confirmed. You can upload the files below.",
				"本人確認が完了しました。以下からファイルをアップロードできます。"},
	[PM_STATE_UPLOADED] = {"waiting", "検査待ち"},
	[PM_STATE_SCANNING] = {"checking", "検査中"},
	[PM_STATE_CLEAN] = {"no virus found", "問題なし"},
	[PM_STATE_INFECTED] = {"blocked: a virus was found", "ブロック: ウイルスを検出しました"},
	[PM_STATE_UNSCANNABLE] = {"blocked: it cannot be checked (an encrypted archive, for example)",
				  "ブロック: 検査できません（暗号化されたファイルなど）"},
	[PM_STATE_BROKEN] = {"not available", "利用できません"},
	[PM_UPLOAD_SENDING] = {"uploading", "アップロード中"},
	[PM_UPLOAD_FAILED] = {"upload failed", "アップロードに失敗しました"},
	/* the counterparty's resumable upload (upload.js, tus) */
	[PM_UPLOAD_RETRYING] = {"connection lost, resuming", "接続が切れました。再開しています"},
};

const char *
page_str(enum page_lang lang, enum page_msg id)
{
	return page_strings[id][lang == PAGE_JA];
}

/* page_scan_state - a file's state (files.state) as people read it */
const char *
page_scan_state(enum page_lang lang, const char *state)
{
	static const struct {
		const char *state;
		enum page_msg msg;
	} states[] = {{"uploaded", PM_STATE_UPLOADED},
		      {"scanning", PM_STATE_SCANNING},
		      {"clean", PM_STATE_CLEAN},
		      {"infected", PM_STATE_INFECTED},
		      {"unscannable", PM_STATE_UNSCANNABLE},
		      {"broken", PM_STATE_BROKEN}};

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i].state) == 0)
			return page_str(lang, states[i].msg);
	return page_str(lang, PM_STATE_BROKEN); /* a state added later is not shown raw */
}

/* page_code_sent - "a code was sent, valid for N minutes" in lang */
void
page_code_sent(enum page_lang lang, int minutes, char *out, size_t outlen)
{
	if (lang == PAGE_JA)
		snprintf(out, outlen, "%s有効期間は%d分です。", page_str(lang, PM_CODE_SENT), minutes);
	else
		snprintf(out, outlen, "%s It is valid for %d minutes.", page_str(lang, PM_CODE_SENT),
			 minutes);
}

/*
 * page_lang_pick - ?lang= first (the switch), else the first of ja/en in
 * Accept-Language (browsers list by preference), else English.
 */
enum page_lang
page_lang_pick(struct MHD_Connection *c)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
	const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language");

	if (q != NULL)
		return strcmp(q, "ja") == 0 ? PAGE_JA : PAGE_EN;
	for (const char *p = al; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, "ja", 2) == 0)
			return PAGE_JA;
		if (strncasecmp(p, "en", 2) == 0)
			return PAGE_EN;
		p = strchr(p, ',');
	}
	return PAGE_EN;
}

static void
page_put(struct page *p, const char *s, size_t n)
{
	if (p->failed)
		return;
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		while (cap < p->len + n + 1)
			cap *= 2;
		char *ns = realloc(p->s, cap);
		if (ns == NULL) {
			p->failed = 1;
			return;
		}
		p->s = ns;
		p->cap = cap;
	}
	memcpy(p->s + p->len, s, n);
	p->len += n;
	p->s[p->len] = '\0';
}

void
page_raw(struct page *p, const char *s)
{
	page_put(p, s, strlen(s));
}

/* page_text - s with & < > " ' escaped (safe in text and quoted attributes) */
void
page_text(struct page *p, const char *s)
{
	const char *start = s;

	for (; *s != '\0'; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: continue;
		}
		page_put(p, start, (size_t)(s - start));
		page_raw(p, e);
		start = s + 1;
	}
	page_put(p, start, (size_t)(s - start));
}

void
page_printf(struct page *p, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		p->failed = 1;
		return;
	}
	page_put(p, buf, (size_t)n);
}

/* page_size - bytes for people: 1 decimal above a kilobyte, exact below */
void
page_size(struct page *p, long long bytes)
{
	static const char *const unit[] = {"B", "KB", "MB", "GB", "TB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		page_printf(p, "%lld B", bytes);
	else
		page_printf(p, "%.1f %s", v, unit[u]);
}

/*
 * page_begin - the document head, the language switch and the heading. The
 * switch links to self_path (the page's own GET address) with ?lang=; with
 * no self_path, to "?lang=" alone, which the browser resolves against the
 * address it is showing.
 */
void
page_begin(struct page *p, enum page_lang lang, const char *title, const char *self_path)
{
	static const char *const code[2] = {"en", "ja"};
	static const char *const name[2] = {"English", "日本語"};

	memset(p, 0, sizeof(*p));
	p->lang = lang;
	page_raw(p, "<!DOCTYPE html>\n<html lang=\"");
	page_raw(p, code[lang == PAGE_JA]);
	page_raw(p, "\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<meta name=\"referrer\" content=\"same-origin\">"
		    "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
		    "<link rel=\"stylesheet\" href=\"/static/okuru.css\"><title>");
	page_text(p, title);
	page_raw(p, " - okuru</title></head><body><header><span class=\"brand\">okuru</span>"
		    "<nav class=\"lang\" aria-label=\"");
	page_text(p, page_str(lang, PM_LANGUAGE));
	page_raw(p, "\">");
	for (int i = 1; i >= 0; i--) { /* 日本語 first, as before */
		page_raw(p, "<a href=\"");
		if (self_path != NULL)
			page_text(p, self_path);
		page_printf(p, "?lang=%s\" lang=\"%s\" hreflang=\"%s\"%s>", code[i], code[i],
			    code[i], (int)(lang == PAGE_JA) == i ? " aria-current=\"true\"" : "");
		page_text(p, name[i]);
		page_raw(p, "</a>");
	}
	page_raw(p, "</nav></header><main><h1>");
	page_text(p, title);
	page_raw(p, "</h1>\n");
}

static const char page_csp[] =
	"default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
	"img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/* page_send - close the document and queue it; frees the page */
enum MHD_Result
page_send(struct MHD_Connection *c, unsigned status, struct page *p)
{
	struct MHD_Response *r;

	page_raw(p, "<p class=\"note\">");
	page_text(p, page_str(p->lang, PM_NEVER_MAIL));
	page_raw(p, "</p></main></body></html>\n");
	if (p->failed) {
		free(p->s);
		return http_error(c, 500, "internal error");
	}
	r = MHD_create_response_from_buffer(p->len, p->s, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(p->s);
		return MHD_NO;
	}
	p->s = NULL;
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(r, "Content-Security-Policy", page_csp);
	/*
	 * same-origin, not no-referrer: under no-referrer a browser sends
	 * "Origin: null" with the page's form POSTs, which rcpt_origin_ok must
	 * refuse. The link's address still never leaves for another site.
	 */
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "Content-Language", p->lang == PAGE_JA ? "ja" : "en");
	MHD_add_response_header(r, "Vary", "Accept-Language");
	return http_send(c, status, r);
}
