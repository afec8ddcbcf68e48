// tus_upload.js - the official tus-js-client against okurud, in Node.
//
// usage: node tus_upload.js URL TOKEN TRANSFER NAME FILE STORE
// Uploads FILE to URL/api/v1/uploads as NAME into TRANSFER, its first
// third only (then the source stalls), aborts (the connection is dropped;
// the upload stays on the server), then starts a new Upload of the same bytes, which finds the
// previous one in its URL storage (a file, STORE), asks the server for its
// offset and sends the rest. Prints one JSON line: the upload URL, the
// bytes sent before the abort, the offset the server had when the second
// Upload resumed, and whether it succeeded. The certificate is trusted
// through NODE_EXTRA_CA_CERTS.
//
// A counterparty (an upload request's link) instead: URL is the link
// (https://.../u/TOKEN), TOKEN is cookie:VALUE (the okuru_s session the
// mailed code gave), TRANSFER is "-"; the endpoint is URL/uploads and the
// metadata names no transfer.
'use strict';

const fs = require('fs');
const https = require('https');
const path = require('path');
const { Readable } = require('stream');
const modules = process.env.OKURU_JS_MODULES || path.join(__dirname, 'node_modules');
const tus = require(path.join(modules, 'tus-js-client'));

const [url, token, transfer, name, file, store] = process.argv.slice(2);
const data = fs.readFileSync(file);
const result = { sentBeforeAbort: 0 };

const link = token.startsWith('cookie:');
const auth = link ? { Cookie: 'okuru_s=' + token.slice(7) } : { Authorization: 'Bearer ' + token };
const metadata = { filename: name, filetype: 'application/octet-stream' };
if (!link)
  metadata.transfer = transfer;

function options(extra) {
  return Object.assign({
    endpoint: link ? url + '/uploads' : url + '/api/v1/uploads',
    headers: auth,
    metadata: metadata,
    urlStorage: new tus.FileUrlStorage(store),
    // 423 while the server still saves the cut PATCH's chunks: try again.
    retryDelays: [200, 500, 1000, 2000],
  }, extra);
}

// head - the server's Upload-Offset for the upload at u
function head(u) {
  return new Promise((resolve, reject) => {
    const req = https.request(u, {
      method: 'HEAD',
      headers: Object.assign({ 'Tus-Resumable': '1.0.0' }, auth),
    }, (res) => {
      res.resume();
      resolve({ status: res.statusCode, offset: Number(res.headers['upload-offset']) });
    });
    req.on('error', reject);
    req.end();
  });
}

// stalling - a file reader whose stream gives the first third of the bytes
// and then nothing, like a client whose network hangs: the abort then comes
// at the same point in every run, not wherever progress events happen to fall.
const cut = Math.floor(data.length / 3);
const stalling = {
  openFile: (input) => Promise.resolve({
    size: input.length,
    slice: (start) => {
      const s = new Readable({ read() {} });
      s.push(input.subarray(start, Math.max(start, cut)));
      return Promise.resolve({ value: s, done: false });
    },
    close: () => {},
  }),
};

function first() {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(data, options({
      fileReader: stalling,
      onProgress: (sent) => {
        if (result.sentBeforeAbort === 0 && sent >= cut) {
          // Progress counts bytes handed to the socket; give them a second to
          // reach the server before the connection goes.
          result.sentBeforeAbort = sent;
          setTimeout(() => up.abort(false).then(() => resolve(up.url), reject), 1000);
        }
      },
      onSuccess: () => reject(new Error('the first upload finished before its abort')),
      onError: reject,
    }));
    up.start();
  });
}

function second() {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(data, options({
      onSuccess: () => resolve(up.url),
      onError: reject,
    }));
    up.findPreviousUploads().then((previous) => {
      result.previous = previous.length;
      if (previous.length > 0)
        up.resumeFromPreviousUpload(previous[0]);
      up.start();
    }, reject);
  });
}

(async () => {
  result.url = await first();
  // Wait until the server has saved what the cut PATCH brought.
  let h;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    h = await head(result.url);
    if (h.status === 200 && h.offset > 0)
      break;
  }
  result.offsetAtResume = h.offset;
  result.url2 = await second();
  result.ok = true;
  console.log(JSON.stringify(result));
})().catch((e) => {
  console.log(JSON.stringify(Object.assign(result, { ok: false, error: String(e) })));
  process.exit(1);
});
