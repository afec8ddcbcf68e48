// pages-review.js - #/approvals: the approver's inbox (上長承認), each
// transfer with its files, recipients and the policy's reason, approved or
// rejected with a comment (#/approvals/ID, the approval mail's link: that
// one transfer); #/audit: the auditor's search of the audit log
// (every filter the API has, paged), its export as CSV or JSONL, and the
// integrity check of the hash chain and signed checkpoints.
"use strict";
(function () {
	var O = window.Okuru, h = O.h, t = O.t;

	// The approval of a transfer: how many of how many from which group, the
	// deadline while it waits, and each approver's vote with its comment (a
	// rejection's comment is what the sender reads). null when none was needed.
	O.approvalView = function (x, id, level) {
		var a = x.approval;
		if (!a) return null;
		var have = a.votes.filter(function (v) { return v.decision === "approve"; }).length;
		var rows = a.votes.map(function (v) {
			return h("tr", { "data-decision": v.decision }, h("td", null, O.v(v.approver)),
				h("td", null, t("approval.vote." + v.decision)),
				h("td", { class: "comment" }, v.comment ? O.v(v.comment) : "—"), h("td", null, O.time(v.at)));
		});
		return h("section", { class: "approval-state", id: id },
			h(level || "h2", null, t("approval.title")),
			h("p", { class: "needed" }, O.tv("approval.needed", {
				have: String(have), needed: String(a.needed), group: a.group ? O.v(a.group) : t("policy.words.anygroup")
			})),
			x.state === "pending" && a.expires ? h("p", { class: "deadline" }, t("approval.deadline", { time: O.time(a.expires) })) : null,
			rows.length ? O.table([t("approval.col.approver"), t("approval.col.decision"), t("approval.col.comment"), t("col.time")],
				rows, id + "-votes") : null);
	};

	// #/approvals: everything waiting for this user's decision; #/approvals/ID
	// (the link in the approval mail): that one transfer, or why it is not
	// here (decided already, the user's own, or another group's).
	O.pages.approvals = function (args) {
		var only = args[0] && /^[0-9a-f]{32}$/.test(args[0]) ? args[0] : null;
		var box = h("section", { class: "card", id: "approvals" }, h("h1", null, t("nav.approvals")));
		var done = null; // the answer to the last decision, kept over the re-render
		O.show(box);
		function render() {
			O.api("GET", "/api/v1/approvals").then(function (r) {
				while (box.childNodes.length > 1) box.removeChild(box.lastChild);
				if (done) box.appendChild(done);
				if (r.status !== 200) { box.appendChild(O.message("error", O.err(r))); return; }
				var list = r.json.pending.filter(function (x) { return !only || x.id === only; });
				if (only && !list.length && !done) {
					var nw = O.message("info", t("approvals.notwaiting"));
					nw.id = "approvals-notwaiting";
					box.appendChild(nw);
				}
				if (!only && !list.length) box.appendChild(h("p", { class: "empty" }, t("approvals.empty")));
				if (only) box.appendChild(h("p", null, h("a", { href: "#/approvals", id: "approvals-all" }, t("approvals.all"))));
				list.forEach(function (x) {
					var comment = O.field("c-" + x.id, t("approvals.comment"), h("textarea", { rows: 2, maxlength: 1000 }));
					var out = h("div");
					function decide(d) {
						O.api("POST", "/api/v1/approvals/" + x.id, { decision: d, comment: comment.input.value }).then(function (res) {
							if (res.status === 200) {
								done = O.message("ok", t("approvals.done." + res.json.decision));
								done.id = "approvals-done";
								done.setAttribute("data-decision", res.json.decision);
								render();
								return;
							}
							out.textContent = "";
							out.appendChild(O.message("error", O.err(res)));
						});
					}
					box.appendChild(h("article", { class: "approval", "data-transfer": x.id },
						h("h2", null, x.subject ? O.v(x.subject) : t("transfers.nosubject")),
						h("p", { class: "a-owner" }, t("approvals.from", { owner: "" }), O.v(x.owner || ""),
							x.owner_email ? [" <", O.v(x.owner_email), ">"] : null),
						h("ul", { class: "a-files" }, x.files.map(function (f) {
							return h("li", { "data-name": f.name }, O.v(f.name), " (" + O.bytes(f.size) + ") ", O.scanBadge(f));
						})),
						h("p", { class: "a-recipients" }, t("col.recipients") + ": ",
							O.v((x.recipients || []).map(function (p) { return p.address; }).join(", "))),
						x.message ? h("blockquote", { translate: "no" }, x.message) : null,
						O.policyView(x.policy, "p-" + x.id),
						O.approvalView(x, "a-" + x.id, "h3"),
						x.may_decide === false ? h("p", { class: "hint" }, t("approvals.cannot")) : [comment.row,
							h("div", { class: "actions" },
								h("button", { type: "button", class: "primary approve", onclick: function () { decide("approve"); } }, t("approvals.approve")),
								h("button", { type: "button", class: "danger reject", onclick: function () { decide("reject"); } }, t("approvals.reject")))],
						out));
				});
			});
		}
		render();
	};

	O.pages.audit = function () {
		var f = {};
		var fields = [["from", "datetime-local"], ["to", "datetime-local"], ["actor", "text"], ["recipient", "email"],
			["transfer", "text"], ["event", "text"], ["outcome", "text"]];
		var form = h("form", { class: "card", id: "audit-form" }, h("h1", null, t("nav.audit")));
		var grid = h("div", { class: "cols filters" });
		fields.forEach(function (x) {
			f[x[0]] = O.field("audit-" + x[0], t("audit." + x[0]), h("input", { type: x[1], maxlength: 254 }));
			grid.appendChild(f[x[0]].row);
		});
		form.appendChild(grid);
		form.appendChild(h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("audit.search")),
			h("a", { class: "button", id: "audit-csv", href: "#" }, t("audit.export.csv")),
			h("a", { class: "button", id: "audit-jsonl", href: "#" }, t("audit.export.jsonl")),
			h("button", { type: "button", id: "audit-verify" }, t("audit.verify"))));
		var integrity = h("div", { id: "audit-integrity", "aria-live": "polite" });
		var results = h("div", { id: "audit-results" });
		var more = h("button", { type: "button", hidden: true, id: "audit-more" }, t("list.more"));
		var tbody = null, after = null;

		function iso(v) { return v ? new Date(v).toISOString().replace(/\.\d{3}Z$/, "Z") : ""; }
		function query(extra) {
			var q = [];
			Object.keys(f).forEach(function (k) {
				var v = f[k].input.value.trim();
				if (!v) return;
				if (k === "from" || k === "to") v = iso(v);
				q.push(k + "=" + encodeURIComponent(v));
			});
			return q.concat(extra || []).join("&");
		}
		function exportLinks() {
			var base = query();
			form.querySelector("#audit-csv").href = "/api/v1/audit/export?format=csv" + (base ? "&" + base : "");
			form.querySelector("#audit-jsonl").href = "/api/v1/audit/export?format=jsonl" + (base ? "&" + base : "");
		}
		function load(first) {
			var extra = ["limit=100"];
			if (!first && after) extra.push("after=" + after);
			O.api("GET", "/api/v1/audit?" + query(extra)).then(function (r) {
				if (first) { results.textContent = ""; tbody = null; }
				if (r.status !== 200) { results.appendChild(O.message("error", O.err(r))); return; }
				var rows = r.json.records.map(function (a) {
					// Each cell is data on its own (a page check reads them one by one).
					var no = { translate: "no" };
					return h("tr", { "data-event": a.event, translate: "no" },
						h("td", no, String(a.seq)), h("td", no, O.time(a.at)), h("td", no, a.event),
						h("td", no, (a.actor || a.actor_kind) + (a.ip ? " @" + a.ip : "")),
						h("td", no, a.object_kind + " " + a.object_id), h("td", no, a.outcome),
						h("td", no, h("code", { class: "detail" }, JSON.stringify(a.detail))));
				});
				if (!tbody) {
					var tb = O.table(["#", t("col.time"), t("audit.event"), t("audit.actor"), t("audit.object"), t("audit.outcome"), t("audit.detail")], rows, "audit-table");
					tbody = tb.querySelector("tbody");
					results.appendChild(rows.length ? tb : h("p", { class: "empty" }, t("list.empty")));
				} else rows.forEach(function (x) { tbody.appendChild(x); });
				after = r.json.next || null;
				more.hidden = !after;
			});
		}
		form.addEventListener("submit", function (ev) { ev.preventDefault(); exportLinks(); load(true); });
		form.addEventListener("input", exportLinks);
		more.addEventListener("click", function () { load(false); });
		form.querySelector("#audit-verify").addEventListener("click", function () {
			integrity.textContent = t("audit.verifying");
			O.api("GET", "/api/v1/audit/verify").then(function (r) {
				integrity.textContent = "";
				if (r.status !== 200) { integrity.appendChild(O.message("error", O.err(r))); return; }
				var v = r.json;
				integrity.appendChild(O.message(v.ok ? "ok" : "error", v.ok
					? t("audit.verify.ok", { n: v.records, first: v.first_seq, last: v.last_seq, cps: v.checkpoints })
					: t("audit.verify.bad")));
				if (v.problems && v.problems.length)
					integrity.appendChild(h("ul", { class: "problems", translate: "no" }, v.problems.map(function (p) {
						return h("li", null, typeof p === "string" ? p : JSON.stringify(p));
					})));
			});
		});
		exportLinks();
		O.show(form, integrity, h("section", { class: "card" }, results, more));
		load(true);
	};
})();
