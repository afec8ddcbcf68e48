// staffkit.js - what every staff-app browser test needs: the TOTP a phone
// would compute, the page check that allows the page's own data values in
// either language, and logging in (password, then the QR enrolment the
// first time, or the code from the enrolled secret afterwards).
"use strict";
const crypto = require("crypto");
const { ok, assert } = require("./browser.js");

// totp - RFC 6238 (SHA-1, 30 s, 6 digits) of a base32 secret at unix time t
function totp(secret, t) {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	let bits = "";
	for (const ch of secret) bits += abc.indexOf(ch).toString(2).padStart(5, "0");
	const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
	const m = crypto.createHmac("sha1", key).update(msg).digest();
	const o = m[19] & 15;
	return String((m.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, "0");
}

// check - h.checkPage, with the values the page marks as data (translate="no")
// allowed in either language: names, addresses, hashes, signatures
async function check(h, p, allow) {
	const data = await p.$$eval('[translate="no"]', (es) => es.map((e) => e.textContent));
	return h.checkPage(p, [...allow, ...data]);
}

// login - the login form, then the enrolment page; returns the secret.
// With o.secret (an enrolled user) the code is typed on the login form
// instead. o.test names the test in the ok lines; o.lang the page's language;
// o.url the address to open (a link from a mail), by default the app's start.
async function login(h, p, o) {
	const { test, lang, user, password, allow = [] } = o;
	h.expect(/status of 401/, `${user}: the app asks who is logged in before anyone is`);
	await p.goto(o.url || h.url + "/");
	await p.waitForSelector("#login-form");
	await check(h, p, allow);
	await p.fill("#login-user", user);
	await p.fill("#login-password", password);
	if (o.secret) {
		await p.fill("#login-code", totp(o.secret, Date.now() / 1000));
		await p.click("#login-form button[type=submit]");
		await p.waitForSelector("nav#nav a");
		ok(test, `${lang}: ${user} logged in with a password and a code`);
		return o.secret;
	}
	await p.click("#login-form button[type=submit]");
	await p.waitForSelector("#enroll-secret");
	const secret = (await p.textContent("#enroll-secret")).trim();
	assert(/^[A-Z2-7]{32}$/.test(secret), `secret shown: ${secret}`);
	await p.waitForFunction(() => document.querySelector("#enroll-qr").naturalWidth > 0);
	await check(h, p, [...allow, secret]);
	await h.shot(p, `enroll-${user}-${lang}`);
	await p.fill("#enroll-code", totp(secret, Date.now() / 1000));
	await p.click("#enroll-form button[type=submit]");
	await p.waitForSelector("nav#nav a");
	ok(test, `${lang}: ${user} logged in with a password and set up two-step login from the QR page`);
	return secret;
}

module.exports = { totp, check, login };
