// A Cloudflare Workers-style webhook receiver (also runs on any host with `export default { fetch }`):
// verifies Anchor deliveries with anchor-webhooks-wasm, dedupes them, and queues each event once.
//
// Bindings (wrangler.toml): ANCHOR_WEBHOOK_SECRET (a secret), ANCHOR_WEBHOOK_SECRET_PREVIOUS (optional,
// during a rotation), DEDUPE_KV (optional: a store with the Workers KV interface; without it, dedupe is per
// isolate. Not a real Workers KV namespace: one write per second per key, eventually consistent; see the
// README) and EVENTS (a Queue producer: where the verified events go).
import { MemoryStore, Verifier } from 'anchor-webhooks-wasm';

// Built once per isolate and reused by every request it serves.
let verifier = null;
let verifierSecrets = '';
const isolateStore = new MemoryStore();

function verifierFor(env) {
  const secrets = [env.ANCHOR_WEBHOOK_SECRET, env.ANCHOR_WEBHOOK_SECRET_PREVIOUS].filter(Boolean);
  const key = secrets.join('\n');
  if (verifier === null || key !== verifierSecrets) {
    verifier = new Verifier(secrets, { scheme: 'anchor' });
    verifierSecrets = key;
  }
  return verifier;
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname !== '/webhooks/anchor') return new Response('not found', { status: 404 });
    if (request.method !== 'POST') return new Response('method not allowed', { status: 405, headers: { allow: 'POST' } });

    // 200 processed or duplicate (the handler does not run again), 401/400 refused, 503 store unavailable
    // or in progress elsewhere, 500 if the handler throws (the claim is released: the retry is processed).
    return verifierFor(env).receive(
      request,
      async (event) => {
        await env.EVENTS.send({ id: event.id, type: event.type, created: event.created, data: event.data });
      },
      { store: env.DEDUPE_KV ?? isolateStore },
    );
  },
};
