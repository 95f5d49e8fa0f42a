// A Cloudflare Workers-style webhook receiver (also runs on any host with `export default { fetch }`):
// verifies Anchor deliveries with anchor-webhooks-wasm, dedupes them, and queues each event once.
//
// Bindings (wrangler.toml): ANCHOR_WEBHOOK_SECRET (a secret), ANCHOR_WEBHOOK_SECRET_PREVIOUS (optional,
// during a rotation), EVENTS (a Queue producer: where the verified events go) and WEBHOOKS (a Durable
// Object namespace of the WebhookReceiver class below: the one object that dedupes every delivery).
import { MemoryStore, Verifier } from 'anchor-webhooks-wasm';

// Built once per isolate and reused by every request it serves.
let verifier = null;
let verifierSecrets = '';

function verifierFor(env) {
  const secrets = [env.ANCHOR_WEBHOOK_SECRET, env.ANCHOR_WEBHOOK_SECRET_PREVIOUS].filter(Boolean);
  const key = secrets.join('\n');
  if (verifier === null || key !== verifierSecrets) {
    verifier = new Verifier(secrets, { scheme: 'anchor' });
    verifierSecrets = key;
  }
  return verifier;
}

// 200 processed or duplicate (the handler does not run again), 401/400 refused, 503 store unavailable or
// in progress (Retry-After), 500 if the handler throws (the claim is released: the retry is processed).
function receive(request, env, store) {
  return verifierFor(env).receive(
    request,
    async (event) => {
      await env.EVENTS.send({ id: event.id, type: event.type, created: event.created, data: event.data });
    },
    { store },
  );
}

// Without a WEBHOOKS binding (a plain local run), each isolate dedupes on its own in memory: a delivery
// retried to another isolate, or after this one was evicted, runs the handler again.
const isolateStore = new MemoryStore();

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname !== '/webhooks/anchor') return new Response('not found', { status: 404 });
    if (request.method !== 'POST') return new Response('method not allowed', { status: 405, headers: { allow: 'POST' } });

    if (!env.WEBHOOKS) return receive(request, env, isolateStore);
    // Every delivery goes to the same object, which dedupes them all in its storage.
    return env.WEBHOOKS.get(env.WEBHOOKS.idFromName('webhooks')).fetch(request);
  },
};

// The Durable Object. Its storage is strongly consistent and it lets no other request in while a storage
// read is in flight, so the receiver's read of a claim and its write right after are one step: of two
// concurrent deliveries of one event, one runs the handler and the other is answered 503 in_progress.
export class WebhookReceiver {
  constructor(state, env) {
    this.state = state;
    this.env = env;
    const storage = state.storage;
    // The receiver's store: values are kept with their expiry; alarm() deletes them once expired.
    this.store = {
      async get(key) {
        const entry = await storage.get(key);
        return entry && entry.expiresAt > Date.now() ? entry.value : null;
      },
      async put(key, value, { expirationTtl }) {
        const expiresAt = Date.now() + expirationTtl * 1000;
        await storage.put(key, { value, expiresAt });
        if ((await storage.getAlarm()) === null) await storage.setAlarm(expiresAt);
      },
      delete: (key) => storage.delete(key),
    };
  }

  fetch(request) {
    return receive(request, this.env, this.store);
  }

  // Deletes the expired entries, then wakes again when the next one expires.
  async alarm() {
    const now = Date.now();
    let next = Infinity;
    for (const [key, { expiresAt }] of await this.state.storage.list()) {
      if (expiresAt <= now) await this.state.storage.delete(key);
      else next = Math.min(next, expiresAt);
    }
    if (next !== Infinity) await this.state.storage.setAlarm(next);
  }
}
