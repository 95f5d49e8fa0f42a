// A handler that succeeded while the dedupe store went down: its completion cannot be recorded. Where the
// handler returns its answer (Hono, Next.js), the helper answers 503 instead, so the sender retries; where the
// handler already sent it (Express, Fastify), its answer stands (README "Frameworks"). Either way onRejected
// gets the core's error naming the event. A real redis-server, paused from inside the handler.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import { Receiver, RedisStore, Verifier, expressWebhook, honoWebhook, sign } from '../lib/index.mjs'
import { closeServer, eventually, freePort, startRedis } from './support.mjs'

const SECRET = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6'

let redis
before(async () => {
  redis = await startRedis()
})
after(async () => {
  await redis?.stop()
})

const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args])

/** Posts a signed delivery of `id` to a server started by `start(port, receiver, onRejected, handled)`. */
async function deliverWhileRedisPauses(start, id) {
  const receiver = new Receiver(new Verifier(SECRET), new RedisStore(redis.url, { timeoutSeconds: 0.2 }))
  const rejected = []
  const handled = () => redisCli('CLIENT', 'PAUSE', '10000', 'ALL') // the completion will time out
  const port = await freePort()
  const stop = await start(port, receiver, (error, info) => rejected.push([error.code, error.message, info.status, info.event?.id]), handled)
  try {
    const body = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
    const response = await fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', headers: sign(SECRET, body), body })
    const answer = await response.json()
    // Express sent the handler's answer before the completion timed out: the report comes after it.
    await eventually(() => rejected.length > 0, 'onRejected called')
    return [response.status, answer, rejected]
  } finally {
    redisCli('CLIENT', 'UNPAUSE')
    await stop()
  }
}

const unrecorded = (id) =>
  `dedupe store unavailable: the handler of event ${id} ran, but recording it as done failed (redis: timed out); ` +
  'a retry after the lease runs it again; answer 503 so the sender retries'

test('Express: the handler already sent 200, which stands; onRejected gets the failed completion', async () => {
  const [status, body, rejected] = await deliverWhileRedisPauses(async (port, receiver, onRejected, handled) => {
    const app = express()
    app.post('/hook', expressWebhook(receiver, (event, req, res) => {
      handled()
      res.json({ handled: event.id })
    }, { onRejected }))
    const server = app.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return () => closeServer(server)
  }, 'evt_express_unrecorded')
  assert.deepEqual([status, body], [200, { handled: 'evt_express_unrecorded' }])
  assert.deepEqual(rejected, [['store_unavailable', unrecorded('evt_express_unrecorded'), 503, 'evt_express_unrecorded']])
})

test('Hono: the handler returned its answer, so 503 store_unavailable is sent instead and the sender retries', async () => {
  const [status, body, rejected] = await deliverWhileRedisPauses(async (port, receiver, onRejected, handled) => {
    const app = new Hono()
    app.post('/hook', honoWebhook(receiver, (event, c) => {
      handled()
      return c.json({ handled: event.id })
    }, { onRejected }))
    const server = honoServe({ fetch: app.fetch, port, hostname: '127.0.0.1' })
    await once(server, 'listening')
    return () => closeServer(server)
  }, 'evt_hono_unrecorded')
  assert.equal(status, 503)
  assert.deepEqual([body.ok, body.code, body.message], [false, 'store_unavailable', unrecorded('evt_hono_unrecorded')])
  assert.deepEqual(rejected, [['store_unavailable', unrecorded('evt_hono_unrecorded'), 503, 'evt_hono_unrecorded']])
})

test('Receiver: a claim the store could not release after the handler failed is a process warning naming the event', async () => {
  const receiver = new Receiver(new Verifier(SECRET), new RedisStore(redis.url, { timeoutSeconds: 0.2, keyPrefix: 'node-unreleased' }))
  const body = JSON.stringify({ id: 'evt_unreleased', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
  const warnings = []
  const onWarning = (warning) => warnings.push([warning.name, warning.code, warning.message])
  process.on('warning', onWarning)
  try {
    const result = await receiver.receive(body, sign(SECRET, body), () => {
      redisCli('CLIENT', 'PAUSE', '10000', 'ALL') // the release will time out
      throw new Error('handler broke')
    })
    assert.equal(result.kind, 'handler_failed')
    assert.equal(result.status, 500)
    assert.equal(result.error.message, 'handler broke')
    await eventually(() => warnings.length > 0, 'the warning emitted')
  } finally {
    redisCli('CLIENT', 'UNPAUSE')
    process.off('warning', onWarning)
  }
  assert.deepEqual(warnings, [[
    'AnchorWebhooksWarning',
    'ANCHOR_CLAIM_NOT_RELEASED',
    'anchor-webhooks: the claim on event evt_unreleased was not released after its handler failed (redis: timed out); ' +
      'it ends with its lease, and deliveries of the event until then are answered in progress',
  ]])
  // The claim is still held: the next delivery is in progress, not processed.
  const again = await receiver.receive(body, sign(SECRET, body), () => assert.fail('must not run'))
  assert.equal(again.kind, 'in_progress')
})
