// The example worker (examples/edge-worker/worker.mjs) called in Node with real Request objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import worker from '../../examples/edge-worker/worker.mjs';
import { Verifier, sign } from 'anchor-webhooks-wasm';

const secret = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6';
const url = 'https://hooks.example.test/webhooks/anchor';

function delivery(id, type = 'task.completed') {
  const body = JSON.stringify({
    id,
    type,
    created: '2026-05-24T12:18:05.123Z',
    project_id: '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197',
    text: `Task ${id} completed`,
    data: { task_id: 'task_1', artifacts: [] },
  });
  return { id, body, headers: sign(secret, body) };
}

const post = ({ body, headers }) => new Request(url, { method: 'POST', headers, body });

/** A Queue producer binding that records what the worker sends. */
function queue() {
  const sent = [];
  return { sent, send: async (message) => void sent.push(message) };
}

/** A store with the Workers KV interface (get / put with expirationTtl / delete), in memory. */
function kvNamespace() {
  const values = new Map();
  const puts = [];
  return {
    values,
    puts,
    get: async (key) => values.get(key) ?? null,
    put: async (key, value, options) => {
      puts.push({ key, options });
      values.set(key, value);
    },
    delete: async (key) => void values.delete(key),
  };
}

for (const storeKind of ['isolate memory', 'KV namespace']) {
  test(`worker (${storeKind}): 200 valid, 401 forged, 200 duplicate without re-running the handler`, async () => {
    const env = { ANCHOR_WEBHOOK_SECRET: secret, EVENTS: queue() };
    if (storeKind === 'KV namespace') env.DEDUPE_KV = kvNamespace();
    const genuine = delivery(`evt_worker_${storeKind.replace(' ', '_')}`);

    const first = await worker.fetch(post(genuine), env);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { ok: true, outcome: 'processed' });
    assert.equal(env.EVENTS.sent.length, 1);
    assert.equal(env.EVENTS.sent[0].id, genuine.id);
    assert.equal(env.EVENTS.sent[0].type, 'task.completed');
    assert.deepEqual(env.EVENTS.sent[0].data, { task_id: 'task_1', artifacts: [] });

    const forged = { body: genuine.body.replace('task_1', 'task_2'), headers: genuine.headers };
    const refused = await worker.fetch(post(forged), env);
    assert.equal(refused.status, 401);
    // The code and the core's message, so the worker's logs (and the sender's delivery log) say why.
    const why = (() => {
      try {
        new Verifier(secret).verify(forged.body, forged.headers);
      } catch (error) {
        return error.message;
      }
    })();
    assert.match(why, /^signature mismatch: /);
    assert.deepEqual(await refused.json(), { ok: false, error: 'signature_mismatch', message: why });
    assert.equal(env.EVENTS.sent.length, 1);

    const again = await worker.fetch(post(genuine), env);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { ok: true, outcome: 'duplicate' });
    assert.equal(env.EVENTS.sent.length, 1, 'the duplicate must not run the handler');

    if (env.DEDUPE_KV) {
      const [key] = [...env.DEDUPE_KV.values.keys()];
      assert.equal(env.DEDUPE_KV.values.size, 1);
      assert.match(key, /^anchor-webhooks:dedupe:[0-9a-f]{64}$/);
      assert.match(env.DEDUPE_KV.values.get(key), /^done:\d+$/);
      assert.ok(env.DEDUPE_KV.puts.every(({ options }) => options.expirationTtl >= 60));
    }
  });
}

test('worker: a failing queue answers 500, releases the claim, and the retry is processed', async () => {
  let failures = 1;
  const sent = [];
  const env = {
    ANCHOR_WEBHOOK_SECRET: secret,
    EVENTS: {
      send: async (message) => {
        if (failures-- > 0) throw new Error('queue unavailable');
        sent.push(message);
      },
    },
  };
  const genuine = delivery('evt_worker_retry');
  const originalError = console.error;
  console.error = () => {};
  try {
    const failed = await worker.fetch(post(genuine), env);
    assert.equal(failed.status, 500);
    assert.deepEqual(await failed.json(), { ok: false, outcome: 'handler_failed' });
  } finally {
    console.error = originalError;
  }
  const retried = await worker.fetch(post(genuine), env);
  assert.equal(retried.status, 200);
  assert.deepEqual(await retried.json(), { ok: true, outcome: 'processed' });
  assert.equal(sent.length, 1);
});

test('worker: unknown paths and methods', async () => {
  const env = { ANCHOR_WEBHOOK_SECRET: secret, EVENTS: queue() };
  assert.equal((await worker.fetch(new Request('https://hooks.example.test/other', { method: 'POST' }), env)).status, 404);
  assert.equal((await worker.fetch(new Request(url), env)).status, 405);
});
