// Waiting on conditions (never fixed sleeps) and a minimal HTTP helper.
'use strict';
const http = require('node:http');

// Sanitizer builds (ctest sets SOCKUDO_SANITIZER there) run the server 2-15x slower: every wait
// gets proportionally longer before it gives up. A wait that succeeds returns as soon as it can.
const TIME_SCALE = process.env.SOCKUDO_SANITIZER ? 4 : 1;

async function waitFor(condition, { timeoutMs = 5000, intervalMs = 10, what = 'condition' } = {}) {
  timeoutMs *= TIME_SCALE;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function httpRequest({ port, path, method = 'GET', body = null, headers = {}, host = '127.0.0.1', socketPath }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, headers, socketPath, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch (_) { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

module.exports = { waitFor, httpRequest, TIME_SCALE };
