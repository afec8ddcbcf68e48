// request.js - a counterparty's journey in a real browser: open the upload
// page of a request, confirm the address with the mailed code, choose two
// files at once (one clean, one EICAR), see a progress bar per file reach
// its end and each file's virus check end (the EICAR file blocked), then
// say done. Japanese on a phone, English on a desktop. The page uploads
// through tus (tus.js); with RESUME=LANG=DEVICE=ADDR=LINK=BIG, a large
// file's second PATCH never reaches the server (held, as on a network that
// hangs), the page is reloaded meanwhile, and choosing the same file again
// continues at the server's offset (the first PATCH's 8 MiB), not at 0.
//
// node request.js CLEAN EICAR MESSAGE SENDER [RESUME=...] LANG=DEVICE=ADDR=LINK...
"use strict";
const fs = require("fs");
const path = require("path");
const { run, ok, assert } = require("./browser.js");

const [clean, eicar, message, sender, ...targets] = process.argv.slice(2);
const T = "t_browser_request";

const L = {
	ja: {
		title: "ファイルのアップロード依頼",
		verified: "本人確認が完了しました。以下からファイルをアップロードできます。",
		clean: "ウイルス検査: 問題なし",
		infected: "ウイルス検査: ブロック: ウイルスを検出しました",
		finished: "ありがとうございました。",
	},
	en: {
		title: "Files requested from you",
		verified: "Confirmed. You can upload the files below.",
		clean: "Virus check: no virus found",
		infected: "Virus check: blocked: a virus was found",
		finished: "Thank you.",
	},
};

async function journey(h, lang, device, addr, link) {
	const t = L[lang];
	const names = [path.basename(clean), path.basename(eicar)];
	const allow = [message, sender, `${sender}@bank.example`, ...names];
	const { page: p } = await h.context(device, lang);

	// 1. The request as mailed, not yet confirmed: no file input.
	await p.goto(link);
	assert((await p.textContent("h1")) === t.title, `${lang} title: ${await p.textContent("h1")}`);
	assert((await p.$$("input[type=file]")).length === 0, "file input before confirming");
	await h.checkPage(p, allow);
	await h.shot(p, "1-request");

	// 2. The code by mail, typed.
	await confirm(h, p, lang, addr, t);
	await h.keyboard(p, "#files");
	await h.checkPage(p, allow);
	await h.shot(p, "2-confirmed");
	ok(T, `${lang}/${device}: code typed, the upload form is there and keyboard-reachable`);

	// 3. Two files at once: a bar each, each bar reaches its end.
	await p.setInputFiles("#files", [clean, eicar]);
	await p.waitForFunction(() => {
		const bars = document.querySelectorAll("#progress progress");
		return bars.length === 2 && [...bars].every((b) => b.value === b.max);
	}, null, { timeout: 30000 });
	const bars = await p.$$eval("#progress progress", (bs) => bs.map((b) => [b.value, b.max, b.getAttribute("aria-label")]));
	assert(JSON.stringify(bars) === JSON.stringify([[100, 100, names[0]], [100, 100, names[1]]]),
		`progress bars: ${JSON.stringify(bars)}`);
	ok(T, `${lang}/${device}: two progress bars reached their max`);

	// 4. The scan's end, shown live: the clean file passes, EICAR is blocked.
	await p.waitForFunction(() => {
		const s = [...document.querySelectorAll("#progress .state")].map((e) => e.dataset.state);
		return s.length === 2 && s.every((x) => x !== "uploaded" && x !== "scanning");
	}, null, { timeout: 60000 });
	const states = await p.$$eval("#progress li", (ls) => ls.map((l) => [
		l.querySelector(".name").textContent, l.querySelector(".state").dataset.state,
		l.querySelector(".state").textContent]));
	assert(JSON.stringify(states) === JSON.stringify([[names[0], "clean", t.clean], [names[1], "infected", t.infected]]),
		`states: ${JSON.stringify(states)}`);
	await h.checkPage(p, allow);
	await h.shot(p, "3-uploaded");
	// After a reload the server's own list says the same.
	await p.reload();
	const listed = await p.$$eval("ul.files:not(#progress) li .state", (es) => es.map((e) => e.textContent));
	assert(JSON.stringify(listed) === JSON.stringify([t.clean, t.infected]), `listed: ${JSON.stringify(listed)}`);
	await h.checkPage(p, allow);
	await h.shot(p, "4-listed");
	ok(T, `${lang}/${device}: "${t.clean}" and "${t.infected}", live and after a reload`);

	// 5. Done: thanked, in the language.
	await Promise.all([p.waitForNavigation(), p.click(`form[action$="/done?lang=${lang}"] button`)]);
	assert((await p.textContent("p.ok")).startsWith(t.finished), `done: ${await p.textContent("p.ok")}`);
	await h.checkPage(p, allow);
	await h.shot(p, "5-done");
	ok(T, `${lang}/${device}: done, thanked`);
}

// confirm - the mailed code typed into the page at p (already on the link)
async function confirm(h, p, lang, addr, t) {
	const n = Number(h.mail("mail_count"));
	await Promise.all([p.waitForNavigation(), p.click(`form[action$="/code?lang=${lang}"] button`)]);
	const code = h.mail(`mail_wait ${n + 1}; mail_code "$(mail_to "$1")"`, addr);
	await h.keyboard(p, "#code");
	await p.keyboard.type(code);
	await Promise.all([p.waitForNavigation(), p.keyboard.press("Enter")]);
	assert((await p.textContent("p.ok")) === t.verified, `verified note: ${await p.textContent("p.ok")}`);
}

// resume - a broken upload continues where the server has it, after a reload
async function resume(h, lang, device, addr, link, big) {
	const t = L[lang];
	const name = path.basename(big);
	const allow = [message, sender, `${sender}@bank.example`, name];
	const CHUNK = 8 * 1024 * 1024; // tus.js's PATCH size
	const { page: p } = await h.context(device, lang);
	await p.goto(link);
	await confirm(h, p, lang, addr, t);

	// Every PATCH's Upload-Offset; the second one is held and never sent.
	const offsets = [];
	let release = null;
	const held = new Promise((resolve) => { release = resolve; });
	let hold = true;
	await p.route("**/uploads/*", (route) => {
		const r = route.request();
		if (r.method() !== "PATCH") return route.continue();
		offsets.push(r.headers()["upload-offset"]);
		if (hold && offsets.length === 2) {
			hold = false;
			release(route);
			return undefined;
		}
		return route.continue();
	});
	await p.setInputFiles("#files", big);
	const route = await held;
	assert(JSON.stringify(offsets) === JSON.stringify(["0", String(CHUNK)]), `PATCH offsets: ${offsets}`);
	const saved = await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("okuru-tus:"))
		.map((k) => [k, localStorage.getItem(k)]));
	assert(saved.length === 1 && saved[0][0].includes(name) && /\/uploads\/[0-9a-f]{32}$/.test(saved[0][1]),
		`the upload kept in localStorage: ${JSON.stringify(saved)}`);
	await h.checkPage(p, allow);
	await h.shot(p, "6-broken");
	ok(T, `${lang}/${device}: the first ${CHUNK} bytes stored, the next PATCH cut off; the upload's URL kept`);

	// A reload: the held PATCH dies with the page. The same file, chosen again, resumes.
	await p.reload();
	await route.abort().catch(() => { /* gone with the page */ });
	offsets.length = 0;
	await p.setInputFiles("#files", big);
	await p.waitForFunction(() => {
		const s = [...document.querySelectorAll("#progress .state")].map((e) => e.dataset.state);
		return s.length === 1 && ["clean", "infected", "unscannable", "broken", "failed"].includes(s[0]);
	}, null, { timeout: 60000 });
	assert(offsets[0] === String(CHUNK), `the first PATCH after the reload starts at ${offsets[0]}`);
	const st = await p.$$eval("#progress li", (ls) => ls.map((l) => [l.querySelector("progress").value,
		l.querySelector(".state").dataset.state, l.querySelector(".state").textContent]));
	assert(JSON.stringify(st) === JSON.stringify([[100, "clean", t.clean]]), `resumed: ${JSON.stringify(st)}`);
	const left = await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("okuru-tus:")).length);
	assert(left === 0, "the finished upload's URL is forgotten");
	await h.checkPage(p, allow);
	await h.shot(p, "7-resumed");
	ok(T, `${lang}/${device}: after a reload the same file resumed at ${CHUNK}, stored and clean`);
	await p.unroute("**/uploads/*");
}

run(T, async (h) => {
	assert(fs.existsSync(clean) && fs.existsSync(eicar), "source files");
	for (const tgt of targets) {
		if (tgt.startsWith("RESUME=")) {
			const [lang, device, addr, ...rest] = tgt.slice(7).split("=");
			const big = rest.pop();
			await resume(h, lang, device, addr, rest.join("="), big);
			continue;
		}
		const [lang, device, addr, ...rest] = tgt.split("=");
		await journey(h, lang, device, addr, rest.join("="));
	}
});
