// upload.js - the counterparty's upload page: each chosen file is sent
// through tus (tus.js, window.OkuruTus) to the link's uploads/ URL, one
// after another, with a progress bar each; a broken connection is resumed
// from the server's offset, and so is a reload once the same file is
// chosen again (tus.js keeps the upload's URL in localStorage, keyed by
// the link, the file's name, size and mtime). Then the page asks the
// link's JSON (GET with Accept: application/json) for the files'
// virus-check states until each is final, with a growing pause, a bounded
// number of times. Words come from the page (data-* attributes on
// #progress, in the page's language); names are set as text, never markup.
// No framework, no inline script.
"use strict";
(function () {
	var input = document.getElementById("files");
	var list = document.getElementById("progress");
	if (!input || !list) return;
	var endpoint = input.getAttribute("data-tus");
	var page = endpoint.replace(/\/uploads$/, "");
	var FINAL = { clean: 1, infected: 1, unscannable: 1, broken: 1 };
	var rows = {}; // file id -> its row, while its state is not final

	function word(name) {
		return list.getAttribute("data-" + name) || name;
	}

	function showState(r, state) {
		r.state.setAttribute("data-state", state);
		r.state.textContent = word("scan") + ": " + word(state);
	}

	function row(name) {
		var li = document.createElement("li");
		var label = document.createElement("span");
		label.className = "name";
		label.textContent = name;
		var bar = document.createElement("progress");
		bar.max = 100;
		bar.value = 0;
		bar.setAttribute("aria-label", name);
		var state = document.createElement("span");
		state.className = "state";
		state.textContent = word("sending");
		li.appendChild(label);
		li.appendChild(bar);
		li.appendChild(state);
		list.appendChild(li);
		return { bar: bar, state: state };
	}

	function poll(tries) {
		var pending = Object.keys(rows);
		if (pending.length === 0 || tries >= 30) return;
		var xhr = new XMLHttpRequest();
		xhr.open("GET", page);
		xhr.setRequestHeader("Accept", "application/json");
		xhr.onload = function () {
			var files = [];
			try {
				files = JSON.parse(xhr.responseText).files || [];
			} catch (err) {
				/* not JSON (the link ended): stop asking */
				return;
			}
			files.forEach(function (f) {
				if (rows[f.id]) {
					showState(rows[f.id], f.state);
					if (FINAL[f.state]) delete rows[f.id];
				}
			});
			window.setTimeout(function () { poll(tries + 1); }, 1000 * Math.min(tries + 1, 10));
		};
		xhr.send();
	}

	function send(files, i) {
		if (i >= files.length) {
			window.setTimeout(function () { poll(0); }, 500);
			return;
		}
		var f = files[i];
		var r = row(f.name);
		window.OkuruTus.upload(f, {}, {
			endpoint: endpoint,
			onProgress: function (sent, total) {
				r.bar.value = total ? Math.floor((100 * sent) / total) : 100;
			},
			onStatus: function () {
				r.state.textContent = word("retrying");
			}
		}).then(function (url) {
			// The upload's id is the file's: its state comes with the link's JSON.
			var id = url.split("/").pop();
			r.bar.value = 100;
			rows[id] = r;
			showState(r, "uploaded");
		}, function (e) {
			r.state.setAttribute("data-state", "failed");
			r.state.textContent = word("failed") + (e.status ? " (" + e.status + ")" : "");
		}).then(function () {
			send(files, i + 1);
		});
	}

	input.addEventListener("change", function () {
		send(input.files, 0);
	});
})();
