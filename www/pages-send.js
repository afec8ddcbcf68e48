// pages-send.js - #/send: drop files (each uploaded with tus, a progress bar
// each, resumable), watch each file's virus scan, choose recipients and the
// link's settings, see what the policy will decide before sending (a dry
// run of the send), send, and see what it decided.
"use strict";
(function () {
	var O = window.Okuru, h = O.h, t = O.t;
	var FINAL = { clean: 1, infected: 1, unscannable: 1, error: 1 };

	// One part of the decision in the user's words, from its values ("data");
	// a decision stored before okuru kept them shows its English words as data.
	function partValue(d) {
		var x = d.data;
		if (!x) return O.v(d.value);
		switch (d.part) {
		case "deny": return t(x.deny ? "policy.v.denied" : "policy.v.allowed");
		case "approval":
			return x.count ? O.tv("policy.v.approval", { n: x.count, group: O.v(x.group), hours: x.hours,
				self: t(x.self ? "policy.v.self" : "policy.v.notself") }) : t("policy.v.none");
		case "delay": return x.minutes ? t("policy.v.minutes", { n: x.minutes }) : t("policy.v.nodelay");
		case "expiry": return t("policy.v.expiry", { n: x.days, max: x.max_days });
		case "downloads": return t("policy.v.downloads", { n: x.limit });
		case "verification": return t("verification." + x.mode);
		case "unscannable": case "encrypted": return t(x.allowed ? "policy.v.allowed" : "policy.v.blocked");
		case "retention": return t("policy.v.retention", { n: x.days });
		default: return O.v(d.value);
		}
	}
	function part(p, name) {
		return (p.decisions || []).filter(function (d) { return d.part === name; })[0] || {};
	}
	// The outcome's reason in the user's words; a denial's is the administrator's text (data).
	function reason(p, request) {
		var a = part(p, "approval").data, dl = part(p, "delay").data;
		switch (p.outcome) {
		case "send": return t(request ? "policy.reason.request" : "policy.reason.send");
		case "hold": return dl ? t("policy.reason.hold", { n: dl.minutes }) : O.v(p.reason);
		case "approval":
			return a ? O.tv("policy.reason.approval", { n: a.count, group: O.v(a.group),
				self: a.self ? "" : t("policy.reason.notself") }) : O.v(p.reason);
		case "blocked": // the file that stops it and why, where the server says (policy.blocked)
			return p.blocked ? O.tv("policy.reason.blocked.file", { name: O.v(p.blocked.file),
				cause: t("policy.block." + p.blocked.cause) }) : t("policy.reason.blocked");
		default: return null; // denied: p.message, below
		}
	}

	// The policy's outcome in the user's words, with the reason and each rule's part.
	// request: the decision on asking a counterparty for files, not on a send.
	O.policyView = function (p, id, request) {
		if (!p) return null;
		var kind = p.outcome === "send" ? "ok" : p.outcome === "hold" || p.outcome === "approval" ? "info" : "error";
		var rows = (p.decisions || []).map(function (d) {
			return h("tr", null, h("th", { scope: "row" }, t("policy.part." + d.part)), h("td", null, partValue(d)),
				h("td", null, d.rule && d.rule !== "default" ? O.v(d.rule) : t("policy.default")));
		});
		var why = reason(p, request);
		return h("section", { class: "policy p-" + kind, id: id, "aria-live": "polite" },
			h("h3", null, t("policy.outcome." + p.outcome)),
			why ? h("p", { class: "reason" }, why) : null,
			p.message ? h("p", { class: "reason", translate: "no" }, p.message) : null,
			rows.length ? h("details", null, h("summary", null, t("policy.details")),
				h("table", { class: "grid" }, h("thead", null, h("tr", null, h("th", null, t("policy.part")),
					h("th", null, t("policy.value")), h("th", null, t("policy.rule")))), h("tbody", null, rows))) : null);
	};

	// What approval and a send delay mean for this send, in words: how many
	// approvals from which group (上長承認), and how many minutes the links
	// wait so that a wrong send can be recalled (誤送信防止). o: {needed,
	// group, minutes}; null when neither applies.
	O.policyWords = function (o, id) {
		var ws = [];
		if (o.needed > 0)
			ws.push(h("p", { class: "w-approval" }, O.tv("policy.words.approval", {
				n: String(o.needed), group: o.group ? O.v(o.group) : t("policy.words.anygroup")
			})));
		if (o.minutes > 0)
			ws.push(h("p", { class: "w-delay", "data-minutes": o.minutes }, t("policy.words.delay", { minutes: o.minutes })));
		return ws.length ? h("div", { class: "msg info words", id: id, role: "status" }, ws) : null;
	};

	// The send delay of a sent transfer, in whole minutes from its send to its release.
	O.delayMinutes = function (x) {
		if (!x.release || !x.sent) return 0;
		return Math.max(0, Math.round((Date.parse(x.release) - Date.parse(x.sent)) / 60000));
	};

	// A file's scan state as a badge: waiting, clean, blocked (with the signature).
	O.scanBadge = function (f) {
		var s = f.scan, v = s ? s.verdict : "pending";
		var cls = v === "clean" ? "ok" : v === "pending" ? "wait" : "bad";
		// A failed check's message is the server's diagnostic for support: a tooltip, not the badge's words.
		return h("span", { class: "badge b-" + cls, "data-verdict": v, title: s && s.message ? s.message : null }, t("scan." + v),
			s && s.signature ? [" — ", O.v(s.signature)] : null);
	};

	O.pages.send = function () {
		var st = { tid: null, creating: null, rows: {}, files: [], timer: null, uploading: 0 };
		var subject = O.field("send-subject", t("send.subject"), h("input", { type: "text", maxlength: 200 }));
		var pick = h("input", { type: "file", multiple: true, id: "send-files", class: "visually-hidden" });
		var drop = h("div", { class: "drop", id: "send-drop", tabindex: 0, role: "button", "aria-describedby": "send-drop-hint" },
			h("strong", null, t("send.drop")), h("p", { id: "send-drop-hint", class: "hint" }, t("send.drop.hint")));
		var list = h("ul", { class: "files", id: "send-list", "aria-live": "polite", tabindex: -1 });
		var rcpts = O.field("send-recipients", t("send.recipients"), h("textarea", { rows: 3, autocomplete: "email" }), t("send.recipients.hint"));
		var message = O.field("send-message", t("send.message"), h("textarea", { rows: 4, maxlength: 10000 }));
		var days = O.field("send-days", t("send.expiry"), h("input", { type: "number", min: 1, max: 3650, inputmode: "numeric" }), t("send.expiry.hint"));
		var verif = O.field("send-verification", t("send.verification"), h("select", null,
			h("option", { value: "" }, t("send.verification.policy")),
			h("option", { value: "email-otp" }, t("verification.email-otp")),
			h("option", { value: "passphrase" }, t("verification.passphrase")),
			h("option", { value: "none" }, t("verification.none"))));
		var pass = O.field("send-passphrase", t("send.passphrase"), h("input", { type: "password", autocomplete: "new-password", minlength: 8, maxlength: 256 }), t("send.passphrase.hint"));
		pass.row.hidden = true;
		verif.input.addEventListener("change", function () { pass.row.hidden = verif.input.value !== "passphrase"; });
		var preview = h("div", { id: "send-preview" });
		var result = h("div", { id: "send-result" });
		var checkBtn = h("button", { type: "button", id: "send-check" }, t("send.check"));
		var sendBtn = h("button", { type: "submit", class: "primary", id: "send-submit" }, t("send.submit"));

		function body(dry) {
			var b = { recipients: rcpts.input.value.split(/[\s,;]+/).filter(function (s) { return s !== ""; }) };
			if (message.input.value) b.message = message.input.value;
			if (days.input.value) b.expires_days = parseInt(days.input.value, 10);
			if (verif.input.value) b.verification = verif.input.value;
			if (verif.input.value === "passphrase") b.passphrase = pass.input.value;
			if (dry) b.dry_run = true;
			return b;
		}

		function ensureTransfer() {
			if (st.tid) return Promise.resolve(st.tid);
			if (!st.creating)
				st.creating = O.api("POST", "/api/v1/transfers", { subject: subject.input.value || "" }).then(function (r) {
					if (r.status !== 201) {
						var e = new Error((r.json && r.json.error) || "");
						e.status = r.status;
						e.code = r.json && r.json.code;
						throw e;
					}
					st.tid = r.json.id;
					subject.input.disabled = true;
					return st.tid;
				});
			return st.creating;
		}

		function row(file) {
			var bar = h("progress", { max: 100, value: 0, "aria-label": t("send.progress", { name: file.name }) });
			var state = h("span", { class: "state" }, t("send.waiting"));
			var remove = h("button", { type: "button", class: "link remove", hidden: true }, t("send.remove"));
			var li = h("li", { "data-name": file.name }, h("span", { class: "name", translate: "no" }, file.name),
				h("span", { class: "size" }, O.bytes(file.size)), bar, state, remove);
			list.appendChild(li);
			st.rows[file.name] = { li: li, bar: bar, state: state, remove: remove };
			remove.addEventListener("click", function () {
				var id = li.getAttribute("data-file");
				O.api("DELETE", "/api/v1/transfers/" + st.tid + "/files/" + id).then(function (r) {
					if (r.status === 200) {
						list.removeChild(li);
						delete st.rows[file.name];
						list.focus();
						return;
					}
					state.appendChild(h("span", { class: "badge b-bad" }, O.err(r)));
				});
			});
			return st.rows[file.name];
		}

		function add(files) {
			result.textContent = "";
			Array.prototype.forEach.call(files, function (file) {
				if (st.rows[file.name]) return;
				var r = row(file);
				st.uploading++;
				ensureTransfer().then(function (tid) {
					r.state.textContent = t("send.uploading");
					return window.OkuruTus.upload(file, { transfer: tid }, {
						headers: { "X-CSRF-Token": O.session.csrf },
						onProgress: function (sent, total) {
							r.bar.value = total ? Math.floor(sent * 100 / total) : 100;
						},
						onStatus: function () { r.state.textContent = t("send.retrying"); }
					});
				}).then(function () {
					r.bar.value = 100;
					r.state.textContent = t("scan.pending");
					r.li.classList.add("uploaded");
					poll();
				}, function (e) {
					if (e.status === 401) { O.sessionEnded(); return; } // uploads are XHR, outside O.api
					r.state.textContent = "";
					r.state.appendChild(h("span", { class: "badge b-bad", "data-status": e.status || 0 },
						e.status ? O.err({ status: e.status, json: { error: e.message, code: e.code } }) : t("error.network")));
					r.li.classList.add("failed");
				}).then(function () { st.uploading--; });
			});
		}

		function poll() {
			if (st.timer || !st.tid) return;
			st.timer = setTimeout(function () {
				st.timer = null;
				if (!document.getElementById("send-list")) return; // left the page
				O.api("GET", "/api/v1/transfers/" + st.tid).then(function (r) {
					if (r.status !== 200) return;
					var waiting = st.uploading > 0;
					st.files = r.json.files;
					r.json.files.forEach(function (f) {
						var x = st.rows[f.name];
						if (!x) return;
						x.li.setAttribute("data-file", f.id);
						x.remove.hidden = !(f.scan && FINAL[f.scan.verdict]);
						x.remove.setAttribute("aria-label", t("send.remove.name", { name: f.name }));
						x.state.textContent = "";
						x.state.appendChild(O.scanBadge(f));
						x.state.appendChild(h("code", { class: "sha", title: "SHA-256", translate: "no" }, f.sha256));
						if (!(f.scan && FINAL[f.scan.verdict])) waiting = true;
					});
					if (waiting) poll();
				});
			}, 1000);
		}

		function show(p, where) {
			where.textContent = "";
			where.appendChild(O.policyView(p, where.id + "-policy"));
		}

		checkBtn.addEventListener("click", function () {
			if (!st.tid) { preview.textContent = ""; preview.appendChild(O.message("error", t("send.nofiles"))); return; }
			O.api("POST", "/api/v1/transfers/" + st.tid + "/send", body(true)).then(function (r) {
				if (r.json && r.json.policy) show(r.json.policy, preview);
				else { preview.textContent = ""; preview.appendChild(O.message("error", O.err(r))); }
				var w = r.status === 200 && r.json && r.json.dry_run ? O.policyWords({ needed: r.json.approvals_needed,
					group: r.json.approval_group, minutes: r.json.delay_minutes }, "send-preview-words") : null;
				if (w) preview.appendChild(w);
				if (r.json && r.json.error && r.json.policy) preview.appendChild(O.message("error", O.err(r)));
			});
		});

		var form = h("form", { id: "send-form", class: "card" });
		form.addEventListener("submit", function (ev) {
			ev.preventDefault();
			if (!st.tid) { result.textContent = ""; result.appendChild(O.message("error", t("send.nofiles"))); return; }
			if (st.uploading > 0) { result.textContent = ""; result.appendChild(O.message("error", t("send.stilluploading"))); return; }
			sendBtn.disabled = true;
			O.api("POST", "/api/v1/transfers/" + st.tid + "/send", body(false)).then(function (r) {
				sendBtn.disabled = false;
				result.textContent = "";
				if (r.status === 200 || r.status === 202) {
					var s = r.json;
					var what = s.state === "pending" ? t("send.done.approval") : s.state === "held"
						? t("send.done.held", { time: O.time(s.release) }) : t("send.done.sent");
					result.appendChild(O.message("ok", what));
					var w = O.policyWords({ needed: s.approval ? s.approval.needed : 0,
						group: s.approval ? s.approval.group : "", minutes: O.delayMinutes(s) }, "send-result-words");
					if (w) result.appendChild(w);
					if (s.policy) result.appendChild(O.policyView(s.policy, "send-result-policy"));
					result.appendChild(h("p", null, h("a", { href: "#/transfers/" + s.id, id: "send-open" }, t("send.open"))));
					form.querySelectorAll("input,textarea,select,button").forEach(function (e) { e.disabled = true; });
					return;
				}
				result.appendChild(O.message("error", O.err(r)));
				if (r.json && r.json.policy) result.appendChild(O.policyView(r.json.policy, "send-result-policy"));
			});
		});

		pick.addEventListener("change", function () { add(pick.files); pick.value = ""; });
		drop.addEventListener("click", function () { pick.click(); });
		drop.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick.click(); } });
		drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
		drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
		drop.addEventListener("drop", function (e) { e.preventDefault(); drop.classList.remove("over"); add(e.dataTransfer.files); });

		form.appendChild(h("h1", null, t("send.title")));
		[subject.row, h("label", { for: "send-files", class: "visually-hidden" }, t("send.drop")), pick, drop, list,
			rcpts.row, message.row, h("div", { class: "cols" }, days.row, verif.row), pass.row,
			h("div", { class: "actions" }, checkBtn, sendBtn), preview, result].forEach(function (e) { form.appendChild(e); });
		O.show(form);
	};
})();
