// app.js - the core of the staff app: the session (login, TOTP enrolment,
// logout), the JSON API with the CSRF token on every change, the language,
// a DOM builder that only ever makes text nodes of data (nothing is parsed
// as HTML, so every string is escaped by construction), and the router
// (#/send, #/transfers, ...). Pages register themselves in Okuru.pages.
"use strict";
(function () {
	// pages has no prototype: "#/constructor" must not name a page.
	var O = window.Okuru = { pages: Object.create(null), session: null, methods: [] };
	var dict = window.OkuruI18n;

	// ---- language ----------------------------------------------------------
	function pickLang() {
		var asked = new URLSearchParams(location.search).get("lang"), saved = null;
		if (asked === "ja" || asked === "en") {
			try { localStorage.setItem("okuru-lang", asked); } catch (e) { /* ignore */ }
			return asked;
		}
		try { saved = localStorage.getItem("okuru-lang"); } catch (e) { /* ignore */ }
		if (saved === "ja" || saved === "en") return saved;
		var langs = navigator.languages || [navigator.language || "en"];
		for (var i = 0; i < langs.length; i++) {
			var l = String(langs[i]).toLowerCase();
			if (l.indexOf("ja") === 0) return "ja";
			if (l.indexOf("en") === 0) return "en";
		}
		return "en";
	}
	O.lang = pickLang();

	O.t = function (key, vars) {
		var s = (dict[O.lang] && dict[O.lang][key]) || dict.en[key] || key;
		if (vars) Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
		return s;
	};

	O.setLang = function (l) {
		O.lang = l;
		try { localStorage.setItem("okuru-lang", l); } catch (e) { /* ignore */ }
		document.documentElement.lang = l;
		O.route();
	};

	// ---- DOM ---------------------------------------------------------------
	// h("p", {class: "x", onclick: f}, "text", child, ...): strings become text nodes.
	O.h = function (tag, attrs) {
		var e = document.createElement(tag);
		if (attrs) Object.keys(attrs).forEach(function (k) {
			var v = attrs[k];
			if (v === null || v === undefined || v === false) return;
			if (k.indexOf("on") === 0 && typeof v === "function") e.addEventListener(k.slice(2), v);
			else if (k === "text") e.textContent = v;
			else e.setAttribute(k, v === true ? "" : String(v));
		});
		for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
		return e;
	};
	function append(e, c) {
		if (c === null || c === undefined || c === false) return;
		if (Array.isArray(c)) { c.forEach(function (x) { append(e, x); }); return; }
		e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
	}
	var h = O.h;

	// tv(key, vars): O.t with vars that may be nodes (O.v data) put in place; returns nodes
	O.tv = function (key, vars) {
		var s = O.t(key), out = [], re = /\{([a-z_]+)\}/g, at = 0, m;
		while ((m = re.exec(s)) !== null) {
			out.push(s.slice(at, m.index));
			var x = vars && vars[m[1]];
			out.push(x === undefined || x === null ? m[0] : typeof x === "object" ? x : String(x));
			at = re.lastIndex;
		}
		out.push(s.slice(at));
		return out.filter(function (x) { return x !== ""; });
	};

	// v - a value from data (a name, an address, a hash), marked as not to be translated
	O.v = function (text, attrs) {
		return h("span", Object.assign({ translate: "no" }, attrs || {}), text);
	};

	O.view = function () { return document.getElementById("view"); };
	O.show = function () {
		var v = O.view();
		while (v.firstChild) v.removeChild(v.firstChild);
		for (var i = 0; i < arguments.length; i++) append(v, arguments[i]);
	};

	// A labelled field: returns {row, input}
	O.field = function (id, label, input, hint) {
		input.id = id;
		var row = h("div", { class: "field" }, h("label", { for: id }, label), input,
			hint ? h("p", { class: "hint", id: id + "-hint" }, hint) : null);
		if (hint) input.setAttribute("aria-describedby", id + "-hint");
		return { row: row, input: input };
	};

	O.message = function (kind, text) {
		return h("p", { class: "msg " + kind, role: kind === "error" ? "alert" : "status" }, text);
	};

	O.time = function (iso) {
		if (!iso) return "—";
		var d = new Date(iso);
		if (isNaN(d.getTime())) return String(iso);
		return d.toLocaleString(O.lang === "ja" ? "ja-JP" : "en-GB");
	};

	O.bytes = function (n) {
		if (n === null || n === undefined) return "—";
		var u = ["B", "KB", "MB", "GB", "TB"], i = 0; // of 1024, as file managers show
		while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
		return (i ? n.toFixed(1) : String(n)) + " " + u[i];
	};

	// ---- API ---------------------------------------------------------------
	// api(method, path, body) -> Promise of {status, json}; a 401 returns to the login.
	O.api = function (method, path, body) {
		var headers = { "Accept": "application/json" };
		if (method !== "GET" && method !== "HEAD" && O.session && O.session.csrf)
			headers["X-CSRF-Token"] = O.session.csrf;
		if (body !== undefined) headers["Content-Type"] = "application/json";
		return fetch(path, {
			method: method, headers: headers, credentials: "same-origin",
			body: body === undefined ? undefined : JSON.stringify(body)
		}).then(function (r) {
			return r.text().then(function (t) {
				var j = null;
				try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
				if (r.status === 401 && O.session && path.indexOf("/api/v1/session") !== 0) sessionEnded();
				return { status: r.status, json: j, headers: r.headers };
			});
		}, function () {
			return { status: 0, json: { error: O.t("error.network") } };
		});
	};
	// sessionEnded - the server ended the session (logged out elsewhere, idle,
	// ended by an admin): the login form says so, and the same user comes
	// back to the page they were on.
	function sessionEnded() {
		remember(O.session.user.name);
		O.session = null;
		O.flash = O.t("session.ended");
		if (location.hash === "#/login") O.route();
		else location.hash = "#/login";
	}
	O.sessionEnded = function () { if (O.session) sessionEnded(); };

	// err - what went wrong, in the user's language: from the API's "code"
	// where it gives one, else from the HTTP status. The API's "error" text
	// is English; an English page shows it, as it is the most precise.
	var CODES = { session_ended: "session.ended", csrf: "error.code.csrf", policy_denied: "error.code.policy_denied",
		policy_blocked: "error.code.policy_blocked", not_found: "error.404" };
	O.err = function (r) {
		var code = r.json && r.json.code, s = r.status;
		if (!s) return O.t("error.network");
		if (O.lang === "en" && r.json && typeof r.json.error === "string" && r.json.error) return r.json.error;
		if (code && CODES[code]) return O.t(CODES[code]);
		if (s === 401) return O.t("session.ended");
		if (s === 400 || s === 414 || s === 415) return O.t("error.400");
		if ([403, 404, 409, 410, 413, 423, 429, 507].indexOf(s) >= 0) return O.t("error." + s);
		if (s >= 500) return O.t("error.5xx");
		return O.t("error.status", { status: s });
	};

	O.can = function (what) {
		var role = O.session && O.session.user.role;
		switch (what) {
		case "send": return role === "sender" || role === "approver" || role === "admin";
		case "approve": return role === "approver" || role === "admin";
		case "audit": return role === "auditor";
		case "admin": return role === "admin";
		default: return false;
		}
	};

	// ---- frame -------------------------------------------------------------
	function frame() {
		var nav = document.getElementById("nav"), who = document.getElementById("who");
		var langs = document.getElementById("langs");
		[nav, who, langs].forEach(function (e) { while (e.firstChild) e.removeChild(e.firstChild); });
		document.getElementById("skip").textContent = O.t("skip");
		document.title = O.t("app.title");
		document.documentElement.lang = O.lang;
		var nl = h("nav", { class: "lang", "aria-label": O.t("lang.switch") });
		["ja", "en"].forEach(function (l) {
			nl.appendChild(h("a", {
				lang: l, hreflang: l, href: "?lang=" + l + location.hash, "aria-current": O.lang === l ? "true" : null,
				onclick: function (ev) { ev.preventDefault(); O.setLang(l); }
			}, l === "ja" ? "日本語" : "English"));
		});
		langs.appendChild(nl);
		if (!O.session || O.session.stage !== "full") return;
		var here = location.hash.split("/")[1] || "";
		var items = [];
		if (O.can("send")) items.push(["send", "nav.send"], ["transfers", "nav.transfers"], ["requests", "nav.requests"]);
		if (O.can("approve")) items.push(["approvals", "nav.approvals"]);
		if (O.can("audit")) items.push(["audit", "nav.audit"]);
		if (O.can("admin")) items.push(["admin", "nav.admin"]);
		var ul = h("ul");
		items.forEach(function (it) {
			ul.appendChild(h("li", null, h("a", {
				href: "#/" + it[0], "aria-current": here === it[0] ? "page" : null
			}, O.t(it[1]))));
		});
		nav.appendChild(ul);
		who.appendChild(h("span", { class: "user" }, O.session.user.name + " (" + O.t("role." + O.session.user.role) + ")"));
		who.appendChild(h("button", { type: "button", class: "link", id: "logout", onclick: logout }, O.t("logout")));
		who.appendChild(h("button", { type: "button", class: "link", id: "logout-all", onclick: logoutAll }, O.t("logout.all")));
	}

	function logout() {
		O.api("DELETE", "/api/v1/session").then(function () {
			O.session = null;
			location.hash = "#/login";
		});
	}
	function logoutAll() {
		O.api("POST", "/api/v1/session/end-all", {}).then(function () {
			O.session = null;
			O.flash = O.t("logout.all.done");
			location.hash = "#/login";
		});
	}

	// ---- login -------------------------------------------------------------
	function loginPage() {
		var user = O.field("login-user", O.t("login.user"), h("input", { type: "text", autocomplete: "username", required: true, maxlength: 64 }));
		var pw = O.field("login-password", O.t("login.password"), h("input", { type: "password", autocomplete: "current-password", required: true, maxlength: 256 }));
		var code = O.field("login-code", O.t("login.code"), h("input", {
			type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6
		}), O.t("login.code.hint"));
		var out = h("div", { id: "login-result" });
		var form = h("form", { id: "login-form", class: "card narrow" },
			h("h1", null, O.t("login.title")), user.row, pw.row, code.row,
			h("button", { type: "submit", class: "primary" }, O.t("login.submit")), out);
		form.addEventListener("submit", function (ev) {
			ev.preventDefault();
			var body = { user: user.input.value, password: pw.input.value };
			if (code.input.value) body.code = code.input.value;
			out.textContent = "";
			O.api("POST", "/api/v1/session", body).then(function (r) {
				pw.input.value = "";
				code.input.value = "";
				if (r.status === 200) {
					O.session = r.json;
					go(O.session.stage === "full" ? wanted() : "#/enroll");
					return;
				}
				out.appendChild(O.message("error", r.status === 401 ? O.t("login.refused") : O.err(r)));
			});
		});
		var extra = [];
		if (O.methods.indexOf("proxy") >= 0)
			extra.push(h("button", { type: "button", id: "login-sso", onclick: function () { other("/api/v1/session/sso", out); } }, O.t("login.sso")));
		if (O.methods.indexOf("certificate") >= 0)
			extra.push(h("button", { type: "button", id: "login-cert", onclick: function () { other("/api/v1/session/certificate", out); } }, O.t("login.cert")));
		if (extra.length) form.appendChild(h("div", { class: "others" }, h("p", null, O.t("login.or")), extra));
		var flash = O.flash ? O.message("info", O.flash) : null;
		O.flash = null;
		O.show(flash, form);
		user.input.focus();
	}

	function other(path, out) {
		O.api("POST", path, {}).then(function (r) {
			if (r.status === 200) { O.session = r.json; go(wanted()); return; }
			out.textContent = "";
			out.appendChild(O.message("error", O.err(r)));
		});
	}

	// ---- TOTP enrolment ----------------------------------------------------
	function enrollPage() {
		var out = h("div", { id: "enroll-result" });
		var box = h("section", { class: "card narrow", id: "enroll" }, h("h1", null, O.t("enroll.title")),
			h("p", null, O.t("enroll.intro")), out);
		O.show(box);
		O.api("POST", "/api/v1/session/totp", {}).then(function (r) {
			if (r.status !== 200) { out.appendChild(O.message("error", O.err(r))); return; }
			var code = O.field("enroll-code", O.t("enroll.code"), h("input", {
				type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6, required: true
			}));
			var res = h("div");
			var form = h("form", { id: "enroll-form" }, code.row, h("button", { type: "submit", class: "primary" }, O.t("enroll.confirm")), res);
			form.addEventListener("submit", function (ev) {
				ev.preventDefault();
				O.api("POST", "/api/v1/session/totp/confirm", { code: code.input.value }).then(function (c) {
					if (c.status === 200) { O.session = c.json; go(wanted()); return; }
					res.textContent = "";
					res.appendChild(O.message("error", O.err(c)));
				});
			});
			box.insertBefore(h("div", { class: "qr" },
				h("img", { src: r.json.qr + "?t=" + Date.now(), alt: O.t("enroll.qr.alt"), width: 220, height: 220, id: "enroll-qr" }),
				h("p", null, O.t("enroll.secret")),
				h("code", { id: "enroll-secret", class: "secret" }, r.json.secret)), out);
			box.insertBefore(form, out);
			code.input.focus();
		});
	}

	// back - after a login, the page the session ended on (the same user's), else home
	function home() {
		if (O.can("send")) return "send";
		if (O.can("audit")) return "audit";
		if (O.can("admin")) return "admin";
		return "transfers";
	}
	O.home = home;

	// markNav - mark another item of the menu as the current page: a
	// request's own page (#/transfers/ID) belongs under "Request files"
	O.markNav = function (page) {
		document.querySelectorAll("nav#nav ul a").forEach(function (a) {
			if (a.getAttribute("href") === "#/" + page) a.setAttribute("aria-current", "page");
			else a.removeAttribute("aria-current");
		});
	};

	// ---- deep links ----------------------------------------------------------
	// A link from a mail (#/approvals/ID, #/transfers/ID) opened before the
	// login: the page is kept while the login and the enrolment take their
	// turns, and opened once the session is complete. Only the app's own
	// shape of address is kept (a page name and at most a server id).
	// A page kept when a session ended (user given) is opened again only for
	// the same user: someone else logging in on this browser starts at home.
	function remember(user) {
		var m = /^#\/([a-z]+)(\/[0-9a-f]{32})?$/.exec(location.hash);
		if (m && m[1] !== "login" && m[1] !== "enroll" && O.pages[m[1]]) {
			O.next = location.hash;
			O.nextUser = user || null;
		}
	}
	function wanted() {
		var same = !O.nextUser || (O.session && O.session.user.name === O.nextUser);
		var w = O.next && same ? O.next : "#/" + home();
		O.next = O.nextUser = null;
		return w;
	}
	// go - open a page; the same address again fires no hashchange, so route at once
	function go(hash) {
		if (location.hash === hash) O.route();
		else location.hash = hash;
	}

	// ---- router ------------------------------------------------------------
	O.route = function () {
		var parts = location.hash.replace(/^#\/?/, "").split("/");
		var page = parts[0] || "";
		if (!O.session) { remember(); frame(); loginPage(); return; }
		if (O.session.stage !== "full") { frame(); enrollPage(); return; }
		if (page === "" || page === "login" || page === "enroll" || !O.pages[page]) {
			location.hash = "#/" + home();
			return;
		}
		frame();
		O.pages[page](parts.slice(1));
		O.view().focus();
	};

	O.start = function () {
		window.addEventListener("hashchange", O.route);
		O.api("GET", "/api/v1/session").then(function (r) {
			if (r.status === 200) O.session = r.json;
			else if (r.json && r.json.methods) O.methods = r.json.methods;
			O.route();
		});
	};
})();
