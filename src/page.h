/*
 * page.h - the HTML pages okurud serves to recipients (and counterparties):
 * built in memory with every value escaped, in Japanese or English, styled
 * by /static/okuru.css under a 'self'-only Content-Security-Policy.
 */
#ifndef OKURU_PAGE_H
#define OKURU_PAGE_H

#include <microhttpd.h>
#include <stddef.h>

enum page_lang { PAGE_EN = 0, PAGE_JA = 1 };

struct page {
	char *s;
	size_t len;
	size_t cap;
	int failed;
	enum page_lang lang;
};

/* The strings of the pages, one per id, in both languages. */
enum page_msg {
	PM_TITLE_LINK,
	PM_TITLE_GONE,
	PM_GONE,
	PM_FROM,
	PM_SUBJECT,
	PM_MESSAGE,
	PM_EXPIRES,
	PM_FILES,
	PM_NAME,
	PM_SIZE,
	PM_DOWNLOAD,
	PM_DOWNLOADS_LEFT,
	PM_NONE_LEFT,
	PM_VERIFY_OTP,
	PM_SEND_CODE,
	PM_CODE_SENT,
	PM_CODE,
	PM_VERIFY,
	PM_VERIFY_PASS,
	PM_PASSPHRASE,
	PM_WRONG,
	PM_LOCKED,
	PM_NOCODE,
	PM_TOO_MANY_CODES,
	PM_VERIFIED,
	PM_NEVER_MAIL,
	PM_TITLE_UPLOAD,
	PM_UPLOAD_INTRO,
	PM_UPLOAD_LIMITS,
	PM_UPLOAD_CHOOSE,
	PM_UPLOAD_DONE_BUTTON,
	PM_UPLOAD_FINISHED,
	PM_UPLOADED_FILES,
	PM_SCAN_STATE,
	PM_BAD_REQUEST,
	/* the language switch, and the upload page's live states (upload.js) */
	PM_LANGUAGE,
	PM_VERIFIED_UPLOAD,
	PM_STATE_UPLOADED,
	PM_STATE_SCANNING,
	PM_STATE_CLEAN,
	PM_STATE_INFECTED,
	PM_STATE_UNSCANNABLE,
	PM_STATE_BROKEN,
	PM_UPLOAD_SENDING,
	PM_UPLOAD_FAILED,
	PM_UPLOAD_RETRYING, /* the counterparty's resumable upload (upload.js, tus) */
	PM_COUNT
};

enum page_lang page_lang_pick(struct MHD_Connection *c);
const char *page_str(enum page_lang lang, enum page_msg id);
const char *page_scan_state(enum page_lang lang, const char *state);
void page_code_sent(enum page_lang lang, int minutes, char *out, size_t outlen);

void page_begin(struct page *p, enum page_lang lang, const char *title, const char *self_path);
void page_raw(struct page *p, const char *s);
void page_text(struct page *p, const char *s);
void page_printf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void page_size(struct page *p, long long bytes);
enum MHD_Result page_send(struct MHD_Connection *c, unsigned status, struct page *p);

#endif
