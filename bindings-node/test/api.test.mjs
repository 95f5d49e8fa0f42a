// The Verifier, events, errors, sign() and argument handling.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import * as esm from '../lib/index.mjs'
import { Event, Verifier, WebhookVerificationError, errorCodes, eventTypes, sign } from '../lib/index.mjs'
import { packageDir } from './support.mjs'

const require = createRequire(import.meta.url)
const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'
const OLD_SECRET = '8f1c2a4b6d8e0f1a3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f'
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const NOW = 1716544084

function envelope(type, data, extra = {}) {
  return JSON.stringify({
    id: 'evt_api_1',
    type,
    created: '2026-05-24T12:18:05.123Z',
    project_id: '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197',
    text: 'a summary',
    data,
    ...extra,
  })
}

function codeOf(fn) {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `${error}`)
    return error.code
  }
  return 'ok'
}

describe('entry points', () => {
  test('CommonJS and ESM export the same objects', () => {
    const cjs = require('anchor-webhooks')
    for (const name of ['Verifier', 'Event', 'WebhookVerificationError', 'sign', 'MemoryStore', 'RedisStore', 'Receiver', 'eventTypes', 'errorCodes', 'expressWebhook', 'fastifyWebhook', 'honoWebhook', 'nextWebhook', 'verifyRequest']) {
      assert.equal(typeof cjs[name], 'function', name)
      assert.equal(cjs[name], esm[name], name)
    }
  })

  test('the package resolves through its exports map', async () => {
    const imported = await import('anchor-webhooks')
    assert.equal(imported.Verifier, Verifier)
    const webHelpers = await import('anchor-webhooks/web')
    assert.equal(typeof webHelpers.honoWebhook, 'function')
    assert.equal(require('anchor-webhooks/web').nextWebhook, webHelpers.nextWebhook)
  })

  test('without an addon for this platform, the error says so and names the ways out (not "npm has a bug")', () => {
    // A copy of the package without its .node file, loaded in a child process (a fresh module cache).
    const copy = mkdtempSync(join(tmpdir(), 'anchor-webhooks-no-addon-'))
    try {
      for (const name of ['lib', 'index.js', 'package.json']) cpSync(join(packageDir, name), join(copy, name), { recursive: true })
      const loaded = spawnSync(process.execPath, ['-e', "try { require('./lib/index.cjs') } catch (e) { console.log(JSON.stringify([e.message, /Cannot find native binding/.test(e.cause?.message)])) }"], {
        cwd: copy,
        encoding: 'utf8',
      })
      assert.deepEqual(JSON.parse(loaded.stdout), [
        `anchor-webhooks: this copy of the package has no native addon for ${process.platform}-${process.arch} ` +
          '(it holds anchor-webhooks.<platform>.node only for the platforms it was built on, see "Platforms" in its ' +
          'README): build the addon on this platform (bindings-node/scripts/build.mjs --release), or use ' +
          'anchor-webhooks-wasm, which needs no native code',
        true,
      ])
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  })

  test('catalogues come from the core', () => {
    assert.equal(eventTypes().length, 16)
    assert.ok(eventTypes().includes('session.recording.ready'))
    assert.ok(eventTypes().includes('extraction.failed'))
    assert.deepEqual(errorCodes().slice(0, 2), ['invalid_secret', 'missing_header'])
    assert.equal(errorCodes().length, 12)
    eventTypes().push('mutated')
    assert.equal(eventTypes().length, 16)
  })
})

describe('verify: inputs', () => {
  const body = envelope('task.completed', { task_id: 't_1' })
  const signed = sign(SECRET, body, { timestamp: NOW })
  const verifier = new Verifier(SECRET)

  test('Buffer, Uint8Array, string, ArrayBuffer and DataView bodies', () => {
    const buffer = Buffer.from(body)
    const copy = new Uint8Array(buffer)
    const slice = Buffer.concat([Buffer.from('xx'), buffer, Buffer.from('yy')]).subarray(2, 2 + buffer.length)
    for (const input of [buffer, copy, body, copy.buffer, new DataView(copy.buffer), slice]) {
      assert.equal(verifier.verify(input, signed, { now: NOW }).id, 'evt_api_1')
    }
  })

  test('a parsed body is refused with a TypeError that says why', () => {
    assert.throws(() => verifier.verify(JSON.parse(body), signed, { now: NOW }), (error) => {
      assert.ok(error instanceof TypeError)
      assert.match(error.message, /parsed as JSON/)
      return true
    })
    assert.throws(() => verifier.verify(42, signed, { now: NOW }), TypeError)
    assert.throws(() => verifier.verify(body, 'Anchor-Signature: x', { now: NOW }), TypeError)
    assert.throws(() => verifier.verify(body, signed, { now: 'yesterday' }), TypeError)
  })

  test('plain objects in any casing, IncomingHttpHeaders with arrays, Headers, Map, pairs, raw lists', () => {
    const lower = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]))
    const upper = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toUpperCase(), v]))
    const mixed = Object.fromEntries(Object.entries(signed).map(([k, v], i) => [i % 2 ? k.toUpperCase() : k.toLowerCase(), v]))
    const withArrays = { ...lower, 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'], 'set-cookie': ['a=1', 'b=2'], 'x-number': 7, 'x-undefined': undefined }
    const containers = [signed, lower, upper, mixed, withArrays, new Headers(signed), new Map(Object.entries(signed)), Object.entries(signed), Object.entries(signed).flat()]
    for (const headers of containers) {
      assert.equal(verifier.verify(body, headers, { now: NOW }).type, 'task.completed')
    }
  })

  test('a signed header given twice (array value or two casings) is malformed_header', () => {
    const lower = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]))
    const repeated = { ...lower, 'anchor-signature': [lower['anchor-signature'], lower['anchor-signature']] }
    assert.equal(codeOf(() => verifier.verify(body, repeated, { now: NOW })), 'malformed_header')
    const twoCasings = { ...lower, 'Anchor-Signature': lower['anchor-signature'] }
    assert.equal(codeOf(() => verifier.verify(body, twoCasings, { now: NOW })), 'malformed_header')
    // WHATWG Headers joins repeats with ", ": the core then sees a second `t=` item.
    const joined = new Headers(signed)
    joined.append('anchor-signature', signed['Anchor-Signature'])
    assert.equal(codeOf(() => verifier.verify(body, joined, { now: NOW })), 'malformed_header')
  })

  test('a NUL inside an unrelated header changes nothing; inside a signed one it is malformed', () => {
    assert.equal(verifier.verify(body, { ...signed, 'x-odd\u0000name': 'v\u0000w' }, { now: NOW }).id, 'evt_api_1')
    const forged = { ...signed, 'X-Inject': `a\u0000Anchor-Signature\u0000${signed['Anchor-Signature']}` }
    assert.equal(verifier.verify(body, forged, { now: NOW }).id, 'evt_api_1', 'a NUL cannot smuggle a second pair')
    const bad = { ...signed, 'Anchor-Delivery-Id': 'id\u0000x' }
    assert.equal(codeOf(() => verifier.verify(body, bad, { now: NOW })), 'malformed_header')
    assert.deepEqual(verifier.verifySignature(body, { ...signed, 'x\u0000': '\u0000' }, { now: NOW }), { matchedSecret: 0, timestamp: NOW })
  })

  test('headers cross whole however they are encoded: large (scratch growth, list path), many, not ASCII', () => {
    const receiverOf = (headers) => verifier.verify(body, headers, { now: NOW }).deliveryId
    // The core refuses header values over 8 KiB; the scratch grows from 4 KiB and takes at most 64 KiB.
    for (const length of [16, 5000, 8000]) {
      const id = `dlv_${'x'.repeat(length)}`
      const headers = { ...signed, 'Anchor-Delivery-Id': id }
      assert.equal(receiverOf(headers), id)
      assert.deepEqual(verifier.verifySignature(body, headers, { now: NOW }), { matchedSecret: 0, timestamp: NOW })
      const forged = { ...headers, 'Anchor-Signature': signed['Anchor-Signature'].replace(/.$/, (last) => (last === '0' ? '1' : '0')) }
      assert.equal(codeOf(() => verifier.verify(body, forged, { now: NOW })), 'signature_mismatch')
      assert.equal(codeOf(() => verifier.verifySignature(body, forged, { now: NOW })), 'signature_mismatch')
    }
    const huge = { ...signed, 'Anchor-Delivery-Id': `dlv_${'x'.repeat(30_000)}` }
    assert.equal(codeOf(() => verifier.verify(body, huge, { now: NOW })), 'malformed_header')
    assert.equal(codeOf(() => verifier.verifySignature(body, huge, { now: NOW })), 'malformed_header')
    // More pairs than the scratch has descriptors for: every one still reaches the core (a repeat is malformed).
    const many = Object.entries(signed).flat()
    for (let i = 0; i < 100; i++) many.push(`x-other-${i}`, 'v')
    assert.equal(verifier.verify(body, many, { now: NOW }).id, 'evt_api_1')
    const repeated = [...many]
    for (let i = 0; i < 80; i++) repeated.push('anchor-delivery-id', `dlv_${i}`)
    assert.equal(codeOf(() => verifier.verify(body, repeated, { now: NOW })), 'malformed_header')
    // Not ASCII (these take the list path): the core's answer, as for any other container.
    for (const id of ['dlv_é', 'dlv_\u{1F600}', 'dlv_\uD800x']) {
      for (const headers of [{ ...signed, 'Anchor-Delivery-Id': id }, new Map(Object.entries({ ...signed, 'Anchor-Delivery-Id': id }))]) {
        assert.equal(codeOf(() => verifier.verify(body, headers, { now: NOW })), 'malformed_header')
      }
    }
  })

  test('now: unix seconds, a Date, or the host clock by default', () => {
    assert.equal(verifier.verify(body, signed, { now: new Date(NOW * 1000 + 999) }).timestamp, NOW)
    assert.equal(codeOf(() => verifier.verify(body, signed, { now: NOW + 121 })), 'timestamp_too_old')
    assert.equal(codeOf(() => verifier.verify(body, signed, { now: NOW - 121 })), 'timestamp_too_new')
    assert.equal(codeOf(() => verifier.verify(body, signed)), 'timestamp_too_old')
    const fresh = sign(SECRET, body)
    assert.equal(verifier.verify(body, fresh).id, 'evt_api_1')
    assert.throws(() => verifier.verify(body, signed, { now: -1 }), TypeError)
  })

  test('a timestamp out of tolerance carries the measured skew in seconds (skewSeconds, null for other errors)', () => {
    const skewOf = (run) => {
      try {
        run()
      } catch (error) {
        return [error.code, error.skewSeconds]
      }
      assert.fail('no error')
    }
    assert.deepEqual(skewOf(() => verifier.verify(body, signed, { now: NOW + 3600 })), ['timestamp_too_old', 3600])
    assert.deepEqual(skewOf(() => verifier.verifySignature(body, signed, { now: NOW - 121 })), ['timestamp_too_new', 121])
    assert.deepEqual(skewOf(() => verifier.verify(body + ' ', signed, { now: NOW })), ['signature_mismatch', null])
    assert.equal(new WebhookVerificationError('signature_mismatch', 'made by hand').skewSeconds, null)
  })
})

describe('verify: results and errors', () => {
  test('event fields, lazily parsed data (cached), created as a Date', () => {
    const data = { task_id: 't_1', execution_id: 'x_1', output: { value: { total: 3 } }, artifacts: [{ name: 'a.pdf', url: 'https://x/a.pdf', size: 12, content_type: 'application/pdf' }, { name: 'no-url' }], recording_url: 'https://r', session_dashboard_url: 'https://d' }
    const body = envelope('task.completed', data)
    const signed = sign([SECRET], body, { timestamp: NOW, id: 'delivery-1' })
    const event = new Verifier([OLD_SECRET, SECRET]).verify(body, signed, { now: NOW })
    assert.ok(event instanceof Event)
    assert.equal(event.id, 'evt_api_1')
    assert.equal(event.type, 'task.completed')
    assert.ok(event.created instanceof Date)
    assert.equal(event.created.toISOString(), '2026-05-24T12:18:05.123Z')
    assert.equal(event.created, event.created)
    assert.equal(event.projectId, '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197')
    assert.equal(event.text, 'a summary')
    assert.deepEqual(event.data, data)
    assert.equal(event.data, event.data, 'parsed once, then cached')
    assert.equal(event.matchedSecret, 1)
    assert.equal(event.timestamp, NOW)
    assert.equal(event.deliveryId, 'delivery-1')
    assert.equal(event.session, null)
    assert.deepEqual(event.task, {
      artifacts: [{ name: 'a.pdf', url: 'https://x/a.pdf', size: 12, contentType: 'application/pdf' }],
      recordingUrl: 'https://r',
      sessionDashboardUrl: 'https://d',
      taskId: 't_1',
      executionId: 'x_1',
      outputValue: { total: 3 },
      outputTruncated: false,
      errorType: null,
      error: null,
      healedTaskVersionId: null,
    })
    assert.deepEqual(JSON.parse(JSON.stringify(event)).data, data)
    assert.match(inspect(event), /^Event \{/)
  })

  test('event.is(type) is event.type === type (in TypeScript, a guard that makes task/session non-null)', () => {
    for (const type of ['task.failed', 'session.completed', 'vendor.custom']) {
      const body = envelope(type, {})
      const event = new Verifier(SECRET).verify(body, sign(SECRET, body, { timestamp: NOW }), { now: NOW })
      assert.equal(event.is(type), true, type)
      assert.equal(event.is('task.completed'), false, type)
      assert.equal(event.is(type) && type.startsWith('task.') ? event.task !== null : true, true)
      assert.equal(event.is(type) && type.startsWith('session.') ? event.session !== null : true, true)
    }
  })

  test('data is what was verified, even if the caller changes its buffer afterwards', () => {
    const body = Buffer.from(envelope('task.completed', { n: 1 }))
    const event = new Verifier(SECRET).verify(body, sign(SECRET, body, { timestamp: NOW }), { now: NOW })
    body.fill(0x20)
    assert.deepEqual(event.data, { n: 1 })
  })

  test('event.toJSON() is the plain copy to enqueue or post (the event itself keeps its fields private)', async () => {
    const body = envelope('task.completed', { n: 1, nested: { ok: true } })
    const event = new Verifier(SECRET).verify(body, sign(SECRET, body, { timestamp: NOW, id: 'dlv_clone' }), { now: NOW })
    const expected = {
      id: 'evt_api_1',
      type: 'task.completed',
      created: new Date('2026-05-24T12:18:05.123Z'),
      projectId: '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197',
      text: 'a summary',
      data: { n: 1, nested: { ok: true } },
      matchedSecret: 0,
      timestamp: NOW,
      deliveryId: 'dlv_clone',
    }
    assert.deepEqual(structuredClone(event.toJSON()), expected)
    assert.deepEqual({ ...event.toJSON() }, expected)
    const { port1, port2 } = new MessageChannel()
    const received = new Promise((resolve) => port2.once('message', resolve))
    port1.postMessage(event.toJSON())
    assert.deepEqual(await received, expected)
    port1.close()
    port2.close()
    // What the README warns about: the event object itself spreads and clones to nothing.
    assert.deepEqual({ ...event }, {})
  })

  test('task.failed, task.healed and session views', () => {
    const verifier = new Verifier(SECRET)
    const verify = (type, data) => {
      const body = envelope(type, data)
      return verifier.verify(body, sign(SECRET, body, { timestamp: NOW }), { now: NOW })
    }
    const failed = verify('task.failed', { error: { type: 'timeout', message: 'slow' }, output: { value: '__truncated__' } })
    assert.equal(failed.task.errorType, 'timeout')
    assert.deepEqual(failed.task.error, { type: 'timeout', message: 'slow' })
    assert.equal(failed.task.outputTruncated, true)
    assert.deepEqual(failed.task.artifacts, [])
    assert.equal(verify('task.healed', { healed_task_version_id: 'v9' }).task.healedTaskVersionId, 'v9')
    const session = verify('session.completed', { duration: 12.5, usage: { proxy_bytes: 2048, cpu: { s: 1 } }, session_id: 's1' }).session
    assert.equal(session.duration, 12.5)
    assert.equal(session.proxyBytes, 2048)
    assert.equal(session.sessionId, 's1')
    assert.deepEqual(session.usageField('cpu'), { s: 1 })
    assert.equal(session.usageField('missing'), null)
    const unknown = verify('widget.exploded', { a: 1 })
    assert.equal(unknown.type, 'widget.exploded')
    assert.equal(unknown.task, null)
  })

  test('errors are WebhookVerificationError with code and httpStatus, and never show a secret', () => {
    const body = envelope('task.completed', {})
    const forged = sign(OLD_SECRET, body, { timestamp: NOW })
    const verifier = new Verifier(SECRET)
    assert.throws(() => verifier.verify(body, forged, { now: NOW }), (error) => {
      assert.ok(error instanceof WebhookVerificationError)
      assert.ok(error instanceof Error)
      assert.equal(error.name, 'WebhookVerificationError')
      assert.equal(error.code, 'signature_mismatch')
      assert.equal(error.httpStatus, 401)
      assert.match(error.message, /signature mismatch/)
      assert.match(error.stack, /api\.test\.mjs/)
      for (const text of [error.message, error.stack, inspect(error)]) {
        assert.ok(!text.includes(SECRET) && !text.includes(OLD_SECRET))
      }
      return true
    })
    assert.equal(codeOf(() => verifier.verify(body, {}, { now: NOW })), 'missing_header')
    // The other scheme's signature header passes the binding's header filter, so the core can name it.
    const standardDelivery = sign(STANDARD_SECRET, body, { timestamp: NOW, scheme: 'standard' })
    for (const headers of [standardDelivery, new Headers(standardDelivery)]) {
      assert.throws(() => verifier.verify(body, headers, { now: NOW }), {
        code: 'missing_header',
        message: "missing header `Anchor-Signature`: the delivery carries `webhook-signature` instead, so it is signed with the " +
          "Standard Webhooks scheme: verify it with a verifier of the standard scheme and that webhook's `whsec_` secret",
      })
    }
    assert.throws(() => new Verifier(STANDARD_SECRET, { scheme: 'standard' }).verify(body, sign(SECRET, body, { timestamp: NOW }), { now: NOW }), {
      code: 'missing_header',
      message: /carries `Anchor-Signature` instead, so it is signed with the Anchor scheme/,
    })
    assert.throws(() => verifier.verify('{}', { ...sign(SECRET, '{}', { timestamp: NOW }) }, { now: NOW }), { code: 'invalid_payload', httpStatus: 400 })
    assert.throws(() => new Verifier(SECRET, { maxBodyBytes: 10 }).verify(body, sign(SECRET, body, { timestamp: NOW }), { now: NOW }), { code: 'body_too_large', httpStatus: 413 })
    assert.throws(() => new Verifier(` ${SECRET}`), { code: 'invalid_secret', httpStatus: 500 })
    assert.throws(() => new Verifier([]), { code: 'invalid_secret' })
  })

  test('options and their validation', () => {
    const verifier = new Verifier([SECRET, OLD_SECRET], { tolerance: 5, maxBodyBytes: 4096 })
    assert.equal(verifier.scheme, 'anchor')
    assert.equal(verifier.tolerance, 5)
    assert.equal(verifier.maxBodyBytes, 4096)
    assert.equal(verifier.secretCount, 2)
    assert.equal(new Verifier(STANDARD_SECRET, { scheme: 'standard' }).tolerance, 300)
    assert.throws(() => new Verifier(SECRET, { scheme: 'bogus' }), (error) => error instanceof TypeError && /anchor/.test(error.message))
    assert.throws(() => new Verifier(SECRET, { tolerance: '120' }), TypeError)
    assert.throws(() => new Verifier(SECRET, { tolerance: -1 }), TypeError)
    assert.throws(() => new Verifier(42), TypeError)
    const shown = inspect(verifier)
    assert.equal(shown, 'Verifier { scheme: \'anchor\', secrets: [2 redacted], tolerance: 5, maxBodyBytes: 4096 }')
    assert.ok(!JSON.stringify(verifier).includes(SECRET))
    assert.deepEqual(Object.keys(verifier), [])
  })

  test('events cannot be forged from JavaScript', () => {
    assert.throws(() => new Event({ id: 'evt_x' }), TypeError)
  })
})

describe('sign and the Standard Webhooks scheme', () => {
  test('only the scheme\'s headers cross, matched ignoring ASCII case only; svix-* names are the core\'s', () => {
    const body = '{"test": 2432232314}'
    const verifier = new Verifier(STANDARD_SECRET, { scheme: 'standard' })
    const headers = sign(STANDARD_SECRET, body, { scheme: 'standard', timestamp: 1614265330, id: 'msg_1' })
    const svix = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace('webhook', 'SVIX'), v]))
    assert.equal(verifier.verify(body, svix, { now: 1614265330 }).id, 'msg_1')
    // U+212A (Kelvin sign) lower-cases to "k" in JavaScript but is no ASCII "K": the core does not read it.
    const kelvin = { ...headers, 'webhoo\u212A-id': headers['webhook-id'] }
    delete kelvin['webhook-id']
    assert.equal(codeOf(() => verifier.verify(body, kelvin, { now: 1614265330 })), 'missing_header')
    assert.equal(codeOf(() => verifier.verify(body, [...Object.entries(kelvin)].flat(), { now: 1614265330 })), 'missing_header')
    // The two names of one header (webhook-id and svix-id) both reach the core, which decides.
    assert.equal(verifier.verifySignature(body, { ...headers, 'Svix-Id': 'msg_1' }, { now: 1614265330 }).timestamp, 1614265330)
  })

  test('the official Standard Webhooks vector', () => {
    const headers = sign(STANDARD_SECRET, '{"test": 2432232314}', { scheme: 'standard', timestamp: 1614265330, id: 'msg_p5jXN8AQM9LWM0D4loKWxJek' })
    assert.equal(headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
    const event = new Verifier(STANDARD_SECRET, { scheme: 'standard' }).verify('{"test": 2432232314}', headers, { now: 1614265330 })
    assert.equal(event.id, 'msg_p5jXN8AQM9LWM0D4loKWxJek')
    assert.equal(event.type, '')
    assert.equal(event.created, null)
    assert.equal(event.data, null)
  })

  test('sign writes the headers a sender writes; rotation signs with every secret', () => {
    const body = envelope('task.completed', {})
    const headers = sign([SECRET, OLD_SECRET], body, { timestamp: NOW, eventType: 'task.completed' })
    assert.deepEqual(Object.keys(headers), ['User-Agent', 'Content-Type', 'Anchor-Event', 'Anchor-Delivery-Id', 'Anchor-Timestamp', 'Anchor-Signature'])
    assert.equal(headers['Anchor-Signature'].match(/v1=/g).length, 2)
    assert.equal(new Verifier(OLD_SECRET).verify(body, headers, { now: NOW }).matchedSecret, 0)
    assert.throws(() => sign(SECRET, body, { id: 'a\nb' }), { code: 'malformed_header' })
    assert.throws(() => sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body), { code: 'invalid_secret' })
  })
})
