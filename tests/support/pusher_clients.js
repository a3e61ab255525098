// Real clients against a started server: a pusher-js client whose authorizers call the real
// `pusher` server SDK (as an app backend would), and that SDK pointed at the server.
'use strict';
const PusherJs = require('pusher-js');
const Pusher = require('pusher');
const nacl = require('tweetnacl');
const { waitFor } = require('./wait');

const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');

function serverSdk(server, { appId = 'app-id', key = 'app-key', secret = 'app-secret' } = {}) {
  return new Pusher({ appId, key, secret, host: server.host, port: String(server.port), useTLS: false,
                      encryptionMasterKeyBase64: ENCRYPTION_KEY });
}

// `presence` is the member data the backend grants (default: a user derived from the socket);
// `user` is the signed-in user for pusher.signin().
function client(server, { key = 'app-key', sdk = serverSdk(server), presence = null, user = null, authorizerError = false } = {}) {
  const pusher = new PusherJs(key, {
    wsHost: server.host, wsPort: server.port, forceTLS: false, enabledTransports: ['ws'], cluster: 'local',
    disableStats: true, nacl,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        if (authorizerError) return callback(null, { auth: `${key}:${'0'.repeat(64)}` });
        const data = channelName.startsWith('presence-') ? (presence || { user_id: `user-${socketId}` }) : undefined;
        return callback(null, sdk.authorizeChannel(socketId, channelName, data));
      },
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => callback(null, sdk.authenticateUser(socketId, user || { id: `user-${socketId}` })),
    },
  });
  return pusher;
}

function once(target, event) {
  return new Promise((resolve) => target.bind(event, function handler(data, meta) {
    target.unbind(event, handler);
    resolve({ data, meta });
  }));
}

async function connected(pusher) {
  if (pusher.connection.state === 'connected') return;
  await waitFor(() => pusher.connection.state === 'connected', { timeoutMs: 5000, what: 'pusher-js to connect' });
}

async function subscribed(pusher, name) {
  const channel = pusher.subscribe(name);
  const result = await Promise.race([
    once(channel, 'pusher:subscription_succeeded').then((r) => ({ ok: true, ...r })),
    once(channel, 'pusher:subscription_error').then((r) => ({ ok: false, ...r })),
  ]);
  return { channel, ...result };
}

module.exports = { client, serverSdk, once, connected, subscribed, waitFor };
