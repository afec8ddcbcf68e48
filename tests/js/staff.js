// staff.js - the staff app in a real browser, end to end: a sender logs in
// with a password, sets up two-step login from the QR page (the code is
// computed here from the secret the page shows, as a phone would), drops a
// clean file and an EICAR file (a progress bar each), sees the EICAR file
// blocked and removes it, checks the policy, sends; the recipient opens
// the mailed link, types the mailed code and downloads (the hash matches);
// the sender sees the receipt; an auditor logs in, finds the events of the
// transfer, exports them as CSV and checks the log's integrity.
//
// node staff.js CLEAN EICAR RECIPIENT
"use strict";
const fs = require("fs");
const path = require("path");
const { run, ok, assert, sha256 } = require("./browser.js");
const { check, login } = require("./staffkit.js");

const [clean, eicar, rcpt] = process.argv.slice(2);
const T = "t_browser_staff";
const subject = "Q3 決算資料 <draft>";

const L = {
	ja: { refused: "ユーザー名、パスワードまたはコードが正しくありません。", sent: "送信しました。", ok: "改ざんなし" },
	en: { refused: "Wrong user name, password or code.", sent: "Sent.", ok: "Intact" },
};

run(T, async (h) => {
	const want = sha256(clean);
	const cname = path.basename(clean), ename = path.basename(eicar);
	const allow = ["Google Authenticator", "Microsoft Authenticator", "taro", "kansa", cname, ename, subject, rcpt, want, "Eicar-Signature", "Eicar-Test-Signature",
		"Heuristics", "ClamAV", "TLS1.3", "AES-256-GCM", "127.0.0.1"];

	// 1. The sender, in Japanese: a wrong password first.
	const { page: p } = await h.context("desktop", "ja");
	h.expect(/status of 401/, "the page loads before anyone is logged in");
	await p.goto(h.url + "/");
	await p.waitForSelector("#login-form");
	await check(h, p, allow);
	await h.shot(p, "1-login");
	await p.fill("#login-user", "taro");
	await p.fill("#login-password", "not the password");
	h.expect(/status of 401/, "a wrong password is a 401");
	await p.click("#login-form button[type=submit]");
	await p.waitForSelector("#login-result .error");
	assert((await p.textContent("#login-result .error")) === L.ja.refused, "wrong password message");
	ok(T, "ja: a wrong password is refused with one message");
	await login(h, p, { test: T, lang: "ja", user: "taro", password: "correct horse battery", allow });

	// 2. Two files dropped at once: a bar each; EICAR blocked, then removed.
	await p.fill("#send-subject", subject);
	await p.setInputFiles("#send-files", [clean, eicar]);
	await p.waitForFunction(() => {
		const rows = document.querySelectorAll("#send-list li");
		return rows.length === 2 && [...rows].every((r) => r.querySelector("progress").value === 100);
	}, null, { timeout: 60000 });
	await p.waitForFunction(() => [...document.querySelectorAll("#send-list [data-verdict]")]
		.filter((b) => b.dataset.verdict !== "pending").length === 2, null, { timeout: 60000 });
	const verdicts = await p.$$eval("#send-list li", (ls) => ls.map((l) => [l.dataset.name, l.querySelector("[data-verdict]").dataset.verdict]));
	assert(JSON.stringify(verdicts) === JSON.stringify([[cname, "clean"], [ename, "infected"]]), `verdicts: ${JSON.stringify(verdicts)}`);
	await check(h, p, allow);
	await h.shot(p, "3-scanned");
	ok(T, "ja: two uploads with progress bars; the clean file passes, EICAR is shown blocked");
	await p.click(`#send-list li[data-name="${ename}"] button.remove`);
	await p.waitForSelector(`#send-list li[data-name="${ename}"]`, { state: "detached" });

	// 3. Recipients, the policy's word before sending, the send.
	await p.fill("#send-recipients", rcpt);
	await p.click("#send-check");
	await p.waitForSelector("#send-preview-policy");
	await h.shot(p, "4-policy");
	await p.click("#send-submit");
	await p.waitForSelector("#send-result .ok");
	assert((await p.textContent("#send-result .ok")).startsWith(L.ja.sent), "sent message");
	await check(h, p, allow);
	await h.shot(p, "5-sent");
	await p.click("#send-open");
	await p.waitForSelector("#t-recipients");
	const tid = new URL(p.url()).hash.split("/")[2];
	ok(T, `ja: EICAR removed, policy checked, sent (transfer ${tid})`);

	// 4. The recipient, on a phone in English: the mailed link, the mailed code, the file.
	const link = h.mail(`mail_wait 1; mail_link "$(mail_to "$1")"`, rcpt);
	const { page: r } = await h.context("phone", "en");
	await r.goto(link);
	await r.click('form[action*="/code"] button');
	await r.waitForSelector("#code");
	const code = h.mail(`mail_wait 2; mail_code "$(mail_to "$1")"`, rcpt);
	await r.fill("#code", code);
	await Promise.all([r.waitForNavigation(), r.click('form[action*="/verify"] button')]);
	const [dl] = await Promise.all([r.waitForEvent("download"), r.click("ul.files a[download]")]);
	assert(sha256(await dl.path()) === want, "the recipient's download hashes like the sender's file");
	ok(T, "en/phone: the recipient typed the mailed code and downloaded; SHA-256 matches");

	// 5. The sender sees the receipt.
	await p.reload();
	await p.waitForFunction(() => {
		const c = document.querySelector("#t-recipients td.receipt");
		return c && c.textContent.includes("127.0.0.1");
	}, null, { timeout: 30000 });
	await check(h, p, allow);
	await h.shot(p, "6-receipt");
	ok(T, "ja: the transfer shows the recipient's download (receipt)");

	// 6. An auditor, in English: the transfer's events, CSV, integrity.
	const { page: a } = await h.context("desktop", "en");
	await login(h, a, { test: T, lang: "en", user: "kansa", password: "auditor password 1", allow });
	await a.waitForSelector("#audit-form");
	await a.fill("#audit-transfer", tid);
	await a.click("#audit-form button[type=submit]");
	await a.waitForFunction(() => document.querySelectorAll("#audit-table tbody tr").length > 3);
	const events = await a.$$eval("#audit-table tbody tr", (rs) => rs.map((x) => x.dataset.event));
	for (const e of ["transfer.created", "file.uploaded", "file.scanned", "file.removed", "transfer.sent", "link.created", "file.downloaded"])
		assert(events.includes(e), `audit shows ${e}: ${events.join(" ")}`);
	await check(h, a, allow);
	await h.shot(a, "7-audit");
	const [csv] = await Promise.all([a.waitForEvent("download"), a.click("#audit-csv")]);
	const text = fs.readFileSync(await csv.path(), "utf8");
	assert(text.charCodeAt(0) === 0xfeff, "CSV starts with a BOM");
	assert(text.includes("file.downloaded") && text.includes(tid), "CSV has the transfer's download");
	assert(!text.split("\r\n").slice(1).some((l) => l && !l.includes(tid)), "CSV filtered to the transfer");
	await a.click("#audit-verify");
	await a.waitForSelector("#audit-integrity .ok");
	assert((await a.textContent("#audit-integrity .ok")).startsWith(L.en.ok), "integrity ok");
	await h.shot(a, "8-integrity");
	ok(T, "en: the auditor found the events, exported them as CSV and verified the log");
});
