// Shared pieces of the chaos cases (tests/chaos/*.test.js): the apps, real pusher-js presence
// clients that keep the member list they were told about, a bounded publish load through the real
// `pusher` SDK with every answer recorded, delivery bookkeeping (expected, seen, lost,
// duplicated), ghost counting and the one line of figures each case prints.
'use strict';
const assert = require('node:assert/strict');
const { client, serverSdk, connected } = require('../support/pusher_clients');
const { waitFor, httpRequest, TIME_SCALE } = require('../support/wait');
const { metricValue } = require('../support/cluster');

const LONG = process.env.CHAOS_LONG === '1';
const SANITIZER = Boolean(process.env.SOCKUDO_SANITIZER);
// Loads shrink under sanitizers (the server is 2-15x slower there); the long form grows them.
const scale = (short, long) => (LONG ? long : SANITIZER ? Math.max(1, Math.ceil(short / 3)) : short);

const APPS = { app_manager: { array: { apps: [
  { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true },
  { id: 'quota', key: 'quota-key', secret: 'quota-secret', max_connections: 1000 },
] } } };

// The chaos clusters use a 1 s request deadline T on every driver (redis-cluster's default; redis
// and nats default to 5 s): a leader's "is this user still connected anywhere?" check waits up to
// T for a node that is cut off but still counted, and the short form must stay short.
const REQUEST_TIMEOUT_MS = 1000;
const CHAOS_CONFIG = { ...APPS, adapter: { redis: { requests_timeout: REQUEST_TIMEOUT_MS } } };
const CHAOS_ENV = { NATS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) };

const now = () => Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function figures(name, driver, values) {
  console.log('chaos-figures', JSON.stringify({ case: name, driver, ...values }));
}

// A pusher-js client subscribed to one presence channel as `userId`. Keeps what it was told:
// the member list (pusher-js's own), every member_added / member_removed with its time, and
// whether the connection ever dropped.
class PresenceClient {
  constructor(node, userId, channelName) {
    this.node = node;
    this.userId = userId;
    this.channelName = channelName;
    this.added = [];
    this.removed = [];
    this.drops = 0;
    this.subscriptions = 0;
    this.startedAt = now();
    this.log = [];
    this.pusher = client(node, { presence: { user_id: userId, user_info: { name: userId } } });
    this.pusher.connection.bind('state_change', ({ previous, current }) => {
      if (previous === 'connected' && current !== 'connected') { this.drops++; this.log.push({ what: `drop(${current})`, at: now() }); }
    });
    this.channel = this.pusher.subscribe(channelName);
    this.channel.bind('pusher:subscription_succeeded', (m) => {
      this.subscriptions++;
      const ids = [];
      m.each((x) => ids.push(String(x.id)));
      this.lastList = { ids, at: now() };
      this.log.push({ what: `subscribed(${m.count})`, at: now() });
    });
    this.channel.bind('pusher:member_added', (m) => this.added.push({ id: m.id, at: now() }));
    this.channel.bind('pusher:member_removed', (m) => this.removed.push({ id: m.id, at: now() }));
  }

  ready() { return this.pusher.connection.state === 'connected' && this.channel.subscribed; }

  // The member ids this client believes are in the channel (null while not subscribed).
  view() {
    if (!this.ready()) return null;
    const ids = [];
    this.channel.members.each((m) => ids.push(String(m.id)));
    return ids.sort();
  }

  // What this client was told about `ids` (for failure messages), times relative to its start.
  history(ids) {
    const ev = [...this.added.map((a) => ({ ...a, k: '+' })), ...this.removed.map((r) => ({ ...r, k: '-' })),
      ...this.log.map((l) => ({ ...l, k: '' }))]
      .filter((e) => !e.id || ids.includes(e.id)).sort((a, b) => a.at - b.at);
    return ev.map((e) => `${e.k}${e.id || e.what}@${e.at - this.startedAt}`).join(' ');
  }

  // Whether `id` is in after replaying the last subscription's list and the events since.
  replayHas(id) {
    if (!this.lastList) return false;
    let present = this.lastList.ids.includes(id);
    const ev = [...this.added.map((a) => ({ ...a, add: true })), ...this.removed.map((r) => ({ ...r, add: false }))]
      .filter((e) => e.id === id && e.at >= this.lastList.at).sort((a, b) => a.at - b.at);
    for (const e of ev) present = e.add;
    return present;
  }

  removedAfter(id, t) { return this.removed.some((r) => r.id === id && r.at >= t); }

  close() { this.pusher.disconnect(); }
}

async function openPresence(node, userId, channelName, registry) {
  const c = new PresenceClient(node, userId, channelName);
  registry.push(c);
  await waitFor(() => c.ready(), { timeoutMs: 10000, what: `${userId} to join ${channelName}` });
  return c;
}

// The users the HTTP API of `node` lists for a presence channel (sorted ids), or null on error.
async function httpUsers(node, channelName) {
  try {
    const r = await serverSdk(node).get({ path: `/channels/${channelName}/users` });
    return (await r.json()).users.map((u) => String(u.id)).sort();
  } catch (_) {
    return null;
  }
}

// Ghosts: members a client or a node lists that are not connected; missing: the reverse.
async function presenceDiff({ observers, nodes, channelName, expected }) {
  const want = new Set(expected);
  let ghosts = 0;
  let missing = 0;
  const details = [];
  const compare = (who, ids) => {
    if (ids === null) { missing += want.size; details.push(`${who}: not subscribed / no answer`); return null; }
    const got = new Set(ids);
    const g = ids.filter((id) => !want.has(id));
    const m = [...want].filter((id) => !got.has(id));
    ghosts += g.length;
    missing += m.length;
    if (g.length || m.length) details.push(`${who}: ghosts ${JSON.stringify(g)} missing ${JSON.stringify(m)}`);
    return [...g, ...m];
  };
  for (const o of observers) {
    const off = compare(`client ${o.userId} on :${o.node.port}`, o.view());
    if (off && off.length) details.push(`  its events: ${o.history(off)}`);
  }
  for (const n of nodes) compare(`node :${n.port}`, await httpUsers(n, channelName));
  return { ghosts, missing, details };
}

// Waits until no client and no node lists a ghost or misses a member; resolves with the diff.
async function waitPresenceExact(args, { timeoutMs = 20000, what = 'presence to be exact' } = {}) {
  let last;
  try {
    await waitFor(async () => {
      last = await presenceDiff(args);
      return last.ghosts === 0 && last.missing === 0;
    }, { timeoutMs, intervalMs: 50, what });
  } catch (e) {
    e.message += `\n${last ? last.details.join('\n') : ''}`;
    throw e;
  }
  return last;
}

// A plain pusher-js subscriber of one public channel that records every `seq` it receives.
class Subscriber {
  constructor(node, channelName, event = 'e') {
    this.node = node;
    this.seen = new Map();
    this.drops = 0;
    this.pusher = client(node);
    this.pusher.connection.bind('state_change', ({ previous, current }) => {
      if (previous === 'connected' && current !== 'connected') this.drops++;
    });
    this.channel = this.pusher.subscribe(channelName);
    this.channel.bind(event, (d) => this.seen.set(d.seq, (this.seen.get(d.seq) || 0) + 1));
  }

  ready() { return this.pusher.connection.state === 'connected' && this.channel.subscribed; }

  close() { this.pusher.disconnect(); }
}

async function openSubscribers(nodes, channelName, perNode, registry) {
  const subs = [];
  for (const n of nodes) for (let i = 0; i < perNode; i++) subs.push(new Subscriber(n, channelName));
  registry.push(...subs);
  await waitFor(() => subs.every((s) => s.ready()), { timeoutMs: 10000, what: 'the subscribers to subscribe' });
  return subs;
}

// A steady publish load: one event at a time round-robin over `nodes()`, every `intervalMs`, at
// most `maxCount` events and `maxMs` milliseconds (or until stop()). Each answer is recorded with
// its status (200, 503, other; 0 = no answer) and how long it took.
class Publisher {
  constructor({ nodes, channelName, event = 'e', intervalMs = 20, maxCount = 1000, maxMs = 30000, timeoutMs = 15000 }) {
    Object.assign(this, { nodes, channelName, event, intervalMs, maxCount, maxMs, timeoutMs });
    this.records = [];
    this.stopped = false;
    this.seq = 0;
  }

  async publishOne(node) {
    const seq = this.seq++;
    const sdk = serverSdk(node);
    sdk.config.timeout = this.timeoutMs * TIME_SCALE;
    const rec = { seq, port: node.port, sentAt: now(), status: null, ms: null };
    this.records.push(rec);
    try {
      rec.status = (await sdk.trigger(this.channelName, this.event, { seq })).status;
    } catch (e) {
      rec.status = e.status || 0;
      rec.error = e.message;
    }
    rec.ms = now() - rec.sentAt;
    return rec;
  }

  start() {
    const deadline = now() + this.maxMs * TIME_SCALE;
    this.done = (async () => {
      let i = 0;
      while (!this.stopped && this.seq < this.maxCount && now() < deadline) {
        const list = this.nodes();
        const t0 = now();
        await this.publishOne(list[i++ % list.length]);
        const rest = this.intervalMs - (now() - t0);
        if (rest > 0) await sleep(rest);
      }
    })();
    return this;
  }

  async stop() {
    this.stopped = true;
    await this.done;
  }

  count(status) { return this.records.filter((r) => r.status === status).length; }
}

// Delivery bookkeeping of a Publisher against Subscribers: every event answered 200 must reach
// every subscriber that never lost its connection; nothing may arrive twice.
function deliveries(publisher, subscribers) {
  const stayed = subscribers.filter((s) => s.drops === 0);
  const ok = publisher.records.filter((r) => r.status === 200);
  let seen = 0;
  let duplicated = 0;
  const lostSeqs = [];
  for (const s of subscribers) {
    for (const n of s.seen.values()) { seen += n; duplicated += n - 1; }
  }
  for (const s of stayed) for (const r of ok) if (!s.seen.has(r.seq)) lostSeqs.push({ seq: r.seq, from: r.port, to: s.node.port });
  const statuses = {};
  for (const r of publisher.records) statuses[r.status] = (statuses[r.status] || 0) + 1;
  return {
    publishes: publisher.records.length, statuses,
    expected: ok.length * stayed.length, seen, lost: lostSeqs.length, duplicated,
    subscribers: subscribers.length, subscribersStayed: stayed.length, lostSeqs: lostSeqs.slice(0, 10), lostAll: lostSeqs,
    maxAnswerMs: Math.max(0, ...publisher.records.map((r) => r.ms || 0)),
  };
}

// Waits until every 200-answered publish reached every subscriber that stayed connected (bounded:
// what is still missing after `timeoutMs` is lost).
async function settleDeliveries(publisher, subscribers, timeoutMs = 3000) {
  try {
    await waitFor(() => deliveries(publisher, subscribers).lost === 0, { timeoutMs, what: 'deliveries to settle' });
  } catch (_) { /* reported as lost */ }
  return deliveries(publisher, subscribers);
}

// One event from each node to every subscriber: proves each node publishes and receives again.
async function probeEveryNode(nodes, subscribers, channelName, tag, timeoutMs = 15000) {
  const started = now();
  await waitFor(async () => {
    for (const n of nodes) {
      const seq = `${tag}-${n.port}-${now()}`;
      let status = 0;
      try { status = (await serverSdk(n).trigger(channelName, 'e', { seq })).status; } catch (e) { status = e.status || 0; }
      if (status !== 200) return false;
      const ok = await waitFor(() => subscribers.every((s) => s.seen.has(seq)), { timeoutMs: 1000, what: 'probe' })
        .then(() => true, () => false);
      if (!ok) return false;
    }
    return true;
  }, { timeoutMs, intervalMs: 100, what: 'an event from every node to reach every subscriber' });
  return now() - started;
}

async function upEverywhere(nodes, timeoutMs = 20000) {
  for (const n of nodes) {
    await waitFor(async () => {
      try { return (await httpRequest({ port: n.port, path: '/up' })).status === 200; } catch (_) { return false; }
    }, { timeoutMs, intervalMs: 50, what: `/up on port ${n.port}` });
  }
}

async function metricSum(nodes, name) {
  let sum = 0;
  for (const n of nodes) sum += (await metricValue(n, name)) || 0;
  return sum;
}

module.exports = {
  LONG, SANITIZER, scale, APPS, CHAOS_CONFIG, CHAOS_ENV, REQUEST_TIMEOUT_MS, now, sleep, figures, PresenceClient, openPresence, httpUsers,
  presenceDiff, waitPresenceExact, Subscriber, openSubscribers, Publisher, deliveries, settleDeliveries,
  probeEveryNode, upEverywhere, metricSum, assert, connected, TIME_SCALE, waitFor,
};
