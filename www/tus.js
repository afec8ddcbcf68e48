// tus.js - a small tus 1.0 client (creation, HEAD, PATCH, termination) for
// the staff upload page (endpoint /api/v1/uploads) and the counterparty's
// upload page (endpoint /u/TOKEN/uploads, upload.js): each file is created
// at the endpoint, sent in PATCH requests of CHUNK bytes, and resumed from
// the offset the server reports (HEAD) after a network failure or a reload
// (the upload's URL is kept in localStorage under the endpoint, the
// metadata, and the file's name, size and mtime). The server counts only
// what is durable, so its offset may be behind what was sent: the client
// always continues from the server's word, never its own. It uses no page
// globals; it only defines window.OkuruTus.
"use strict";
(function () {
	var CHUNK = 8 * 1024 * 1024;
	var RETRY = [1000, 3000, 5000, 10000, 20000];
	var PREFIX = "okuru-tus:";

	function b64(s) {
		// UTF-8 then base64, as Upload-Metadata wants
		var bytes = new TextEncoder().encode(s), bin = "";
		for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
		return btoa(bin);
	}

	function request(method, url, headers, body, onProgress) {
		return new Promise(function (resolve, reject) {
			var x = new XMLHttpRequest();
			x.open(method, url);
			x.setRequestHeader("Tus-Resumable", "1.0.0");
			Object.keys(headers).forEach(function (k) { x.setRequestHeader(k, headers[k]); });
			if (onProgress && x.upload)
				x.upload.onprogress = function (e) { onProgress(e.loaded); };
			x.onload = function () { resolve(x); };
			x.onerror = function () { reject(new Error("network")); };
			x.onabort = function () { reject(new Error("aborted")); };
			x.send(body === undefined ? null : body);
		});
	}

	function fingerprint(endpoint, file, meta) {
		var m = Object.keys(meta).sort().map(function (k) { return k + "=" + meta[k]; }).join("&");
		return PREFIX + endpoint + ":" + m + ":" + file.name + ":" + file.size + ":" + file.lastModified;
	}

	function errorOf(x) {
		try { return JSON.parse(x.responseText).error || ("HTTP " + x.status); }
		catch (e) { return "HTTP " + x.status; }
	}

	// Upload FILE with metadata META (the staff's {transfer}; a link's {}) besides
	// filename; opts: endpoint (default /api/v1/uploads), headers, onProgress(sent,total),
	// onStatus(text). Resolves with the upload's URL when the whole file is stored;
	// rejects with an Error whose message is the server's error, .status its HTTP
	// status and .code the API's code.
	function upload(file, meta, opts) {
		var endpoint = opts.endpoint || "/api/v1/uploads";
		var key = fingerprint(endpoint, file, meta);
		var headers = opts.headers || {};
		var url = null, tries = 0;

		function fail(x) {
			var e = new Error(errorOf(x));
			e.status = x.status;
			try { e.code = JSON.parse(x.responseText).code; } catch (ignore) { /* no JSON */ }
			throw e;
		}

		function create() {
			var md = ["filename " + b64(file.name)].concat(Object.keys(meta).sort().map(function (k) {
				return k + " " + b64(meta[k]);
			}));
			var h = Object.assign({}, headers, {
				"Upload-Length": String(file.size),
				"Upload-Metadata": md.join(",")
			});
			return request("POST", endpoint, h).then(function (x) {
				if (x.status !== 201) fail(x);
				url = x.getResponseHeader("Location");
				try { localStorage.setItem(key, url); } catch (e) { /* private mode */ }
				return 0;
			});
		}

		function offset() {
			return request("HEAD", url, headers).then(function (x) {
				if (x.status === 404 || x.status === 410) {
					url = null;
					try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
					return create();
				}
				if (x.status !== 200 && x.status !== 204) fail(x);
				return parseInt(x.getResponseHeader("Upload-Offset"), 10);
			});
		}

		function send(from) {
			// An empty file is complete at its creation: there is nothing to PATCH.
			if (from >= file.size) return Promise.resolve(from);
			var end = Math.min(file.size, from + CHUNK);
			var h = Object.assign({}, headers, {
				"Upload-Offset": String(from),
				"Content-Type": "application/offset+octet-stream"
			});
			return request("PATCH", url, h, file.slice(from, end), function (n) {
				if (opts.onProgress) opts.onProgress(from + n, file.size);
			}).then(function (x) {
				if (x.status === 409) return offset().then(send);
				if (x.status !== 204) fail(x);
				tries = 0;
				var now = parseInt(x.getResponseHeader("Upload-Offset"), 10);
				if (opts.onProgress) opts.onProgress(now, file.size);
				if (now >= file.size) return now;
				return send(now);
			});
		}

		function attempt() {
			var saved = null;
			try { saved = localStorage.getItem(key); } catch (e) { /* ignore */ }
			var start;
			if (url === null && saved) {
				url = saved;
				start = offset();
			} else if (url === null) {
				start = create();
			} else {
				start = offset();
			}
			return start.then(send).catch(function (e) {
				// The network failed: wait, ask the server where it stands, go on.
				if (e.message === "network" && tries < RETRY.length) {
					if (opts.onStatus) opts.onStatus("retry");
					return new Promise(function (r) { setTimeout(r, RETRY[tries++]); }).then(attempt);
				}
				throw e;
			});
		}

		return attempt().then(function () {
			try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
			return url;
		});
	}

	window.OkuruTus = { upload: upload, CHUNK: CHUNK };
})();
