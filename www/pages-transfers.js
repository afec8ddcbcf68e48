// pages-transfers.js - #/transfers: the user's transfers, newest first;
// #/transfers/ID: one transfer with its files, the policy's decision and each
// recipient's mail, verification and downloads (the receipt), the approval
// with each approver's vote and comment, the send delay in words, with
// revoke, extend and recall; #/requests: ask a counterparty for files, and the
// requests made with how far each counterparty got (a request's own page
// is #/transfers/ID: who was asked, the files they uploaded with their
// scan state and hash, a download for each file that passed the scan).
"use strict";
(function () {
	var O = window.Okuru, h = O.h, t = O.t;

	function stateBadge(s) {
		var cls = s === "sent" ? "ok" : s === "held" || s === "pending" || s === "draft" ? "wait" : "bad";
		return h("span", { class: "badge b-" + cls, "data-state": s }, t("state." + s));
	}
	O.stateBadge = stateBadge;

	// requestBadge - requests in the app: how far the counterparty got, in
	// words; once the request is no longer a draft its transfer's state says more.
	function requestBadge(x) {
		var q = x.request;
		if (!q || x.state !== "draft") return stateBadge(x.state);
		var s = q.link === "active" ? (q.verified ? "confirmed" : "waiting") : q.link;
		var cls = s === "completed" ? "ok" : s === "waiting" || s === "confirmed" ? "wait" : "bad";
		return h("span", { class: "badge b-" + cls, "data-state": s }, t("req.state." + s));
	}

	function table(head, rows, id) {
		return h("div", { class: "scroll" }, h("table", { class: "grid", id: id },
			h("thead", null, h("tr", null, head.map(function (x) { return h("th", { scope: "col" }, x); }))),
			h("tbody", null, rows)));
	}
	O.table = table;

	function listPage(origin, into) {
		var out = h("div", { id: origin === "request" ? "requests-list" : "transfers-list" });
		var more = h("button", { type: "button", hidden: true }, t("list.more"));
		var tbody = null, cursor = null;
		function load() {
			var q = "/api/v1/transfers?limit=50" + (cursor ? "&before=" + encodeURIComponent(cursor) : "");
			O.api("GET", q).then(function (r) {
				if (r.status !== 200) { out.appendChild(O.message("error", O.err(r))); return; }
				var items = (r.json.transfers || []).filter(function (x) { return (x.origin || "upload") === origin; });
				var rows = items.map(function (x) {
					var files = x.files ? x.files.length : (x.file_count || 0);
					if (origin === "request")
						return h("tr", { "data-id": x.id },
							h("td", null, O.time(x.created)),
							h("td", null, h("a", { href: "#/transfers/" + x.id, translate: x.subject ? "no" : null }, x.subject || t("transfers.nosubject"))),
							h("td", null, O.v(x.request ? x.request.address : "—")),
							h("td", null, requestBadge(x)), h("td", null, String(files)),
							h("td", null, O.time(x.request && x.request.expires)));
					var rc = (x.recipients || []).map(function (p) { return p.address; }).join(", ") ||
						(x.request ? x.request.address : "");
					return h("tr", null,
						h("td", null, O.time(x.created)),
						h("td", null, h("a", { href: "#/transfers/" + x.id, translate: x.subject ? "no" : null }, x.subject || t("transfers.nosubject"))),
						h("td", null, stateBadge(x.state)), h("td", null, String(files)), h("td", null, O.v(rc)));
				});
				if (!tbody) {
					var tb = origin === "request"
						? table([t("col.created"), t("col.subject"), t("req.counterparty"), t("col.state"), t("col.files"), t("col.expires")], rows, "requests-table")
						: table([t("col.created"), t("col.subject"), t("col.state"), t("col.files"), t("col.recipients")], rows, "transfers-table");
					tbody = tb.querySelector("tbody");
					out.appendChild(rows.length || r.json.next ? tb : h("p", { class: "empty" }, t("list.empty")));
				} else {
					rows.forEach(function (x) { tbody.appendChild(x); });
				}
				cursor = r.json.next || null;
				more.hidden = !cursor;
			});
		}
		more.addEventListener("click", load);
		into.appendChild(out);
		into.appendChild(more);
		load();
	}

	// A link mail ended before its first attempt (a rejection, a recall, a
	// revoked link) was cancelled, not a failed delivery: nothing left.
	function mailState(m) {
		return m.state === "failed" && !m.attempts ? "mail.cancelled" : "mail." + m.state;
	}

	function detail(id) {
		var box = h("section", { class: "card", id: "transfer" });
		var back = h("p", null, h("a", { href: "#/transfers" }, "← " + t("nav.transfers")));
		O.show(back, box);
		function act(method, path, body, confirmText) {
			if (confirmText && !window.confirm(confirmText)) return;
			O.api(method, path, body).then(function (r) {
				if (r.status >= 200 && r.status < 300) render();
				else box.insertBefore(O.message("error", O.err(r)), box.firstChild);
			});
		}
		function render() {
			O.api("GET", "/api/v1/transfers/" + id).then(function (r) {
				box.textContent = "";
				if (r.status !== 200) { box.appendChild(O.message("error", O.err(r))); return; }
				var x = r.json, live = x.state === "sent" || x.state === "held" || x.state === "pending" || x.state === "expired";
				// Ended before anything went out: no release, no expiry to speak of.
				var unsent = x.state === "rejected" || x.state === "recalled" || x.state === "lapsed";
				var asked = x.origin === "request" && x.request;
				if (asked) { // requests in the app: back to the requests, the counterparty's side first
					back.textContent = "";
					back.appendChild(h("a", { href: "#/requests" }, "← " + t("request.list")));
					O.markNav("requests");
				}
				box.appendChild(h("h1", null, x.subject ? O.v(x.subject) : t("transfers.nosubject"), " ", asked ? requestBadge(x) : stateBadge(x.state)));
				if (asked) box.appendChild(h("h2", null, t("transfer.request")));
				if (asked) box.appendChild(h("dl", { class: "facts", id: "t-request" },
					h("dt", null, t("req.counterparty")), h("dd", null, O.v(x.request.address)),
					x.message ? [h("dt", null, t("req.message")), h("dd", { class: "message" }, O.v(x.message))] : null,
					h("dt", null, t("col.created")), h("dd", null, O.time(x.created)),
					h("dt", null, t("req.link.expires")), h("dd", null, O.time(x.request.expires)),
					h("dt", null, t("col.verified")), h("dd", null, O.time(x.request.verified)),
					h("dt", null, t("req.completed")), h("dd", null, O.time(x.request.completed))));
				if (!asked || x.state !== "draft") box.appendChild(h("dl", { class: "facts" },
					h("dt", null, t("col.created")), h("dd", null, O.time(x.created)),
					h("dt", null, t("col.sent")), h("dd", null, O.time(x.sent)),
					x.release && !unsent ? [h("dt", null, t("col.release")), h("dd", null, O.time(x.release))] : null,
					unsent ? null : [h("dt", null, t("col.expires")), h("dd", null, O.time(x.expires))],
					x.verification ? [h("dt", null, t("send.verification")), h("dd", null, t("verification." + x.verification))] : null));
				var acts = h("div", { class: "actions" });
				if (x.state === "held" || x.state === "pending")
					acts.appendChild(h("button", { type: "button", id: "t-recall", onclick: function () {
						act("DELETE", "/api/v1/transfers/" + id, undefined, t("transfer.recall.confirm"));
					} }, t("transfer.recall")));
				else if (live || x.state === "draft")
					acts.appendChild(h("button", { type: "button", id: "t-revoke", class: "danger", onclick: function () {
						act("DELETE", "/api/v1/transfers/" + id, undefined, t("transfer.revoke.confirm"));
					} }, t("transfer.revoke")));
				if (live && x.state !== "pending") {
					var d = O.field("t-days", t("transfer.extend.days"), h("input", { type: "number", min: 1, max: 3650, inputmode: "numeric", required: true }));
					var f = h("form", { class: "inline", id: "t-extend" }, d.row, h("button", { type: "submit" }, t("transfer.extend")));
					f.addEventListener("submit", function (ev) {
						ev.preventDefault();
						act("PATCH", "/api/v1/transfers/" + id, { expires_days: parseInt(d.input.value, 10) });
					});
					acts.appendChild(f);
				}
				box.appendChild(acts);
				// Inside the send delay: when the links go out, and that a recall stops them.
				var words = x.state === "held" ? O.policyWords({ minutes: O.delayMinutes(x) }, "t-delay") : null;
				if (words) {
					words.appendChild(h("p", null, t("transfer.release", { time: O.time(x.release) })));
					box.appendChild(words);
				}
				if (unsent)
					box.appendChild(h("p", { class: "msg info", id: "t-ended" }, t("transfer.ended." + x.state)));
				if (x.approval) box.appendChild(O.approvalView(x, "t-approval"));
				box.appendChild(h("h2", null, t("transfer.files")));
				// Only a file that passed the scan has a download; the server refuses the rest too.
				box.appendChild(x.files.length ? table([t("col.name"), t("col.size"), t("col.scan"), "SHA-256", ""], x.files.map(function (f) {
					var ok = f.scan && f.scan.verdict === "clean";
					var href = "/api/v1/transfers/" + id + "/files/" + f.id;
					return h("tr", { "data-name": f.name }, h("td", null, ok
						? h("a", { href: href, download: f.name, translate: "no" }, f.name) : O.v(f.name)),
					h("td", null, O.bytes(f.size)), h("td", null, O.scanBadge(f)), h("td", null, h("code", { class: "sha", translate: "no" }, f.sha256)),
					h("td", null, ok ? h("a", { href: href, download: f.name, class: "button dl", "aria-label": t("file.download.name", { name: f.name }) }, t("file.download"))
						: h("span", { class: "blocked" }, t("file.blocked"))));
				}), "t-files") : h("p", { class: "empty", id: "t-files-none" }, asked ? t("req.nofiles") : t("list.empty")));
				if (x.policy) box.appendChild(O.policyView(x.policy, "t-policy", x.origin === "request"));
				if (x.recipients && x.recipients.length) {
					box.appendChild(h("h2", null, t("transfer.recipients")));
					box.appendChild(table([t("col.recipient"), t("col.link"), t("col.mail"), t("col.verified"), t("col.downloads"), ""],
						x.recipients.map(function (p) {
							var dl = p.downloads.filter(function (d) { return d.complete; });
							return h("tr", { "data-address": p.address },
								h("td", null, O.v(p.address)), h("td", null, t("link." + p.link)),
								h("td", null, p.mail ? [t(mailState(p.mail)), p.mail.tls ? [" (", O.v(p.mail.tls), ")"] : null] : "—"),
								h("td", null, O.time(p.verification.verified)),
								h("td", { class: "receipt" }, dl.length ? dl.map(function (d) {
									var file = x.files.filter(function (f) { return f.id === d.file; })[0];
									return h("div", null, O.v(file ? file.name : d.file), " — " + O.time(d.finished) + " — ", O.v(d.ip));
								}) : "—"),
								h("td", null, p.link === "active" ? h("button", { type: "button", class: "link", onclick: function () {
									act("DELETE", "/api/v1/transfers/" + id + "/recipients/" + p.id, undefined, t("recipient.revoke.confirm", { address: p.address }));
								} }, t("recipient.revoke")) : null));
						}), "t-recipients"));
				}
			});
		}
		render();
	}

	O.pages.transfers = function (args) {
		// Only a server id goes into an API path: "#/transfers/ID?x" must not become "?x".
		if (args[0] && /^[0-9a-f]{32}$/.test(args[0])) { detail(args[0]); return; }
		var box = h("section", { class: "card" }, h("h1", null, t("nav.transfers")));
		O.show(box);
		listPage("upload", box);
	};

	O.pages.requests = function () {
		var addr = O.field("req-address", t("request.address"), h("input", { type: "email", required: true, autocomplete: "email", maxlength: 254 }));
		var subject = O.field("req-subject", t("send.subject"), h("input", { type: "text", maxlength: 200 }));
		var message = O.field("req-message", t("req.message"), h("textarea", { rows: 3, maxlength: 10000 }));
		var days = O.field("req-days", t("send.expiry"), h("input", { type: "number", min: 1, max: 3650, inputmode: "numeric" }), t("req.expiry.hint"));
		var files = O.field("req-files", t("request.maxfiles"), h("input", { type: "number", min: 1, max: 10000, inputmode: "numeric" }));
		var out = h("div", { id: "req-result" });
		var form = h("form", { class: "card", id: "req-form" }, h("h1", null, t("request.title")), h("p", null, t("request.intro")),
			addr.row, subject.row, message.row, h("div", { class: "cols" }, days.row, files.row),
			h("button", { type: "submit", class: "primary" }, t("request.submit")), out);
		form.addEventListener("submit", function (ev) {
			ev.preventDefault();
			var b = { address: addr.input.value };
			if (subject.input.value) b.subject = subject.input.value;
			if (message.input.value) b.message = message.input.value;
			if (days.input.value) b.expires_days = parseInt(days.input.value, 10);
			if (files.input.value) b.max_files = parseInt(files.input.value, 10);
			O.api("POST", "/api/v1/requests", b).then(function (r) {
				out.textContent = "";
				if (r.status === 201 || r.status === 200) {
					out.appendChild(O.message("ok", t("request.done", { address: b.address })));
					out.appendChild(h("a", { href: "#/transfers/" + r.json.id, id: "req-open" }, t("req.open")));
					form.reset();
					showList(); // the new request at the top, with its state
					return;
				}
				out.appendChild(O.message("error", O.err(r)));
				if (r.json && r.json.policy) out.appendChild(O.policyView(r.json.policy, "req-policy"));
			});
		});
		var list = h("section", { class: "card", id: "requests" });
		function showList() {
			list.textContent = "";
			list.appendChild(h("h2", null, t("request.list")));
			listPage("request", list);
		}
		O.show(form, list);
		showList();
	};
})();
