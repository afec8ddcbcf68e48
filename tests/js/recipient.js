// recipient.js - a recipient's journey in a real browser, per language, on
// a phone and on a desktop: open the mailed link, ask for a one-time code,
// type a wrong one (a clear error on the page), type the mailed one, see the
// files with their SHA-256, download through the page and compare hashes.
//
// node recipient.js SRCFILE NAME SUBJECT MESSAGE SENDER LANG=ADDR=LINK...
"use strict";
const { run, ok, assert, sha256 } = require("./browser.js");

const [src, fname, subject, message, sender, ...targets] = process.argv.slice(2);
const want = sha256(src);
const T = "t_browser_recipient";

// What each page must say, as page.c has it.
const L = {
	ja: {
		title: "ファイルが届いています",
		sendCode: "コードを送信",
		codeSent: "コードをお送りしました。",
		confirm: "確認",
		wrong: "正しくありません。残りの試行回数: 4",
		verified: "本人確認が完了しました。",
		left: "回ダウンロード可能",
		gone: "リンクは利用できません",
	},
	en: {
		title: "Files sent to you",
		sendCode: "Send me a code",
		codeSent: "A code has been sent to your address.",
		confirm: "Confirm",
		wrong: "That was not right. Attempts left: 4",
		verified: "Confirmed. You can download the files below.",
		left: "downloads left",
		gone: "Link not available",
	},
};

// download - through the page's own link; the saved file's SHA-256
async function download(page) {
	const [dl] = await Promise.all([page.waitForEvent("download"), page.click("ul.files a[download]")]);
	// Chromium itself replaces what Windows forbids in file names with "_".
	const saved = fname.replace(/[<>"]/g, "_");
	assert(dl.suggestedFilename() === saved, `saved as ${dl.suggestedFilename()}, not ${saved}`);
	return sha256(await dl.path());
}

async function journey(h, lang, addr, link) {
	const t = L[lang];
	const allow = [fname, subject, message, sender, `${sender}@bank.example`, want];
	const { ctx: pctx, page: p } = await h.context("phone", lang);
	const { ctx: dctx, page: d } = await h.context("desktop", lang);

	// 1. The link as mailed: the sender, the values as text, the file and its hash.
	for (const page of [p, d]) {
		await page.goto(link);
		assert((await page.textContent("h1")) === t.title, `${lang} title: ${await page.textContent("h1")}`);
		await h.checkPage(page, allow);
		assert((await page.textContent("ul.files .name")).trim() === fname, "file name shown as text");
		assert((await page.textContent("ul.files code.sha")).includes(want), "SHA-256 of the file shown");
		assert((await page.textContent("dl.meta")).includes(subject), "subject shown as text");
		assert((await page.textContent(".message")) === message, "message shown as text");
		assert((await page.$$("ul.files a")).length === 0, "a download link before verification");
		await h.shot(page, "1-link");
	}
	ok(T, `${lang}: link page on phone and desktop, values escaped, hash shown, no download yet`);

	// 2. A code by mail, asked for with the keyboard (Tab to the button, Enter).
	await h.keyboard(p, `form[action$="/code?lang=${lang}"] button`);
	const n = Number(h.mail("mail_count"));
	await Promise.all([p.waitForNavigation(), p.keyboard.press("Enter")]);
	assert((await p.textContent("p.ok[role=status]")).startsWith(t.codeSent), "code-sent note");
	await h.checkPage(p, allow);
	await h.shot(p, "2-code-sent");
	const code = h.mail(`mail_wait ${n + 1}; mail_code "$(mail_to "$1")"`, addr);
	assert(/^[0-9]{6,8}$/.test(code), `code from the mail: ${code}`);
	ok(T, `${lang}: code asked for from the keyboard, mailed`);

	// 3. A wrong code: the page says so, with the attempts left.
	const wrong = String((Number(code) + 1) % 10 ** code.length).padStart(code.length, "0");
	const label = await p.textContent('label[for="code"]');
	assert(label.trim().length > 0, "code field has a label");
	await h.keyboard(p, "#code");
	await p.keyboard.type(wrong);
	h.expect(/status of 403/, `${lang}: the wrong code's page is a 403`);
	await Promise.all([p.waitForNavigation(), p.keyboard.press("Enter")]);
	const err = await p.textContent("p.error[role=status]");
	assert(err === t.wrong, `wrong-code message: ${err}`);
	await h.checkPage(p, allow);
	await h.shot(p, "3-wrong-code");
	ok(T, `${lang}: a wrong code shows "${err}"`);

	// 4. The mailed code: confirmed, the file is a download link.
	await p.fill("#code", code);
	await Promise.all([p.waitForNavigation(), p.click(`form[action$="/verify?lang=${lang}"] button`)]);
	assert((await p.textContent("p.ok")).startsWith(t.verified), "verified note");
	assert(new URL(p.url()).searchParams.get("lang") === lang, `language kept after verifying: ${p.url()}`);
	await h.checkPage(p, allow);
	assert((await p.textContent("ul.files .left")).includes(t.left), "downloads left shown");
	await h.shot(p, "4-verified");
	// The same session on the desktop (the cookie is the browser's, HttpOnly).
	const cookies = await pctx.cookies();
	const s = cookies.find((c) => c.name === "okuru_s");
	assert(s && s.httpOnly && s.secure && s.sameSite === "Strict", `session cookie: ${JSON.stringify(s)}`);
	await dctx.addCookies(cookies);
	await d.reload();
	await h.checkPage(d, allow);
	await h.shot(d, "4-verified");
	ok(T, `${lang}: the mailed code confirms; Secure HttpOnly SameSite=Strict session`);

	// 5. Download through the page, on each device: the bytes are the sender's.
	assert((await download(p)) === want, `${lang} phone download: hash differs`);
	assert((await download(d)) === want, `${lang} desktop download: hash differs`);
	ok(T, `${lang}: downloaded on phone and desktop, SHA-256 ${want} matches`);

	// 6. The download limit (2) is used up: the link is gone, said in the language.
	h.expect(/status of 404/, `${lang}: the used-up link answers 404`);
	await p.reload();
	assert((await p.textContent("h1")) === t.gone, `used-up link: ${await p.textContent("h1")}`);
	await h.checkPage(p, allow);
	await h.shot(p, "5-used-up");
	// The switch shows the same page in the other language.
	const other = lang === "ja" ? "en" : "ja";
	h.expect(/status of 404/, `${lang}: the used-up link in the other language is a 404 too`);
	await Promise.all([p.waitForNavigation(), p.click(`nav.lang a[lang=${other}]`)]);
	assert((await p.textContent("h1")) === L[other].gone, `switched: ${await p.textContent("h1")}`);
	ok(T, `${lang}: used up after two downloads; the language switch works on that page too`);
}

run(T, async (h) => {
	// The harness itself: a style the policy forbids is reported, and
	// would fail the test had it not been announced.
	const { page } = await h.context("desktop", "en");
	h.expect(/CSP violation: style-src/, "the CSP blocks an inline style, seen by the page (harness check)");
	h.expect(/console: Applying inline style violates .*style-src/, "the same, on the console");
	h.expect(/status of 404.*\/d\/xxxxxxxx/, "an unknown link is a 404");
	await page.goto(h.url + "/d/" + "x".repeat(8)); // the gone page: no link consumed
	await page.evaluate(() => {
		const e = document.createElement("div");
		e.setAttribute("style", "color: red");
		document.body.appendChild(e);
	});
	await page.waitForTimeout(200);
	await h.checkPage(page);
	ok(T, "CSP violations reach the harness");

	for (const tgt of targets) {
		const i = tgt.indexOf("="), j = tgt.indexOf("=", i + 1);
		await journey(h, tgt.slice(0, i), tgt.slice(i + 1, j), tgt.slice(j + 1));
	}
});
