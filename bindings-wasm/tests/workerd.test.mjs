// The example worker in a real workerd (Cloudflare's runtime, npm `workerd`), loading the package through
// its `workerd` entry (index.workerd.mjs: the .wasm imported as a module, instantiated synchronously), with
// a real Durable Object namespace (in-memory storage) as its WEBHOOKS binding. Requests cross real
// loopback HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Verifier, sign } from 'anchor-webhooks-wasm';

const root = fileURLToPath(new URL('../', import.meta.url));
// tests/workerd/package.json installs it (test.sh runs npm ci there); npm ships workerd here for Linux x64.
const workerd = join(root, 'tests', 'workerd', 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd');
const supported = process.platform === 'linux' && process.arch === 'x64';
const secret = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'; // as in tests/workerd/config.capnp

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(base, child, output) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${output.join('')}`);
    try {
      if ((await fetch(`${base}/sent`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`workerd did not answer within 30 s:\n${output.join('')}`);
}

const skip = supported ? false : 'the npm workerd binary used here is the Linux x64 one';

/** Serves tests/workerd/config.capnp on a free loopback port for the duration of `run(base)`. */
async function withWorkerd(run) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const output = [];
  const child = spawn(
    workerd,
    ['serve', 'tests/workerd/config.capnp', '--socket-addr', `http=127.0.0.1:${port}`],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (chunk) => output.push(String(chunk)));
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  try {
    await waitUntilServing(base, child, output);
    await run(base);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

function delivery(id) {
  const body = JSON.stringify({
    id,
    type: 'task.completed',
    created: '2026-05-24T12:18:05.123Z',
    data: { task_id: 'task_1', artifacts: [] },
  });
  return { id, body, headers: sign(secret, body) };
}

/** POSTs a delivery; resolves to [status, JSON body, Retry-After]. */
async function post(base, { body, headers }) {
  const response = await fetch(`${base}/webhooks/anchor`, { method: 'POST', headers, body });
  return [response.status, await response.json(), response.headers.get('retry-after')];
}

/** What the handler sends to the queue for `delivery(id)`. */
const queued = (id) => ({
  id,
  type: 'task.completed',
  created: '2026-05-24T12:18:05.123Z',
  data: { task_id: 'task_1', artifacts: [] },
});

test('workerd: the example worker answers 200 valid, 401 forged, 200 duplicate, and queues the event once', {
  skip,
}, async () => {
  await withWorkerd(async (base) => {
    const genuine = delivery('evt_workerd_1');
    assert.deepEqual(await post(base, genuine), [200, { ok: true, outcome: 'processed' }, null]);
    const forged = { body: genuine.body.replace('task_1', 'task_2'), headers: genuine.headers };
    const why = (() => {
      try {
        new Verifier(secret).verify(forged.body, forged.headers);
      } catch (error) {
        return error.message;
      }
    })();
    assert.deepEqual(await post(base, forged), [401, { ok: false, error: 'signature_mismatch', message: why }, null]);
    assert.deepEqual(await post(base, genuine), [200, { ok: true, outcome: 'duplicate' }, null]);
    assert.deepEqual(await (await fetch(`${base}/sent`)).json(), [queued('evt_workerd_1')]);
    assert.equal((await fetch(`${base}/webhooks/anchor`)).status, 405);

    // The id is in the Durable Object's storage, with its expiry, and an alarm will collect it.
    const { entries, alarm } = await (await fetch(`${base}/storage`)).json();
    assert.equal(entries.length, 1);
    const [[key, { value, expiresAt }]] = entries;
    assert.match(key, /^anchor-webhooks:dedupe:[0-9a-f]{64}$/);
    assert.match(value, /^done:\d+$/);
    assert.ok(expiresAt > Date.now() + 23 * 3600_000, `expiresAt ${expiresAt}: the done record is kept about a day`);
    assert.equal(typeof alarm, 'number');
  });
});

test('workerd: two concurrent deliveries of one event: one runs the handler, the other is answered 503 in_progress', {
  skip,
}, async () => {
  await withWorkerd(async (base) => {
    const genuine = delivery('evt_workerd_concurrent');
    // Each queue send takes 200 ms (tests/workerd/main.mjs): the second delivery arrives during the first's handler.
    const answers = await Promise.all([post(base, genuine), post(base, genuine)]);
    answers.sort(([a], [b]) => a - b);
    assert.deepEqual(answers, [
      [200, { ok: true, outcome: 'processed' }, null],
      [503, { ok: false, outcome: 'in_progress' }, answers[1][2]],
    ]);
    assert.match(answers[1][2], /^[1-9]\d*$/, 'the 503 carries Retry-After');
    assert.deepEqual(await (await fetch(`${base}/sent`)).json(), [queued('evt_workerd_concurrent')]);
    assert.deepEqual(await post(base, genuine), [200, { ok: true, outcome: 'duplicate' }, null]);
    assert.equal((await (await fetch(`${base}/sent`)).json()).length, 1);
  });
});
