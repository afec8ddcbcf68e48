// approval.js - approval (上長承認) and the send delay (誤送信防止) in the
// staff app, end to end: the sender (Japanese) checks a send with the
// policy and reads how many approvals from which group it needs, sends,
// and sees it wait; nothing reaches the recipient. The approver (English)
// clicks the link in the approval mail, logs in and lands on that
// transfer, sees its files, recipients and the reason, and approves with a
// comment; only then does the recipient's link mail go, and the result
// mail's link opens the sender's transfer page with the vote. A second
// transfer is rejected with a comment the sender reads, and nothing ever
// reaches its recipient; the sender is never offered their own transfer
// (self = false). A send under a delay rule says its delay in minutes
// before and after, and is recalled before the delay ends.
//
// node approval.js FILE APPROVAL_RCPT REJECT_RCPT DELAY_RCPT
"use strict";
const path = require("path");
const { run, ok, assert } = require("./browser.js");
const { check, login } = require("./staffkit.js");

const [file, rcptA, rcptR, rcptD] = process.argv.slice(2);
const T = "t_browser_approval";
const S1 = "承認テスト <1>", S2 = "承認テスト <2>", S3 = "保留テスト";
const OK_COMMENT = "Checked: the partner contract is signed.";
const NO_COMMENT = "宛先が違います / wrong recipient";

const L = {
	ja: { pending: "承認待ちです。", held: "受け付けました。", cancelled: "取り消し（未送信）" },
	en: {},
};

run(T, async (h) => {
	const fname = path.basename(file);
	const allow = ["Google Authenticator", "Microsoft Authenticator", "taro", "carol", "taro@bank.example", fname, S1, S2, S3, rcptA, rcptR, rcptD,
		"compliance", OK_COMMENT, NO_COMMENT];

	// mailsTo - how many messages the mail server took for addr
	const mailsTo = (addr) => Number(h.mail(`find "$MAILDIR" -name '*.json' -exec grep -l -- "$1" {} + | wc -l`, addr));
	// linkTo - the link in the newest mail to addr, waiting up to 15 s for one
	const linkTo = (addr) => h.mail(`for _ in $(seq 1 150); do f=$(mail_to "$1" 2>/dev/null) && break; sleep 0.1; done
		[ -n "$f" ] || fail "no mail to $1"; mail_link "$f"`, addr);
	const state = (p) => p.getAttribute("#transfer h1 [data-state]", "data-state");

	// upload - a fresh send page, the file uploaded and found clean, subject and recipient typed
	async function upload(p, subject, rcpt) {
		await p.click('nav#nav a[href="#/send"]');
		await p.waitForSelector("#send-form");
		await p.fill("#send-subject", subject);
		await p.setInputFiles("#send-files", [file]);
		await p.waitForSelector('#send-list [data-verdict="clean"]', { timeout: 60000 });
		await p.fill("#send-recipients", rcpt);
	}
	// send - press send, wait for the answer, open the transfer; returns its id
	async function send(p) {
		await p.click("#send-submit");
		await p.waitForSelector("#send-result .ok");
		return (await p.getAttribute("#send-open", "href")).split("/")[2];
	}

	// 1. The sender, in Japanese: the policy's word before sending, the send, the wait.
	const { page: p } = await h.context("desktop", "ja");
	await login(h, p, { test: T, lang: "ja", user: "taro", password: "correct horse battery", allow });
	await upload(p, S1, rcptA);
	await p.click("#send-check");
	await p.waitForSelector("#send-preview-words .w-approval");
	const before = await p.textContent("#send-preview-words .w-approval");
	assert(before.includes("compliance") && before.includes("1 件"), `approval in words before sending: ${before}`);
	await check(h, p, allow);
	await h.shot(p, "1-check-approval");
	const t1 = await send(p);
	assert((await p.textContent("#send-result .ok")).startsWith(L.ja.pending), "the page says it waits for approval");
	const after = await p.textContent("#send-result-words .w-approval");
	assert(after.includes("compliance") && after.includes("1 件"), `approval in words after sending: ${after}`);
	await check(h, p, allow);
	await h.shot(p, "2-sent-pending");
	await p.click("#send-open");
	await p.waitForSelector("#t-approval");
	assert(await state(p) === "pending", "the transfer page: awaiting approval");
	assert((await p.textContent("#t-approval .needed")).includes("1 件中 0 件"), "none of one approval yet");
	await check(h, p, allow);
	await h.shot(p, "3-transfer-pending");
	await p.click('nav#nav a[href="#/transfers"]');
	await p.waitForSelector(`#transfers-table a[href="#/transfers/${t1}"]`);
	const listed = await p.getAttribute(`#transfers-table tr:has(a[href="#/transfers/${t1}"]) [data-state]`, "data-state");
	assert(listed === "pending", `My transfers: ${listed}`);
	await check(h, p, allow);
	await h.shot(p, "4-list-pending");
	ok(T, "ja: the policy said one approval from compliance before and after the send; the transfer waits");

	// 2. Nothing reaches the recipient; the approver's mail links into the app.
	const alink = linkTo("carol@bank.example");
	assert(alink === `${h.url}/#/approvals/${t1}`, `the approval mail's link: ${alink}`);
	assert(mailsTo(rcptA) === 0, "nothing mailed to the recipient before approval");
	assert(mailsTo("taro@bank.example") === 0, "the sender is not asked to approve their own send");
	ok(T, "the approver is mailed a link into the app; the recipient gets nothing yet");

	// 3. The approver, in English, clicks the mail's link, logs in and lands on the transfer.
	const { page: a } = await h.context("desktop", "en");
	await login(h, a, { test: T, lang: "en", user: "carol", password: "approver password 1", allow, url: alink });
	await a.waitForSelector(`article.approval[data-transfer="${t1}"]`);
	assert(new URL(a.url()).hash === `#/approvals/${t1}`, `after the login: ${a.url()}`);
	assert((await a.$$("article.approval")).length === 1, "the mail's link shows that one transfer");
	const art = `article.approval[data-transfer="${t1}"]`;
	assert(await a.$(`${art} .a-files li[data-name="${fname}"] [data-verdict="clean"]`), "its file, found clean");
	assert((await a.textContent(`${art} .a-recipients`)).includes(rcptA), "its recipient");
	assert((await a.textContent(`${art} .policy .reason`)).includes("compliance"), "the policy's reason");
	assert((await a.textContent(`${art} .a-owner`)).includes("taro <taro@bank.example>"), "who sends it");
	await check(h, a, allow);
	await h.shot(a, "5-approvals");
	await a.fill(`#c-${t1}`, OK_COMMENT);
	await a.click(`${art} button.approve`);
	await a.waitForSelector('#approvals-done[data-decision="approved"]');
	await check(h, a, allow);
	await h.shot(a, "6-approved");
	ok(T, "en: the approver opened the mail's link, logged in on it, saw files, recipient and reason, and approved");

	// 4. Only now the link mail; the result mail opens the sender's page.
	assert(linkTo(rcptA).includes("/d/"), "the recipient's link mail after the approval");
	const rlink = linkTo("taro@bank.example");
	assert(rlink === `${h.url}/#/transfers/${t1}`, `the result mail's link: ${rlink}`);
	await p.goto(rlink);
	await p.waitForSelector("#t-approval-votes");
	await p.waitForFunction(() => document.querySelector("#transfer h1 [data-state]").dataset.state === "sent");
	const vote = await p.textContent('#t-approval-votes tr[data-decision="approve"]');
	assert(vote.includes("carol") && vote.includes(OK_COMMENT), `the vote on the sender's page: ${vote}`);
	await check(h, p, allow);
	await h.shot(p, "7-transfer-approved");
	ok(T, "ja: the recipient was mailed only after the approval; the sender's page shows it sent, with carol's comment");

	// 5. A second transfer: the sender is never offered it, the approver rejects it.
	await upload(p, S2, rcptR);
	const t2 = await send(p);
	await p.click('nav#nav a[href="#/approvals"]');
	await p.waitForSelector("#approvals p.empty");
	assert((await p.$$("article.approval")).length === 0, "the sender's own transfer is not offered");
	await check(h, p, allow);
	await h.shot(p, "8-approvals-own");
	await p.goto(`${h.url}/#/approvals/${t2}`);
	await p.waitForSelector("#approvals-notwaiting");
	assert(!(await p.$("button.approve")), "no approve button for one's own transfer");
	await check(h, p, allow);
	await h.shot(p, "9-approvals-own-link");
	ok(T, "ja: self = false: the sender's approvals page does not offer their own transfer, even by its link");

	await a.goto(`${h.url}/#/approvals`);
	await a.waitForSelector(`article.approval[data-transfer="${t2}"]`);
	h.expect(/status of 400/, "a rejection without a comment is refused");
	await a.click(`article.approval[data-transfer="${t2}"] button.reject`);
	await a.waitForSelector(`article.approval[data-transfer="${t2}"] .msg.error`);
	await a.fill(`#c-${t2}`, NO_COMMENT);
	await a.click(`article.approval[data-transfer="${t2}"] button.reject`);
	await a.waitForSelector('#approvals-done[data-decision="rejected"]');
	await check(h, a, allow);
	await h.shot(a, "10-rejected");
	await p.goto(`${h.url}/#/transfers/${t2}`);
	await p.waitForSelector("#t-ended");
	assert(await state(p) === "rejected", "the sender sees it rejected");
	const why = await p.textContent('#t-approval-votes tr[data-decision="reject"]');
	assert(why.includes("carol") && why.includes(NO_COMMENT), `the rejection's comment: ${why}`);
	assert((await p.textContent(`#t-recipients tr[data-address="${rcptR}"]`)).includes(L.ja.cancelled), "its link mail: cancelled");
	await check(h, p, allow);
	await h.shot(p, "11-transfer-rejected");
	h.mail(`mail_wait 5`); // carol's two requests, bob's link, taro's two results
	assert(mailsTo(rcptR) === 0, "nothing ever mailed to the rejected transfer's recipient");
	ok(T, "en/ja: rejected without a comment is refused; with one, the sender reads it; the recipient got nothing");

	// 6. The send delay: said in minutes before and after, recalled inside it.
	await upload(p, S3, rcptD);
	await p.click("#send-check");
	await p.waitForSelector("#send-preview-words .w-delay");
	assert(await p.getAttribute("#send-preview-words .w-delay", "data-minutes") === "2", "two minutes before sending");
	assert((await p.textContent("#send-preview-words .w-delay")).includes("2 分後"), "in words");
	await check(h, p, allow);
	await h.shot(p, "12-check-delay");
	const t3 = await send(p);
	assert((await p.textContent("#send-result .ok")).startsWith(L.ja.held), "accepted, held");
	assert(await p.getAttribute("#send-result-words .w-delay", "data-minutes") === "2", "two minutes after sending");
	await check(h, p, allow);
	await h.shot(p, "13-sent-held");
	await p.click("#send-open");
	await p.waitForSelector("#t-recall");
	assert(await state(p) === "held", "held");
	assert(await p.getAttribute("#t-delay .w-delay", "data-minutes") === "2", "the transfer page says the delay");
	await check(h, p, allow);
	await h.shot(p, "14-transfer-held");
	p.once("dialog", (d) => d.accept());
	await p.click("#t-recall");
	await p.waitForSelector("#t-ended");
	assert(await state(p) === "recalled", "recalled");
	assert((await p.textContent(`#t-recipients tr[data-address="${rcptD}"]`)).includes(L.ja.cancelled), "its link mail: cancelled");
	await check(h, p, allow);
	await h.shot(p, "15-recalled");
	await p.click('nav#nav a[href="#/transfers"]');
	await p.waitForSelector(`#transfers-table a[href="#/transfers/${t3}"]`);
	const states = {};
	for (const [id, s] of [[t1, "sent"], [t2, "rejected"], [t3, "recalled"]]) {
		states[id] = await p.getAttribute(`#transfers-table tr:has(a[href="#/transfers/${id}"]) [data-state]`, "data-state");
		assert(states[id] === s, `My transfers: ${id} ${states[id]}, expected ${s}`);
	}
	await check(h, p, allow);
	await h.shot(p, "16-list");
	assert(mailsTo(rcptD) === 0, "nothing mailed to the recalled transfer's recipient");
	ok(T, "ja: the delay was said in minutes before and after; recalled inside it; My transfers shows sent, rejected, recalled");

	// 7. The approvals page in the other language: the approver's, now empty, in Japanese.
	await a.click('nav.lang a[lang="ja"]');
	a.okuru.lang = "ja"; // the page's language from now on, for check() and the screenshots
	await a.waitForFunction(() => document.documentElement.lang === "ja");
	await a.waitForSelector("#approvals p.empty");
	await check(h, a, allow);
	await h.shot(a, "17-approvals-empty");
	await p.click('nav.lang a[lang="en"]');
	p.okuru.lang = "en";
	await p.waitForFunction(() => document.documentElement.lang === "en");
	await p.click('nav#nav a[href="#/approvals"]');
	await p.waitForSelector("#approvals p.empty");
	await check(h, p, allow);
	await h.shot(p, "18-approvals-own-en");
	ok(T, "the approvals page in both languages");
});
