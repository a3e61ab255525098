// A real webhook endpoint for the tests: node's http server on a free loopback port that records
// every POST (headers, raw body, parsed body), checks it with the official `pusher` SDK
// (pusher.webhook({headers, rawBody}).isValid()) and answers with the status `respond(request)`
// chooses (default 200; a promise of it for a slow endpoint). Stopped by close(), which ends exactly the server it started.
'use strict';
const http = require('node:http');
const Pusher = require('pusher');
const { waitFor } = require('./wait');

async function startWebhookReceiver({ appId = 'app-id', key = 'app-key', secret = 'app-secret', respond = () => 200 } = {}) {
  const sdk = new Pusher({ appId, key, secret });
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body = null;
      try { body = JSON.parse(rawBody); } catch (_) { body = null; }
      let valid = false;
      try { valid = sdk.webhook({ headers: req.headers, rawBody }).isValid(); } catch (_) { valid = false; }
      const record = { method: req.method, url: req.url, headers: req.headers, rawBody, body, valid };
      // `respond` may return a promise (a slow endpoint); the request counts once answered.
      Promise.resolve(respond(record)).then((status) => {
        record.status = status;
        requests.push(record);
        res.writeHead(status, { 'Content-Type': 'text/plain' });
        res.end('ok');
      }, () => res.destroy());
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const receiver = {
    port,
    url: (p = '/webhook') => `http://127.0.0.1:${port}${p}`,
    requests,
    // Requests answered 2xx (what counts as delivered), optionally for one path.
    delivered: (p = null) => requests.filter((r) => r.status >= 200 && r.status < 300 && (p === null || r.url === p)),
    // Every event of the delivered requests, in arrival order, with the request it came in.
    events: (p = null) => receiver.delivered(p).flatMap((r) => (r.body && r.body.events ? r.body.events : [])),
    waitForEvent: (pred, what = 'a webhook event', p = null, timeoutMs = 10000) =>
      waitFor(() => receiver.events(p).find(pred), { timeoutMs, what }),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  return receiver;
}

module.exports = { startWebhookReceiver };
