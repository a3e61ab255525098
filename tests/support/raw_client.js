// A raw WebSocket client (the `ws` package) that records every frame, for checking exact wire
// shapes; and Pusher-signed HTTP requests built by hand, for the error paths SDKs never send.
'use strict';
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { waitFor, httpRequest } = require('./wait');

class RawClient {
  constructor(url, options = {}) {
    this.frames = [];
    this.closed = null;
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data, isBinary) => {
      const text = data.toString('utf8');
      this.frames.push({ text, json: JSON.parse(text), isBinary });
    });
    this.closedPromise = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; resolve(this.closed); });
    });
    this.ws.on('error', () => {});
  }

  static async connect(server, key = 'app-key', options = {}) {
    const c = new RawClient(`ws://${server.host}:${server.port}/app/${key}?protocol=7&client=js&version=8.6.0&flash=false`, options);
    await c.next((f) => f.event === 'pusher:connection_established' || f.event === 'pusher:error');
    const first = c.frames[0].json;
    if (first.event === 'pusher:connection_established') c.socketId = JSON.parse(first.data).socket_id;
    return c;
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  // Waits for the first frame (JSON) after index `from` that satisfies `predicate`.
  async next(predicate, { timeoutMs = 5000, from = 0 } = {}) {
    return waitFor(() => this.frames.slice(from).map((f) => f.json).find(predicate), { timeoutMs, what: `a frame matching ${predicate}` });
  }

  // Resolves true if no frame satisfying `predicate` arrives before a later marker frame: sends a
  // ping and waits for its pong, so "nothing arrived" is decided without sleeping.
  async nothingBeforePong(predicate) {
    const mark = this.frames.length;
    this.send({ event: 'pusher:ping', data: {} });
    await this.next((f) => f.event === 'pusher:pong', { from: mark });
    const pongIndex = this.frames.findIndex((f, i) => i >= mark && f.json.event === 'pusher:pong');
    return !this.frames.slice(0, pongIndex).some((f) => predicate(f.json));
  }

  events(name) { return this.frames.map((f) => f.json).filter((f) => f.event === name); }

  async subscribe(channel, extra = {}) {
    const mark = this.frames.length;
    this.send({ event: 'pusher:subscribe', data: { auth: '', channel, ...extra } });
    return this.next((f) => f.channel === channel &&
      (f.event === 'pusher_internal:subscription_succeeded' || f.event === 'pusher:subscription_error'), { from: mark });
  }

  close() { this.ws.close(); return this.closedPromise; }
}

function sign(secret, text) {
  return crypto.createHmac('sha256', secret).update(text).digest('hex');
}

// A signed /apps/... request. `override` tweaks what a test breaks on purpose.
async function apiRequest(server, { method = 'GET', path, query = {}, body = null, key = 'app-key', secret = 'app-secret',
                                    timestamp = Math.floor(Date.now() / 1000), override = {} }) {
  const bodyText = body === null ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
  const params = { auth_key: key, auth_timestamp: String(timestamp), auth_version: '1.0', ...query };
  if (bodyText.length > 0) params.body_md5 = crypto.createHash('md5').update(bodyText).digest('hex');
  Object.assign(params, override.params || {});
  const canonical = Object.keys(params).filter((k) => k !== 'auth_signature').sort()
    .map((k) => `${k.toLowerCase()}=${params[k]}`).join('&');
  params.auth_signature = override.signature || sign(secret, `${method}\n${path}\n${canonical}`);
  const qs = Object.keys(params).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k])}`).join('&');
  return httpRequest({ port: server.port, method, path: `${path}?${qs}`, body: override.body ?? (bodyText || null),
                       headers: bodyText ? { 'Content-Type': 'application/json' } : {} });
}

module.exports = { RawClient, apiRequest, sign };
