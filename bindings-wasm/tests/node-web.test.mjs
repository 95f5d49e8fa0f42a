// The Node package's web helpers (bindings-node/lib/web.cjs: honoWebhook, nextWebhook, verifyRequest) with
// this package's real classes. That file needs only WHATWG Request/Response/Headers and requires no other
// module (no native addon), so it loads here as the Node README promises: "the wasm package can reuse it".
// This package's Verifier has a receive(request, handler) of its own: it must still be taken as a Verifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { honoWebhook, nextWebhook, verifyRequest } from '../../bindings-node/lib/web.mjs';
import helpers from '../../bindings-node/lib/delivery.cjs';
import { MemoryStore, Receiver, Verifier, sign } from 'anchor-webhooks-wasm';

const secret = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6';
const stranger = 'f'.repeat(64);

function delivery(id, key = secret) {
  const body = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { n: 1 } });
  return new Request('https://example.test/hook', { method: 'POST', headers: sign(key, body), body });
}

/** What honoWebhook uses of Hono's context: `c.req.arrayBuffer()`, `c.req.raw.headers`, `c.set`. */
function honoContext(request) {
  const vars = new Map();
  return { req: { raw: request, arrayBuffer: () => request.arrayBuffer() }, set: (key, value) => vars.set(key, value), get: (key) => vars.get(key) };
}

test('verifyRequest with this package\'s Verifier', async () => {
  const verifier = new Verifier(secret);
  assert.equal((await verifyRequest(verifier, delivery('evt_vr'))).id, 'evt_vr');
  await assert.rejects(verifyRequest(verifier, delivery('evt_vr', stranger)), { code: 'signature_mismatch', httpStatus: 401 });
});

test('honoWebhook(verifier) and honoWebhook(verifier, handler): this package\'s Verifier is a Verifier', async () => {
  const verifier = new Verifier(secret);
  const middleware = honoWebhook(verifier); // used to throw: "a Receiver needs a handler"
  const c = honoContext(delivery('evt_hono'));
  let nextCalls = 0;
  await middleware(c, async () => void nextCalls++);
  assert.deepEqual([nextCalls, c.get('webhookEvent').id], [1, 'evt_hono']);
  const forged = await middleware(honoContext(delivery('evt_hono', stranger)), async () => assert.fail('next() after a forgery'));
  assert.equal(forged.status, 401);
  assert.equal((await forged.json()).code, 'signature_mismatch');

  let runs = 0;
  const withHandler = honoWebhook(verifier, (event, context) => {
    runs++;
    assert.ok(context.req);
    return Response.json({ seen: event.id });
  });
  const answered = await withHandler(honoContext(delivery('evt_hono_handler')));
  assert.deepEqual([answered.status, await answered.json(), runs], [200, { seen: 'evt_hono_handler' }, 1]);
  assert.equal((await withHandler(honoContext(delivery('evt_hono_handler', stranger)))).status, 401);
  assert.equal(runs, 1);
});

test('nextWebhook(verifier, handler): verify-only with this package\'s Verifier (200 / 401 / 400)', async () => {
  let runs = 0;
  const POST = nextWebhook(new Verifier(secret), (event, request) => {
    runs++;
    assert.ok(request instanceof Request);
  });
  const ok = await POST(delivery('evt_next'));
  assert.deepEqual([ok.status, await ok.json()], [200, { ok: true, kind: 'processed', id: 'evt_next' }]);
  const forged = await POST(delivery('evt_next', stranger));
  assert.deepEqual([forged.status, (await forged.json()).code], [401, 'signature_mismatch']);
  const unsigned = await POST(new Request('https://example.test/hook', { method: 'POST', body: '{}' }));
  assert.deepEqual([unsigned.status, (await unsigned.json()).code], [400, 'missing_header']);
  assert.equal(runs, 1);
  assert.equal((await nextWebhook(new Verifier(secret))(delivery('evt_next_bare'))).status, 200);
});

test('nextWebhook and honoWebhook with this package\'s Receiver: processed once, then duplicate', async () => {
  let runs = 0;
  const POST = nextWebhook(new Receiver(new Verifier(secret), new MemoryStore()), () => void runs++);
  const first = await POST(delivery('evt_next_receiver'));
  assert.deepEqual([first.status, await first.json()], [200, { ok: true, kind: 'processed', id: 'evt_next_receiver' }]);
  const again = await POST(delivery('evt_next_receiver'));
  assert.deepEqual([again.status, await again.json(), runs], [200, { ok: true, kind: 'duplicate', id: 'evt_next_receiver' }, 1]);
  assert.throws(() => nextWebhook(new Receiver(new Verifier(secret))), { message: /a Receiver needs a handler/ });

  const hono = honoWebhook(new Receiver(new Verifier(secret)), () => void runs++);
  assert.equal((await hono(honoContext(delivery('evt_hono_receiver')))).status, 200);
  assert.equal((await hono(honoContext(delivery('evt_hono_receiver')))).status, 200);
  assert.equal(runs, 2);
});

test('a handler answering 5xx itself releases the claim of this package\'s Receiver; answering 200 completes it', async () => {
  const runs = new Map();
  const answering = (event) => {
    const run = (runs.get(event.id) ?? 0) + 1;
    runs.set(event.id, run);
    const status = run === 1 ? Number(event.id.slice('evt_'.length)) : 200;
    return Response.json({ own: status, run }, { status });
  };
  const POST = nextWebhook(new Receiver(new Verifier(secret), new MemoryStore()), answering);
  const hono = honoWebhook(new Receiver(new Verifier(secret), new MemoryStore()), answering);
  for (const [name, handle] of [['next', (request) => POST(request)], ['hono', (request) => hono(honoContext(request))]]) {
    runs.clear();
    const first = await handle(delivery('evt_503'));
    assert.deepEqual([first.status, await first.json()], [503, { own: 503, run: 1 }], name);
    const retried = await handle(delivery('evt_503'));
    assert.deepEqual([retried.status, await retried.json()], [200, { own: 200, run: 2 }], name);
    const again = await handle(delivery('evt_503'));
    assert.deepEqual([again.status, await again.json()], [200, { ok: true, kind: 'duplicate', id: 'evt_503' }], name);
    assert.equal(runs.get('evt_503'), 2, name);

    const done = await handle(delivery('evt_200'));
    assert.deepEqual([done.status, await done.json()], [200, { own: 200, run: 1 }], name);
    const duplicate = await handle(delivery('evt_200'));
    assert.deepEqual([duplicate.status, (await duplicate.json()).kind], [200, 'duplicate'], name);
    assert.equal(runs.get('evt_200'), 1, name);
  }
});

test('a handler answering any status the sender retries (3xx, 408, 429, 5xx) releases the claim; any other completes it; the README says so', async () => {
  const retried = [301, 302, 307, 408, 429, 500, 502, 503, 504];
  const final = [200, 202, 204, 400, 401, 404, 409, 410, 422];
  for (const status of retried) assert.equal(helpers.senderRetries(status), true, `${status}`);
  for (const status of final) assert.equal(helpers.senderRetries(status), false, `${status}`);
  const runs = new Map();
  const answering = (event) => {
    const run = (runs.get(event.id) ?? 0) + 1;
    runs.set(event.id, run);
    const status = run === 1 ? Number(event.id.slice('evt_'.length)) : 200;
    return new Response(null, { status, headers: status >= 300 && status < 400 ? { location: '/elsewhere' } : {} });
  };
  const POST = nextWebhook(new Receiver(new Verifier(secret), new MemoryStore()), answering);
  for (const status of [...retried, ...final]) {
    const first = await POST(delivery(`evt_${status}`));
    assert.equal(first.status, status, 'the handler\'s own answer is sent');
    const retry = await POST(delivery(`evt_${status}`));
    const expected = retried.includes(status) ? [200, 2] : [200, 1]; // released: the retry runs it; completed: a duplicate
    assert.deepEqual([retry.status, runs.get(`evt_${status}`)], expected, `first answer ${status}`);
  }
  // README.md ("Dedupe and the handler") states this rule, not "500 or more".
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const at = readme.indexOf('there a handler may answer with its own `Response`');
  assert.notEqual(at, -1, 'README.md: the sentence on the Node helpers\' own answers is gone');
  const sentence = readme.slice(at, at + 240);
  assert.ok(
    sentence.includes("a status the sender retries (3xx, 408, 429 or 5xx: the Node package's `senderRetries`) releases the claim") &&
      !readme.includes('500 or more releases'),
    `README.md says: "${sentence}"`,
  );
});

test('the Node helpers read at most maxBodyBytes + 1 bytes of a Request with this package\'s Verifier and Receiver', async () => {
  const verifier = new Verifier(secret, { maxBodyBytes: 1024 });
  const message = 'body too large: more than the limit of 1024 bytes';
  for (const target of [verifier, new Receiver(verifier, new MemoryStore())]) {
    const pulled = { pulls: 0, cancelled: false };
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const body = new ReadableStream({
      pull(controller) {
        if (pulled.pulls === 1600) return controller.close(); // 100 MiB on offer
        pulled.pulls++;
        controller.enqueue(chunk);
      },
      cancel() {
        pulled.cancelled = true;
      },
    });
    const request = new Request('https://example.test/hook', { method: 'POST', body, duplex: 'half', headers: sign(secret, '{}') });
    const response = await nextWebhook(target, () => assert.fail('the handler ran'))(request);
    assert.deepEqual([response.status, await response.json()], [413, { ok: false, kind: 'rejected', code: 'body_too_large', message }]);
    assert.equal(pulled.cancelled, true);
    assert.ok(pulled.pulls <= 2, `pulled ${pulled.pulls} chunks`);
  }
});
