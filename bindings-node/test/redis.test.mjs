// RedisStore against a real redis-server (scripts/ensure-redis.sh installs it), a dead one and a hung one.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import { Receiver, RedisStore, Verifier, sign } from '../lib/index.mjs'
import { freePort, startRedis, startSilentServer } from './support.mjs'

const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'

function delivery(id) {
  const body = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
  return { body, headers: sign(SECRET, body) }
}

describe('RedisStore', () => {
  let redis
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await redis?.stop()
  })

  test('two replicas share claims: processed once, duplicate on the other, release lets the retry through', async () => {
    const prefix = `anchor-node-test-${process.pid}-${Date.now()}`
    const first = new Receiver(new Verifier(SECRET), new RedisStore(redis.url, { keyPrefix: prefix }))
    const second = new Receiver(new Verifier(SECRET), new RedisStore(redis.url, { keyPrefix: prefix, timeoutSeconds: 2 }))
    const { body, headers } = delivery('evt_redis_1')
    let runs = 0
    const processed = await first.receive(body, headers, () => runs++)
    assert.deepEqual([processed.kind, processed.status], ['processed', 200])
    const duplicate = await second.receive(body, headers, () => runs++)
    assert.deepEqual([duplicate.kind, duplicate.status, duplicate.event.id], ['duplicate', 200, 'evt_redis_1'])

    const other = delivery('evt_redis_2')
    const failed = await first.receive(other.body, other.headers, async () => {
      runs++
      throw new Error('handler failed')
    })
    assert.deepEqual([failed.kind, failed.status], ['handler_failed', 500])
    const retried = await second.receive(other.body, other.headers, () => runs++)
    assert.equal(retried.kind, 'processed')
    assert.equal(runs, 3)
  })

  test('a live claim on one replica is in_progress (503, Retry-After) on the other', async () => {
    const prefix = `anchor-node-test-busy-${process.pid}-${Date.now()}`
    const first = new Receiver(new Verifier(SECRET), new RedisStore(redis.url, { keyPrefix: prefix }))
    const second = new Receiver(new Verifier(SECRET), new RedisStore(redis.url, { keyPrefix: prefix }))
    const { body, headers } = delivery('evt_redis_busy')
    let release
    const pending = first.receive(body, headers, () => new Promise((resolve) => (release = resolve)))
    // The first claim runs on a thread of its own: wait until its handler runs.
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    const busy = await second.receive(body, headers, () => assert.fail('must not run'))
    assert.deepEqual([busy.kind, busy.status, busy.retryAfter], ['in_progress', 503, 5])
    release()
    assert.equal((await pending).kind, 'processed')
  })

  test('check() tells a setup that can never work (ERR_REDIS_MISCONFIGURED) from a server that is down', async () => {
    await new RedisStore(redis.url, { timeoutSeconds: 2.5 }).check()
    // A user without the scripts' rights: the first delivery would only find out after its handler ran.
    execFileSync('redis-cli', ['-p', String(redis.port), 'ACL', 'SETUSER', 'node-noeval', 'on', '>node-noeval-pw', '~*', '+set', '+get'])
    const refusal = async (url, timeoutSeconds = 2.5) => {
      try {
        await new RedisStore(url, { timeoutSeconds }).check()
      } catch (error) {
        return [error instanceof Error, error.name, error.code, error.message]
      }
      assert.fail(`${url}: check passed`)
    }
    assert.deepEqual(await refusal(`redis://node-noeval:node-noeval-pw@127.0.0.1:${redis.port}/0`), [
      true,
      'RedisCheckError',
      'ERR_REDIS_MISCONFIGURED',
      'redis: this user may not run SCRIPT LOAD (NOPERM); the dedupe store needs the ACL rules +set +get +del +evalsha +script|load ~anchor-webhooks:dedupe:*',
    ])
    assert.deepEqual(await refusal(`redis://node-noeval:wrong-pw@127.0.0.1:${redis.port}/0`), [
      true,
      'RedisCheckError',
      'ERR_REDIS_MISCONFIGURED',
      'redis: wrong user name or password, or the user is disabled (WRONGPASS)',
    ])
    assert.deepEqual(await refusal(`redis://127.0.0.1:${await freePort()}/0`, 0.5), [
      true,
      'RedisCheckError',
      'ERR_REDIS_UNAVAILABLE',
      'redis: connection refused',
    ])
  })

  test('a dead server is store_unavailable (503, Retry-After), never processed', async () => {
    const receiver = new Receiver(new Verifier(SECRET), new RedisStore(`redis://127.0.0.1:${await freePort()}/0`, { timeoutSeconds: 0.5 }))
    const { body, headers } = delivery('evt_dead')
    let runs = 0
    const result = await receiver.receive(body, headers, () => runs++)
    assert.deepEqual([result.kind, result.status, result.error.code, result.retryAfter], ['rejected', 503, 'store_unavailable', 5])
    assert.match(result.error.message, /redis/)
    assert.equal(runs, 0)
  })

  test('the store works again once the server is back', async () => {
    const port = await freePort()
    // Refused at once while the port is closed; 2 s then leaves room for the reconnect to the live server.
    const store = new RedisStore(`redis://127.0.0.1:${port}/0`, { timeoutSeconds: 2 })
    const receiver = new Receiver(new Verifier(SECRET), store)
    const { body, headers } = delivery('evt_back')
    assert.equal((await receiver.receive(body, headers, () => {})).error.code, 'store_unavailable')
    const server = await startRedis(port)
    try {
      assert.equal((await receiver.receive(body, headers, () => {})).kind, 'processed')
    } finally {
      await server.stop()
    }
  })

  test('a hung server does not block the event loop: callbacks run while the claim waits, then 503', async () => {
    const silent = await startSilentServer()
    try {
      const receiver = new Receiver(new Verifier(SECRET), new RedisStore(`redis://127.0.0.1:${silent.port}/0`, { timeoutSeconds: 2 }))
      const { body, headers } = delivery('evt_hung')
      let settled = false
      const pending = receiver.receive(body, headers, () => assert.fail('must not run'))
      pending.finally(() => (settled = true))
      // Had the claim run on this thread, receive() would only have returned after the 2 s timeout, with
      // the result ready before the next turn of the loop.
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(settled, false, 'the event loop turned while the claim waited on its thread')
      const result = await pending
      assert.deepEqual([result.kind, result.status, result.error.code], ['rejected', 503, 'store_unavailable'])
    } finally {
      await silent.stop()
    }
  })

  test('a hung server does not take libuv\'s thread pool: fs still answers while more receives than it has threads wait', async () => {
    const silent = await startSilentServer()
    try {
      const receiver = new Receiver(new Verifier(SECRET), new RedisStore(`redis://127.0.0.1:${silent.port}/0`, { timeoutSeconds: 2 }))
      // libuv's pool has 4 threads unless UV_THREADPOOL_SIZE says more: hold more than that many.
      const inFlight = Math.max(4, Number(process.env.UV_THREADPOOL_SIZE) || 0) * 2 + 2
      let settled = 0
      const pending = Array.from({ length: inFlight }, (_, i) => {
        const { body, headers } = delivery(`evt_hung_pool_${i}`)
        return receiver.receive(body, headers, () => assert.fail('must not run')).finally(() => settled++)
      })
      // Let every receive reach its blocking call before asking the pool for anything.
      await new Promise((resolve) => setImmediate(resolve))
      // Had the claims run on libuv's pool, this read would queue behind them until the 2 s timeout freed
      // a thread, after the first receives settled.
      const text = await readFile(new URL(import.meta.url), 'utf8')
      assert.ok(text.includes('evt_hung_pool_'))
      assert.equal(settled, 0, 'the file was read while every receive still waited on the hung server')
      for (const result of await Promise.all(pending)) {
        assert.deepEqual([result.kind, result.status, result.error.code], ['rejected', 503, 'store_unavailable'])
      }
      assert.equal(settled, inFlight)
    } finally {
      await silent.stop()
    }
  })
})
