// Receiver.receive() over the memory store: exact statuses, kinds and handler run counts.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { inspect } from 'node:util'
import { MemoryStore, Receiver, RedisStore, Verifier, WebhookVerificationError, sign } from '../lib/index.mjs'
import { packageDir } from './support.mjs'

const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'
const OTHER = '8f1c2a4b6d8e0f1a3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f'
const NOW = 1716544084

function delivery(id, secret = SECRET) {
  const body = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { id } })
  return { body, headers: sign(secret, body, { timestamp: NOW }) }
}

function receiverWith(store = new MemoryStore(), options) {
  return new Receiver(new Verifier(SECRET), store, options)
}

describe('Receiver with a MemoryStore', () => {
  test('processed once, then duplicates answer 200 without running the handler', async () => {
    const receiver = receiverWith()
    const { body, headers } = delivery('evt_once')
    let runs = 0
    const handler = (event) => {
      runs++
      assert.equal(event.id, 'evt_once')
    }
    const first = await receiver.receive(body, headers, handler, { now: NOW })
    assert.equal(first.kind, 'processed')
    assert.equal(first.status, 200)
    assert.equal(first.event.id, 'evt_once')
    assert.equal(first.error, null)
    assert.equal(first.retryAfter, null)
    for (let i = 0; i < 3; i++) {
      const again = await receiver.receive(Buffer.from(body), headers, handler, { now: NOW })
      assert.deepEqual([again.kind, again.status, again.event.id, again.retryAfter], ['duplicate', 200, 'evt_once', null])
    }
    assert.equal(runs, 1)
    assert.equal(receiver.store.size, 1)
  })

  test('a failing handler releases the claim: 500, then the retry is processed', async () => {
    const receiver = receiverWith()
    const { body, headers } = delivery('evt_retry')
    const failure = new Error('database down')
    let runs = 0
    const sync = await receiver.receive(body, headers, () => {
      runs++
      throw failure
    }, { now: NOW })
    assert.deepEqual([sync.kind, sync.status, sync.error, sync.event.id], ['handler_failed', 500, failure, 'evt_retry'])
    const rejected = await receiver.receive(body, headers, async () => {
      runs++
      await new Promise((resolve) => setImmediate(resolve))
      throw failure
    }, { now: NOW })
    assert.deepEqual([rejected.kind, rejected.status, rejected.error], ['handler_failed', 500, failure])
    const retried = await receiver.receive(body, headers, () => runs++, { now: NOW })
    assert.deepEqual([retried.kind, retried.status], ['processed', 200])
    assert.equal(runs, 3)
  })

  test('in progress on another worker: 503 with Retry-After, handler not run', async () => {
    const receiver = receiverWith()
    const { body, headers } = delivery('evt_busy')
    let release
    const blocked = new Promise((resolve) => (release = resolve))
    let runs = 0
    const first = receiver.receive(body, headers, async () => {
      runs++
      await blocked
    }, { now: NOW })
    const second = await receiver.receive(body, headers, () => runs++, { now: NOW })
    assert.deepEqual([second.kind, second.status, second.retryAfter, second.event.id], ['in_progress', 503, 5, 'evt_busy'])
    release()
    assert.equal((await first).kind, 'processed')
    assert.equal((await receiver.receive(body, headers, () => runs++, { now: NOW })).kind, 'duplicate')
    assert.equal(runs, 1)
  })

  test('an expired lease can be claimed again', async () => {
    const lost = []
    const receiver = receiverWith(new MemoryStore(), { leaseSeconds: 30, onClaimLost: (event) => lost.push(event.id) })
    const { body, headers } = delivery('evt_lease')
    let release
    let runs = 0
    const pending = receiver.receive(body, headers, () => {
      runs++
      return new Promise((resolve) => (release = resolve))
    }, { now: NOW })
    assert.equal((await receiver.receive(body, headers, () => runs++, { now: NOW + 29 })).kind, 'in_progress')
    assert.equal((await receiver.receive(body, headers, () => runs++, { now: NOW + 31 })).kind, 'processed')
    release()
    // The first worker lost its lease: its completion is not recorded, yet the id stays done.
    assert.equal((await pending).kind, 'processed')
    assert.deepEqual(lost, ['evt_lease'])
    assert.equal((await receiver.receive(body, headers, () => runs++, { now: NOW + 32 })).kind, 'duplicate')
    assert.equal(runs, 2)
  })

  test('verification failures are rejected with the core status and never touch the store', async () => {
    const store = new MemoryStore()
    const receiver = receiverWith(store)
    const forged = delivery('evt_forged', OTHER)
    let runs = 0
    const result = await receiver.receive(forged.body, forged.headers, () => runs++, { now: NOW })
    assert.equal(result.kind, 'rejected')
    assert.equal(result.status, 401)
    assert.equal(result.event, null)
    assert.ok(result.error instanceof WebhookVerificationError)
    assert.equal(result.error.code, 'signature_mismatch')
    const malformed = await receiver.receive(forged.body, { 'Anchor-Signature': 't=1,v1=zz' }, () => runs++, { now: NOW })
    assert.deepEqual([malformed.kind, malformed.status, malformed.error.code], ['rejected', 400, 'malformed_header'])
    assert.equal(runs, 0)
    assert.equal(store.size, 0)
  })

  test('a store full of claims in progress refuses new ones (503, Retry-After); full of completed ids, the oldest makes room', async () => {
    const store = new MemoryStore({ maxEntries: 1 })
    const receiver = receiverWith(store)
    const first = delivery('evt_a')
    const second = delivery('evt_b')
    let runs = 0
    let full
    // evt_a's claim is the store's one entry while its handler runs.
    const processed = await receiver.receive(first.body, first.headers, async () => {
      full = await receiver.receive(second.body, second.headers, () => runs++, { now: NOW })
    }, { now: NOW })
    assert.equal(processed.kind, 'processed')
    assert.deepEqual([full.kind, full.status, full.error.code, full.retryAfter], ['rejected', 503, 'store_unavailable', 5])
    assert.match(full.error.message, /^dedupe store unavailable: the memory store is full of claims in progress \(maximum entries: 1\)/)
    assert.equal(runs, 0)
    assert.equal((await receiver.receive(second.body, second.headers, () => runs++, { now: NOW })).kind, 'processed')
    assert.deepEqual([runs, store.size], [1, 1])
  })

  test('one store shared by two receivers (a secret rotation) dedupes across them', async () => {
    const store = new MemoryStore()
    const before = receiverWith(store)
    const after = new Receiver(new Verifier([OTHER, SECRET]), store)
    const { body, headers } = delivery('evt_rotation')
    assert.equal((await before.receive(body, headers, () => {}, { now: NOW })).kind, 'processed')
    const again = await after.receive(body, headers, () => assert.fail('handler must not run'), { now: NOW })
    assert.deepEqual([again.kind, again.event.matchedSecret], ['duplicate', 1])
  })

  test('a lease or TTL the core refuses is a TypeError saying why, and the edges are accepted', () => {
    const verifier = new Verifier(SECRET)
    const leaseTooShort =
      'leaseSeconds must be at least 1 s: a shorter lease expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)'
    const ttlTooShort =
      'ttlSeconds must be at least 1 s: a shorter TTL forgets a completed id at once, and every retry would run the handler again (the default is 24 h)'
    const refused = (message) => ({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message })
    for (const lease of [0, 0.999, -30]) {
      assert.throws(() => new Receiver(verifier, new MemoryStore(), { leaseSeconds: lease }), refused(leaseTooShort))
    }
    assert.throws(() => new Receiver(verifier, new MemoryStore(), { leaseSeconds: Infinity }), refused('leaseSeconds must be at most 9007199254740 s'))
    assert.throws(() => new Receiver(verifier, new MemoryStore(), { leaseSeconds: NaN }), refused('leaseSeconds must be a number of seconds, not NaN'))
    for (const ttl of [0, 0.5, -5]) {
      assert.throws(() => new MemoryStore({ ttlSeconds: ttl }), refused(ttlTooShort))
      assert.throws(() => new RedisStore('redis://127.0.0.1:1/0', { ttlSeconds: ttl }), refused(ttlTooShort))
    }
    assert.throws(
      () => new RedisStore('redis://127.0.0.1:1/0', { timeoutSeconds: 0 }),
      refused('timeoutSeconds must be at least 1 ms: 0 is no deadline at all'),
    )
    new Receiver(verifier, new MemoryStore({ ttlSeconds: 1 }), { leaseSeconds: 1 })
    new RedisStore('redis://127.0.0.1:1/0', { ttlSeconds: 1, timeoutSeconds: 0.001 })
  })

  test('a handler that outlasts its lease is processed, and the lost claim reported', async () => {
    const lost = []
    const receiver = new Receiver(new Verifier(SECRET), new MemoryStore(), {
      leaseSeconds: 1,
      onClaimLost: (event, message) => lost.push([event.id, message]),
    })
    const { body, headers } = delivery('evt_slow')
    const slow = await receiver.receive(
      body,
      headers,
      async () => {
        // The lease ran out: the sender's retry takes the event over while this handler still runs.
        const retry = await receiver.receive(body, headers, () => {}, { now: NOW + 1 })
        assert.equal(retry.kind, 'processed')
        assert.deepEqual(lost, [])
      },
      { now: NOW },
    )
    assert.deepEqual([slow.kind, slow.status], ['processed', 200])
    assert.deepEqual(lost, [
      [
        'evt_slow',
        'anchor-webhooks: claim lost: the handler of event evt_slow outlasted its 1 s lease and the claim was gone when it finished (another delivery may have run it too); choose a lease longer than the handler',
      ],
    ])
    assert.throws(() => new Receiver(new Verifier(SECRET), new MemoryStore(), { onClaimLost: 'log' }), TypeError)
  })

  test('by default a lost claim is a process warning', async () => {
    // Warnings are emitted on the next tick: let earlier tests' ones (a lease takeover above) go first.
    await new Promise((resolve) => setImmediate(resolve))
    const warnings = []
    const listen = (warning) => warnings.push([warning.name, warning.code, warning.message])
    process.on('warning', listen)
    try {
      const receiver = new Receiver(new Verifier(SECRET), new MemoryStore(), { leaseSeconds: 1 })
      const { body, headers } = delivery('evt_warned')
      await receiver.receive(body, headers, () => receiver.receive(body, headers, () => {}, { now: NOW + 1 }), { now: NOW })
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', listen)
    }
    assert.deepEqual(warnings, [
      [
        'AnchorWebhooksWarning',
        'ANCHOR_CLAIM_LOST',
        'anchor-webhooks: claim lost: the handler of event evt_warned outlasted its 1 s lease and the claim was gone when it finished (another delivery may have run it too); choose a lease longer than the handler',
      ],
    ])
  })

  test('arguments', async () => {
    const verifier = new Verifier(SECRET)
    assert.throws(() => new Receiver({}, new MemoryStore()), TypeError)
    assert.throws(() => new Receiver(verifier, {}), TypeError)
    assert.throws(() => new Receiver(verifier, new MemoryStore(), { leaseSeconds: 0 }), TypeError)
    assert.throws(() => new MemoryStore({ ttlSeconds: -5 }), TypeError)
    await assert.rejects(receiverWith().receive('{}', {}, 'not a function'), TypeError)
    assert.equal(inspect(receiverWith()), "Receiver { verifier: Verifier { scheme: 'anchor', secrets: [1 redacted], tolerance: 120, maxBodyBytes: 1048576 }, store: MemoryStore { size: 0 } }")
    // A configuration error at start-up, not store_unavailable; the URL (a password in it) is never shown.
    for (const url of ['http://nope', 'localhost:6379', 'redis://user:hunter2@127.0.0.1:notaport/0']) {
      assert.throws(() => new RedisStore(url), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: 'invalid Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]',
      })
    }
    assert.equal(inspect(new RedisStore('redis://:hunter2@127.0.0.1:1/0')), 'RedisStore { url: [redacted] }')
  })

  test('URLs the README says are refused: Unix sockets, and a user named without a password', () => {
    // A Unix socket is connected without a timeout: a hung server would hold a call forever.
    for (const url of ['redis+unix:///run/redis.sock', 'unix:///run/redis.sock', 'redis+unix:///run/redis.sock?db=1']) {
      assert.throws(() => new RedisStore(url), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: 'invalid Redis URL: Unix socket URLs are not supported (their connect has no timeout); use redis://127.0.0.1:6379',
      })
    }
    // Without a password no AUTH is sent, and the store would act as the `default` user.
    for (const url of ['redis://alice@127.0.0.1:6379/0', 'rediss://alice@127.0.0.1:6380']) {
      assert.throws(() => new RedisStore(url), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: 'invalid Redis URL: it names a user but no password; write redis://username:password@host (a user with `nopass` accepts any password)',
      })
    }
    // No user and no password (the default user, unauthenticated), or a password alone, are fine.
    for (const url of ['redis://127.0.0.1:6379/0', 'redis://:hunter2@127.0.0.1:6379', 'redis://alice:hunter2@127.0.0.1:6379']) {
      assert.doesNotThrow(() => new RedisStore(url), url)
    }
  })
})

test('a receive() whose handler never settles frees its claim once collected (the store claim ends with its lease)', () => {
  // In a child with --expose-gc: 200 deliveries whose handlers hang forever, their promises dropped.
  const script = `
    const native = require('./lib/native.cjs')
    const { MemoryStore, Receiver, Verifier, sign } = require('./lib/index.cjs')
    const secret = ${JSON.stringify(SECRET)}
    const receiver = new Receiver(new Verifier(secret), new MemoryStore())
    const now = ${NOW}
    for (let i = 0; i < 200; i++) {
      const body = JSON.stringify({ id: 'evt_hung_' + i, type: 'task.completed', created: '2024-05-24T09:48:04Z', data: {} })
      receiver.receive(body, sign(secret, body, { timestamp: now }), () => new Promise(() => {}), { now })
    }
    const held = native.claimsHeld()
    ;(async () => {
      for (let round = 0; round < 50 && native.claimsHeld() > 0; round++) {
        global.gc()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      console.log(JSON.stringify([held, native.claimsHeld()]))
    })()
  `
  const output = execFileSync(process.execPath, ['--expose-gc', '-e', script], { cwd: packageDir, encoding: 'utf8' })
  assert.deepEqual(JSON.parse(output), [200, 0])
})
