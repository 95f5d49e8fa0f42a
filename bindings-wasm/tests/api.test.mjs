// The API around verification: inputs, errors, events, verifyRequest, signing, the receiver and its stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { inspect } from 'node:util';

import {
  Event,
  MemoryStore,
  Receiver,
  Verifier,
  WebhookVerificationError,
  errorCodes,
  sign,
} from 'anchor-webhooks-wasm';

const secret = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6';
const oldSecret = 'f'.repeat(64);
const now = 1_716_544_084;

function envelope(id, extra = {}) {
  return JSON.stringify({
    id,
    type: 'task.failed',
    created: '2026-05-24T12:18:05.123Z',
    project_id: '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197',
    text: 'Task failed: timeout ✗',
    data: { task_id: 't_1', error: { type: 'timeout', message: 'slow' }, note: 'café ☕' },
    ...extra,
  });
}

function codeOf(run) {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `${error?.name}: ${error?.message}`);
    return error.code;
  }
  return 'accepted';
}

test('an event carries every field; data is parsed lazily from the signed bytes', () => {
  const body = envelope('evt_fields');
  const headers = sign([secret], body, { timestamp: now, id: 'd1f0c7a2-0000-4000-8000-000000000001' });
  const event = new Verifier([secret, oldSecret]).verify(body, headers, { now });
  assert.ok(event instanceof Event);
  assert.equal(event.id, 'evt_fields');
  assert.equal(event.type, 'task.failed');
  assert.ok(event.created instanceof Date);
  assert.equal(event.created.toISOString(), '2026-05-24T12:18:05.123Z');
  assert.equal(event.projectId, '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197');
  assert.equal(event.text, 'Task failed: timeout ✗');
  assert.equal(event.matchedSecret, 0);
  assert.equal(event.timestamp, now);
  assert.equal(event.deliveryId, 'd1f0c7a2-0000-4000-8000-000000000001');
  assert.deepEqual(event.data, { task_id: 't_1', error: { type: 'timeout', message: 'slow' }, note: 'café ☕' });
  assert.equal(event.data, event.data, 'data is parsed once and cached');
  assert.ok(event.is('task.failed'));
  assert.equal(JSON.parse(JSON.stringify(event)).data.note, 'café ☕');
});

test('rotation: matchedSecret is the index of the secret that matched', () => {
  const body = envelope('evt_rotation');
  const headers = sign(oldSecret, body, { timestamp: now });
  assert.equal(new Verifier([secret, oldSecret]).verify(body, headers, { now }).matchedSecret, 1);
});

test('verifySignature: headers, timestamp and signature only; the body is not read as JSON', () => {
  const verifier = new Verifier([secret, oldSecret]);
  const body = 'not JSON at all';
  const headers = sign(oldSecret, body, { timestamp: now, eventType: 'task.completed' });
  assert.deepEqual(verifier.verifySignature(body, headers, { now }), { matchedSecret: 1, timestamp: now });
  assert.deepEqual(verifier.verifySignature(new TextEncoder().encode(body), headers, { now }), { matchedSecret: 1, timestamp: now });
  assert.equal(codeOf(() => verifier.verify(body, headers, { now })), 'invalid_payload');
  assert.equal(codeOf(() => verifier.verifySignature(body + ' ', headers, { now })), 'signature_mismatch');
  assert.equal(codeOf(() => verifier.verifySignature(body, headers, { now: now + 121 })), 'timestamp_too_old');
});

test('bodies: Uint8Array, Buffer, ArrayBuffer, DataView and string give the same event', () => {
  const body = envelope('evt_bodies');
  const headers = sign(secret, body, { timestamp: now });
  const bytes = new TextEncoder().encode(body);
  const verifier = new Verifier(secret);
  const inputs = [
    bytes,
    Buffer.from(body),
    bytes.buffer.slice(0),
    new DataView(bytes.buffer.slice(0)),
    body,
    // A view into a larger buffer, not starting at 0.
    new Uint8Array([0, 0, 0, ...bytes, 0]).subarray(3, 3 + bytes.length),
  ];
  for (const input of inputs) {
    const event = verifier.verify(input, headers, { now });
    assert.equal(event.id, 'evt_bodies');
    assert.equal(event.data.note, 'café ☕');
  }
  assert.throws(() => verifier.verify({ not: 'a body' }, headers, { now }), TypeError);
});

test('data is a copy: changing the caller buffer after verification does not change it', () => {
  const body = envelope('evt_copy');
  const headers = sign(secret, body, { timestamp: now });
  const bytes = Buffer.from(body);
  const event = new Verifier(secret).verify(bytes, headers, { now });
  bytes.write('XXXXXXXXXXXXXXXXXXXXXXXX', bytes.indexOf('t_1') - 1);
  assert.equal(event.data.task_id, 't_1');
});

test('headers: WHATWG Headers, Map, pairs, plain objects in any case, array values', () => {
  const body = envelope('evt_headers');
  const signed = sign(secret, body, { timestamp: now });
  const verifier = new Verifier(secret);
  const upper = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toUpperCase(), v]));
  const withArrays = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), [v]]));
  for (const headers of [new Headers(signed), new Map(Object.entries(signed)), Object.entries(signed), upper, withArrays]) {
    assert.equal(verifier.verify(body, headers, { now }).id, 'evt_headers');
  }
  // A signature header given twice (two casings in an object) is refused by the core.
  const doubled = { ...signed, 'anchor-signature': signed['Anchor-Signature'] };
  assert.equal(codeOf(() => verifier.verify(body, doubled, { now })), 'malformed_header');
  // Non-ASCII header text reaches the core as UTF-8 and is refused there.
  const accented = { ...signed, 'Anchor-Delivery-Id': 'délivrance' };
  assert.equal(codeOf(() => verifier.verify(body, accented, { now })), 'malformed_header');
  assert.throws(() => verifier.verify(body, 'nope', { now }), TypeError);
});

test('errors: real Errors with name, code, httpStatus and skew; never a secret in the message', () => {
  const body = envelope('evt_errors');
  const headers = sign(secret, body, { timestamp: now });
  const verifier = new Verifier(secret);
  const cases = [
    [() => verifier.verify(body + ' ', headers, { now }), 'signature_mismatch', 401, null],
    [() => verifier.verify(body, headers, { now: now + 121 }), 'timestamp_too_old', 401, 121],
    [() => verifier.verify(body, headers, { now: now - 500 }), 'timestamp_too_new', 401, 500],
    [() => verifier.verify(body, {}, { now }), 'missing_header', 400, null],
    [() => new Verifier(secret, { maxBodyBytes: 10 }).verify(body, headers, { now }), 'body_too_large', 413, null],
    [() => new Verifier(` ${secret}`), 'invalid_secret', 500, null],
    [() => new Verifier([]), 'invalid_secret', 500, null],
  ];
  for (const [run, code, status, skew] of cases) {
    let caught;
    try {
      run();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof WebhookVerificationError, code);
    assert.ok(caught instanceof Error);
    assert.equal(caught.name, 'WebhookVerificationError');
    assert.equal(caught.code, code);
    assert.equal(caught.httpStatus, status);
    assert.equal(caught.skewSeconds, skew);
    assert.ok(!caught.message.includes(secret), 'secret in message');
    assert.ok(!caught.message.includes(headers['Anchor-Signature'].split('v1=')[1]), 'signature in message');
    assert.ok(errorCodes().includes(caught.code));
  }
  // The clock: a Date works as well as unix seconds, and the default is Date.now().
  assert.equal(verifier.verify(body, headers, { now: new Date(now * 1000) }).id, 'evt_errors');
  assert.equal(codeOf(() => verifier.verify(body, headers)), 'timestamp_too_old');
  const fresh = sign(secret, body);
  assert.equal(verifier.verify(body, fresh).id, 'evt_errors');
});

test('a valid signature over a body that is not an envelope is invalid_payload (400)', () => {
  const body = '{"id": "evt_x"}';
  const headers = sign(secret, body, { timestamp: now });
  assert.equal(codeOf(() => new Verifier(secret).verify(body, headers, { now })), 'invalid_payload');
});

test('options are checked: wrong types are TypeErrors, not verification errors', () => {
  assert.throws(() => new Verifier(secret, { scheme: 'hmac' }), TypeError);
  assert.throws(() => new Verifier(secret, { tolerance: '120' }), TypeError);
  assert.throws(() => new Verifier(secret, { tolerance: -1 }), TypeError);
  assert.throws(() => new Verifier(42), TypeError);
  const verifier = new Verifier(secret, { tolerance: 30, maxBodyBytes: 2048 });
  assert.equal(verifier.tolerance, 30);
  assert.equal(verifier.maxBodyBytes, 2048);
  assert.equal(verifier.scheme, 'anchor');
  assert.equal(new Verifier('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { scheme: 'standard' }).tolerance, 300);
});

test('no secret in what a Verifier shows', () => {
  const verifier = new Verifier([secret, oldSecret]);
  for (const shown of [inspect(verifier, { showHidden: true, depth: 5 }), String(verifier), JSON.stringify(verifier)]) {
    assert.ok(!shown.includes(secret) && !shown.includes(oldSecret), shown);
  }
  assert.equal(verifier.secretCount, 2);
});

test('standard scheme: the official vector, signed by sign() and verified', () => {
  const standardSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const headers = sign(standardSecret, '{"test": 2432232314}', {
    scheme: 'standard',
    timestamp: 1614265330,
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  });
  assert.equal(headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const event = new Verifier(standardSecret, { scheme: 'standard' }).verify('{"test": 2432232314}', headers, {
    now: 1614265330,
  });
  assert.equal(event.id, 'msg_p5jXN8AQM9LWM0D4loKWxJek');
  assert.equal(event.type, '');
  assert.equal(event.data, null);
  assert.equal(event.created, null);
});

test('verifyRequest reads the body once, resolves to the event, and keeps the bytes as event.rawBody', async () => {
  const body = envelope('evt_request');
  const headers = sign(secret, body, { timestamp: now });
  const request = new Request('https://example.test/hook', { method: 'POST', headers, body });
  const event = await new Verifier(secret).verifyRequest(request, { now });
  assert.ok(event instanceof Event);
  assert.equal(event.id, 'evt_request');
  assert.ok(event.rawBody instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(event.rawBody), body);
  // A body verified as text gives back the UTF-8 bytes that were verified.
  const text = envelope('evt_text_é');
  const fromText = new Verifier(secret).verify(text, sign(secret, text, { timestamp: now }), { now });
  assert.deepEqual(fromText.rawBody, new TextEncoder().encode(text));
  assert.equal(fromText.rawBody, fromText.rawBody);
  await assert.rejects(new Verifier(secret).verifyRequest(request, { now }), /already read/);
  const forged = new Request('https://example.test/hook', { method: 'POST', headers, body: body.replace('t_1', 't_2') });
  await assert.rejects(new Verifier(secret).verifyRequest(forged, { now }), { code: 'signature_mismatch' });
});

test('a delivery of the other scheme is named in the missing_header error', () => {
  const body = envelope('evt_other');
  const standardSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const standard = new Headers(sign(standardSecret, body, { timestamp: now, scheme: 'standard' }));
  assert.throws(() => new Verifier(secret).verify(body, standard, { now }), {
    code: 'missing_header',
    message:
      "missing header `Anchor-Signature`: the delivery carries `webhook-signature` instead, so it is signed with the " +
      "Standard Webhooks scheme: verify it with a verifier of the standard scheme and that webhook's `whsec_` secret",
  });
  assert.throws(() => new Verifier(standardSecret, { scheme: 'standard' }).verify(body, sign(secret, body, { timestamp: now }), { now }), {
    code: 'missing_header',
    message: /carries `Anchor-Signature` instead, so it is signed with the Anchor scheme/,
  });
});

test('require() gives the same API (CommonJS entry)', () => {
  const require = createRequire(import.meta.url);
  const api = require('anchor-webhooks-wasm');
  const body = envelope('evt_cjs');
  const event = new api.Verifier(secret).verify(body, api.sign(secret, body, { timestamp: now }), { now });
  assert.equal(event.id, 'evt_cjs');
  assert.throws(() => new api.Verifier(secret).verify(body, {}, { now }), { name: 'WebhookVerificationError', code: 'missing_header' });
});

// ---- receiver ----------------------------------------------------------------------------------

function kvNamespace() {
  const values = new Map();
  return {
    values,
    get: async (key) => values.get(key) ?? null,
    put: async (key, value) => void values.set(key, value),
    delete: async (key) => void values.delete(key),
  };
}

function kvWithoutDelete() {
  const { values, get, put } = kvNamespace();
  return { values, get, put };
}

const storeKinds = {
  MemoryStore: () => new MemoryStore(),
  'async key-value store': kvNamespace,
  'async key-value store without delete': kvWithoutDelete,
};

for (const [kind, makeStore] of Object.entries(storeKinds)) {
  test(`Receiver (${kind}): the store is the second argument, as in the Node package`, () => {
    const store = makeStore();
    assert.equal(new Receiver(new Verifier(secret), store).store, store);
  });

  test(`Receiver (${kind}): processed once, duplicate, rejected, handler failure released`, async () => {
    const receiver = new Receiver(new Verifier(secret), makeStore());
    const body = envelope('evt_receiver');
    const headers = sign(secret, body, { timestamp: now });
    let runs = 0;
    const handler = async (event, raw) => {
      assert.equal(event.id, 'evt_receiver');
      assert.equal(new TextDecoder().decode(raw), body);
      runs++;
    };

    const first = await receiver.receive(body, headers, handler, { now });
    assert.deepEqual([first.kind, first.status, runs], ['processed', 200, 1]);
    assert.equal(first.event.id, 'evt_receiver');
    const second = await receiver.receive(body, headers, handler, { now: now + 1 });
    assert.deepEqual([second.kind, second.status, runs], ['duplicate', 200, 1]);

    const forged = await receiver.receive(body.replace('t_1', 't_9'), headers, handler, { now });
    assert.deepEqual([forged.kind, forged.status, forged.error.code, runs], ['rejected', 401, 'signature_mismatch', 1]);

    const other = envelope('evt_receiver_fails');
    const otherHeaders = sign(secret, other, { timestamp: now });
    const boom = new Error('boom');
    const failed = await receiver.receive(other, otherHeaders, () => Promise.reject(boom), { now });
    assert.deepEqual([failed.kind, failed.status, failed.error], ['handler_failed', 500, boom]);
    const retried = await receiver.receive(other, otherHeaders, () => runs++, { now });
    assert.deepEqual([retried.kind, retried.status, runs], ['processed', 200, 2]);
  });

  test(`Receiver (${kind}): a second delivery while the first runs is in progress (503, Retry-After)`, async () => {
    const receiver = new Receiver(new Verifier(secret), makeStore(), { leaseSeconds: 30 });
    const body = envelope('evt_concurrent');
    const headers = sign(secret, body, { timestamp: now });
    let release;
    let runs = 0;
    const gate = new Promise((resolve) => (release = resolve));
    const slow = receiver.receive(body, headers, async () => {
      runs++;
      await gate;
    }, { now });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const concurrent = await receiver.receive(body, headers, async () => runs++, { now: now + 1 });
    assert.deepEqual([concurrent.kind, concurrent.status, concurrent.retryAfter], ['in_progress', 503, 5]);
    release();
    assert.equal((await slow).kind, 'processed');
    assert.equal(runs, 1);
    // After the lease of a crashed worker, the event can be claimed again: here the lease is simply
    // outlived by a delivery 31 s later that the first claim never completed.
    const crashed = envelope('evt_crashed');
    const crashedHeaders = sign(secret, crashed, { timestamp: now });
    const never = receiver.receive(crashed, crashedHeaders, () => new Promise(() => {}), { now });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const later = await receiver.receive(crashed, crashedHeaders, async () => runs++, { now: now + 31 });
    assert.deepEqual([later.kind, later.status, runs], ['processed', 200, 2]);
    void never;
  });
}

test('Receiver: a failing async store is store_unavailable (503), never fresh', async () => {
  const broken = {
    get: async () => {
      throw new Error('KV is down');
    },
    put: async () => {},
    delete: async () => {},
  };
  const receiver = new Receiver(new Verifier(secret), broken);
  const body = envelope('evt_store_down');
  let runs = 0;
  const outcome = await receiver.receive(body, sign(secret, body, { timestamp: now }), () => runs++, { now });
  assert.deepEqual([outcome.kind, outcome.status, outcome.error.code, runs], ['rejected', 503, 'store_unavailable', 0]);
  assert.equal(outcome.retryAfter, 5, 'every 503 carries Retry-After, as in the Node and Python packages');
  assert.match(outcome.error.message, /KV is down/);
  const answer = await new Verifier(secret).receive(
    new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, body), body }), // signed now: receive reads the clock
    () => runs++,
    { store: broken },
  );
  assert.deepEqual([answer.status, answer.headers.get('retry-after'), runs], [503, '5', 0]);

  const unreadable = kvNamespace();
  const unreadableReceiver = new Receiver(new Verifier(secret), unreadable);
  const first = await unreadableReceiver.receive(body, sign(secret, body, { timestamp: now }), () => runs++, { now });
  assert.equal(first.kind, 'processed');
  for (const key of unreadable.values.keys()) unreadable.values.set(key, 'garbage');
  const second = await unreadableReceiver.receive(body, sign(secret, body, { timestamp: now }), () => runs++, { now });
  assert.deepEqual([second.kind, second.status, second.error?.code, runs], ['rejected', 503, 'store_unavailable', 1]);
});

test('Receiver (async key-value store): ending the claim after the handler ran', async () => {
  // The completion cannot be written: the handler ran, so the answer is 503 (the sender retries; at-least-once).
  const noDone = kvNamespace();
  const put = noDone.put;
  noDone.put = async (key, value, options) => {
    if (value.startsWith('done:')) throw new Error('KV refused the write');
    return put(key, value, options);
  };
  const body = envelope('evt_end');
  const headers = sign(secret, body, { timestamp: now });
  let runs = 0;
  const unrecorded = await new Receiver(new Verifier(secret), noDone).receive(body, headers, () => runs++, { now });
  assert.deepEqual([unrecorded.kind, unrecorded.status, unrecorded.error.code, runs], ['rejected', 503, 'store_unavailable', 1]);
  assert.match(unrecorded.error.message, /KV refused the write/);
  assert.equal(unrecorded.event.id, 'evt_end');

  // The release after a failed handler cannot be written: ignored (the lease expires), the handler's error is reported.
  const noDelete = kvNamespace();
  noDelete.delete = async () => {
    throw new Error('KV refused the delete');
  };
  const boom = new Error('boom');
  const receiver = new Receiver(new Verifier(secret), noDelete, { leaseSeconds: 30 });
  const failed = await receiver.receive(body, headers, () => Promise.reject(boom), { now });
  assert.deepEqual([failed.kind, failed.status, failed.error], ['handler_failed', 500, boom]);
  const held = await receiver.receive(body, headers, () => runs++, { now: now + 1 });
  assert.deepEqual([held.kind, held.status, runs], ['in_progress', 503, 1]);
  const afterLease = await receiver.receive(body, headers, () => runs++, { now: now + 31 });
  assert.deepEqual([afterLease.kind, afterLease.status, runs], ['processed', 200, 2]);
});

test('Receiver (async key-value store): a store that does not show its own claim yet still records the completion', async () => {
  // Workers KV caches a lookup that found nothing for up to a minute: the read after the handler can miss
  // the claim written before it. The id must still be recorded as done, and no claim reported lost.
  const store = kvNamespace();
  const reads = [];
  const get = store.get;
  store.get = async (key) => {
    reads.push(key);
    return null; // neither the claim's read nor the one after the handler sees a record
  };
  const lost = [];
  const receiver = new Receiver(new Verifier(secret), store, { onClaimLost: (event, message) => lost.push(message) });
  const body = envelope('evt_kv_lag');
  const headers = sign(secret, body, { timestamp: now });
  let runs = 0;
  const first = await receiver.receive(body, headers, () => runs++, { now });
  assert.deepEqual([first.kind, first.status, runs, lost], ['processed', 200, 1, []]);
  assert.equal(reads.length, 2);
  assert.match([...store.values.values()][0], /^done:/);
  // Once the store shows its writes, the retry is a duplicate: the handler does not run again.
  store.get = get;
  const retry = await receiver.receive(body, headers, () => runs++, { now: now + 5 });
  assert.deepEqual([retry.kind, retry.status, runs], ['duplicate', 200, 1]);
});

// ---- review fixes: a hung or misbehaving key-value adapter ------------------------------------------

/** The core's store_unavailable message around `reason`. */
const storeUnavailable = (reason) => `dedupe store unavailable: ${reason}; answer 503 so the sender retries`;
const notSettled = (call, within = '50 ms') => storeUnavailable(`the store's ${call} did not settle within ${within} (timeoutSeconds)`);
const hung = () => new Promise(() => {});
/** The core's words for a completion the store could not record, after the handler of `id` ran. */
const unrecordedText = (id, reason) =>
  storeUnavailable(`the handler of event ${id} ran, but recording it as done failed (${reason}); a retry after the lease runs it again`);

/** Records what would be unhandled rejections while `run` runs (and a few ticks after). */
async function withoutUnhandledRejections(run) {
  const unhandled = [];
  const record = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', record);
  }
  assert.deepEqual(unhandled, [], 'a late settle after the timeout must not be an unhandled rejection');
}

test('Receiver (async key-value store): a get, put or delete that never settles is store_unavailable (503) after timeoutSeconds, naming the call', async () => {
  const body = envelope('evt_hung');
  const headers = sign(secret, body, { timestamp: now });
  const options = { timeoutSeconds: 0.05, leaseSeconds: 30 };
  let runs = 0;
  const handler = () => void runs++;

  // The claim's read hangs: nothing is claimed, the handler does not run.
  const hungGet = { ...kvNamespace(), get: hung };
  const started = Date.now();
  const noRead = await new Receiver(new Verifier(secret), hungGet, options).receive(body, headers, handler, { now });
  assert.deepEqual(
    [noRead.kind, noRead.status, noRead.error.code, noRead.error.message, noRead.retryAfter, noRead.event, runs],
    ['rejected', 503, 'store_unavailable', notSettled('get()'), 5, null, 0],
  );
  assert.ok(Date.now() - started >= 45, `answered after ${Date.now() - started} ms, before the timeout`);

  // The claim's write hangs: 503, the handler does not run.
  const hungClaim = kvNamespace();
  hungClaim.put = hung;
  const noClaim = await new Receiver(new Verifier(secret), hungClaim, options).receive(body, headers, handler, { now });
  // No event on the outcome: a rejected outcome carries one only when its handler ran (as in Node and Go).
  assert.deepEqual([noClaim.kind, noClaim.status, noClaim.error.message, noClaim.event, runs], ['rejected', 503, notSettled('put()'), null, 0]);

  // The completion's read or write hangs after the handler ran: 503 (the sender retries; at-least-once).
  for (const [call, hang] of [['get()', (store) => (store.get = hung)], ['put()', (store) => (store.put = hung)]]) {
    const store = kvNamespace();
    const receiver = new Receiver(new Verifier(secret), store, options);
    const before = runs;
    const unrecorded = await receiver.receive(body, headers, () => {
      runs++;
      hang(store);
    }, { now });
    assert.deepEqual(
      [unrecorded.kind, unrecorded.status, unrecorded.error.code, unrecorded.error.message, unrecorded.event.id, runs - before],
      ['rejected', 503, 'store_unavailable', unrecordedText('evt_hung', `the store's ${call} did not settle within 50 ms (timeoutSeconds)`), 'evt_hung', 1],
    );
  }

  // The release after a failed handler hangs (delete(), or put() without it): the handler's error is the
  // answer, the claim holds until its lease ends, and a console line in the core's words says why.
  for (const [call, makeStore] of [['delete()', kvNamespace], ['put()', kvWithoutDelete]]) {
    const store = makeStore();
    const receiver = new Receiver(new Verifier(secret), store, options);
    const boom = new Error('boom');
    const warnings = [];
    const warn = console.warn;
    console.warn = (message) => warnings.push(message);
    try {
      const failed = await receiver.receive(body, headers, () => {
        if (call === 'delete()') store.delete = hung;
        else store.put = hung;
        throw boom;
      }, { now });
      assert.deepEqual([failed.kind, failed.status, failed.error], ['handler_failed', 500, boom], call);
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(warnings, [
      `anchor-webhooks: the claim on event evt_hung was not released after its handler failed (the store's ${call} did ` +
        'not settle within 50 ms (timeoutSeconds)); it ends with its lease, and deliveries of the event until then are answered in progress',
    ], call);
  }
});

test('Receiver (async key-value store): an adapter call settling after its timeout changes nothing and rejects nothing unhandled', async () => {
  const body = envelope('evt_late');
  const headers = sign(secret, body, { timestamp: now });
  let runs = 0;
  await withoutUnhandledRejections(async () => {
    // A get that resolves, and one that rejects, after the timeout: the 503 stands; the late value is not read.
    for (const late of [(resolve) => resolve('garbage'), (resolve, reject) => reject(new Error('KV woke up and failed'))]) {
      let settle;
      const store = kvNamespace();
      store.get = () => new Promise((resolve, reject) => (settle = () => late(resolve, reject)));
      const outcome = await new Receiver(new Verifier(secret), store, { timeoutSeconds: 0.02 }).receive(body, headers, () => runs++, { now });
      assert.deepEqual([outcome.kind, outcome.status, outcome.error.message, runs], ['rejected', 503, notSettled('get()', '20 ms'), 0]);
      settle();
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(store.values.size, 0, 'nothing was written on a late read');
    }

    // A claim written after its timeout: the delivery was answered 503; the late claim holds the event as a
    // crashed worker's would, until its lease ends, and the retry after it is processed.
    const store = kvNamespace();
    const put = store.put;
    let landClaim;
    store.put = (key, value, options) => new Promise((resolve) => (landClaim = () => resolve(put(key, value, options))));
    const receiver = new Receiver(new Verifier(secret), store, { timeoutSeconds: 0.02, leaseSeconds: 30 });
    const first = await receiver.receive(body, headers, () => runs++, { now });
    assert.deepEqual([first.kind, first.status, first.error.message, runs], ['rejected', 503, notSettled('put()', '20 ms'), 0]);
    landClaim();
    await new Promise((resolve) => setTimeout(resolve, 5));
    store.put = put;
    const held = await receiver.receive(body, headers, () => runs++, { now: now + 5 });
    assert.deepEqual([held.kind, held.status, runs], ['in_progress', 503, 0]);
    const afterLease = await receiver.receive(body, headers, () => runs++, { now: now + 31 });
    assert.deepEqual([afterLease.kind, afterLease.status, runs], ['processed', 200, 1]);

    // A completion that fails after its timeout: already answered 503; the retry runs the handler again.
    const failing = kvNamespace();
    const failingPut = failing.put;
    let failLate;
    const completing = new Receiver(new Verifier(secret), failing, { timeoutSeconds: 0.02 });
    const unrecorded = await completing.receive(body, headers, () => {
      runs++;
      failing.put = () => new Promise((resolve, reject) => (failLate = () => reject(new Error('KV refused the write'))));
    }, { now });
    assert.deepEqual([unrecorded.kind, unrecorded.status, unrecorded.error.message, runs], ['rejected', 503, unrecordedText('evt_late', "the store's put() did not settle within 20 ms (timeoutSeconds)"), 2]);
    failLate();
    failing.put = failingPut;
  });
});

test('Receiver (async key-value store): timeoutSeconds defaults to 2 s', async (t) => {
  const realSetTimeout = globalThis.setTimeout;
  let called;
  const reading = new Promise((resolve) => (called = resolve));
  const store = { ...kvNamespace(), get: () => (called(), hung()) };
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const body = envelope('evt_default_timeout');
  let settled = false;
  const outcome = new Receiver(new Verifier(secret), store).receive(body, sign(secret, body, { timestamp: now }), () => {}, { now });
  outcome.then(() => (settled = true));
  await Promise.race([reading, new Promise((resolve) => realSetTimeout(resolve, 2000))]);
  t.mock.timers.tick(1_999);
  await new Promise((resolve) => realSetTimeout(resolve, 10));
  assert.equal(settled, false, 'answered before 2 s');
  t.mock.timers.tick(1);
  const answer = await Promise.race([outcome, new Promise((resolve) => realSetTimeout(() => resolve('no answer'), 2000))]);
  assert.deepEqual([answer.status, answer.error?.message], [503, notSettled('get()', '2 s')]);
});

test('Receiver: timeoutSeconds is checked when it is built, and belongs to key-value stores', async () => {
  const verifier = new Verifier(secret);
  const refused = (code, reason) => ({ name: 'TypeError', code, message: `\`timeoutSeconds\` ${reason}` });
  const cases = [
    ['5', refused('ERR_INVALID_ARG_TYPE', 'must be a number of seconds')],
    [NaN, refused('ERR_INVALID_ARG_VALUE', 'must be a number of seconds, not NaN')],
    ...[0, -1, 0.0009, -Infinity].map((value) => [
      value,
      refused('ERR_INVALID_ARG_VALUE', 'must be at least 1 ms: 0 is no deadline at all'),
    ]),
    ...[Infinity, 1e300, MAX_SECONDS + 1].map((value) => [value, refused('ERR_INVALID_ARG_VALUE', `must be at most ${MAX_SECONDS} s`)]),
  ];
  for (const [value, error] of cases) {
    assert.throws(() => new Receiver(verifier, kvNamespace(), { timeoutSeconds: value }), error, `timeoutSeconds: ${value}`);
  }
  assert.throws(() => new Receiver(verifier, new MemoryStore(), { timeoutSeconds: 5 }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: 'Receiver: `ttlSeconds`, `prefix` and `timeoutSeconds` are options of a key-value store; a MemoryStore takes its own: new MemoryStore({ ttlSeconds })',
  });
  // The ends of the range are taken (a deadline beyond what a timer can hold is never reached in a delivery).
  const body = envelope('evt_timeout_range');
  for (const timeoutSeconds of [0.001, MAX_SECONDS]) {
    const done = await new Receiver(verifier, kvNamespace(), { timeoutSeconds }).receive(body, sign(secret, body, { timestamp: now }), () => {}, { now });
    assert.deepEqual([done.kind, done.status], ['processed', 200], `timeoutSeconds: ${timeoutSeconds}`);
  }
  // Through Verifier.receive, with a store given.
  const kv = { ...kvNamespace(), get: hung };
  const request = new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, body), body });
  const answer = await verifier.receive(request, () => assert.fail('the handler ran'), { store: kv, timeoutSeconds: 0.02 });
  assert.deepEqual([answer.status, answer.headers.get('retry-after'), await answer.json()], [
    503,
    '5',
    { ok: false, error: 'store_unavailable', message: notSettled('get()', '20 ms') },
  ]);
});

test('Receiver (async key-value store): a get() returning neither a string nor null is store_unavailable naming the adapter; no delivery is lost', async () => {
  const body = envelope('evt_get_type');
  const headers = sign(secret, body, { timestamp: now });
  const wrongType = (shown) => storeUnavailable(`the store's get() must return a string or null, got ${shown}`);
  let runs = 0;
  for (const [value, shown] of [
    [{ value: 'claim' }, 'an object'],
    [42, 'a number'],
    [true, 'a boolean'],
    [new Uint8Array(4), 'a Uint8Array'],
    [['done:1'], 'an array'],
  ]) {
    // At the claim: 503, nothing written, the handler not run.
    const store = kvNamespace();
    store.get = async () => value;
    const receiver = new Receiver(new Verifier(secret), store);
    const refused = await receiver.receive(body, headers, () => runs++, { now });
    assert.deepEqual(
      [refused.kind, refused.status, refused.error.code, refused.error.message, refused.retryAfter, runs, store.values.size],
      ['rejected', 503, 'store_unavailable', wrongType(shown), 5, 0, 0],
    );
  }
  // After the handler ran: 503 (the sender retries); the claim holds until its lease ends, then the retry
  // (the adapter mended) is processed, and the next one is a duplicate.
  const store = kvNamespace();
  const get = store.get;
  const receiver = new Receiver(new Verifier(secret), store, { leaseSeconds: 30 });
  const unrecorded = await receiver.receive(body, headers, () => {
    runs++;
    store.get = async (key) => ({ value: await get(key) });
  }, { now });
  assert.deepEqual(
    [unrecorded.kind, unrecorded.status, unrecorded.error.message, unrecorded.event.id, runs],
    ['rejected', 503, unrecordedText('evt_get_type', "the store's get() must return a string or null, got an object"), 'evt_get_type', 1],
  );
  store.get = get;
  assert.equal((await receiver.receive(body, headers, () => runs++, { now: now + 5 })).kind, 'in_progress');
  const retried = await receiver.receive(body, headers, () => runs++, { now: now + 31 });
  assert.deepEqual([retried.kind, retried.status, runs], ['processed', 200, 2]);
  assert.equal((await receiver.receive(body, headers, () => runs++, { now: now + 32 })).kind, 'duplicate');
  // `undefined` (a Durable Object's storage.get of a missing key) is no record, as null is.
  const absent = { ...kvNamespace(), get: async () => undefined };
  assert.equal((await new Receiver(new Verifier(secret), absent).receive(body, headers, () => runs++, { now })).kind, 'processed');
});

test('a sparse list of secrets is a TypeError with code ERR_INVALID_ARG_TYPE, in new Verifier and in sign', () => {
  const error = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'secrets must be a string or an array of strings' };
  // eslint-disable-next-line no-sparse-arrays
  for (const secrets of [[, secret], [secret, , oldSecret], new Array(2), [secret, undefined]]) {
    assert.throws(() => new Verifier(secrets), error, `new Verifier(${inspect(secrets)})`);
    assert.throws(() => sign(secrets, '{}'), error, `sign(${inspect(secrets)})`);
  }
  assert.equal(new Verifier([secret, oldSecret]).secretCount, 2);
});

test('Receiver and MemoryStore refuse what they would otherwise ignore', () => {
  const verifier = new Verifier(secret);
  // An options object where the store goes: refused, not silently replaced by a fresh MemoryStore.
  assert.throws(() => new Receiver(verifier, { store: new MemoryStore() }), { name: 'TypeError', message: /store must be a MemoryStore/ });
  assert.throws(() => new Receiver(verifier, new MemoryStore(), { lease: 30 }), { name: 'TypeError', message: /unknown option `lease`/ });
  assert.throws(() => new MemoryStore({ ttl: 60 }), { name: 'TypeError', message: /unknown option `ttl`/ });
  assert.equal(new Receiver(verifier).store instanceof MemoryStore, true);
});

test('MemoryStore: bounded; full of claims in progress it refuses with store_unavailable, full of completed ids the oldest makes room', async () => {
  const store = new MemoryStore({ maxEntries: 1, ttlSeconds: 60 });
  assert.deepEqual([store.maxEntries, store.ttlSeconds, store.size], [1, 60, 0]);
  const receiver = new Receiver(new Verifier(secret), store);
  const a = envelope('evt_a');
  const b = envelope('evt_b');
  let full;
  // evt_a's claim is the store's one entry while its handler runs.
  const processed = await receiver.receive(a, sign(secret, a, { timestamp: now }), async () => {
    full = await receiver.receive(b, sign(secret, b, { timestamp: now }), () => {}, { now });
  }, { now });
  assert.equal(processed.kind, 'processed');
  assert.deepEqual([full.kind, full.status, full.error.code], ['rejected', 503, 'store_unavailable']);
  assert.match(full.error.message, /^dedupe store unavailable: the memory store is full of claims in progress \(maximum entries: 1\)/);
  assert.equal(store.size, 1);
  const next = await receiver.receive(b, sign(secret, b, { timestamp: now }), () => {}, { now });
  assert.equal(next.kind, 'processed');
  assert.equal((await receiver.receive(b, sign(secret, b, { timestamp: now }), () => {}, { now })).kind, 'duplicate');
  assert.equal(store.size, 1);
});

test('Verifier.receive answers with a Response', async () => {
  const verifier = new Verifier(secret);
  const store = new MemoryStore();
  const body = envelope('evt_response');
  const headers = sign(secret, body);
  const request = () => new Request('https://example.test/hook', { method: 'POST', headers, body });
  let runs = 0;
  const ok = await verifier.receive(request(), () => runs++, { store });
  assert.deepEqual([ok.status, await ok.json(), ok.headers.get('content-type')], [200, { ok: true, outcome: 'processed' }, 'application/json']);
  const dup = await verifier.receive(request(), () => runs++, { store });
  assert.deepEqual([dup.status, await dup.json(), runs], [200, { ok: true, outcome: 'duplicate' }, 1]);
  const bad = await verifier.receive(new Request('https://example.test/hook', { method: 'POST', body }), () => runs++, { store });
  const missing = (() => {
    try {
      verifier.verify(body, {});
    } catch (error) {
      return error.message;
    }
  })();
  assert.match(missing, /^missing header `Anchor-Signature`/);
  assert.deepEqual([bad.status, await bad.json()], [400, { ok: false, error: 'missing_header', message: missing }]);
  const errors = [];
  const failing = envelope('evt_response_fails');
  const failed = await verifier.receive(
    new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, failing), body: failing }),
    () => {
      throw new Error('handler broke');
    },
    { store, onError: (error) => errors.push(error.message) },
  );
  assert.deepEqual([failed.status, errors], [500, ['handler broke']]);
});

// ---- audit fixes: options, oversized bodies, header containers, requests --------------------------

const MAX_SECONDS = 9007199254740;
// The core's reasons (anchor_webhooks::Setting), the same in every language, after the option's name.
const TOO_SHORT = {
  leaseSeconds:
    'must be at least 1 s: a shorter lease expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)',
  ttlSeconds:
    'must be at least 1 s: a shorter TTL forgets a completed id at once, and every retry would run the handler again (the default is 24 h)',
};
const durationError = (name, value) => {
  const reason =
    typeof value !== 'number'
      ? 'must be a number of seconds'
      : Number.isNaN(value)
        ? 'must be a number of seconds, not NaN'
        : value > MAX_SECONDS
          ? `must be at most ${MAX_SECONDS} s`
          : TOO_SHORT[name];
  return { name: 'TypeError', message: `\`${name}\` ${reason}` };
};

test('Receiver: leaseSeconds and ttlSeconds are checked when it is built, under their own names', async () => {
  const verifier = new Verifier(secret);
  for (const name of ['leaseSeconds', 'ttlSeconds']) {
    for (const value of [NaN, 0, 0.999, -5, -0.001, Infinity, -Infinity, 1e300, MAX_SECONDS + 1, '30']) {
      assert.throws(() => new Receiver(verifier, kvNamespace(), { [name]: value }), durationError(name, value), `${name}: ${value}`);
    }
  }
  for (const value of [NaN, 0, -5, 1e300]) {
    assert.throws(() => new Receiver(verifier, new MemoryStore(), { leaseSeconds: value }), durationError('leaseSeconds', value));
    assert.throws(() => new MemoryStore({ ttlSeconds: value }), durationError('ttlSeconds', value));
  }
  assert.throws(() => new MemoryStore({ ttlSeconds: 1e20 }), durationError('ttlSeconds', 1e20));
  assert.throws(() => new MemoryStore({ maxEntries: 0 }), {
    name: 'TypeError',
    message:
      '`maxEntries` must be at least 1: a store with room for no id claims nothing, and every delivery would be answered 503 (the default is 100000)',
  });
  // A fraction is refused, not floored (0.5 entries is no room, 1.5 would quietly be 1).
  for (const value of [0.5, 1.5]) {
    assert.throws(() => new MemoryStore({ maxEntries: value }), { name: 'TypeError', message: '`maxEntries` must be a whole number from 0 to 2^53 - 1' });
  }
  assert.throws(() => new Receiver(verifier, kvNamespace(), { prefix: 5 }), { name: 'TypeError', message: '`prefix` must be a string' });
  assert.throws(() => new Receiver(verifier, kvNamespace(), { onClaimLost: 'log' }), {
    name: 'TypeError',
    message: '`onClaimLost` must be a function (event, message) => void',
  });

  // Through Verifier.receive: refused before the body is read, nothing is claimed, the handler never runs.
  const kv = kvNamespace();
  const body = envelope('evt_bad_ttl');
  const request = new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, body), body });
  let runs = 0;
  await assert.rejects(verifier.receive(request, () => runs++, { store: kv, ttlSeconds: -5 }), durationError('ttlSeconds', -5));
  assert.deepEqual([request.bodyUsed, kv.values.size, runs], [false, 0, 0]);

  // The ends of the range work, and the completion is written with the TTL given.
  assert.equal(new MemoryStore({ ttlSeconds: 1.5 }).ttlSeconds, 1.5);
  const edge = new Receiver(verifier, kv, { leaseSeconds: 1, ttlSeconds: MAX_SECONDS });
  const done = await edge.receive(body, sign(secret, body, { timestamp: now }), () => runs++, { now });
  assert.deepEqual([done.kind, done.status, runs], ['processed', 200, 1]);
  assert.match([...kv.values.values()][0], /^done:/);
});

test('Receiver: a handler that outlasts its lease is processed, and the lost claim reported (memory and key-value)', async () => {
  const warning = (id) =>
    `anchor-webhooks: claim lost: the handler of event ${id} outlasted its 1 s lease and the claim was gone when it finished (another delivery may have run it too); choose a lease longer than the handler`;
  for (const [label, store] of [['memory', new MemoryStore()], ['key-value', kvNamespace()]]) {
    const lost = [];
    const receiver = new Receiver(new Verifier(secret), store, { leaseSeconds: 1, onClaimLost: (event, message) => lost.push([event.id, message]) });
    const id = `evt_slow_${label}`;
    const body = envelope(id);
    const headers = sign(secret, body, { timestamp: now });
    const slow = await receiver.receive(
      body,
      headers,
      async () => {
        // The lease ran out: the sender's retry takes the event over while this handler still runs.
        const retry = await receiver.receive(body, headers, () => {}, { now: now + 1 });
        assert.equal(retry.kind, 'processed', label);
        assert.deepEqual(lost, [], label);
      },
      { now },
    );
    assert.deepEqual([slow.kind, slow.status], ['processed', 200], label);
    assert.deepEqual(lost, [[id, warning(id)]], label);
  }

  // By default: console.warn with the core's warning.
  const warned = [];
  const original = console.warn;
  console.warn = (...args) => warned.push(args);
  try {
    const receiver = new Receiver(new Verifier(secret), new MemoryStore(), { leaseSeconds: 1 });
    const body = envelope('evt_warned');
    const headers = sign(secret, body, { timestamp: now });
    await receiver.receive(body, headers, () => receiver.receive(body, headers, () => {}, { now: now + 1 }), { now });
  } finally {
    console.warn = original;
  }
  assert.deepEqual(warned, [[warning('evt_warned')]]);
});

test('a key-value claim lost within its lease is reported as the store\'s race, not as the lease', async () => {
  // Two deliveries of one event arrive together at a get/put store: both read "no record", both claim, the
  // later write wins. The other handler then finds that claim, well within its 30 s lease.
  const map = new Map();
  const store = { get: async (key) => map.get(key) ?? null, put: async (key, value) => void map.set(key, value), delete: async (key) => void map.delete(key) };
  const lost = [];
  const receiver = new Receiver(new Verifier(secret), store, { onClaimLost: (event, message) => lost.push(message) });
  const id = 'evt_race';
  const body = envelope(id);
  const headers = sign(secret, body);
  let runs = 0;
  const handler = async () => {
    runs++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const outcomes = await Promise.all([receiver.receive(body, headers, handler), receiver.receive(body, headers, handler)]);
  assert.deepEqual([outcomes.map((outcome) => outcome.kind), runs], [['processed', 'processed'], 2]);
  assert.equal(lost.length, 1);
  assert.match(
    lost[0],
    new RegExp(
      `^anchor-webhooks: claim lost: the handler of event ${id} finished \\d+ ms after its claim, within its 30 s lease, ` +
        "and the store held another delivery's claim or completion: this store cannot claim atomically \\(it reads, then writes\\), " +
        'so deliveries of one event that arrive together may each run the handler; for exactly once, use a store that ' +
        'serialises access \\(a Durable Object\\)$',
    ),
  );
});

test('Receiver: `now` is checked before anything is claimed, and a Date fixes every step', async () => {
  const store = new MemoryStore();
  const receiver = new Receiver(new Verifier(secret), store);
  const body = envelope('evt_now_option');
  const headers = sign(secret, body, { timestamp: now });
  let runs = 0;
  await assert.rejects(receiver.receive(body, headers, () => runs++, { now: 'soon' }), {
    name: 'TypeError',
    message: '`now` must be unix seconds (a number) or a Date',
  });
  assert.deepEqual([runs, store.size], [0, 0]);
  const done = await receiver.receive(body, headers, () => runs++, { now: new Date(now * 1000) });
  assert.deepEqual([done.kind, runs, store.size], ['processed', 1, 1]);
});

test('Receiver: a MemoryStore refuses the key-value options it would ignore (ttlSeconds, prefix, timeoutSeconds)', async () => {
  const verifier = new Verifier(secret);
  const reason =
    '`ttlSeconds`, `prefix` and `timeoutSeconds` are options of a key-value store; a MemoryStore takes its own: new MemoryStore({ ttlSeconds })';
  const message = `Receiver: ${reason}`;
  const code = 'ERR_INVALID_ARG_VALUE';
  assert.throws(() => new Receiver(verifier, new MemoryStore(), { ttlSeconds: 5 }), { name: 'TypeError', code, message });
  assert.throws(() => new Receiver(verifier, undefined, { prefix: 'app' }), { name: 'TypeError', code, message });
  assert.throws(() => new Receiver(verifier, undefined, { timeoutSeconds: 5 }), { name: 'TypeError', code, message });
  const body = envelope('evt_memory_ttl');
  const request = new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, body), body });
  // Named after the call the user made.
  await assert.rejects(verifier.receive(request, () => {}, { ttlSeconds: 5 }), { name: 'TypeError', code, message: `receive: ${reason}` });
  assert.equal(request.bodyUsed, false);
  assert.equal(new Receiver(verifier, new MemoryStore(), { leaseSeconds: 10, ttlSeconds: undefined }).store instanceof MemoryStore, true);
});

test('unknown or misspelt options are TypeErrors naming them, everywhere', async () => {
  const body = envelope('evt_options');
  const headers = sign(secret, body, { timestamp: now });
  const unknown = (what, key, allowed) => ({
    name: 'TypeError',
    message: `${what}: unknown option \`${key}\` (the options are ${allowed})`,
  });
  assert.throws(() => new Verifier(secret, { tolerence: 5 }), unknown('Verifier', 'tolerence', 'tolerance, scheme, maxBodyBytes'));
  assert.throws(() => new Verifier(secret, { now }), unknown('Verifier', 'now', 'tolerance, scheme, maxBodyBytes'));
  assert.throws(() => new Verifier(secret, 'standard'), { name: 'TypeError', message: 'Verifier: options must be an object' });
  const verifier = new Verifier(secret);
  assert.throws(() => verifier.verify(body, headers, { nwo: now }), unknown('verify', 'nwo', 'now'));
  assert.throws(() => verifier.verify(body, headers, now), { name: 'TypeError', message: 'verify: options must be an object' });
  assert.throws(() => verifier.verify(body, headers, []), { name: 'TypeError', message: 'verify: options must be an object' });
  assert.throws(() => verifier.verify(body, headers, new Date()), { name: 'TypeError', message: 'verify: options must be an object' });
  assert.throws(() => verifier.verifySignature(body, headers, { nwo: now }), unknown('verifySignature', 'nwo', 'now'));
  const request = new Request('https://example.test/hook', { method: 'POST', headers, body });
  await assert.rejects(verifier.verifyRequest(request, { nwo: now }), unknown('verifyRequest', 'nwo', 'now'));
  assert.equal(request.bodyUsed, false, 'refused before the body is read');
  const receiver = new Receiver(verifier);
  let runs = 0;
  await assert.rejects(receiver.receive(body, headers, () => runs++, { nwo: now }), unknown('receive', 'nwo', 'now'));
  assert.equal(runs, 0);
  await assert.rejects(
    verifier.receive(request, () => runs++, { stor: new MemoryStore() }),
    unknown('receive', 'stor', 'store, leaseSeconds, ttlSeconds, prefix, timeoutSeconds, onClaimLost, onError'),
  );
  assert.throws(() => sign(secret, body, { timestmp: now }), unknown('sign', 'timestmp', 'timestamp, scheme, id, eventType'));
  // What is spelt right still works.
  assert.equal(verifier.verify(body, headers, { now }).id, 'evt_options');
  assert.equal(new Verifier(secret, { tolerance: 5 }).tolerance, 5);
});

test('an oversized body is body_too_large (413) stating its real length; only maxBodyBytes + 1 bytes enter wasm memory', async () => {
  const limit = 1024;
  const verifier = new Verifier(secret, { maxBodyBytes: limit });
  const tooLarge = (length) => ({
    name: 'WebhookVerificationError',
    code: 'body_too_large',
    httpStatus: 413,
    // A host that read only limit + 1 bytes knows no more than that of the size.
    message:
      length === limit + 1
        ? `body too large: more than the limit of ${limit} bytes`
        : `body too large: ${length} bytes, the limit is ${limit} bytes`,
  });

  // One byte over, validly signed and fresh.
  const justOver = `{"pad":"${'x'.repeat(limit + 1 - 10)}"}`;
  assert.equal(new TextEncoder().encode(justOver).length, limit + 1);
  const justOverHeaders = sign(secret, justOver, { timestamp: now });
  assert.throws(() => verifier.verify(justOver, justOverHeaders, { now }), tooLarge(limit + 1));
  assert.throws(() => verifier.verifySignature(justOver, justOverHeaders, { now }), tooLarge(limit + 1));
  assert.equal(new Verifier(secret, { maxBodyBytes: limit + 1 }).verifySignature(justOver, justOverHeaders, { now }).timestamp, now);

  // 64 MiB under headers signed for another body: the size is checked before the signature.
  const big = new Uint8Array(64 * 1024 * 1024).fill(0x20);
  const headers = sign(secret, envelope('evt_small'), { timestamp: now });
  assert.throws(() => verifier.verify(big, headers, { now }), tooLarge(big.length));
  assert.throws(() => verifier.verify(new TextDecoder().decode(big), headers, { now }), tooLarge(big.length));
  assert.throws(() => verifier.verifySignature(big.buffer, headers, { now }), tooLarge(big.length));
  // The checks before the size keep their order: headers first, then the timestamp.
  assert.throws(() => verifier.verify(big, {}, { now }), { code: 'missing_header', httpStatus: 400 });
  assert.throws(() => verifier.verify(big, headers, { now: now + 121 }), { code: 'timestamp_too_old', httpStatus: 401 });

  for (const store of [new MemoryStore(), kvNamespace()]) {
    let runs = 0;
    const outcome = await new Receiver(verifier, store).receive(big, headers, () => runs++, { now });
    assert.deepEqual([outcome.kind, outcome.status, outcome.error.code, outcome.error.message, runs], [
      'rejected', 413, 'body_too_large', tooLarge(big.length).message, 0,
    ]);
  }
  // A Request's body is read only to maxBodyBytes + 1 bytes (see the next test): the core answers for those, as the
  // Node package's Express, Fastify, Hono and Next.js helpers do.
  const request = () => new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, 'x'), body: big });
  await assert.rejects(verifier.verifyRequest(request()), tooLarge(limit + 1));
  const response = await verifier.receive(request(), () => assert.fail('the handler ran'));
  assert.deepEqual([response.status, await response.json()], [413, { ok: false, error: 'body_too_large', message: tooLarge(limit + 1).message }]);
});

test('verifyRequest and receive read at most maxBodyBytes + 1 bytes of a Request, and refuse a Content-Length over it unread', async () => {
  const limit = 1024;
  const verifier = new Verifier(secret, { maxBodyBytes: limit });
  const message = `body too large: more than the limit of ${limit} bytes`;
  const CHUNK = 64 * 1024;
  const CHUNKS = 1600; // 100 MiB on offer
  const hugeRequest = (headers) => {
    const pulled = { pulls: 0, cancelled: false };
    const chunk = new Uint8Array(CHUNK).fill(0x20);
    const body = new ReadableStream({
      pull(controller) {
        if (pulled.pulls === CHUNKS) return controller.close();
        pulled.pulls++;
        controller.enqueue(chunk);
      },
      cancel() {
        pulled.cancelled = true;
      },
    });
    return { request: new Request('https://example.test/hook', { method: 'POST', body, duplex: 'half', headers }), pulled };
  };
  const signed = sign(secret, '{}');
  for (const store of [new MemoryStore(), kvNamespace()]) {
    const { request, pulled } = hugeRequest(signed);
    const response = await verifier.receive(request, () => assert.fail('the handler ran'), { store });
    assert.deepEqual([response.status, await response.json()], [413, { ok: false, error: 'body_too_large', message }]);
    assert.equal(pulled.cancelled, true);
    assert.ok(pulled.pulls <= 2, `pulled ${pulled.pulls} of ${CHUNKS} chunks`);
  }
  const streamed = hugeRequest(signed);
  await assert.rejects(verifier.verifyRequest(streamed.request), { code: 'body_too_large', httpStatus: 413, message });
  assert.equal(streamed.pulled.cancelled, true);
  assert.ok(streamed.pulled.pulls <= 2, `pulled ${streamed.pulled.pulls} of ${CHUNKS} chunks`);

  const declared = hugeRequest({ ...signed, 'content-length': String(CHUNK * CHUNKS) });
  const response = await verifier.receive(declared.request, () => assert.fail('the handler ran'));
  assert.deepEqual([response.status, await response.json()], [413, { ok: false, error: 'body_too_large', message }]);
  assert.deepEqual(declared.pulled, { pulls: 0, cancelled: true });
  // A header error the core checks first still wins, read or unread.
  for (const headers of [{}, { 'content-length': String(CHUNK * CHUNKS) }]) {
    const unsigned = hugeRequest(headers);
    const refused = await verifier.receive(unsigned.request, () => assert.fail('the handler ran'));
    assert.deepEqual([refused.status, (await refused.json()).error], [400, 'missing_header']);
    assert.ok(unsigned.pulled.pulls <= 2);
  }
  // A body at the limit, in pieces, is read whole.
  const atLimit = JSON.stringify({ id: 'evt_at_limit', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} });
  const padded = atLimit.slice(0, -1) + ' '.repeat(limit - atLimit.length) + '}';
  assert.equal(padded.length, limit);
  const bytes = new TextEncoder().encode(padded);
  let at = 0;
  const pieces = new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += 100)));
    },
  });
  const event = await verifier.verifyRequest(new Request('https://example.test/hook', { method: 'POST', body: pieces, duplex: 'half', headers: sign(secret, padded) }));
  assert.deepEqual([event.id, event.rawBody.length], ['evt_at_limit', limit]);
});

test('a body wasm memory could not hold is still body_too_large, never a wasm trap', (t) => {
  let huge;
  try {
    huge = new Uint8Array(2 ** 32 - 4096); // zero pages: nothing is touched unless it is copied
  } catch (error) {
    t.skip(`this host cannot reserve a 4 GiB ArrayBuffer (${error.message})`);
    return;
  }
  const verifier = new Verifier(secret, { maxBodyBytes: 256 });
  const headers = sign(secret, envelope('evt_huge'), { timestamp: now });
  assert.throws(() => verifier.verify(huge, headers, { now }), {
    name: 'WebhookVerificationError',
    code: 'body_too_large',
    message: `body too large: ${huge.length} bytes, the limit is 256 bytes`,
  });
  // The instance is intact.
  assert.equal(verifier.verify(envelope('evt_after'), sign(secret, envelope('evt_after'), { timestamp: now }), { now }).id, 'evt_after');
});

test('header containers: absent values are skipped, anything else unusable is a TypeError at the boundary', () => {
  const body = envelope('evt_header_inputs');
  const signed = sign(secret, body, { timestamp: now });
  const verifier = new Verifier(secret);
  const lower = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]));
  // null / undefined inside an array of values is no header, as a null value is.
  const withHoles = { ...lower, 'anchor-signature': [null, lower['anchor-signature'], undefined], 'x-absent': [null] };
  assert.equal(verifier.verify(body, withHoles, { now }).id, 'evt_header_inputs');
  assert.equal(verifier.verify(body, [...Object.entries(lower), ['x-absent', null]], { now }).id, 'evt_header_inputs');
  const pairs = { name: 'TypeError', message: 'headers: header entries must be [name, value] pairs' };
  assert.throws(() => verifier.verify(body, [null], { now }), pairs);
  assert.throws(() => verifier.verify(body, [['x']], { now }), pairs);
  assert.throws(() => verifier.verify(body, [...Object.entries(lower), ['a', 'b', 'c']], { now }), pairs);
  const flat = Object.entries(signed).flat(); // Node's req.rawHeaders
  assert.throws(() => verifier.verify(body, flat, { now }), {
    name: 'TypeError',
    message:
      "headers: a flat list of names and values (like Node's req.rawHeaders) is not accepted: pass [name, value] pairs, a Headers, a Map or a plain object (req.headers)",
  });
  assert.throws(() => verifier.verify(body, { ...lower, 'X-Thing': {} }, { now }), {
    name: 'TypeError',
    message: 'header `X-Thing`: a value must be a string or a number, got object',
  });
  assert.throws(() => verifier.verify(body, { ...lower, 'X-Flag': [true] }, { now }), {
    name: 'TypeError',
    message: 'header `X-Flag`: a value must be a string or a number, got boolean',
  });
});

test('requests: a locked, read or failing body is a clear TypeError; receive checks its handler before reading', async () => {
  const body = envelope('evt_request_edges');
  const headers = sign(secret, body);
  const verifier = new Verifier(secret);
  const post = (init = {}) => new Request('https://example.test/hook', { method: 'POST', headers, body, ...init });
  const locked = {
    name: 'TypeError',
    message: 'the request body was already read or is locked: verify before parsing it, or pass request.clone()',
  };
  const lockedRequest = post();
  lockedRequest.body.getReader();
  await assert.rejects(verifier.verifyRequest(lockedRequest), locked);
  await assert.rejects(verifier.receive(lockedRequest, () => {}), locked);
  const read = post();
  await read.text();
  await assert.rejects(verifier.verifyRequest(read), locked);

  const failing = () =>
    post({
      body: new ReadableStream({
        pull(controller) {
          controller.error(new Error('client went away'));
        },
      }),
      duplex: 'half',
    });
  const unreadable = (error) => {
    assert.equal(error.name, 'TypeError');
    assert.equal(
      error.message,
      'the request body could not be read (was it read elsewhere, or did the client go away?): client went away',
    );
    assert.equal(error.cause.message, 'client went away');
    return true;
  };
  await assert.rejects(verifier.verifyRequest(failing()), unreadable);
  await assert.rejects(verifier.receive(failing(), () => {}), unreadable);

  const untouched = post();
  await assert.rejects(verifier.receive(untouched, null), { name: 'TypeError', message: 'handler must be a function' });
  assert.equal(untouched.bodyUsed, false, 'the body is still there for a corrected call');
  const ok = await verifier.receive(untouched, () => {});
  assert.equal(ok.status, 200);
});

test('as in the Node package: receiver.verifier, and sign() takes a Date', () => {
  const verifier = new Verifier(secret);
  assert.equal(new Receiver(verifier).verifier, verifier);
  const body = envelope('evt_date');
  assert.deepEqual(sign(secret, body, { timestamp: new Date(now * 1000 + 999) }), sign(secret, body, { timestamp: now }));
  assert.equal(verifier.verify(body, sign(secret, body, { timestamp: new Date(now * 1000) }), { now }).timestamp, now);
});

// ---- milliseconds, argument error codes, the store named in receive, events as plain data -----------

test('milliseconds are refused as in the Node package: sign({ timestamp: Date.now() }) and { now: Date.now() }', async () => {
  const body = envelope('evt_ms');
  const headers = sign(secret, body, { timestamp: now });
  const verifier = new Verifier(secret);
  const milliseconds = (what, value) => ({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: `${what} must be unix seconds or a Date; ${value} looks like milliseconds (Date.now()): pass seconds or a Date`,
  });
  const ms = now * 1000;
  assert.throws(() => sign(secret, body, { timestamp: ms }), milliseconds('timestamp', ms));
  assert.throws(() => sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body, { scheme: 'standard', timestamp: ms }), milliseconds('timestamp', ms));
  assert.throws(() => sign(secret, body, { timestamp: 1e13 }), milliseconds('timestamp', 1e13));
  assert.throws(() => verifier.verify(body, headers, { now: ms }), milliseconds('now', ms));
  assert.throws(() => verifier.verifySignature(body, headers, { now: ms }), milliseconds('now', ms));
  let runs = 0;
  const receiver = new Receiver(verifier, new MemoryStore());
  await assert.rejects(receiver.receive(body, headers, () => runs++, { now: ms }), milliseconds('now', ms));
  assert.equal(runs, 0);
  const request = new Request('https://example.test/hook', { method: 'POST', headers, body });
  await assert.rejects(verifier.verifyRequest(request, { now: ms }), milliseconds('now', ms));
  assert.equal(request.bodyUsed, false, 'refused before the body is read');
  // Just under the line is seconds (far in the future): verified, and refused by the tolerance.
  assert.throws(() => verifier.verify(body, headers, { now: 1e11 - 1 }), { code: 'timestamp_too_old' });
  assert.throws(() => verifier.verify(body, headers, { now: 1e11 }), milliseconds('now', 1e11));
  assert.throws(() => sign(secret, body, { timestamp: '5' }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: '`timestamp` must be unix seconds (a number) or a Date',
  });
  assert.equal(sign(secret, body, { timestamp: new Date(ms) })['Anchor-Timestamp'], String(now));
});

test('argument errors carry the Node package\'s codes: ERR_INVALID_ARG_TYPE (wrong type), ERR_INVALID_ARG_VALUE (refused value)', async () => {
  const body = envelope('evt_codes');
  const headers = sign(secret, body, { timestamp: now });
  const verifier = new Verifier(secret);
  const TYPE = 'ERR_INVALID_ARG_TYPE';
  const VALUE = 'ERR_INVALID_ARG_VALUE';
  const cases = [
    [TYPE, () => new Verifier(42)],
    [TYPE, () => new Verifier(secret, { tolerance: '120' })],
    [TYPE, () => new Verifier(secret, { scheme: 5 })],
    [TYPE, () => new Verifier(secret, 'standard')],
    [TYPE, () => new Verifier(secret, { tolerence: 5 })],
    [VALUE, () => new Verifier(secret, { tolerance: -1 })],
    [VALUE, () => new Verifier(secret, { maxBodyBytes: NaN })],
    [VALUE, () => new Verifier(secret, { tolerance: 0.9 })], // refused, not floored to 0 s
    [VALUE, () => new Verifier(secret, { maxBodyBytes: 1.5 })],
    [VALUE, () => new MemoryStore({ maxEntries: 1.5 })],
    [TYPE, () => verifier.verify({ not: 'a body' }, headers, { now })],
    [TYPE, () => verifier.verify(body, 'nope', { now })],
    [TYPE, () => verifier.verify(body, [['x']], { now })],
    [TYPE, () => verifier.verify(body, { 'X-Thing': {} }, { now })],
    [TYPE, () => verifier.verify(body, headers, { now: 'soon' })],
    [VALUE, () => verifier.verify(body, headers, { now: -1 })],
    [TYPE, () => verifier.verifySignature(body, headers, { nwo: now })],
    [TYPE, () => new MemoryStore({ maxEntries: '5' })],
    [VALUE, () => new MemoryStore({ maxEntries: 0 })],
    [VALUE, () => new MemoryStore({ ttlSeconds: 0 })],
    [TYPE, () => new Receiver({})],
    [TYPE, () => new Receiver(verifier, new Map())],
    [TYPE, () => new Receiver(verifier, undefined, { leaseSeconds: '30' })],
    [VALUE, () => new Receiver(verifier, undefined, { leaseSeconds: 0 })],
    [VALUE, () => new Receiver(verifier, new MemoryStore(), { ttlSeconds: 60 })],
    [TYPE, () => new Receiver(verifier, undefined, { onClaimLost: 'log' })],
    [TYPE, () => sign(42, body)],
    [VALUE, () => sign(secret, body, { timestamp: -1 })],
    [VALUE, () => sign(secret, body, { scheme: 'hmac' })],
  ];
  for (const [code, run] of cases) {
    assert.throws(run, (error) => {
      assert.equal(error.name, 'TypeError', `${run}: ${error}`);
      assert.equal(error.code, code, `${run}: ${error.message}`);
      return true;
    });
  }
  const request = () => new Request('https://example.test/hook', { method: 'POST', headers, body });
  await assert.rejects(verifier.receive(request(), 'handler'), { name: 'TypeError', code: TYPE, message: 'handler must be a function' });
  await assert.rejects(new Receiver(verifier).receive(body, headers, null), { name: 'TypeError', code: TYPE });
  await assert.rejects(verifier.verifyRequest({}), { name: 'TypeError', code: TYPE, message: 'expected a Request' });
  const read = request();
  await read.text();
  await assert.rejects(verifier.verifyRequest(read), { name: 'TypeError', code: VALUE });
});

test('an unknown scheme says what was given, as in the Node package', () => {
  const refused = (given) => ({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: `\`scheme\` must be "anchor" or "standard", got ${JSON.stringify(given)}`,
  });
  assert.throws(() => new Verifier(secret, { scheme: 'hmac' }), refused('hmac'));
  assert.throws(() => new Verifier(secret, { scheme: 'Standard' }), refused('Standard'));
  assert.throws(() => sign(secret, 'x', { scheme: 'hmac' }), refused('hmac'));
  assert.equal(new Verifier('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { scheme: 'standard' }).scheme, 'standard');
});

test('a store or verifier of the native package, or of another copy of this one, is named as such', () => {
  // What anchor-webhooks' classes, or those of a second installed copy, look like from here: same names.
  const foreign = { MemoryStore: class MemoryStore {}, RedisStore: class RedisStore {}, Verifier: class Verifier {} };
  const elsewhere =
    'from another package or another copy of anchor-webhooks-wasm (the classes of anchor-webhooks, the native ' +
    'package, or of a second installed copy of this one, work only with their own Receiver)';
  const verifier = new Verifier(secret);
  for (const name of ['MemoryStore', 'RedisStore']) {
    assert.throws(() => new Receiver(verifier, new foreign[name]()), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: `new Receiver(verifier, store, options): store must be a MemoryStore or an object with async get(key) and put(key, value, options) (delete(key) optional), got a ${name} ${elsewhere}`,
    });
  }
  assert.throws(() => new Receiver(new foreign.Verifier(), new MemoryStore()), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: `expected a Verifier, got a Verifier ${elsewhere}`,
  });
});

test('a store that is not one names the call the user made', async () => {
  const verifier = new Verifier(secret);
  const reason = 'store must be a MemoryStore or an object with async get(key) and put(key, value, options) (delete(key) optional), got a Map';
  const body = envelope('evt_bad_store');
  const request = new Request('https://example.test/hook', { method: 'POST', headers: sign(secret, body), body });
  await assert.rejects(verifier.receive(request, () => {}, { store: new Map() }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: `receive(request, handler, { store }): ${reason}`,
  });
  assert.equal(request.bodyUsed, false);
  assert.throws(() => new Receiver(verifier, new Map()), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: `new Receiver(verifier, store, options): ${reason}`,
  });
  // A later direct call is named as such again.
  assert.throws(() => new Receiver(verifier, 'kv'), { message: /^new Receiver\(verifier, store, options\): store must be .*, got string$/ });
});

test('event.toJSON() is the plain copy to enqueue or post: structuredClone keeps every field and data', async () => {
  const body = envelope('evt_clone');
  const headers = sign(secret, body, { timestamp: now, id: 'dlv_clone' });
  const event = new Verifier(secret).verify(body, headers, { now });
  const copy = structuredClone(event.toJSON());
  assert.deepEqual(copy, {
    id: 'evt_clone',
    type: 'task.failed',
    created: new Date('2026-05-24T12:18:05.123Z'),
    projectId: '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197',
    text: 'Task failed: timeout ✗',
    data: { task_id: 't_1', error: { type: 'timeout', message: 'slow' }, note: 'café ☕' },
    matchedSecret: 0,
    timestamp: now,
    deliveryId: 'dlv_clone',
  });
  const { port1, port2 } = new MessageChannel();
  const received = new Promise((resolve) => port2.once('message', resolve));
  port1.postMessage(event.toJSON());
  assert.deepEqual(await received, copy);
  port1.close();
  port2.close();
});
