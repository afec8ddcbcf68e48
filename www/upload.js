// upload.js - the counterparty's upload page: each chosen file is sent with
// PUT to the link's files/ URL (the same request a script would make), one
// after another, with a progress bar each; then the page reloads to show
// the files and their virus-check state. No framework, no inline script.
"use strict";
(function () {
	var input = document.getElementById("files");
	var list = document.getElementById("progress");
	if (!input || !list) return;
	var base = input.getAttribute("data-upload");

	function row(name) {
		var li = document.createElement("li");
		var label = document.createElement("span");
		label.className = "name";
		label.textContent = name; // text, never markup
		var bar = document.createElement("progress");
		bar.max = 100;
		bar.value = 0;
		var state = document.createElement("span");
		state.className = "left";
		li.appendChild(label);
		li.appendChild(document.createElement("br"));
		li.appendChild(bar);
		li.appendChild(state);
		list.appendChild(li);
		return { bar: bar, state: state };
	}

	function send(files, i) {
		if (i >= files.length) {
			window.location.reload();
			return;
		}
		var f = files[i];
		var r = row(f.name);
		var xhr = new XMLHttpRequest();
		xhr.open("PUT", base + encodeURIComponent(f.name));
		xhr.setRequestHeader("Accept", "application/json");
		xhr.upload.onprogress = function (e) {
			if (e.lengthComputable) r.bar.value = Math.floor((100 * e.loaded) / e.total);
		};
		xhr.onload = function () {
			var msg = xhr.status === 201 ? "OK" : "HTTP " + xhr.status;
			try {
				var j = JSON.parse(xhr.responseText);
				if (j.error) msg += ": " + j.error;
			} catch (err) {
				/* not JSON: keep the status */
			}
			r.bar.value = xhr.status === 201 ? 100 : 0;
			r.state.textContent = " " + msg;
			send(files, i + 1);
		};
		xhr.onerror = function () {
			r.state.textContent = " network error";
			send(files, i + 1);
		};
		xhr.send(f);
	}

	input.addEventListener("change", function () {
		send(input.files, 0);
	});
})();
