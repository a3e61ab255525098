// The webhook queue's at-least-once scenario, shared by the `redis` and `redis-cluster` queue
// tests: the receiver fails (500) for a while, the node that queued the jobs is stopped with them
// still in the store, a new node starts on the same store, the receiver recovers, and every
// webhook arrives (signed, one body for every attempt of a job); the queue ends empty with
// nothing dead-lettered.
//   queueEnv  the node's queue settings (QUEUE_DRIVER and where the store is)
//   command   runs one Redis command where the queue's keys live
'use strict';
const assert = require('node:assert/strict');
const { startServer } = require('./server');
const { startWebhookReceiver } = require('./webhook_receiver');
const { client, connected, subscribed, waitFor } = require('./pusher_clients');

const BASE = 'sockudo_queue:v2:{webhooks}';

async function webhookOutageAcrossRestart({ queueEnv, command, channels }) {
  let down = true;
  const receiver = await startWebhookReceiver({ respond: () => (down ? 500 : 200) });
  const options = {
    env: { ...queueEnv, QUEUE_WORKER_POLL_INTERVAL_MS: '100', QUEUE_LEASE_DURATION_MS: '5000' },
    config: {
      webhooks: { retry: { initial_backoff_ms: 200, max_backoff_ms: 800, max_elapsed_time_ms: 120000 } },
      app_manager: { array: { apps: [{ id: 'app-id', key: 'app-key', secret: 'app-secret', webhooks: [
        { url: receiver.url('/webhook'), event_types: ['channel_occupied', 'channel_vacated'] }] }] } },
    },
  };
  const n = channels.length;
  const depth = async (key, op) => Number(await command([op, `${BASE}:${key}`]));
  let first = null;
  let second = null;
  try {
    first = await startServer(options);
    const c = client(first);
    await connected(c);
    for (const ch of channels) assert.ok((await subscribed(c, ch)).ok);
    c.disconnect();
    const attempted = (name) => new Set(receiver.requests.flatMap((r) => r.body.events)
      .filter((e) => e.name === name).map((e) => e.channel));
    await waitFor(() => attempted('channel_occupied').size === n && attempted('channel_vacated').size === n,
      { timeoutMs: 10000, what: 'a failed attempt of every webhook' });
    assert.equal(receiver.delivered().length, 0);
    await first.stop();
    first = null;

    // The jobs survive in the store (waiting or delayed for a retry).
    const queued = (await depth('wait', 'LLEN')) + (await depth('delayed', 'ZCARD')) + (await depth('active', 'ZCARD'));
    assert.equal(queued, 2 * n, `${2 * n} jobs left in the store`);

    down = false;
    second = await startServer(options);
    const delivered = (name) => new Set(receiver.events().filter((e) => e.name === name).map((e) => e.channel));
    await waitFor(() => delivered('channel_occupied').size === n && delivered('channel_vacated').size === n,
      { timeoutMs: 20000, what: 'every webhook delivered after the recovery' });
    for (const r of receiver.requests) {
      assert.ok(r.valid, 'signed with the app secret');
      assert.equal(r.body.events.length, 1);
    }
    // Retries resend the same bytes.
    for (const ch of channels) {
      const bodies = new Set(receiver.requests.filter((r) => r.body.events[0].channel === ch &&
        r.body.events[0].name === 'channel_occupied').map((r) => r.rawBody));
      assert.equal(bodies.size, 1, `one body for every attempt of ${ch}`);
    }
    await waitFor(async () => (await depth('active', 'ZCARD')) === 0 && (await depth('wait', 'LLEN')) === 0 &&
      (await depth('delayed', 'ZCARD')) === 0, { what: 'an empty queue' });
    assert.equal(await depth('dlq', 'ZCARD'), 0, 'nothing dead-lettered');
  } finally {
    if (first) await first.stop();
    if (second) await second.stop();
    await receiver.close();
  }
}

module.exports = { webhookOutageAcrossRestart };
