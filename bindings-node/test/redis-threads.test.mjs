// The threads RedisStore calls run on (README: "Redis calls and threads"): reused, capped by maxThreads,
// and a call that waits for one longer than timeoutSeconds is answered without reaching Redis. Threads are
// counted by name in /proc (Linux), as an operator would, with no test-only API. (Idle threads exiting is
// tested in Rust, src/pool.rs, where the idle time can be short.)
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { after, before, describe, test } from 'node:test'
import { Receiver, RedisStore, Verifier, sign } from '../lib/index.mjs'
import { startRedis, startSilentServer } from './support.mjs'

const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'
const linuxOnly = { skip: process.platform !== 'linux' && 'threads are counted in /proc' }

function delivery(id) {
  const body = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
  return { body, headers: sign(SECRET, body) }
}

/** The ids of this process's threads named `anchor-redis`, the name of every thread the store's calls run on. */
function redisThreads() {
  const threads = new Set()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'anchor-redis') threads.add(tid)
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return threads
}

/** Threads named `anchor-redis` that are not in `before`. */
function startedSince(before) {
  return [...redisThreads()].filter((tid) => !before.has(tid))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The core's message for a call that waited for one of `threads` threads longer than a 500 ms timeout. */
function busyReason(threads) {
  const busy = threads === 1 ? 'the one thread calling Redis was' : `all ${threads} threads calling Redis were`
  return `redis: ${busy} busy for longer than the 500 ms timeout, so this call was not sent (Redis is slow or unreachable)`
}

describe('RedisStore threads', () => {
  let redis
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await redis?.stop()
  })

  test('threads are reused: 200 sequential deliveries (400 calls) run on one thread, which stays for the next', linuxOnly, async () => {
    const before = redisThreads()
    const store = new RedisStore(redis.url, { keyPrefix: `anchor-node-threads-${process.pid}-${Date.now()}` })
    const receiver = new Receiver(new Verifier(SECRET), store)
    const seen = new Set()
    let first
    for (let i = 0; i < 200; i++) {
      const { body, headers } = delivery(`evt_reuse_${i}`)
      assert.equal((await receiver.receive(body, headers, () => {})).kind, 'processed')
      const alive = startedSince(before)
      for (const tid of alive) seen.add(tid)
      first ??= alive
    }
    // A thread started per call would be gone (or going) once its call settled, and each call would start
    // another. A thread counts itself free before it settles its call's promise, so the next call finds it.
    assert.ok(first.length >= 1, 'a thread is still there after the first delivery')
    assert.equal(seen.size, 1, `200 deliveries (400 calls) started ${seen.size} threads`)
    const alive = redisThreads()
    assert.ok(first.some((tid) => alive.has(tid)), 'a thread of the first delivery is still there after the last')
  })

  test('a hung server: never more threads than maxThreads, every call 503, the calls that waited too long for a thread say so, fs still answers', linuxOnly, async () => {
    const silent = await startSilentServer()
    try {
      const before = redisThreads()
      const maxThreads = 3
      const store = new RedisStore(`redis://127.0.0.1:${silent.port}/0`, { timeoutSeconds: 0.5, maxThreads })
      const receiver = new Receiver(new Verifier(SECRET), store)
      // More than the cap, and more than libuv's pool has threads.
      const inFlight = Math.max(20, (Number(process.env.UV_THREADPOOL_SIZE) || 4) * 2 + 2)
      const started = new Set()
      const sample = () => startedSince(before).forEach((tid) => started.add(tid))
      let settled = 0
      const began = performance.now()
      const pending = Array.from({ length: inFlight }, (_, i) => {
        const { body, headers } = delivery(`evt_capped_${i}`)
        return receiver.receive(body, headers, () => assert.fail('must not run')).finally(() => settled++)
      })
      const checked = store.check().then(
        () => assert.fail('check passed'),
        (error) => error,
      )
      sample()
      const sampler = setInterval(sample, 2)
      try {
        // Had the calls run on libuv's pool, this read would queue behind them until the timeout.
        const text = await readFile(new URL(import.meta.url), 'utf8')
        assert.ok(text.includes('evt_capped_'))
        assert.equal(settled, 0, 'the file was read while every receive still waited on the hung server')
        const results = await Promise.all(pending)
        const took = performance.now() - began
        const checkError = await checked
        sample()

        assert.ok(started.size >= 1 && started.size <= maxThreads, `${started.size} threads started for ${inFlight} calls`)
        const busy = `dedupe store unavailable: ${busyReason(maxThreads)}; answer 503 so the sender retries`
        const timedOut = 'dedupe store unavailable: redis: timed out; answer 503 so the sender retries'
        for (const result of results) {
          assert.deepEqual([result.kind, result.status, result.error.code, result.retryAfter], ['rejected', 503, 'store_unavailable', 5])
          assert.ok([busy, timedOut].includes(result.error.message), result.error.message)
        }
        // Each thread's first call timed out after 0.5 s; then it took one more call that was just short of
        // 0.5 s in the queue at most, and every call behind had waited longer: answered without Redis.
        const answeredBusy = results.filter((result) => result.error.message === busy).length
        assert.ok(answeredBusy >= inFlight - 2 * maxThreads, `${answeredBusy} of ${inFlight} calls answered as waiting too long`)
        // A wait of at most one timeout, then at most one call: about 1 s, where queueing them all would take 3.5 s.
        assert.ok(took < 2000, `the calls took ${Math.round(took)} ms to settle`)
        assert.equal(checkError.code, 'ERR_REDIS_UNAVAILABLE')
        assert.ok(
          checkError.message === busyReason(maxThreads) || checkError.message.startsWith('redis: no answer within 500 ms'),
          checkError.message,
        )
      } finally {
        clearInterval(sampler)
      }
    } finally {
      await silent.stop()
    }
  })

  test('completions go ahead of waiting claims; one that still waited longer than the timeout is not sent: 503 naming the event whose handler ran', async () => {
    const receiver = new Receiver(
      new Verifier(SECRET),
      new RedisStore(redis.url, { keyPrefix: `anchor-node-threads-paused-${process.pid}-${Date.now()}`, timeoutSeconds: 0.5, maxThreads: 1 }),
    )
    const blockers = []
    const blocker = (id) => receiver.receive(delivery(id).body, delivery(id).headers, () => assert.fail('must not run'))
    let firstStarted, firstDone
    const secondStarted = new Promise((resolve) => (firstStarted = resolve))
    const firstEnded = new Promise((resolve) => (firstDone = resolve))
    // Claimed before Redis pauses; its handler ends just after the first one's, so its completion is queued
    // behind that one.
    const second = receiver.receive(delivery('evt_second').body, delivery('evt_second').headers, async () => {
      firstStarted()
      await firstEnded
      await sleep(10)
    })
    await secondStarted
    const first = await receiver.receive(delivery('evt_first').body, delivery('evt_first').headers, async () => {
      // Redis holds every command for 2 s from now: each call that reaches it takes the whole timeout.
      execFileSync('redis-cli', ['-p', String(redis.port), 'CLIENT', 'PAUSE', '2000', 'ALL'])
      // The first blocker holds the one thread until 0.5 s; the second is queued now, a claim.
      blockers.push(blocker('evt_blocker_1'))
      await sleep(20)
      blockers.push(blocker('evt_blocker_2'))
      await sleep(30)
      firstDone()
    })
    // Queued after the second blocker's claim, this completion went ahead of it: sent at 0.5 s, it timed out.
    assert.deepEqual([first.kind, first.status, first.error.code, first.event.id], ['rejected', 503, 'store_unavailable', 'evt_first'])
    assert.equal(
      first.error.message,
      'dedupe store unavailable: the handler of event evt_first ran, but recording it as done failed (redis: timed out); ' +
        'a retry after the lease runs it again; answer 503 so the sender retries',
    )
    // Queued behind that completion, the second one has waited about 0.95 s when the thread is free at 1 s.
    const late = await second
    assert.deepEqual([late.kind, late.status, late.error.code, late.event.id], ['rejected', 503, 'store_unavailable', 'evt_second'])
    assert.equal(
      late.error.message,
      `dedupe store unavailable: the handler of event evt_second ran, but recording it as done failed (${busyReason(1)}); ` +
        'a retry after the lease runs it again; answer 503 so the sender retries',
    )
    const [running, waiting] = await Promise.all(blockers)
    assert.deepEqual([running.kind, running.status, running.error.message], ['rejected', 503, 'dedupe store unavailable: redis: timed out; answer 503 so the sender retries'])
    assert.deepEqual([waiting.kind, waiting.status, waiting.error.message], ['rejected', 503, `dedupe store unavailable: ${busyReason(1)}; answer 503 so the sender retries`])
  })
})
