#!/usr/bin/env node
// Benchmark: anchor-webhooks (this package, release build) against a careful node:crypto implementation and
// the npm `standardwebhooks` package, in one run, at 256 B, 4 KiB and 64 KiB. Writes BENCH_RESULTS.md next
// to this file and prints it. Run with bench.sh (it builds the release addon first).
//
// What is measured: one delivery, from raw body + IncomingHttpHeaders to a verified event whose `id` and
// `type` were read (what a router or a dedupe step needs). node:crypto and standardwebhooks get there with
// JSON.parse of the whole body; anchor-webhooks validates the envelope in Rust and parses `data` only when
// it is read, so the "+ data" columns also read `event.data`, and the "signature only" table compares the
// checks without any JSON.
import { createHash, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import { Verifier, sign } from './lib/index.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const SIZES = [
  ['256 B', 256],
  ['4 KiB', 4096],
  ['64 KiB', 65536],
]
const TOLERANCE = 120
const BATCHES = Number(process.env.BENCH_BATCHES || 21)
const BATCH_MS = Number(process.env.BENCH_BATCH_MS || 40)

// ---------------------------------------------------------------------------------------------------
// The baseline: what a careful Node developer writes with node:crypto for the Anchor scheme.

const ANCHOR_KEY = createSecretKey(Buffer.from(SECRET, 'utf8'))
const HEX64 = /^[0-9a-fA-F]{64}$/
const DIGITS = /^[0-9]{1,12}$/

function first(value) {
  if (Array.isArray(value)) {
    if (value.length !== 1) throw new Error('repeated header')
    return value[0]
  }
  return value
}

/** Header parsing, timestamp checks, HMAC-SHA256 and a constant-time compare of every v1. */
function nodeCryptoVerifySignature(body, headers, now) {
  const header = first(headers['anchor-signature'])
  if (typeof header !== 'string') throw new Error('missing Anchor-Signature')
  let t
  const signatures = []
  for (const item of header.split(',')) {
    const part = item.trim()
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) throw new Error('malformed Anchor-Signature')
    const key = part.slice(0, eq)
    const value = part.slice(eq + 1)
    if (key === 't') {
      if (t !== undefined) throw new Error('duplicate t')
      t = value
    } else if (key === 'v1') {
      if (!HEX64.test(value)) throw new Error('malformed v1')
      signatures.push(value)
    }
  }
  if (signatures.length === 0) throw new Error('no signature')
  const headerTimestamp = first(headers['anchor-timestamp'])
  const timestamp = headerTimestamp ?? t
  if (timestamp === undefined || !DIGITS.test(timestamp)) throw new Error('malformed timestamp')
  if (headerTimestamp !== undefined && t !== undefined && headerTimestamp !== t) throw new Error('timestamp mismatch')
  const skew = now - Number(timestamp)
  if (skew > TOLERANCE || -skew > TOLERANCE) throw new Error('timestamp outside tolerance')
  const mac = createHmac('sha256', ANCHOR_KEY).update(`v0:${timestamp}:`).update(body).digest()
  let matched = false
  for (const signature of signatures) {
    matched = timingSafeEqual(Buffer.from(signature, 'hex'), mac) || matched
  }
  if (!matched) throw new Error('signature mismatch')
  return timestamp
}

function nodeCryptoVerify(body, headers, now) {
  nodeCryptoVerifySignature(body, headers, now)
  const event = JSON.parse(body)
  if (typeof event.id !== 'string' || typeof event.type !== 'string') throw new Error('invalid payload')
  return event
}

// ---------------------------------------------------------------------------------------------------
// Inputs: an Anchor envelope padded to the size, and the headers Node's http server would hand over.

function envelope(size) {
  const base = { id: 'evt_c7788aacd587216c3ba012f8aa', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', text: 'Task completed', data: { task_id: 'tsk_8f2b61c0', output: { value: '' } } }
  const empty = Buffer.byteLength(JSON.stringify(base))
  base.data.output.value = 'x'.repeat(size - empty)
  const body = Buffer.from(JSON.stringify(base))
  if (body.length !== size) throw new Error(`envelope of ${body.length} bytes, wanted ${size}`)
  return body
}

function incomingHeaders(signed, length) {
  const headers = { host: '127.0.0.1:3000', connection: 'keep-alive', 'content-length': String(length), 'accept-encoding': 'gzip, br' }
  for (const [name, value] of Object.entries(signed)) headers[name.toLowerCase()] = value
  return headers
}

// ---------------------------------------------------------------------------------------------------
// Timing: interleaved batches, median ns per call.

let sink = 0

/** CPU time (user + system) of this process in nanoseconds: other processes on the machine do not count. */
function cpuNanos() {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}

function calibrate(fn) {
  let n = 1
  for (;;) {
    const start = cpuNanos()
    for (let i = 0; i < n; i++) fn()
    const ms = (cpuNanos() - start) / 1e6
    if (ms >= BATCH_MS / 4) return Math.max(1, Math.round((n * BATCH_MS) / ms))
    n *= 2
  }
}

function measure(cases) {
  const counts = cases.map(([, fn]) => calibrate(fn))
  const samples = cases.map(() => [])
  for (let batch = 0; batch < BATCHES; batch++) {
    cases.forEach(([, fn], index) => {
      const n = counts[index]
      const start = cpuNanos()
      for (let i = 0; i < n; i++) fn()
      samples[index].push((cpuNanos() - start) / n)
    })
  }
  // The fastest batch: on a shared machine every other batch is only slower by what else ran on this core
  // (cache and hyper-thread contention show up even in CPU time); the median is kept for the report.
  return Object.fromEntries(
    cases.map(([name], index) => {
      const sorted = samples[index].sort((a, b) => a - b)
      return [name, { best: sorted[0], median: sorted[Math.floor(sorted.length / 2)] }]
    }),
  )
}

// ---------------------------------------------------------------------------------------------------

const now = Math.floor(Date.now() / 1000)
const anchor = new Verifier(SECRET)
const standard = new Verifier(STANDARD_SECRET, { scheme: 'standard' })
const reference = new Webhook(STANDARD_SECRET)
const rows = []

for (const [label, size] of SIZES) {
  const body = envelope(size)
  const text = body.toString('utf8')
  const anchorHeaders = incomingHeaders(sign(SECRET, body, { timestamp: now }), size)
  const standardHeaders = incomingHeaders(sign(STANDARD_SECRET, body, { scheme: 'standard', timestamp: now }), size)
  // Every implementation accepts the delivery and finds the same event before it is timed.
  const expected = JSON.parse(text)
  for (const event of [anchor.verify(body, anchorHeaders, { now }), nodeCryptoVerify(body, anchorHeaders, now), standard.verify(body, standardHeaders, { now }), reference.verify(text, standardHeaders)]) {
    if ((event.id !== expected.id && event.id !== standardHeaders['webhook-id']) || event.type !== expected.type) throw new Error(`${label}: an implementation disagrees`)
  }
  const measured = measure([
    ['ours', () => {
      const event = anchor.verify(body, anchorHeaders, { now })
      sink += event.id.length + event.type.length
    }],
    ['ours+data', () => {
      const event = anchor.verify(body, anchorHeaders, { now })
      sink += event.id.length + event.type.length + (event.data.task_id ? 1 : 0)
    }],
    ['crypto', () => {
      const event = nodeCryptoVerify(body, anchorHeaders, now)
      sink += event.id.length + event.type.length + (event.data.task_id ? 1 : 0)
    }],
    ['oursStd', () => {
      const event = standard.verify(body, standardHeaders, { now })
      sink += event.id.length + event.type.length
    }],
    ['oursStd+data', () => {
      const event = standard.verify(body, standardHeaders, { now })
      sink += event.id.length + event.type.length + (event.data.task_id ? 1 : 0)
    }],
    ['standardwebhooks', () => {
      const event = reference.verify(text, standardHeaders)
      sink += event.id.length + event.type.length + (event.data.task_id ? 1 : 0)
    }],
    ['oursSig', () => {
      sink += anchor.verifySignature(body, anchorHeaders, { now }).timestamp
    }],
    ['cryptoSig', () => {
      sink += nodeCryptoVerifySignature(body, anchorHeaders, now).length
    }],
    ['sha256', () => {
      sink += createHash('sha256').update(body).digest()[0]
    }],
  ])
  rows.push({ label, ...Object.fromEntries(Object.entries(measured).map(([name, m]) => [name, m.best])), medians: measured })
  console.error(`measured ${label}`)
}

// ---------------------------------------------------------------------------------------------------
// Report.

const fmt = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${Math.round(ns)} ns`)
const ratio = (base, ours) => base / ours
const fmtRatio = (r) => `${r.toFixed(2)}×`
const verdict = (r, target) => (target === undefined ? '—' : r >= target ? `≥ ${target}×: **MET**` : `≥ ${target}×: **MISS**`)
const TARGET_CRYPTO = { '256 B': 4, '64 KiB': 1.1 }
const TARGET_SW = { '64 KiB': 20 }

let cpu = cpus()[0]?.model ?? 'unknown'
try {
  const info = readFileSync('/proc/cpuinfo', 'utf8')
  if (/\bsha_ni\b/.test(info)) cpu += ' (SHA extensions: yes)'
} catch {}
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'))
const swVersion = JSON.parse(readFileSync(join(here, 'node_modules', 'standardwebhooks', 'package.json'), 'utf8')).version

const lines = []
const out = (line = '') => lines.push(line)
out('# Node binding benchmark')
out()
out('Written by `bindings-node/bench.mjs` (run `bindings-node/bench.sh`); do not edit by hand.')
out()
out(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`)
out(`- Node ${process.version}, ${process.platform}-${process.arch}; CPU: ${cpu}, ${cpus().length} logical cores`)
out(`- anchor-webhooks ${pkg.version} (napi-rs, release build), standardwebhooks ${swVersion}`)
out(`- method: per size, every implementation runs in interleaved batches of ~${BATCH_MS} ms of CPU time (${BATCHES} batches each); the tables show the CPU time (user + system, this process only, V8's garbage collection included) per delivery of the fastest batch, which other processes on a shared machine disturb least; ratios use those. The median batches are listed at the end.`)
out(`- machine load while measuring: ${loadavg().map((x) => x.toFixed(2)).join(', ')} (1, 5, 15 min averages, ${cpus().length} cores)`)
out()
out('Each call takes the raw body (a Buffer) and the headers as Node\'s http server hands them over (a lower-case')
out('`IncomingHttpHeaders` object with 9–10 entries), checks headers, timestamp and signature, and reads the event\'s `id` and')
out('`type`. The node:crypto implementation (in `bench.mjs`) parses `Anchor-Signature` (items, `t=`, hex `v1` values),')
out('checks the timestamp format, equality and tolerance, computes HMAC-SHA256 with `createHmac` over a pre-built')
out('`KeyObject`, compares every `v1` with `timingSafeEqual`, then `JSON.parse`s the body to get the event.')
out('`standardwebhooks` (`Webhook#verify`) also returns the `JSON.parse`d body. anchor-webhooks validates the envelope in')
out('Rust and parses `data` lazily: the "+ data" columns read `event.data` too (one `JSON.parse` of the data).')
out()
out('## The targets, both readings side by side')
out()
out('The issue compares "anchor-webhooks" with a careful node:crypto implementation without saying whether the')
out('comparison includes getting the event out of the body. Both readings, measured in the same run:')
out()
out('- **(a) `verify`** (returns the verified event; `id` and `type` read) against node:crypto + `JSON.parse`. **This is the')
out('  reading judged to be the issue\'s**: the API the issue specifies is `verify`, which returns the event, and a')
out('  node:crypto receiver has to `JSON.parse` the body to get one.')
out('- **(b) `verifySignature`** (headers, timestamp and signature; no JSON) against the same node:crypto code without')
out('  its `JSON.parse`.')
out()
out('| body | (a) `verify` | node:crypto + JSON.parse | (a) ratio | (a) verdict | (b) `verifySignature` | node:crypto | (b) ratio | (b) verdict |')
out('|---|---:|---:|---:|---|---:|---:|---:|---|')
for (const row of rows) {
  const ra = ratio(row.crypto, row.ours)
  const rb = ratio(row.cryptoSig, row.oursSig)
  out(`| ${row.label} | ${fmt(row.ours)} | ${fmt(row.crypto)} | ${fmtRatio(ra)} | ${verdict(ra, TARGET_CRYPTO[row.label])} | ${fmt(row.oursSig)} | ${fmt(row.cryptoSig)} | ${fmtRatio(rb)} | ${verdict(rb, TARGET_CRYPTO[row.label])} |`)
}
out()
out('Against `standardwebhooks` (scheme `standard`; both return the event), with SHA-256 of the body alone (node:crypto')
out('`createHash`, same run) as the floor of any implementation that hashes the body:')
out()
out('| body | anchor-webhooks (standard) `verify` | standardwebhooks | ratio | target | SHA-256 of the body alone |')
out('|---|---:|---:|---:|---|---:|')
for (const row of rows) {
  const rs = ratio(row.standardwebhooks, row.oursStd)
  out(`| ${row.label} | ${fmt(row.oursStd)} | ${fmt(row.standardwebhooks)} | ${fmtRatio(rs)} | ${verdict(rs, TARGET_SW[row.label])} | ${fmt(row.sha256)} |`)
}
out()
out('## The same with `event.data` read (information)')
out()
out('| body | anchor-webhooks + data | node:crypto + JSON.parse | ratio | anchor-webhooks (standard) + data | standardwebhooks | ratio |')
out('|---|---:|---:|---:|---:|---:|---:|')
for (const row of rows) {
  out(`| ${row.label} | ${fmt(row['ours+data'])} | ${fmt(row.crypto)} | ${fmtRatio(ratio(row.crypto, row['ours+data']))} (${verdict(ratio(row.crypto, row['ours+data']), TARGET_CRYPTO[row.label]).replace(/\*\*/g, '')}) | ${fmt(row['oursStd+data'])} | ${fmt(row.standardwebhooks)} | ${fmtRatio(ratio(row.standardwebhooks, row['oursStd+data']))} (${verdict(ratio(row.standardwebhooks, row['oursStd+data']), TARGET_SW[row.label]).replace(/\*\*/g, '')}) |`)
}
out()
out('## Reading the targets')
out()
const small = rows[0]
const large = rows[rows.length - 1]
out(`- **4× node:crypto at 256 B**: reading (a) needs ${fmt(small.crypto / 4)} per delivery, reading (b) ${fmt(small.cryptoSig / 4)}.`)
out(`  \`verifySignature\` takes ${fmt(small.oursSig)}: the core's header stage, HMAC and compare (about 0.45 µs in the core's own`)
out('  criterion benchmark, `core/benches/RESULTS.md`) plus the boundary. Profiled at 256 B: about 0.2 µs of JavaScript (the')
out('  walk over the header container, the kept headers\' texts concatenated, flattened by V8 and written into the scratch')
out('  with one `utf8Write`) and about 0.1 µs for the native call itself (napi-rs\'s closure trampoline, the argument')
out('  conversions); the timing loop\'s own call and allocations are paid by every column alike. `verify` adds the envelope')
out(`  validation in the core and the event's one string (${fmt(small.ours - small.oursSig)} here); the core's \`verify\` alone is about 0.9 µs`)
out('  at 256 B in its own benchmark, close to the whole budget of reading (a).')
out(`- **1.1× node:crypto at 64 KiB**: both sides are dominated by SHA-256 (${fmt(large.sha256)} for the body alone with`)
out('  node:crypto\'s `createHash`); what remains is the JSON work, `JSON.parse` on one side, envelope validation in Rust')
out('  (plus `JSON.parse` of `data` when it is read) on the other.')
if (large.standardwebhooks / 20 < large.sha256) {
  out(`- **20× standardwebhooks at 64 KiB** would need ${fmt(large.standardwebhooks / 20)}, less than SHA-256 of the body`)
  out(`  alone (${fmt(large.sha256)}): no implementation that hashes the body can meet it; standardwebhooks spends its time`)
  out('  in a pure-JavaScript SHA-256.')
} else {
  out(`- **20× standardwebhooks at 64 KiB** needs ${fmt(large.standardwebhooks / 20)}; SHA-256 of the body alone takes`)
  out(`  ${fmt(large.sha256)}.`)
}
out()
out('## Median batches (information)')
out()
out('| body | ' + Object.keys(rows[0].medians).join(' | ') + ' |')
out('|---|' + Object.keys(rows[0].medians).map(() => '---:').join('|') + '|')
for (const row of rows) out(`| ${row.label} | ${Object.values(row.medians).map((m) => fmt(m.median)).join(' | ')} |`)
out()
out('Columns: ours = `Verifier#verify` + id/type; ours+data also reads `event.data`; crypto = node:crypto + JSON.parse;')
out('oursStd = the Standard Webhooks scheme; standardwebhooks = `Webhook#verify`; oursSig = `verifySignature`;')
out('cryptoSig = node:crypto without JSON.parse; sha256 = node:crypto `createHash(\'sha256\')` of the body alone.')
out()
const report = `${lines.join('\n')}`
writeFileSync(join(here, 'BENCH_RESULTS.md'), report)
console.log(report)
if (sink === 0.5) console.log(sink)
