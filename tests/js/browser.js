// browser.js - what okuru's browser tests share: Debian's Chromium driven by
// playwright-core, trusting exactly okurud's test certificate, with every
// console error, page error, failed subresource and Content-Security-Policy
// violation recorded (a test fails on any it did not announce), screenshots
// kept as artifacts, and the checks every page must pass (language, labels,
// focus, contrast, no horizontal scroll on a phone).
//
// Run by lib.sh's browser_run, which sets the environment:
//   OKURU_URL            https://localhost:PORT of the okurud under test
//   OKURU_CA             the certificate okurud serves (curl's --cacert)
//   OKURU_SHOTS          where this test's screenshots go
//   OKURU_BROWSER_TMP    a private directory for the browser's HOME
//   OKURU_MAILCATCH      tests/integration/mailcatch.sh, to read the mail
//   T, PY                lib.sh's test directory and Python (for mailcatch)
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`browser.js: ${k} is not set (run through lib.sh's browser_run)`);
	return v;
};

// The viewports the pages must work at: a common phone and a laptop.
const DEVICES = {
	phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
	desktop: { viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
};
const LOCALES = { ja: "ja-JP", en: "en-US" };

// nssdb - a fresh NSS database in HOME that trusts okurud's certificate as
// a peer ("P,,": this certificate for this server, no power to sign others).
// Chromium on Linux takes locally added trust from ~/.pki/nssdb, so the
// connection is verified for real and ignoreHTTPSErrors stays false.
function nssdb(home, cert) {
	const db = path.join(home, ".pki", "nssdb");
	fs.mkdirSync(db, { recursive: true });
	execFileSync("certutil", ["-N", "-d", "sql:" + db, "--empty-password"]);
	execFileSync("certutil", ["-A", "-d", "sql:" + db, "-n", "okurud-test", "-t", "P,,", "-i", cert]);
}

function sha256(file) {
	return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

class Harness {
	constructor(name) {
		this.name = name;
		this.url = env("OKURU_URL");
		this.shots = env("OKURU_SHOTS");
		this.problems = []; // console errors, page errors, CSP violations
		this.expected = []; // [regex, description, seen]
		this.contexts = [];
	}

	async start() {
		const tmp = env("OKURU_BROWSER_TMP");
		this.home = fs.mkdtempSync(path.join(tmp, "home-"));
		nssdb(this.home, env("OKURU_CA"));
		fs.mkdirSync(this.shots, { recursive: true });
		// launch() gives the browser a fresh temporary profile (user-data-dir)
		// of its own and removes it on close.
		this.browser = await chromium.launch({
			executablePath: "/usr/bin/chromium",
			env: { ...process.env, HOME: this.home },
			args: [
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
			],
		});
		return this;
	}

	// problem - something a page did that a test must not accept
	problem(where, what) {
		for (const e of this.expected) {
			if (!e.seen && e.re.test(what)) {
				e.seen = true;
				return;
			}
		}
		this.problems.push(`${where}: ${what}`);
	}

	// expect - the next message matching re is part of the journey (once)
	expect(re, why) {
		this.expected.push({ re, why, seen: false });
	}

	// context - a browser context at a device and language, watched
	async context(device, lang) {
		const ctx = await this.browser.newContext({
			...DEVICES[device],
			locale: LOCALES[lang],
			ignoreHTTPSErrors: false,
			acceptDownloads: true,
		});
		const tag = `${device}/${lang}`;
		// securitypolicyviolation reaches us through a binding: the init
		// script is the browser's own, not the page's, so the CSP allows it.
		await ctx.exposeBinding("__okuruCsp", (src, v) =>
			this.problem(tag, `CSP violation: ${v.directive} blocked ${v.blocked} at ${v.source}`));
		await ctx.addInitScript(() => {
			document.addEventListener("securitypolicyviolation", (e) => {
				window.__okuruCsp({
					directive: e.violatedDirective,
					blocked: e.blockedURI || "inline",
					source: `${e.sourceFile || document.location.pathname}:${e.lineNumber}`,
				});
			});
		});
		ctx.on("page", (p) => this.watch(p, tag));
		this.contexts.push(ctx);
		const page = await ctx.newPage();
		page.okuru = { device, lang };
		return { ctx, page };
	}

	watch(page, tag) {
		page.on("console", (m) => {
			if (m.type() === "error") this.problem(tag, `console: ${m.text()} (${m.location().url || "-"})`);
		});
		page.on("pageerror", (e) => this.problem(tag, `page error: ${e.message}`));
		page.on("requestfailed", (r) => {
			// A download is handed to the download manager, not failed.
			const f = r.failure();
			if (f && f.errorText !== "net::ERR_ABORTED") this.problem(tag, `request failed: ${r.url()} ${f.errorText}`);
		});
		page.on("response", (r) => {
			if (r.request().resourceType() !== "document" && r.status() >= 400 &&
			    r.request().resourceType() !== "xhr" && r.request().resourceType() !== "fetch")
				this.problem(tag, `subresource ${r.url()}: HTTP ${r.status()}`);
		});
	}

	// shot - <artifacts>/browser/<test>/<device>-<step>-<lang>.png
	async shot(page, step) {
		const f = path.join(this.shots, `${page.okuru.device}-${step}-${page.okuru.lang}.png`);
		await page.screenshot({ path: f, fullPage: true });
		return f;
	}

	// checkPage - what every page must be, at every device and language:
	// its lang, no horizontal scroll, every control labelled, a language
	// switch, readable contrast, and no text of the other language outside
	// the values the test put there (allow).
	async checkPage(page, allow = []) {
		const { device, lang } = page.okuru;
		const where = `${device}/${lang} ${new URL(page.url()).pathname.slice(0, 3)}`;
		const r = await page.evaluate(() => {
			const out = {};
			out.lang = document.documentElement.lang;
			out.scrollWidth = document.documentElement.scrollWidth;
			out.innerWidth = window.innerWidth;
			out.viewport = (document.querySelector('meta[name="viewport"]') || {}).content || "";
			out.unlabelled = [...document.querySelectorAll("input, select, textarea")]
				.filter((e) => e.type !== "hidden" && e.labels.length === 0 && !e.getAttribute("aria-label"))
				.map((e) => e.id || e.name || e.type);
			out.switch = [...document.querySelectorAll("nav.lang a")].map((a) => [a.lang, a.getAttribute("href")]);
			out.text = document.body.innerText;
			// WCAG 2 contrast of each text element against its nearest opaque background.
			const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
			const lum = ([r, g, b]) => {
				const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
				return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
			};
			const bg = (e) => {
				for (; e; e = e.parentElement) {
					const c = rgb(getComputedStyle(e).backgroundColor);
					if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
				}
				return [255, 255, 255];
			};
			out.lowContrast = [];
			for (const e of document.querySelectorAll("body *")) {
				const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
				if (!own || e.offsetParent === null && getComputedStyle(e).position !== "fixed") continue;
				const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
				const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
				if (ratio < 4.5) out.lowContrast.push(`${e.tagName.toLowerCase()}.${e.className} ${ratio.toFixed(2)}`);
			}
			return out;
		});
		const fail = (m) => { throw new Error(`${where}: ${m}`); };
		if (r.lang !== lang) fail(`<html lang="${r.lang}">, expected ${lang}`);
		if (!/width=device-width/.test(r.viewport)) fail(`no viewport meta (${r.viewport})`);
		if (r.scrollWidth > r.innerWidth) fail(`horizontal scroll: ${r.scrollWidth} > ${r.innerWidth}`);
		if (r.unlabelled.length) fail(`controls without a label: ${r.unlabelled.join(", ")}`);
		if (r.lowContrast.length) fail(`contrast under 4.5:1: ${r.lowContrast.join("; ")}`);
		const langs = r.switch.map((s) => s[0]).sort().join(",");
		if (langs !== "en,ja") fail(`language switch: ${JSON.stringify(r.switch)}`);
		let text = r.text;
		// Values the test supplied, the product's name and the names of the
		// languages in the switch are the same on both pages.
		const known = [...allow, "okuru", "日本語", "English", "SHA-256", "UTC"];
		for (const a of known.filter(Boolean).sort((x, y) => y.length - x.length))
			text = text.split(a).join(" ");
		if (lang === "ja") {
			const words = text.match(/[A-Za-z]{2,}/g) || [];
			const left = words.filter((w) => !/^(K|M|G|T)?B$/.test(w) && w !== "ZIP");
			if (left.length) fail(`English on the Japanese page: ${left.join(" ")}`);
		} else {
			const ja = text.match(/[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]+/g);
			if (ja) fail(`Japanese on the English page: ${ja.join(" ")}`);
		}
		return r;
	}

	// keyboard - Tab from the top reaches selector, and it shows a focus ring
	async keyboard(page, selector, maxTabs = 30) {
		await page.evaluate(() => document.activeElement && document.activeElement.blur());
		for (let i = 0; i < maxTabs; i++) {
			await page.keyboard.press("Tab");
			const hit = await page.evaluate((s) => {
				const a = document.activeElement;
				if (!a || !a.matches(s)) return null;
				const cs = getComputedStyle(a);
				return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
			}, selector);
			if (hit) {
				if (hit.style === "none" || !(hit.width >= 2))
					throw new Error(`${selector}: focused without a visible outline (${JSON.stringify(hit)})`);
				return i + 1;
			}
		}
		throw new Error(`${selector} not reached with ${maxTabs} Tab presses`);
	}

	// mail - run a mailcatch.sh snippet (mail_wait, mail_to, mail_code...)
	mail(snippet, ...args) {
		return execFileSync("bash", ["-c", `fail() { echo "$*" >&2; exit 1; }\n. "$OKURU_MAILCATCH"\n${snippet}`, "mail", ...args], {
			env: process.env,
			encoding: "utf8",
		}).trim();
	}

	// close - end the browser; throw when a page did anything unannounced
	async close() {
		for (const c of this.contexts) await c.close();
		if (this.browser) await this.browser.close();
		fs.rmSync(this.home, { recursive: true, force: true });
		const missed = this.expected.filter((e) => !e.seen).map((e) => e.why);
		if (this.problems.length) throw new Error(`the pages reported:\n  ${this.problems.join("\n  ")}`);
		if (missed.length) throw new Error(`expected and not seen: ${missed.join("; ")}`);
	}
}

// run - start a harness, run fn(h), always close; exit 1 with the reason
async function run(name, fn) {
	const h = new Harness(name);
	let err = null;
	try {
		await h.start();
		await fn(h);
	} catch (e) {
		err = e;
		// Where each page was when it failed, for the artifacts.
		let i = 0;
		for (const c of h.contexts)
			for (const p of c.pages()) {
				const f = `${h.shots}/failure-${++i}.png`;
				await p.screenshot({ path: f, fullPage: true }).catch(() => {});
				console.error(`# ${f}: ${p.url()}`);
			}
	}
	try {
		await h.close();
	} catch (e) {
		err = err || e;
	}
	if (err) {
		console.error(`FAIL: ${name}: ${err.stack || err}`);
		process.exit(1);
	}
	console.log(`ok - ${name}: screenshots in ${h.shots}`);
}

function ok(name, msg) {
	console.log(`ok - ${name}: ${msg}`);
}

function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}

module.exports = { run, ok, assert, sha256, DEVICES };
