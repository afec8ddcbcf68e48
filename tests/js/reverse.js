// reverse.js - a file request (reverse upload) through the staff app, end
// to end: a sender (English, desktop) logs in, asks a counterparty for
// files on the Requests page (address, subject, message, expiry, number of
// files) and sees the request listed as waiting; the counterparty
// (Japanese, phone) opens the mailed link, confirms with the mailed code,
// uploads a clean file and an EICAR file (a progress bar each, EICAR
// blocked) and says done; the sender's "files uploaded" mail links into the
// app: opened without a session it shows the login, and logging in lands on
// the request (a deep link across the login), where the clean file has its
// scan state and SHA-256 and downloads byte for byte, and the EICAR file is
// blocked with no download (the server refuses it too). The requests page
// and the request's page are checked in both languages.
//
// node reverse.js CLEAN EICAR COUNTERPARTY MESSAGE SENDER PASSWORD
"use strict";
const fs = require("fs");
const path = require("path");
const { run, ok, assert, sha256 } = require("./browser.js");
const { check, login, totp } = require("./staffkit.js");

const [clean, eicar, addr, message, sender, password] = process.argv.slice(2);
const T = "t_browser_reverse";
const subject = "Signed contract 2026";

const L = {
	en: { waiting: "Waiting for the counterparty", received: "Files received", blocked: "Blocked: cannot be downloaded" },
	ja: { waiting: "相手先の対応待ち", received: "受け取り完了", blocked: "ブロック（ダウンロード不可）" },
};
// The counterparty's upload page (www/upload.js), in Japanese.
const U = {
	title: "ファイルのアップロード依頼",
	verified: "本人確認が完了しました。以下からファイルをアップロードできます。",
	clean: "ウイルス検査: 問題なし",
	infected: "ウイルス検査: ブロック: ウイルスを検出しました",
	finished: "ありがとうございました。",
};

// rowState - the state badge of the request TID in the requests table
async function rowState(p, tid) {
	await p.waitForSelector(`#requests-table tr[data-id="${tid}"]`);
	return p.$eval(`#requests-table tr[data-id="${tid}"] [data-state]`, (b) => [b.dataset.state, b.textContent]);
}

// filesShown - the request page's files: name, verdict, hash, download link, words
async function filesShown(p) {
	await p.waitForSelector("#t-files");
	return p.$$eval("#t-files tbody tr", (rs) => rs.map((r) => ({
		name: r.dataset.name,
		verdict: r.querySelector("[data-verdict]").dataset.verdict,
		sha: r.querySelector("code.sha").textContent,
		links: r.querySelectorAll("a[download]").length,
		blocked: (r.querySelector(".blocked") || {}).textContent || null,
	})));
}

run(T, async (h) => {
	assert(fs.existsSync(clean) && fs.existsSync(eicar), "source files");
	const want = sha256(clean);
	const cname = path.basename(clean), ename = path.basename(eicar);
	const allow = [sender, `${sender}@bank.example`, addr, subject, message, cname, ename, want,
		"Google Authenticator", "Microsoft Authenticator", "Eicar-Signature", "Eicar-Test-Signature"];

	// 1. The sender, in English on a desktop: the Requests page, a request.
	const { page: p } = await h.context("desktop", "en");
	const secret = await login(h, p, { test: T, lang: "en", user: sender, password, allow });
	const loggedIn = Date.now() / 1000;
	await p.click('nav#nav a[href="#/requests"]');
	await p.waitForSelector("#req-form");
	await p.waitForSelector("#requests .empty");
	await check(h, p, allow);
	await h.shot(p, "1-requests");
	// Every field of the form, each found through its label.
	await p.getByLabel("Counterparty's e-mail address").fill(addr);
	await p.getByLabel("Subject").fill(subject);
	await p.getByLabel("Message to the counterparty").fill(message);
	await p.getByLabel("Link valid for (days)").fill("5");
	await p.getByLabel("At most this many files").fill("3");
	await p.click("#req-form button[type=submit]");
	await p.waitForSelector("#req-result .ok");
	assert((await p.textContent("#req-result .ok")) === `Request sent to ${addr}.`, "request made");
	const tid = (await p.getAttribute("#req-open", "href")).split("/")[2];
	assert(/^[0-9a-f]{32}$/.test(tid), `request id: ${tid}`);
	const listed = await rowState(p, tid);
	assert(JSON.stringify(listed) === JSON.stringify(["waiting", L.en.waiting]), `listed: ${JSON.stringify(listed)}`);
	const row = await p.$$eval(`#requests-table tr[data-id="${tid}"] td`, (ds) => ds.map((d) => d.textContent));
	assert(row[1] === subject && row[2] === addr && row[4] === "0", `row: ${JSON.stringify(row)}`);
	assert(await p.isHidden("#requests > button"), "no \"More\" with one page");
	await check(h, p, allow);
	await h.shot(p, "2-requested");
	ok(T, `en: request ${tid} made from the Requests page, listed as "${L.en.waiting}"`);

	// 2. The counterparty, in Japanese on a phone: link, code, two files, done.
	const link = h.mail(`mail_wait 1; mail_link "$(mail_to "$1")"`, addr);
	const { page: c } = await h.context("phone", "ja");
	const callow = [subject, message, sender, `${sender}@bank.example`, cname, ename];
	await c.goto(link);
	assert((await c.textContent("h1")) === U.title, `upload page title: ${await c.textContent("h1")}`);
	await h.checkPage(c, callow);
	await h.shot(c, "3-upload");
	await Promise.all([c.waitForNavigation(), c.click('form[action$="/code?lang=ja"] button')]);
	const code = h.mail(`mail_wait 2; mail_code "$(mail_to "$1")"`, addr);
	await c.fill("#code", code);
	await Promise.all([c.waitForNavigation(), c.click('form[action*="/verify"] button')]);
	assert((await c.textContent("p.ok")) === U.verified, `verified: ${await c.textContent("p.ok")}`);
	await c.setInputFiles("#files", [clean, eicar]);
	await c.waitForFunction(() => {
		const bars = document.querySelectorAll("#progress progress");
		return bars.length === 2 && [...bars].every((b) => b.value === b.max);
	}, null, { timeout: 30000 });
	await c.waitForFunction(() => {
		const s = [...document.querySelectorAll("#progress .state")].map((e) => e.dataset.state);
		return s.length === 2 && s.every((x) => x !== "uploaded" && x !== "scanning");
	}, null, { timeout: 60000 });
	const states = await c.$$eval("#progress li", (ls) => ls.map((l) => [
		l.querySelector(".name").textContent, l.querySelector(".state").textContent]));
	assert(JSON.stringify(states) === JSON.stringify([[cname, U.clean], [ename, U.infected]]), `states: ${JSON.stringify(states)}`);
	await h.checkPage(c, callow);
	await h.shot(c, "4-uploaded");
	await Promise.all([c.waitForNavigation(), c.click('form[action$="/done?lang=ja"] button')]);
	assert((await c.textContent("p.ok")).startsWith(U.finished), `done: ${await c.textContent("p.ok")}`);
	await h.checkPage(c, callow);
	await h.shot(c, "5-done");
	ok(T, "ja/phone: the counterparty confirmed, uploaded two files (progress; EICAR blocked) and said done");

	// 3. The "files uploaded" mail links into the app, at the request.
	const mailed = h.mail(`mail_wait 3; mail_link "$(mail_to "$1")"`, `${sender}@bank.example`);
	assert(mailed === `${h.url}/#/transfers/${tid}`, `the uploaded mail's link: ${mailed}`);
	ok(T, "the requester's mail links to the request in the app");

	// 4. Opened with no session (Japanese, desktop): the login, then the request.
	// The enrolment used this TOTP step's code; a code is good once.
	while (Math.floor(Date.now() / 1000 / 30) <= Math.floor(loggedIn / 30))
		await new Promise((r) => setTimeout(r, 1000));
	const { page: j } = await h.context("desktop", "ja");
	h.expect(/status of 401/, "the mailed link opened before logging in");
	await j.goto(mailed);
	await j.waitForSelector("#login-form");
	assert(new URL(j.url()).hash === `#/transfers/${tid}`, `login page keeps the link: ${j.url()}`);
	await check(h, j, allow);
	await h.shot(j, "6-login-deeplink");
	await j.fill("#login-user", sender);
	await j.fill("#login-password", password);
	await j.fill("#login-code", totp(secret, Date.now() / 1000));
	await j.click("#login-form button[type=submit]");
	await j.waitForSelector("#t-request");
	assert(new URL(j.url()).hash === `#/transfers/${tid}`, `landed at ${j.url()}`);
	const current = await j.$$eval('nav#nav a[aria-current="page"]', (as) => as.map((a) => a.getAttribute("href")));
	assert(JSON.stringify(current) === JSON.stringify(["#/requests"]), `the menu marks the request's page under requests: ${current}`);
	const badge = await j.$eval("#transfer h1 [data-state]", (b) => [b.dataset.state, b.textContent]);
	assert(JSON.stringify(badge) === JSON.stringify(["completed", L.ja.received]), `ja badge: ${JSON.stringify(badge)}`);
	assert((await j.textContent("#t-request dd.message")) === message, "the request's message shown");
	const files = await filesShown(j);
	assert(JSON.stringify(files) === JSON.stringify([
		{ name: cname, verdict: "clean", sha: want, links: 2, blocked: null },
		{ name: ename, verdict: "infected", sha: sha256(eicar), links: 0, blocked: L.ja.blocked },
	]), `files shown: ${JSON.stringify(files)}`);
	await check(h, j, allow);
	await h.shot(j, "7-request");
	ok(T, "ja: the mailed link through the login lands on the request: the clean file with its hash, EICAR blocked");

	// 5. The download from the app; the EICAR file has none, and the server refuses it too.
	const [dl] = await Promise.all([j.waitForEvent("download"), j.click(`#t-files tr[data-name="${cname}"] a.dl`)]);
	assert(dl.suggestedFilename() === cname, `download name: ${dl.suggestedFilename()}`);
	assert(sha256(await dl.path()) === want, "the sender's download hashes like the counterparty's file");
	h.expect(/status of 409/, "the EICAR file asked for directly is refused");
	const refused = await j.evaluate(async ([t, name]) => {
		const x = await (await fetch(`/api/v1/transfers/${t}`)).json();
		const f = x.files.find((y) => y.name === name);
		return (await fetch(`/api/v1/transfers/${t}/files/${f.id}`)).status;
	}, [tid, ename]);
	assert(refused === 409, `EICAR download: HTTP ${refused}`);
	ok(T, "ja: the clean file downloaded from the app, SHA-256 matches; the EICAR file cannot be downloaded (409)");

	// 6. The requests page in Japanese, and both pages again in English.
	await j.click('nav#nav a[href="#/requests"]');
	const ja = await rowState(j, tid);
	assert(JSON.stringify(ja) === JSON.stringify(["completed", L.ja.received]), `ja listed: ${JSON.stringify(ja)}`);
	assert((await j.$eval(`#requests-table tr[data-id="${tid}"] td:nth-child(5)`, (d) => d.textContent)) === "2", "two files listed");
	await check(h, j, allow);
	await h.shot(j, "8-requests");
	await p.goto(mailed);
	await p.waitForSelector("#t-request");
	const en = await filesShown(p);
	assert(en.length === 2 && en[1].blocked === L.en.blocked && en[0].links === 2, `en files: ${JSON.stringify(en)}`);
	await check(h, p, allow);
	await h.shot(p, "9-request");
	await p.click('#view > p a[href="#/requests"]');
	const enl = await rowState(p, tid);
	assert(JSON.stringify(enl) === JSON.stringify(["completed", L.en.received]), `en listed: ${JSON.stringify(enl)}`);
	await check(h, p, allow);
	await h.shot(p, "10-requests");
	ok(T, `the requests page and the request's page in both languages: "${L.en.received}" / "${L.ja.received}"`);
});
