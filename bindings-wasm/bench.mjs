// Benchmark, in Node, one run: this package (the nodejs build) vs npm `standardwebhooks` (pure JS) vs
// WebCrypto `subtle.verify` awaited per call, verifying a Standard Webhooks delivery of 256 B, 4 KiB and
// 64 KiB and reading its JSON (each returns or is given the parsed payload). Writes BENCH_RESULTS.md.
//
//   node bench.mjs [--quick]      (bench.sh builds the package first)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

import { Verifier, sign } from 'anchor-webhooks-wasm';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');

const quick = process.argv.includes('--quick');
const here = new URL('./', import.meta.url);
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const sizes = [256, 4096, 65536];
const targets = { 256: 10, 65536: 3 };

/** A Standard Webhooks body of exactly `size` bytes: an AnyFormat-style event padded in `data`. */
function body(size) {
  const envelope = (pad) =>
    JSON.stringify({
      type: 'extraction.completed',
      timestamp: '2026-05-24T12:18:05.123Z',
      data: { extraction_id: 'ext_01J9Z', status: 'processed', workflow_id: 'wf_7', notes: 'x'.repeat(pad) },
    });
  const text = envelope(size - envelope(0).length);
  if (Buffer.byteLength(text) !== size) throw new Error(`body is ${Buffer.byteLength(text)} bytes, not ${size}`);
  return text;
}

/**
 * Nanoseconds per call of each contender: the fastest of `rounds` rounds of `iterations` calls, after a
 * warm-up round. Contenders alternate round by round, so a busy spell of the (shared) machine hits all of
 * them; the fastest round, not the median, because interference only ever adds time.
 */
async function measure(rounds, contenders) {
  const best = Object.fromEntries(Object.keys(contenders).map((name) => [name, Infinity]));
  for (let round = -1; round < rounds; round++) {
    for (const [name, { iterations, call, isAsync }] of Object.entries(contenders)) {
      const start = process.hrtime.bigint();
      if (isAsync) for (let i = 0; i < iterations; i++) await call();
      else for (let i = 0; i < iterations; i++) call();
      const perCall = Number(process.hrtime.bigint() - start) / iterations;
      if (round >= 0) best[name] = Math.min(best[name], perCall);
    }
  }
  return best;
}

const rows = [];
for (const size of sizes) {
  const text = body(size);
  const bytes = new TextEncoder().encode(text);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = sign(secret, bytes, { scheme: 'standard', timestamp, id: 'msg_p5jXN8AQM9LWM0D4loKWxJek' });

  const ours = new Verifier(secret, { scheme: 'standard' });
  const theirs = new Webhook(secret);
  const key = await crypto.subtle.importKey(
    'raw',
    Buffer.from(secret.slice('whsec_'.length), 'base64'),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const encoder = new TextEncoder();
  const webCrypto = async () => {
    const id = headers['webhook-id'];
    const ts = headers['webhook-timestamp'];
    const signature = Buffer.from(headers['webhook-signature'].split(',')[1], 'base64');
    const signed = encoder.encode(`${id}.${ts}.${text}`);
    if (!(await crypto.subtle.verify('HMAC', key, signature, signed))) throw new Error('webcrypto: mismatch');
    return JSON.parse(text);
  };

  // Every contender must accept the delivery and return the same data.
  const expected = JSON.parse(text).data;
  if (JSON.stringify(ours.verify(bytes, headers).data) !== JSON.stringify(expected)) throw new Error('ours: wrong data');
  if (JSON.stringify(ours.verify(text, headers).data) !== JSON.stringify(expected)) throw new Error('ours: wrong data');
  if (ours.verifySignature(bytes, headers).timestamp !== timestamp) throw new Error('ours: wrong timestamp');
  if (JSON.stringify(theirs.verify(text, headers).data) !== JSON.stringify(expected)) throw new Error('standardwebhooks: wrong data');
  if (JSON.stringify((await webCrypto()).data) !== JSON.stringify(expected)) throw new Error('webcrypto: wrong data');

  const scale = quick ? 0.1 : 1;
  const iterations = Math.max(50, Math.round((size >= 65536 ? 100 : size >= 4096 ? 1000 : 4000) * scale));
  const rounds = quick ? 3 : 31;
  const result = {
    size,
    ...(await measure(rounds, {
      oursBytes: { iterations, call: () => ours.verify(bytes, headers).data },
      oursText: { iterations, call: () => ours.verify(text, headers).data },
      // The floor: headers and one HMAC-SHA256 of id.timestamp.body inside wasm, no JSON at all.
      oursSignature: { iterations, call: () => ours.verifySignature(bytes, headers).timestamp },
      standardwebhooks: { iterations, call: () => theirs.verify(text, headers) },
      webCrypto: { iterations: Math.max(50, Math.round(iterations / 4)), call: webCrypto, isAsync: true },
    })),
  };
  rows.push(result);
  console.error(`${size} B done`);
}

const sizeLine = (() => {
  try {
    return readFileSync(new URL('pkg/SIZE', here), 'utf8').trim();
  } catch {
    return 'pkg/SIZE missing: run build.sh';
  }
})();

const us = (ns) => (ns / 1000).toFixed(2);
const label = (size) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const lines = [
  '# anchor-webhooks-wasm: benchmark results',
  '',
  `Written by \`bindings-wasm/bench.sh\` (\`bench.mjs\`); one run, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
    `${os.cpus()[0]?.model ?? 'unknown CPU'} x ${os.cpus().length}.`,
  '',
  'Each contender verifies the same Standard Webhooks delivery (HMAC-SHA256 over `id.timestamp.body`, header parsing, tolerance) and',
  'reads the parsed JSON: `verify(...).data` here (the core validates the body; `data` is parsed on first access), `Webhook#verify`',
  "(returns `JSON.parse` of the body) for npm `standardwebhooks` 1.1.1 (pure JS), and `await crypto.subtle.verify('HMAC', ...)`",
  'then `JSON.parse` for WebCrypto (its cost is mostly the round trip to the thread pool). Microseconds per',
  `verification (lower is better): the fastest of ${quick ? 3 : 31} short rounds, contenders alternating round by round`,
  '(the machine is shared; interference only ever adds time).',
  '',
  '| body | this package (Uint8Array) | this package (string) | standardwebhooks | WebCrypto subtle.verify | speed-up vs standardwebhooks (Uint8Array) | target | verdict | floor: `verifySignature` (no JSON) | best possible speed-up (standardwebhooks / floor) |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const row of rows) {
  const speedup = row.standardwebhooks / row.oursBytes;
  const target = targets[row.size];
  const verdict = target === undefined ? '-' : speedup >= target ? 'MET' : 'MISS';
  lines.push(
    `| ${label(row.size)} | ${us(row.oursBytes)} | ${us(row.oursText)} | ${us(row.standardwebhooks)} | ${us(row.webCrypto)} | ` +
      `${speedup.toFixed(2)}x | ${target === undefined ? '-' : `>= ${target}x`} | ${verdict} | ${us(row.oursSignature)} | ` +
      `${(row.standardwebhooks / row.oursSignature).toFixed(2)}x |`,
  );
}
lines.push(
  '',
  `Size: ${sizeLine}`,
  '',
  'The floor column is `verifySignature` in the same run: the header checks and one HMAC-SHA256 of `id.timestamp.body` inside',
  'wasm (sha2 with its wasm SIMD message schedule; wasm has no SHA instructions), with no JSON at all. standardwebhooks divided',
  'by it is the best speed-up any verify over this core in wasm could reach: below 10x at 256 B, so that target is out of reach;',
  'at 64 KiB the floor allows about 3.8x, and the rest of our time is the core\'s JSON validation (about 15 µs), decoding `data`',
  'and `JSON.parse` of it (about 25 µs, which standardwebhooks pays too on the whole body).',
  'Build: opt-level "z" with sha2 at 3, wasm-opt --flatten --rereloop -Oz -Oz --converge (see README "Size"): about 20% slower at 256 B than "s"/-O3, same at 64 KiB.',
  '',
);
const table = lines.join('\n');
writeFileSync(new URL('BENCH_RESULTS.md', here), table);
console.log(table);
