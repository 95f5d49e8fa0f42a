// Argument checking at the package's edge: every wrong argument is the package's TypeError (naming the
// argument or option), never a foreign error or a silent misreading; and every header spelling the core
// matches crosses, whichever path (scratch encoding, JS list, the core's own list) the headers take.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { runInNewContext } from 'node:vm'
import { MemoryStore, Receiver, RedisStore, Verifier, WebhookVerificationError, sign } from '../lib/index.mjs'
import { freePort } from './support.mjs'

const require = createRequire(import.meta.url)
const native = require('../index.js')

const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const NOW = 1716544084
const BODY = JSON.stringify({ id: 'evt_args', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { n: 1 } })
const SIGNED = sign(SECRET, BODY, { timestamp: NOW, id: 'dlv_args' })

/** The package's argument error: a TypeError with `code` and exactly `message`. */
function argumentError(message, code = 'ERR_INVALID_ARG_TYPE') {
  return (error) => {
    assert.ok(error instanceof TypeError, `not a TypeError: ${error}`)
    assert.equal(error.code, code)
    if (message instanceof RegExp) assert.match(error.message, message)
    else assert.equal(error.message, message)
    return true
  }
}

/** `ok` or the WebhookVerificationError's code. */
/** `'ok'`, or the error's code and message. */
function answerOf(fn) {
  try {
    fn()
  } catch (error) {
    return `${error.code}: ${error.message}`
  }
  return 'ok'
}

function codeOf(fn) {
  try {
    fn()
    return 'ok'
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `${error}`)
    return error.code
  }
}

/** A receiver whose store is a closed port: the JS list path; a verified delivery is `store_unavailable`. */
async function deadRedisReceiver(verifier) {
  return new Receiver(verifier, new RedisStore(`redis://127.0.0.1:${await freePort()}/0`, { timeoutSeconds: 0.5 }))
}

describe('stores and receivers', () => {
  test('a Receiver without a store object is the package TypeError', () => {
    const verifier = new Verifier(SECRET)
    const message = (got) => `store must be a MemoryStore or a RedisStore (new RedisStore(url) for a URL), got ${got}`
    assert.throws(() => new Receiver(verifier, null), argumentError(message('null')))
    assert.throws(() => new Receiver(verifier, undefined), argumentError(message('undefined')))
    assert.throws(() => new Receiver(verifier), argumentError(message('undefined')))
    assert.throws(() => new Receiver(verifier, 'redis://127.0.0.1:6379/0'), argumentError(message('string')))
    assert.throws(() => new Receiver(verifier, {}), argumentError(message('an object')))
    assert.throws(() => new Receiver(verifier, new Map()), argumentError(message('a Map')))
  })

  test('a store or verifier of another package or another copy of this one is named as such', () => {
    // What anchor-webhooks-wasm's classes, or those of a second installed copy, look like from here: same names.
    const foreign = {
      MemoryStore: class MemoryStore {},
      RedisStore: class RedisStore {},
      Verifier: class Verifier {},
    }
    const elsewhere =
      'from another package or another copy of anchor-webhooks (the classes of anchor-webhooks-wasm, or of a ' +
      'second installed copy of this package, work only with their own Receiver)'
    const verifier = new Verifier(SECRET)
    for (const name of ['MemoryStore', 'RedisStore']) {
      assert.throws(
        () => new Receiver(verifier, new foreign[name]()),
        argumentError(`store must be a MemoryStore or a RedisStore (new RedisStore(url) for a URL), got a ${name} ${elsewhere}`),
      )
    }
    assert.throws(() => new Receiver(new foreign.Verifier(), new MemoryStore()), argumentError(`verifier must be a Verifier, got a Verifier ${elsewhere}`))
    assert.throws(() => new Receiver({}, new MemoryStore()), argumentError('verifier must be a Verifier, got an object'))
  })

  test('tolerance and maxBodyBytes are whole numbers: a fraction is refused, not floored (0.9 s would be 0 s)', () => {
    for (const [option, bad] of [['tolerance', 0.9], ['tolerance', 1.5], ['tolerance', -1], ['tolerance', 2 ** 53], ['maxBodyBytes', 1.5], ['maxBodyBytes', NaN]]) {
      assert.throws(
        () => new Verifier(SECRET, { [option]: bad }),
        argumentError(`${option} must be a non-negative whole number up to 9007199254740991`, 'ERR_INVALID_ARG_VALUE'),
        `${option}: ${bad}`,
      )
    }
    assert.equal(new Verifier(SECRET, { tolerance: 0 }).tolerance, 0)
    assert.equal(new Verifier(SECRET, { tolerance: 2 ** 53 - 1 }).tolerance, 2 ** 53 - 1)
  })

  test('maxIdleConnections, maxThreads and maxEntries are whole numbers in range', () => {
    const url = 'redis://127.0.0.1:1/0'
    for (const bad of [-1, NaN, 1.5, 1e12, Infinity, 2 ** 32]) {
      assert.throws(
        () => new RedisStore(url, { maxIdleConnections: bad }),
        argumentError('maxIdleConnections must be a non-negative whole number up to 4294967295', 'ERR_INVALID_ARG_VALUE'),
        String(bad),
      )
    }
    for (const bad of [-1, NaN, 1.5, Infinity, 2 ** 53]) {
      assert.throws(
        () => new MemoryStore({ maxEntries: bad }),
        argumentError('maxEntries must be a non-negative whole number up to 9007199254740991', 'ERR_INVALID_ARG_VALUE'),
        String(bad),
      )
    }
    assert.throws(() => new RedisStore(url, { maxIdleConnections: '4' }), argumentError('maxIdleConnections must be a number'))
    for (const good of [0, 4, 4294967295]) new RedisStore(url, { maxIdleConnections: good })
    for (const bad of [-1, NaN, 1.5, Infinity, 4097]) {
      assert.throws(
        () => new RedisStore(url, { maxThreads: bad }),
        argumentError('maxThreads must be a non-negative whole number up to 4096', 'ERR_INVALID_ARG_VALUE'),
        String(bad),
      )
    }
    assert.throws(
      () => new RedisStore(url, { maxThreads: 0 }),
      argumentError('maxThreads must be at least 1: with no thread, no Redis call can run', 'ERR_INVALID_ARG_VALUE'),
    )
    assert.throws(() => new RedisStore(url, { maxThreads: '4' }), argumentError('maxThreads must be a number'))
    for (const good of [1, 64, 4096]) new RedisStore(url, { maxThreads: good })
    assert.throws(
      () => new MemoryStore({ maxEntries: 0 }),
      argumentError(
        'maxEntries must be at least 1: a store with room for no id claims nothing, and every delivery would be answered 503 (the default is 100000)',
        'ERR_INVALID_ARG_VALUE',
      ),
    )
    assert.equal(new MemoryStore({ maxEntries: 1 }).size, 0)
    assert.equal(new MemoryStore({ maxEntries: 1e12 }).size, 0)
  })

  test('tlsRootCertificates and secrets errors name them', () => {
    assert.throws(
      () => new RedisStore('rediss://127.0.0.1:1/0', { tlsRootCertificates: 5 }),
      argumentError('tlsRootCertificates must be PEM text (a string, Buffer or Uint8Array), got number'),
    )
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [, SECRET]
    assert.throws(() => new Verifier(sparse), argumentError('secrets must be a string or an array of strings'))
    assert.throws(() => sign(sparse, BODY), argumentError('secrets must be a string or an array of strings'))
    assert.throws(() => new Verifier([SECRET, 5]), argumentError('secrets must be a string or an array of strings'))
    // Bytes: decode them, or give raw key bytes as whsec_ + base64, which then verify as the raw key does.
    const hint =
      "secrets must be a string or an array of strings: a secret read as bytes is decoded first (secret.toString()); " +
      "raw key bytes, as standardwebhooks' { format: 'raw' } takes them, are given as 'whsec_' + Buffer.from(key).toString('base64')"
    const key = Buffer.from('raw key bytes')
    assert.throws(() => new Verifier(key, { scheme: 'standard' }), argumentError(hint))
    assert.throws(() => sign([SECRET, new Uint8Array(key)], BODY), argumentError(hint))
    const asText = 'whsec_' + Buffer.from(key).toString('base64')
    const headers = sign(asText, BODY, { scheme: 'standard', id: 'msg_1', timestamp: 1 })
    const expected = createHmac('sha256', key).update(`msg_1.1.${BODY}`).digest('base64')
    assert.equal(headers['webhook-signature'], `v1,${expected}`)
  })
})

describe('bodies', () => {
  const verifier = new Verifier(SECRET)
  const bytes = Buffer.from(BODY)

  test('a SharedArrayBuffer, and buffers and views of another realm, are bytes', () => {
    const shared = new SharedArrayBuffer(bytes.length)
    new Uint8Array(shared).set(bytes)
    const foreign = runInNewContext(`new ArrayBuffer(${bytes.length})`)
    new Uint8Array(foreign).set(bytes)
    const foreignView = runInNewContext(`new Uint8Array(${bytes.length})`)
    foreignView.set(bytes)
    for (const body of [shared, new Uint8Array(shared), new DataView(shared), foreign, foreignView]) {
      assert.equal(verifier.verify(body, SIGNED, { now: NOW }).id, 'evt_args')
    }
  })

  test('a Blob says to read it first; only objects and arrays are "parsed as JSON"', () => {
    assert.throws(
      () => verifier.verify(new Blob([bytes]), SIGNED, { now: NOW }),
      argumentError('body is a Blob: call `await blob.arrayBuffer()` first and pass the result (the raw bytes)'),
    )
    const parsed = /^body is an object: it was probably parsed as JSON already/
    for (const body of [JSON.parse(BODY), [1, 2], Object.create(null), runInNewContext('({ id: "x" })')]) {
      assert.throws(() => verifier.verify(body, SIGNED, { now: NOW }), argumentError(parsed))
    }
    assert.throws(
      () => verifier.verify(new Map(), SIGNED, { now: NOW }),
      argumentError('body must be a Buffer, Uint8Array, ArrayBuffer or string, got a Map'),
    )
    assert.throws(() => verifier.verify(null, SIGNED, { now: NOW }), argumentError('body must be a Buffer, Uint8Array, ArrayBuffer or string, got null'))
  })
})

describe('header values', () => {
  const verifier = new Verifier(SECRET)
  const lower = Object.fromEntries(Object.entries(SIGNED).map(([name, value]) => [name.toLowerCase(), value]))

  test('anything but a string or number (or arrays of them) is a TypeError naming the header', async () => {
    const receiver = await deadRedisReceiver(verifier)
    const cases = [
      [{ ...SIGNED, 'Anchor-Event': Symbol('x') }, 'Anchor-Event', 'symbol'],
      [{ ...SIGNED, 'Anchor-Delivery-Id': Object.create(null) }, 'Anchor-Delivery-Id', 'an object'],
      [{ ...SIGNED, 'Anchor-Delivery-Id': ['dlv', ['nested']] }, 'Anchor-Delivery-Id', 'an array'],
      [{ ...SIGNED, 'Anchor-Timestamp': true }, 'Anchor-Timestamp', 'boolean'],
      [new Map([...Object.entries(SIGNED), ['anchor-event', { toString: () => 'task.completed' }]]), 'anchor-event', 'an object'],
      [[...Object.entries(SIGNED).flat(), 'ANCHOR-EVENT', 10n], 'ANCHOR-EVENT', 'bigint'],
    ]
    for (const [headers, name, got] of cases) {
      const expected = argumentError(`header ${name}: a value must be a string or a number (or an array of them), got ${got}`)
      assert.throws(() => verifier.verify(BODY, headers, { now: NOW }), expected, name)
      assert.throws(() => verifier.verifySignature(BODY, headers, { now: NOW }), expected, name)
      await assert.rejects(receiver.receive(BODY, headers, () => assert.fail('no handler')), expected, name)
    }
    // Headers the core does not read are not looked at.
    assert.equal(verifier.verify(BODY, { ...SIGNED, 'x-anything': Symbol('y') }, { now: NOW }).id, 'evt_args')
  })

  test('null and undefined mean no value, alone or inside an array; numbers are their text', async () => {
    const receiver = await deadRedisReceiver(verifier)
    for (const absent of [null, undefined, [null], [undefined, null], []]) {
      const headers = { ...lower, 'anchor-delivery-id': absent }
      assert.equal(verifier.verify(BODY, headers, { now: NOW }).deliveryId, null, String(absent))
      const flat = [...Object.entries(lower).filter(([name]) => name !== 'anchor-delivery-id').flat(), 'anchor-delivery-id', absent]
      assert.equal(verifier.verify(BODY, flat, { now: NOW }).deliveryId, null, `flat ${absent}`)
      // The JS list path: verified, so the dead store answers.
      assert.equal((await receiver.receive(BODY, headers, () => {}, { now: NOW })).error.code, 'store_unavailable', String(absent))
    }
    const withNull = { ...lower, 'anchor-signature': [null, lower['anchor-signature'], undefined] }
    assert.equal(verifier.verify(BODY, withNull, { now: NOW }).id, 'evt_args')
    assert.equal((await receiver.receive(BODY, withNull, () => {}, { now: NOW })).error.code, 'store_unavailable')
    const numeric = { ...lower, 'anchor-timestamp': NOW }
    assert.equal(verifier.verify(BODY, numeric, { now: NOW }).timestamp, NOW)
    assert.equal(verifier.verify(BODY, new Map(Object.entries({ ...numeric, 'anchor-timestamp': [NOW] })), { now: NOW }).timestamp, NOW)
  })
})

describe('the clock and options objects', () => {
  const verifier = new Verifier(SECRET)

  test('now in milliseconds is refused, saying so (a number out of range: ERR_INVALID_ARG_VALUE, as in the wasm package)', async () => {
    const message = /^now must be unix seconds or a Date; 1716544084000 looks like milliseconds \(Date\.now\(\)\): pass seconds or a Date$/
    const milliseconds = (expected) => argumentError(expected, 'ERR_INVALID_ARG_VALUE')
    assert.throws(() => verifier.verify(BODY, SIGNED, { now: NOW * 1000 }), milliseconds(message))
    assert.throws(() => verifier.verifySignature(BODY, SIGNED, { now: NOW * 1000 }), milliseconds(message))
    const receiver = new Receiver(verifier, new MemoryStore())
    await assert.rejects(receiver.receive(BODY, SIGNED, () => assert.fail('no handler'), { now: NOW * 1000 }), milliseconds(message))
    assert.throws(() => verifier.verify(BODY, SIGNED, { now: 1e11 }), milliseconds(/looks like milliseconds/))
    assert.equal(codeOf(() => verifier.verify(BODY, SIGNED, { now: 1e11 - 1 })), 'timestamp_too_old')
    assert.throws(
      () => sign(SECRET, BODY, { timestamp: Date.now() }),
      milliseconds(/^timestamp must be unix seconds or a Date; \d+ looks like milliseconds/),
    )
    assert.throws(() => sign(SECRET, BODY, { timestamp: '5' }), argumentError('timestamp must be a Date or unix seconds, got string'))
    assert.throws(() => verifier.verify(BODY, SIGNED, { now: '5' }), argumentError('now must be a Date or unix seconds, got string'))
    assert.equal(sign(SECRET, BODY, { timestamp: new Date(NOW * 1000) })['Anchor-Timestamp'], String(NOW))
  })

  test('options must be objects', async () => {
    assert.throws(() => new Verifier(SECRET, 'standard'), argumentError('new Verifier: options must be an object, got string'))
    assert.throws(() => verifier.verify(BODY, SIGNED, 5), argumentError('verify: options must be an object, got number'))
    assert.throws(() => verifier.verify(BODY, SIGNED, new Date(NOW * 1000)), argumentError('verify: options must be an object, got a Date'))
    assert.throws(() => verifier.verifySignature(BODY, SIGNED, [NOW]), argumentError('verifySignature: options must be an object, got an array'))
    assert.throws(() => sign(SECRET, BODY, NOW), argumentError('sign: options must be an object, got number'))
    assert.throws(() => new MemoryStore(10), argumentError('new MemoryStore: options must be an object, got number'))
    const receiver = new Receiver(verifier, new MemoryStore())
    await assert.rejects(receiver.receive(BODY, SIGNED, () => {}, NOW), argumentError('receive: options must be an object, got number'))
    // undefined and null are "no options".
    assert.equal(verifier.verify(BODY, sign(SECRET, BODY), null).id, 'evt_args')
    assert.equal(new Verifier(SECRET, null).scheme, 'anchor')
  })

  test('an unknown option name is a TypeError naming it', async () => {
    assert.throws(
      () => new Verifier(STANDARD_SECRET, { shceme: 'standard' }),
      argumentError('new Verifier: unknown option `shceme` (the options are scheme, tolerance, maxBodyBytes)'),
    )
    assert.throws(() => verifier.verify(BODY, SIGNED, { now: NOW, tolerance: 5 }), argumentError('verify: unknown option `tolerance` (the options are now)'))
    assert.throws(() => verifier.verifySignature(BODY, SIGNED, { time: NOW }), argumentError('verifySignature: unknown option `time` (the options are now)'))
    assert.throws(() => sign(SECRET, BODY, { timeStamp: NOW }), argumentError('sign: unknown option `timeStamp` (the options are scheme, timestamp, id, eventType)'))
    assert.throws(() => new MemoryStore({ ttl: 60 }), argumentError('new MemoryStore: unknown option `ttl` (the options are maxEntries, ttlSeconds)'))
    assert.throws(
      () => new RedisStore('redis://127.0.0.1:1/0', { timeout: 1 }),
      argumentError('new RedisStore: unknown option `timeout` (the options are keyPrefix, ttlSeconds, timeoutSeconds, maxIdleConnections, maxThreads, tlsRootCertificates)'),
    )
    assert.throws(() => new Receiver(verifier, new MemoryStore(), { lease: 30 }), argumentError('new Receiver: unknown option `lease` (the options are leaseSeconds, onClaimLost)'))
    const receiver = new Receiver(verifier, new MemoryStore())
    let runs = 0
    await assert.rejects(receiver.receive(BODY, SIGNED, () => runs++, { now: NOW, clock: 1 }), argumentError('receive: unknown option `clock` (the options are now)'))
    assert.equal(runs, 0)
  })
})

/** mulberry32: a small seeded generator, so a failure names a reproducible spelling. */
function seeded(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `name` with each ASCII letter's case flipped with probability 1/2. */
function flipCase(name, random) {
  let flipped = ''
  for (const char of name) {
    const isLetter = /[A-Za-z]/.test(char)
    flipped += isLetter && random() < 0.5 ? (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase()) : char
  }
  return flipped
}

describe('every spelling the core matches crosses, on every path', () => {
  const schemes = {
    anchor: { secret: SECRET, body: BODY, signed: SIGNED },
    standard: {
      secret: STANDARD_SECRET,
      body: '{"type":"extraction.completed","data":{}}',
      signed: sign(STANDARD_SECRET, '{"type":"extraction.completed","data":{}}', { scheme: 'standard', timestamp: NOW, id: 'msg_1' }),
    },
  }

  for (const [scheme, { secret, body, signed }] of Object.entries(schemes)) {
    test(`${scheme}: random ASCII case flips of every header name, alone and repeated in two casings`, async () => {
      const random = seeded(0x5eed + scheme.length)
      const verifier = new Verifier(secret, { scheme })
      const receiver = await deadRedisReceiver(verifier)
      const core = new native.NativeVerifier(scheme, [secret], undefined, undefined)
      const scratch = Buffer.alloc(4096)
      /** What the core answers for exactly these pairs, none left out (its own list, no JS filter): its code and message. */
      const coreAnswer = (pairs) => answerOf(() => core.verifyList(Buffer.from(body), pairs.flat(), NOW, scratch))
      // The signed headers by lower-case name; `svix-*` take the value of their `webhook-*` twin.
      const valueOf = new Map(Object.entries(signed).map(([name, value]) => [name.toLowerCase(), value]))
      const names = native.headerNames(scheme)
      assert.ok(names.length >= 4)
      let compared = 0
      for (const name of names) {
        const lowerName = name.toLowerCase()
        const twin = lowerName.replace(/^svix-/, 'webhook-')
        // The other scheme's signature header, read only to name it when this scheme's own is missing: the
        // delivery then leaves its own signature header out, and the core's message names the foreign one.
        const foreign = !valueOf.has(lowerName) && !valueOf.has(twin)
        const value = foreign ? 'v1,x' : (valueOf.get(lowerName) ?? valueOf.get(twin))
        // The other signed headers, minus this one (and its twin), lower-cased.
        const others = [...valueOf].filter(
          ([other]) => other !== lowerName && other !== twin && !(foreign && other.endsWith('-signature')),
        )
        for (let round = 0; round < 6; round++) {
          const spelling = flipCase(name, random)
          const second = flipCase(name, random)
          const sets = [
            [...others, [spelling, value]],
            // The same header twice, in two spellings (maybe equal): the core decides.
            [...others, [spelling, value], [second === spelling ? spelling.toUpperCase() : second, value]],
          ]
          for (const pairs of sets) {
            const expected = coreAnswer(pairs)
            const label = `${scheme} ${JSON.stringify(pairs.slice(others.length).map(([n]) => n))}`
            assert.equal(answerOf(() => verifier.verify(body, Object.fromEntries(pairs), { now: NOW })), expected, `object ${label}`)
            assert.equal(answerOf(() => verifier.verify(body, pairs, { now: NOW })), expected, `pairs ${label}`)
            assert.equal(answerOf(() => verifier.verify(body, pairs.flat(), { now: NOW })), expected, `flat ${label}`)
            assert.equal(answerOf(() => verifier.verifySignature(body, pairs.flat(), { now: NOW })), expected, `verifySignature ${label}`)
            // The JS list path (a blocking store): verified deliveries reach the (dead) store.
            const received = await receiver.receive(body, pairs.flat(), () => assert.fail('no handler'), { now: NOW })
            const receivedAnswer = expected === 'ok' ? received.error.code : `${received.error.code}: ${received.error.message}`
            assert.equal(receivedAnswer, expected === 'ok' ? 'store_unavailable' : expected, `list ${label}`)
            compared++
          }
          if (foreign) {
            // Alone or repeated, the foreign header crossed: the core names it.
            for (const pairs of sets) assert.match(coreAnswer(pairs), /^missing_header: .* carries `.*` instead/, `${scheme} ${spelling}`)
            continue
          }
          // Alone, every spelling verifies; repeated, a signed header is the core's malformed_header.
          assert.equal(coreAnswer(sets[0]), 'ok', `${scheme} ${spelling}`)
          if (!lowerName.endsWith('-event')) assert.match(coreAnswer(sets[1]), /^malformed_header: /, `${scheme} ${spelling} twice`)
        }
      }
      assert.equal(compared, names.length * 12)
    })
  }
})

describe('web.cjs and delivery.cjs (runtime-neutral: they import nothing else)', () => {
  const web = require('../lib/web.cjs')
  const delivery = require('../lib/delivery.cjs')
  const statusOf = Object.fromEntries(native.outcomeCatalogue().map((entry) => [entry.kind, entry.httpStatus]))

  test('its verify-only answers are the core outcome catalogue statuses', async () => {
    const event = { id: 'evt_web' }
    const processed = await delivery.handleDelivery({ verify: () => event }, false, new Uint8Array(0), {}, null)
    assert.equal(processed.status, statusOf.processed)
    assert.equal(processed.kind, 'processed')
    const refusal = new WebhookVerificationError('signature_mismatch', 'no match')
    const rejected = await delivery.handleDelivery({ verify: () => { throw refusal } }, false, new Uint8Array(0), {}, null)
    assert.equal(rejected.status, 401)
    assert.equal(rejected.kind, 'rejected')
  })

  test('web.cjs requires only delivery.cjs, which requires nothing', () => {
    const requires = (file) => [...require('node:fs').readFileSync(require.resolve(file), 'utf8').matchAll(/\brequire\(([^)]*)\)/g)].map((m) => m[1])
    assert.deepEqual(requires('../lib/web.cjs'), ["'./delivery.cjs'"])
    assert.deepEqual(requires('../lib/delivery.cjs'), [])
  })

  test("anchor-webhooks/web exports its helpers only, not delivery.cjs's internals", () => {
    assert.deepEqual(Object.keys(web).sort(), ['honoWebhook', 'isVerificationError', 'nextWebhook', 'verifyRequest'])
  })
})
