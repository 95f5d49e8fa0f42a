// The example worker in a real workerd (Cloudflare's runtime, npm `workerd`), loading the package through
// its `workerd` entry (index.workerd.mjs: the .wasm imported as a module, instantiated synchronously).
// Requests cross real loopback HTTP.
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

test('workerd: the example worker answers 200 valid, 401 forged, 200 duplicate, and queues the event once', {
  skip: supported ? false : 'the npm workerd binary used here is the Linux x64 one',
}, async () => {
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
    const body = JSON.stringify({
      id: 'evt_workerd_1',
      type: 'task.completed',
      created: '2026-05-24T12:18:05.123Z',
      data: { task_id: 'task_1', artifacts: [] },
    });
    const headers = sign(secret, body);
    const post = async (payload) => {
      const response = await fetch(`${base}/webhooks/anchor`, { method: 'POST', headers, body: payload });
      return [response.status, await response.json()];
    };
    assert.deepEqual(await post(body), [200, { ok: true, outcome: 'processed' }]);
    const forged = body.replace('task_1', 'task_2');
    const why = (() => {
      try {
        new Verifier(secret).verify(forged, headers);
      } catch (error) {
        return error.message;
      }
    })();
    assert.deepEqual(await post(forged), [401, { ok: false, error: 'signature_mismatch', message: why }]);
    assert.deepEqual(await post(body), [200, { ok: true, outcome: 'duplicate' }]);
    const sent = await (await fetch(`${base}/sent`)).json();
    assert.deepEqual(sent, [
      { id: 'evt_workerd_1', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { task_id: 'task_1', artifacts: [] } },
    ]);
    assert.equal((await fetch(`${base}/webhooks/anchor`)).status, 405);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
});
