// pages-admin.js - #/admin: staff accounts (add, disable and enable, unlock,
// reset the second factor, set a password, end sessions), the virus
// scanner and its signature version, mail, and the policy in force with the
// result of checking the file on disk. Read-only where the issue says so:
// the policy is changed on the server, never here.
"use strict";
(function () {
	var O = window.Okuru, h = O.h, t = O.t;
	var ROLES = ["sender", "approver", "auditor", "admin"];

	function users(box) {
		var out = h("div", { id: "users-result" });
		var list = h("div", { id: "users-list" });
		function act(name, body, confirmText) {
			if (confirmText && !window.confirm(confirmText)) return;
			O.api("POST", "/api/v1/admin/users/" + encodeURIComponent(name), body).then(function (r) {
				out.textContent = "";
				out.appendChild(r.status === 200 ? O.message("ok", t("users.done", { name: name })) : O.message("error", O.err(r)));
				render();
			});
		}
		function render() {
			O.api("GET", "/api/v1/admin/users").then(function (r) {
				list.textContent = "";
				if (r.status !== 200) { list.appendChild(O.message("error", O.err(r))); return; }
				list.appendChild(O.table([t("col.name"), t("users.email"), t("users.role"), t("users.state"), t("users.totp"), t("users.sessions"), ""],
					r.json.users.map(function (u) {
						var locked = u.locked_until && new Date(u.locked_until) > new Date();
						var state = u.disabled ? t("users.disabled") : locked ? t("users.locked") : t("users.active");
						var b = function (label, body, c) {
							return h("button", { type: "button", class: "link", "data-action": body.action, onclick: function () { act(u.name, body, c); } }, label);
						};
						return h("tr", { "data-user": u.name },
							h("td", null, O.v(u.name)), h("td", null, O.v(u.email)), h("td", null, t("role." + u.role)),
							h("td", null, state), h("td", null, u.totp_enrolled ? t("users.totp.on") : t("users.totp.off")),
							h("td", null, String(u.sessions || 0)),
							h("td", { class: "actions" },
								u.disabled ? b(t("users.enable"), { action: "enable" })
									: b(t("users.disable"), { action: "disable" }, t("users.disable.confirm", { name: u.name })),
								locked ? b(t("users.unlock"), { action: "unlock" }) : null,
								u.totp_enrolled ? b(t("users.totp.reset"), { action: "totp_reset" }, t("users.totp.reset.confirm", { name: u.name })) : null,
								b(t("users.end"), { action: "end_sessions" })));
					}), "users-table"));
			});
		}
		var name = O.field("u-name", t("col.name"), h("input", { type: "text", required: true, maxlength: 64, pattern: "[A-Za-z0-9._@-]+" }));
		var email = O.field("u-email", t("users.email"), h("input", { type: "email", required: true, maxlength: 254 }));
		var role = O.field("u-role", t("users.role"), h("select", null, ROLES.map(function (x) { return h("option", { value: x }, t("role." + x)); })));
		var groups = O.field("u-groups", t("users.groups"), h("input", { type: "text", maxlength: 400 }), t("users.groups.hint"));
		var pw = O.field("u-password", t("users.password"), h("input", { type: "password", required: true, autocomplete: "new-password", minlength: 12, maxlength: 256 }), t("users.password.hint"));
		var form = h("form", { id: "users-add" }, h("h3", null, t("users.add")), h("div", { class: "cols" }, name.row, email.row, role.row), groups.row, pw.row,
			h("button", { type: "submit", class: "primary" }, t("users.add")));
		form.addEventListener("submit", function (ev) {
			ev.preventDefault();
			var body = { name: name.input.value, email: email.input.value, role: role.input.value, password: pw.input.value };
			var g = groups.input.value.split(/[\s,]+/).filter(function (s) { return s; });
			if (g.length) body.groups = g;
			O.api("POST", "/api/v1/admin/users", body).then(function (r) {
				pw.input.value = "";
				out.textContent = "";
				if (r.status === 201) { out.appendChild(O.message("ok", t("users.added", { name: body.name }))); form.reset(); render(); }
				else out.appendChild(O.message("error", O.err(r)));
			});
		});
		box.appendChild(h("section", { class: "card", id: "users" }, h("h2", null, t("users.title")), out, list, form));
		render();
	}

	// The gateway's state as GET /api/v1/admin/status gives it (api_admin.c):
	// words from i18n, versions, paths and diagnostics as data.
	function status(box) {
		var sec = h("section", { class: "card", id: "status" }, h("h2", null, t("status.title")));
		box.appendChild(sec);
		O.api("GET", "/api/v1/admin/status").then(function (r) {
			if (r.status !== 200) { sec.appendChild(O.message("error", O.err(r))); return; }
			var s = r.json, k = s.okurud || {}, sc = s.scanner || {}, p = s.policy || {}, m = s.mail || {}, d = p.on_disk || {};
			var ready = sc.status === "ok", box2 = m.outbox && typeof m.outbox === "object" ? m.outbox : null;
			sec.appendChild(h("dl", { class: "facts" },
				h("dt", null, t("status.version")), h("dd", null, O.v(k.version || ""), " — ", t("status.started", { time: O.time(k.started) })),
				h("dt", null, t("status.scanner")), h("dd", { id: "status-scanner", "data-status": sc.status },
					ready ? t("status.ready") : t("status.unavailable"),
					ready ? [" — ", t("status.workers.detail", { n: sc.workers_up, target: sc.target, busy: sc.busy }),
						" — ", t("status.sandbox"), " ", O.v(sc.sandbox)] : null),
				h("dt", null, t("status.signatures")), h("dd", { id: "status-signatures" }, ready
					? [t("status.sigs", { n: sc.signatures }), " (", t(sc.database === "official" ? "status.db.official" : "status.db.test"),
						") — ", O.v(sc.engine + " / " + sc.database_version), " — ", t("status.policy.loaded", { time: O.time(sc.loaded) })]
					: t("status.unavailable")),
				sc.last_error ? [h("dt", null, t("status.lasterror")), h("dd", null, O.v(sc.last_error))] : null,
				h("dt", null, t("status.mail")), h("dd", { id: "status-mail" },
					m.configured ? t(m.status === "failing" ? "status.mail.failing" : "status.mail.on") : t("status.mail.off"),
					box2 ? " — " + ["queued", "held", "sent", "failed"].map(function (x) { return t("mail." + x) + " " + (box2[x] || 0); }).join(", ") : ""),
				m.last_error ? [h("dt", null, t("status.lasterror")), h("dd", null, O.v(m.last_error))] : null));
			sec.appendChild(h("h3", null, t("status.policy")));
			sec.appendChild(h("p", { id: "status-policy-file" }, O.v(p.file || ""), " — ", t("status.policy.loaded", { time: O.time(p.loaded) })));
			sec.appendChild(h("div", { id: "status-policy-check" }, O.message(d.valid ? "ok" : "error", d.valid ? t("status.policy.ok") : t("status.policy.bad"))));
			if (!d.valid && d.error) sec.appendChild(h("pre", { class: "policy-json", translate: "no" }, d.error));
			if (d.valid && !d.matches_loaded) sec.appendChild(O.message("info", t("status.policy.differs")));
			sec.appendChild(h("pre", { class: "policy-json", id: "status-policy", translate: "no" }, JSON.stringify(p.content || {}, null, 2)));
		});
	}

	O.pages.admin = function () {
		var box = h("div", null, h("h1", null, t("nav.admin")));
		O.show(box);
		users(box);
		status(box);
	};
})();
