// The example worker (examples/edge-worker/worker.mjs) called in Node with real Request objects, with its
// Durable Object (WEBHOOKS) on an in-process stand-in of the runtime, and without it (the per-isolate
// fallback). The store over the object's storage, its expiry and its alarm are the example's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import worker, { WebhookReceiver } from '../../examples/edge-worker/worker.mjs';
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

/**
 * An in-process stand-in for a Durable Object namespace holding one object of `ObjectClass` (built on first
 * use with `env`, as the runtime gives an object the worker's bindings). Its storage is a Map (values
 * structured-cloned both ways, as the real storage stores them) with the calls the example makes. As in the
 * runtime, events (requests, the alarm) reach the object one at a time, a turn of the event loop apart, and
 * never while a storage operation is in flight (the input gate); a storage operation completes without
 * waiting for other I/O, so code between two storage calls is not interleaved with another request.
 * `runAlarm()` clears the alarm and calls the object's `alarm()`, as the runtime does when it is due.
 */
function durableObjectNamespace(ObjectClass, env) {
  const entries = new Map();
  let alarm = null;
  let inFlight = 0;
  const operation = async (apply) => {
    inFlight += 1;
    try {
      await null;
      return structuredClone(apply());
    } finally {
      inFlight -= 1;
    }
  };
  const storage = {
    get: (key) => operation(() => entries.get(key)),
    put: (key, value) => operation(() => void entries.set(key, structuredClone(value))),
    delete: (key) => operation(() => entries.delete(key)),
    list: () => operation(() => new Map([...entries].sort(([a], [b]) => (a < b ? -1 : 1)))),
    setAlarm: (time) => operation(() => void (alarm = Number(time))),
    getAlarm: () => operation(() => alarm),
  };
  let instance = null;
  const object = () => (instance ??= new ObjectClass({ id: { name: 'webhooks' }, storage }, env));
  let lastEvent = Promise.resolve();
  const deliver = (call) => {
    const gateOpen = lastEvent.then(async () => {
      do await new Promise((resolve) => setImmediate(resolve));
      while (inFlight > 0);
    });
    lastEvent = gateOpen;
    return gateOpen.then(() => call(object()));
  };
  const names = [];
  return {
    entries,
    names,
    object,
    alarm: () => alarm,
    runAlarm: () => {
      assert.notEqual(alarm, null, 'no alarm is set');
      return deliver((target) => {
        alarm = null;
        return target.alarm();
      });
    },
    idFromName: (name) => {
      names.push(name);
      return { name };
    },
    get: (id) => {
      assert.equal(id.name, 'webhooks');
      return { fetch: (request) => deliver((target) => target.fetch(request)) };
    },
  };
}

const kinds = ['Durable Object', 'isolate memory'];

/** The bindings: the secret, the queue, and WEBHOOKS unless the fallback is under test. */
function environment(kind, EVENTS) {
  const env = { ANCHOR_WEBHOOK_SECRET: secret, EVENTS };
  if (kind === 'Durable Object') env.WEBHOOKS = durableObjectNamespace(WebhookReceiver, env);
  return env;
}

const slug = (kind) => kind.replace(' ', '_');
const answer = async (response) => [response.status, await response.json(), response.headers.get('retry-after')];

for (const kind of kinds) {
  test(`worker (${kind}): 200 valid, 401 forged, 200 duplicate without re-running the handler`, async () => {
    const env = environment(kind, queue());
    const genuine = delivery(`evt_worker_${slug(kind)}`);

    const before = Date.now();
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

    if (env.WEBHOOKS) {
      // One object, named 'webhooks', holds the id, as a done record kept with its expiry; an alarm is set.
      assert.deepEqual(env.WEBHOOKS.names, ['webhooks', 'webhooks', 'webhooks']);
      assert.equal(env.WEBHOOKS.entries.size, 1);
      const [[key, { value, expiresAt }]] = env.WEBHOOKS.entries;
      assert.match(key, /^anchor-webhooks:dedupe:[0-9a-f]{64}$/);
      const [, doneUntil] = value.match(/^done:(\d+)$/);
      // expirationTtl is whole seconds, so the entry outlives the record's own deadline by under a second.
      assert.ok(expiresAt >= Number(doneUntil) && expiresAt < Number(doneUntil) + 1000, `${expiresAt} vs ${value}`);
      assert.ok(expiresAt >= before + 24 * 3600_000, 'the done record is kept a day');
      assert.equal(typeof env.WEBHOOKS.alarm(), 'number');
      assert.ok(env.WEBHOOKS.alarm() <= expiresAt);
    }
  });

  test(`worker (${kind}): a failing queue answers 500, releases the claim, and the retry is processed`, async () => {
    let failures = 1;
    const sent = [];
    const env = environment(kind, {
      send: async (message) => {
        if (failures-- > 0) throw new Error('queue unavailable');
        sent.push(message);
      },
    });
    const genuine = delivery(`evt_worker_retry_${slug(kind)}`);
    const originalError = console.error;
    console.error = () => {};
    try {
      const failed = await worker.fetch(post(genuine), env);
      assert.equal(failed.status, 500);
      assert.deepEqual(await failed.json(), { ok: false, outcome: 'handler_failed' });
    } finally {
      console.error = originalError;
    }
    if (env.WEBHOOKS) assert.equal(env.WEBHOOKS.entries.size, 0, 'the claim is deleted');
    const retried = await worker.fetch(post(genuine), env);
    assert.equal(retried.status, 200);
    assert.deepEqual(await retried.json(), { ok: true, outcome: 'processed' });
    assert.equal(sent.length, 1);
    if (env.WEBHOOKS) assert.match([...env.WEBHOOKS.entries.values()][0].value, /^done:\d+$/);
  });

  test(`worker (${kind}): two concurrent deliveries of one event run the handler once`, async () => {
    // The handler holds until a delivery has been answered, so the other arrives while it runs (or, if
    // both ran it, until the second call: then both are answered 200 and the test fails rather than hangs).
    let release;
    const released = new Promise((resolve) => (release = resolve));
    const sent = [];
    const env = environment(kind, {
      send: async (message) => {
        sent.push(message);
        if (sent.length === 2) release();
        await released;
      },
    });
    const genuine = delivery(`evt_worker_concurrent_${slug(kind)}`);
    const deliveries = [worker.fetch(post(genuine), env), worker.fetch(post(genuine), env)];
    await Promise.race(deliveries);
    release();
    const answers = await Promise.all(deliveries.map(async (pending) => answer(await pending)));
    answers.sort(([a], [b]) => a - b);
    assert.deepEqual(answers, [
      [200, { ok: true, outcome: 'processed' }, null],
      [503, { ok: false, outcome: 'in_progress' }, answers[1][2]],
    ]);
    assert.match(answers[1][2], /^[1-9]\d*$/, 'the 503 carries Retry-After');
    assert.equal(sent.length, 1);
    const again = await answer(await worker.fetch(post(genuine), env));
    assert.deepEqual(again, [200, { ok: true, outcome: 'duplicate' }, null]);
    assert.equal(sent.length, 1);
  });
}

test('WebhookReceiver store: a value put with expirationTtl reads back until it expires', async (t) => {
  const objects = durableObjectNamespace(WebhookReceiver, { ANCHOR_WEBHOOK_SECRET: secret, EVENTS: queue() });
  const { store } = objects.object();
  let now = 1_800_000_000_000;
  t.mock.method(Date, 'now', () => now);

  assert.equal(await store.get('k'), null);
  await store.put('k', 'claim:1', { expirationTtl: 60 });
  assert.deepEqual(objects.entries.get('k'), { value: 'claim:1', expiresAt: now + 60_000 });
  assert.equal(objects.alarm(), now + 60_000);
  now += 59_999;
  assert.equal(await store.get('k'), 'claim:1');
  now += 1;
  assert.equal(await store.get('k'), null, 'expired at its expiresAt, before the alarm deletes it');
  assert.equal(objects.entries.size, 1);

  // A later put keeps the earlier alarm (it comes first); delete removes the entry at once.
  await store.put('j', 'done:1', { expirationTtl: 3600 });
  assert.equal(objects.alarm(), 1_800_000_060_000);
  assert.equal(await store.get('j'), 'done:1');
  await store.delete('j');
  assert.equal(await store.get('j'), null);
  assert.equal(objects.entries.has('j'), false);
});

test('WebhookReceiver alarm: deletes the expired entries and wakes again for the next one', async (t) => {
  const objects = durableObjectNamespace(WebhookReceiver, { ANCHOR_WEBHOOK_SECRET: secret, EVENTS: queue() });
  const { store } = objects.object();
  const start = 1_800_000_000_000;
  let now = start;
  t.mock.method(Date, 'now', () => now);

  await store.put('a', 'claim:1', { expirationTtl: 60 });
  await store.put('b', 'done:1', { expirationTtl: 120 });
  assert.equal(objects.alarm(), start + 60_000);
  now = start + 60_000;
  await objects.runAlarm();
  assert.deepEqual([...objects.entries.keys()], ['b']);
  assert.equal(objects.alarm(), start + 120_000);
  now = start + 120_000;
  await objects.runAlarm();
  assert.equal(objects.entries.size, 0);
  assert.equal(objects.alarm(), null, 'nothing left, no alarm');
});

test('worker (Durable Object): a processed event\'s id is gone once it expired and the alarm ran', async (t) => {
  const env = environment('Durable Object', queue());
  const genuine = delivery('evt_worker_expiry');
  const first = await answer(await worker.fetch(post(genuine), env));
  assert.deepEqual(first, [200, { ok: true, outcome: 'processed' }, null]);
  const [[, { expiresAt }]] = env.WEBHOOKS.entries;
  t.mock.method(Date, 'now', () => expiresAt);
  // The first alarm is the claim's (a minute); it finds the done record expired too.
  await env.WEBHOOKS.runAlarm();
  assert.equal(env.WEBHOOKS.entries.size, 0);
  assert.equal(env.WEBHOOKS.alarm(), null);
});

test('worker: unknown paths and methods', async () => {
  for (const kind of kinds) {
    const env = environment(kind, queue());
    const other = new Request('https://hooks.example.test/other', { method: 'POST' });
    assert.equal((await worker.fetch(other, env)).status, 404);
    assert.equal((await worker.fetch(new Request(url), env)).status, 405);
  }
});
