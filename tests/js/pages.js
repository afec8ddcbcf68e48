// pages.js - every staff page, in Japanese and in English, on a laptop and
// on a phone, each checked (language, labels, contrast, lang attribute,
// the language switch) and photographed: login, enrolment (on the laptop
// for senders, on the phone for approvers), send, my transfers, a
// transfer, requests, approvals, audit (results and the integrity check),
// administration (users, scanner, policy in force). The login and send
// pages are walked with Tab. In the Japanese app three server errors (a
// recipient the policy denies, a file over the size limit, an unknown
// transfer in the URL) must be said in Japanese, not in the API's English;
// a session ended on the server (okuructl user end-sessions) brings the
// login form with "your session ended" at the next action and, after the
// login, the same page back; a change without the CSRF header, and one
// from a foreign Origin, are refused (403).
//
// node pages.js CONF TID_JA TID_EN SMALL_FILE BIG_FILE
"use strict";
const fs = require("fs");
const https = require("https");
const path = require("path");
const vm = require("vm");
const { execFileSync } = require("child_process");
const { run, ok, assert } = require("./browser.js");
const { totp, check, login } = require("./staffkit.js");

const [conf, tidJa, tidEn, small, big, eicar] = process.argv.slice(2);
const T = "t_browser_pages";
const TID = { ja: tidJa, en: tidEn };
const USERS = {
	ja: { sender: ["taro", "taro password 1"], approver: ["hana", "hana password 1"],
		auditor: ["kansa", "kansa password 1"], admin: ["kanri", "kanri password 1"] },
	en: { sender: ["tom", "tom password 12"], approver: ["anna", "anna password 1"],
		auditor: ["audrey", "audrey password 1"], admin: ["adam", "adam password 12"] },
};

// The app's own words, to say which message a page must show.
const sandbox = { window: {} };
vm.runInNewContext(fs.readFileSync(path.join(__dirname, "..", "..", "www", "i18n.js"), "utf8"), sandbox);
const W = sandbox.window.OkuruI18n;

const names = Object.values(USERS).flatMap((u) => Object.values(u).map((x) => x[0]));
const allow = ["Google Authenticator", "Microsoft Authenticator", ...names, ...names.map((n) => n + "@bank.example"),
	"四半期報告書", "Quarterly report", path.basename(small), path.basename(big), "127.0.0.1",
	// Written the same in Japanese: the export formats, "ID", an event name as an example (file.*).
	"CSV", "JSONL", "ID", "file.*"];

// The last TOTP step each user logged in with: a code is good once.
const stepUsed = {};
const step = () => Math.floor(Date.now() / 30000);
async function freshStep(user) {
	while (stepUsed[user] !== undefined && step() <= stepUsed[user])
		await new Promise((r) => setTimeout(r, 500));
}
const secrets = {};
async function signIn(h, p, lang, role) {
	const [user, password] = USERS[lang][role];
	await freshStep(user);
	secrets[user] = await login(h, p, { test: T, lang, user, password, allow, secret: secrets[user] });
	stepUsed[user] = step();
}

// visit - go to #/WHERE in the app and wait for SELECTOR
async function visit(p, where, selector) {
	await p.evaluate((w) => { location.hash = w; }, "#/" + where);
	await p.waitForSelector(selector);
}

// page - check and photograph the page p is on, as NAME
async function page(h, p, name) {
	await check(h, p, allow);
	await h.shot(p, name);
}

// loginPage - a fresh context at the login page, checked and photographed
async function loginPage(h, device, lang) {
	const c = await h.context(device, lang);
	h.expect(/status of 401/, `${device}/${lang}: the app asks who is logged in before anyone is`);
	await c.page.goto(h.url + "/");
	await c.page.waitForSelector("#login-form");
	await page(h, c.page, "login");
	return c;
}

// follow - a context logged in as the one in FROM (its session cookie)
async function follow(h, from, c, where, selector) {
	await c.ctx.addCookies(await from.ctx.cookies());
	await c.page.goto(h.url + "/?lang=" + c.page.okuru.lang + "#/" + where);
	await c.page.waitForSelector(selector);
}

async function done(h, ...cs) {
	for (const c of cs) {
		await c.ctx.close();
		h.contexts.splice(h.contexts.indexOf(c.ctx), 1);
	}
}

// senderPages - send, my transfers, a transfer, requests on this context
async function senderPages(h, p, lang) {
	await visit(p, "send", "#send-form");
	await page(h, p, "send");
	await visit(p, "transfers", "#transfers-table tbody tr");
	const states = await p.$$eval("#transfers-table [data-state]", (es) => es.map((e) => e.dataset.state).sort());
	assert(JSON.stringify(states) === JSON.stringify(["pending", "sent"]), `${lang}: my transfers: ${states}`);
	await page(h, p, "transfers");
	await visit(p, "transfers/" + TID[lang], "#t-recipients");
	const outcome = await p.textContent("#t-policy h3");
	assert(outcome === W[lang]["policy.outcome.send"], `${lang}: the transfer's policy outcome: ${outcome}`);
	assert((await p.textContent("#t-policy .reason")) === W[lang]["policy.reason.send"], `${lang}: the reason in words`);
	// Each part of the decision in words (open, so that the page check reads them).
	await p.click("#t-policy summary");
	const parts = await p.$$eval("#t-policy tbody tr", (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
	const want = (k, v) => parts.some((r) => r[0] === W[lang]["policy.part." + k] && r[1] === v);
	assert(want("delay", W[lang]["policy.v.nodelay"]) && want("deny", W[lang]["policy.v.allowed"]) &&
		want("expiry", W[lang]["policy.v.expiry"].replace("{n}", 7).replace("{max}", 30)) &&
		want("verification", W[lang]["verification.email-otp"]), `${lang}: the decision's parts: ${JSON.stringify(parts)}`);
	await page(h, p, "transfer");
	await visit(p, "requests", "#requests-table tbody tr");
	await page(h, p, "requests");
}

// errors - four server errors, each said in the page's language
async function errors(h, p, lang) {
	// 1. A recipient the policy denies: the dry run shows the administrator's reason, the send is refused.
	await visit(p, "send", "#send-form");
	await p.setInputFiles("#send-files", [small]);
	await p.waitForSelector('#send-list [data-verdict="clean"]', { timeout: 60000 });
	await p.fill("#send-recipients", "friend@mail.webmail.example");
	await p.click("#send-check");
	await p.waitForSelector("#send-preview-policy");
	assert((await p.textContent("#send-preview-policy h3")) === W[lang]["policy.outcome.denied"], "dry run: denied");
	assert((await p.textContent('#send-preview-policy p[translate="no"]')).includes("フリーメール"), "the administrator's reason");
	await p.click("#send-preview-policy summary");
	h.expect(/status of 403/, "the denied send");
	await p.click("#send-submit");
	await p.waitForSelector("#send-result .error");
	const denied = await p.textContent("#send-result .error");
	assert(denied === W[lang]["error.code.policy_denied"], `${lang}: denial said as ${denied}`);
	await page(h, p, "error-denied");
	ok(T, `${lang}: a denied recipient: "${denied}", the administrator's reason kept as data`);

	// 2. A file over the size limit (a new send page, a new draft).
	await visit(p, "transfers", "#transfers-table");
	await visit(p, "send", "#send-form");
	h.expect(/status of 413/, "the oversized file");
	await p.setInputFiles("#send-files", [big]);
	await p.waitForSelector('#send-list .badge[data-status="413"]', { timeout: 30000 });
	const large = await p.textContent('#send-list .badge[data-status="413"]');
	assert(large === W[lang]["error.413"], `${lang}: size limit said as ${large}`);
	await page(h, p, "error-too-large");
	ok(T, `${lang}: a file over the limit: "${large}"`);

	// 3. A transfer that does not exist, in the URL.
	h.expect(/status of 404/, "the unknown transfer");
	await visit(p, "transfers/" + "0".repeat(32), "#transfer .error");
	const missing = await p.textContent("#transfer .error");
	assert(missing === W[lang]["error.404"], `${lang}: not found said as ${missing}`);
	await page(h, p, "error-not-found");
	ok(T, `${lang}: an unknown transfer: "${missing}"`);

	// 4. An infected file: the send is refused, and the page names the file and why.
	await visit(p, "transfers", "#transfers-table");
	await visit(p, "send", "#send-form");
	await p.setInputFiles("#send-files", [eicar]);
	await p.waitForSelector('#send-list [data-verdict="infected"]', { timeout: 60000 });
	await p.fill("#send-recipients", "client@customer.example");
	h.expect(/status of 409/, "the blocked send");
	await p.click("#send-submit");
	await p.waitForSelector("#send-result-policy .reason");
	const blocked = await p.textContent("#send-result-policy .reason");
	const want = W[lang]["policy.reason.blocked.file"].replace("{name}", path.basename(eicar))
		.replace("{cause}", W[lang]["policy.block.infected"]);
	assert(blocked === want, `${lang}: the blocked send said as ${blocked}`);
	assert((await p.textContent("#send-result .error")) === W[lang]["error.code.policy_blocked"], `${lang}: the refusal`);
	await page(h, p, "error-blocked");
	ok(T, `${lang}: an infected file stops the send: "${blocked}"`);
}

// sessionEnd - ended on the server: the next action brings the login with
// the reason, and the login brings the same page back
async function sessionEnd(h, p, lang) {
	const [user, password] = USERS[lang].sender;
	const where = "#/transfers/" + TID[lang];
	await visit(p, where.slice(2), "#t-extend");
	execFileSync(process.env.OKURUCTL, ["-c", conf, "user", "end-sessions", user]);
	h.expect(/status of 401/, "the change after the session ended");
	await p.fill("#t-days", "9");
	await p.click("#t-extend button[type=submit]");
	await p.waitForSelector("#login-form");
	const said = await p.textContent("#view .msg");
	assert(said === W[lang]["session.ended"], `${lang}: session end said as ${said}`);
	await page(h, p, "session-ended");
	await freshStep(user);
	await p.fill("#login-user", user);
	await p.fill("#login-password", password);
	await p.fill("#login-code", totp(secrets[user], Date.now() / 1000));
	stepUsed[user] = step();
	await p.click("#login-form button[type=submit]");
	await p.waitForSelector("#t-recipients");
	assert(new URL(p.url()).hash === where, `back at ${where}: ${p.url()}`);
	ok(T, `${lang}: a session ended on the server: "${said}", and after the login the same transfer again`);
}

// forward - an HTTPS request to okurud, its certificate the one trusted
function forward(url, method, headers, body) {
	return new Promise((resolve, reject) => {
		const rq = https.request(url, { method, headers, ca: fs.readFileSync(process.env.OKURU_CA) }, (r) => {
			const chunks = [];
			r.on("data", (c) => chunks.push(c));
			r.on("end", () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
		});
		rq.on("error", reject);
		rq.end(body || undefined);
	});
}

// csrf - changes from the page without the token, and from a foreign Origin
async function csrf(h, p) {
	const post = (q) => p.evaluate(async (q) => {
		const headers = { "Content-Type": "application/json" };
		if (q.token) headers["X-CSRF-Token"] = window.Okuru.session.csrf;
		const r = await fetch("/api/v1/transfers", { method: "POST", credentials: "same-origin", headers,
			body: JSON.stringify({ subject: q.subject }) });
		const j = await r.json().catch(() => ({}));
		return { status: r.status, code: j.code || null };
	}, q);
	h.expect(/status of 403/, "a change without the CSRF header");
	const none = await post({ token: false, subject: "csrf-forged" });
	assert(none.status === 403 && none.code === "csrf", `no CSRF header: ${JSON.stringify(none)}`);
	// The browser sets Origin itself (a page cannot, and Chromium keeps its
	// own when a request is continued): the page's request, its cookie and
	// token included, is sent on from here with a foreign Origin (TLS
	// verified against okurud's certificate), and the answer handed back.
	await p.route("**/api/v1/transfers", async (route) => {
		const rq = route.request();
		const headers = { ...(await rq.allHeaders()), origin: "https://evil.example" };
		const answer = await forward(rq.url(), rq.method(), headers, rq.postDataBuffer());
		await route.fulfill(answer);
	});
	h.expect(/status of 403/, "a change from a foreign Origin");
	const foreign = await post({ token: true, subject: "csrf-forged" });
	await p.unroute("**/api/v1/transfers");
	assert(foreign.status === 403 && foreign.code === "csrf", `foreign Origin: ${JSON.stringify(foreign)}`);
	// The same request with the token from our origin is accepted: the refusals were for what they lacked.
	const control = await post({ token: true, subject: "csrf-control" });
	assert(control.status === 201, `control: ${JSON.stringify(control)}`);
	ok(T, "ja: a change without X-CSRF-Token and one from a foreign Origin are refused (403); with both it is accepted");
}

async function language(h, lang) {
	// The sender: login (walked with Tab) and enrolment on the laptop.
	const dS = await loginPage(h, "desktop", lang);
	for (const s of ["#login-user", "#login-password", "#login-code", "#login-form button[type=submit]"])
		await h.keyboard(dS.page, s);
	ok(T, `${lang}: the login form's controls are reached with Tab, each with a focus ring`);
	await signIn(h, dS.page, lang, "sender");
	await senderPages(h, dS.page, lang);
	await visit(dS.page, "send", "#send-form");
	for (const s of ["#send-subject", "#send-drop", "#send-recipients", "#send-verification", "#send-check", "#send-submit"])
		await h.keyboard(dS.page, s, 40);
	ok(T, `${lang}: the send form's controls are reached with Tab, each with a focus ring`);
	const pS = await loginPage(h, "phone", lang);
	await follow(h, dS, pS, "send", "#send-form");
	await senderPages(h, pS.page, lang);
	await done(h, pS);
	ok(T, `${lang}: the sender's pages on a laptop and a phone`);

	// The approver: enrolment on the phone, the inbox on both.
	const pA = await loginPage(h, "phone", lang);
	await signIn(h, pA.page, lang, "approver");
	await visit(pA.page, "approvals", "#approvals article.approval");
	const pending = await pA.page.$$eval("#approvals article.approval", (as) => as.length);
	assert(pending === 2, `${lang}: two transfers wait for approval: ${pending}`);
	assert((await pA.page.textContent("#approvals section.policy h3")) === W[lang]["policy.outcome.approval"], "approval outcome");
	await pA.page.click("#approvals section.policy summary");
	const rule = await pA.page.$eval("#approvals section.policy tbody tr:nth-child(2)", (r) => r.textContent);
	assert(rule.includes("compliance") && rule.includes("partner-approval"), `${lang}: the approval part: ${rule}`);
	await page(h, pA.page, "approvals");
	const dA = await h.context("desktop", lang);
	await follow(h, pA, dA, "approvals", "#approvals article.approval");
	await page(h, dA.page, "approvals");
	await done(h, pA, dA);
	ok(T, `${lang}: the approvals inbox on a phone and a laptop`);

	// The auditor: the records and the integrity check.
	const dU = await loginPage(h, "desktop", lang);
	await signIn(h, dU.page, lang, "auditor");
	const pU = await h.context("phone", lang);
	await follow(h, dU, pU, "audit", "#audit-form");
	for (const c of [dU, pU]) {
		await visit(c.page, "audit", "#audit-table tbody tr");
		await c.page.click("#audit-verify");
		await c.page.waitForSelector("#audit-integrity .ok");
		assert((await c.page.textContent("#audit-integrity .ok")).startsWith(W[lang]["audit.verify.ok"].slice(0, 4)), "integrity");
		await page(h, c.page, "audit");
	}
	await done(h, dU, pU);
	ok(T, `${lang}: the audit records and the integrity check on a laptop and a phone`);

	// The administrator: users, scanner, policy in force.
	const dD = await loginPage(h, "desktop", lang);
	await signIn(h, dD.page, lang, "admin");
	const pD = await h.context("phone", lang);
	await follow(h, dD, pD, "admin", "#users-table");
	for (const c of [dD, pD]) {
		await visit(c.page, "admin", "#status-policy");
		await c.page.waitForSelector("#users-table");
		const sc = await c.page.getAttribute("#status-scanner", "data-status");
		assert(sc === "ok", `${lang}: the scanner is shown ready: ${sc}`);
		assert((await c.page.textContent("#status-policy-check")) === W[lang]["status.policy.ok"], "policy check shown");
		assert((await c.page.textContent("#status-policy")).includes("no-webmail"), "the policy in force is shown");
		await page(h, c.page, "admin");
	}
	await done(h, dD, pD);
	ok(T, `${lang}: users, scanner and the policy in force on a laptop and a phone`);
	return dS;
}

run(T, async (h) => {
	const ja = await language(h, "ja");
	await errors(h, ja.page, "ja");
	await sessionEnd(h, ja.page, "ja");
	await csrf(h, ja.page);
	const en = await language(h, "en");
	h.expect(/status of 404/, "the unknown transfer (English)");
	await visit(en.page, "transfers/" + "0".repeat(32), "#transfer .error");
	assert((await en.page.textContent("#transfer .error")) === "no such transfer", "an English page says the API's words");
	ok(T, "en: an unknown transfer is said in the API's own English");
});
