// End to end: real Express, Fastify and Hono (@hono/node-server) servers receive deliveries from the real
// `anchor-webhooks serve` emulator (schedule x0.05): every event type verified, a forged delivery 401, a
// 503-then-200 endpoint processed exactly once, duplicates answered 200 without re-running the handler.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { createServer, request as httpRequest } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import {
  MemoryStore,
  Receiver,
  RedisStore,
  Verifier,
  eventTypes,
  expressWebhook,
  fastifyWebhook,
  honoWebhook,
  nextWebhook,
  sign,
  verifyRequest,
} from '../lib/index.mjs'
import { closeServer, eventually, freePort, startEmulator, withDeadline } from './support.mjs'

const require = createRequire(import.meta.url)
const native = require('../index.js')
const web = require('../lib/web.cjs')

// extraction.* are AnyFormat's (Standard Webhooks) events: the Anchor emulator sends the others.
const ANCHOR_TYPES = eventTypes().filter((type) => !type.startsWith('extraction.'))
const STRANGER = '8f1c2a4b6d8e0f1a3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f'

/** What the handlers saw. */
function recorder() {
  return {
    main: new Map(), // event id -> [events seen by the handler]
    flakyCalls: new Map(), // event id -> handler calls
    flakyDone: new Map(), // event id -> successful handler runs
    mainHandler(event) {
      // Touch every field, as an integration would.
      const seen = { id: event.id, type: event.type, data: event.data, created: event.created, matchedSecret: event.matchedSecret, deliveryId: event.deliveryId, task: event.task, session: event.session }
      const list = this.main.get(event.id) ?? []
      list.push(seen)
      this.main.set(event.id, list)
    },
    flakyHandler(event) {
      const calls = (this.flakyCalls.get(event.id) ?? 0) + 1
      this.flakyCalls.set(event.id, calls)
      if (calls === 1) {
        const busy = new Error('not ready yet')
        busy.status = 503
        busy.statusCode = 503
        throw busy
      }
      this.flakyDone.set(event.id, (this.flakyDone.get(event.id) ?? 0) + 1)
    },
  }
}

const frameworks = {
  async express({ port, main, flaky, record }) {
    const app = express()
    app.post('/hooks/main', expressWebhook(main, (event) => record.mainHandler(event)))
    app.post('/hooks/flaky', expressWebhook(flaky, (event) => record.flakyHandler(event)))
    app.use((error, req, res, next) => res.status(error.status ?? 500).json({ message: error.message }))
    const server = app.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return () => closeServer(server)
  },
  async fastify({ port, main, flaky, record }) {
    const app = Fastify({ forceCloseConnections: true })
    await app.register(fastifyWebhook, { receiver: main, path: '/hooks/main', handler: (event) => record.mainHandler(event) })
    await app.register(fastifyWebhook, { receiver: flaky, path: '/hooks/flaky', handler: (event) => record.flakyHandler(event) })
    await app.listen({ port, host: '127.0.0.1' })
    return () => app.close()
  },
  async hono({ port, main, flaky, record }) {
    const app = new Hono()
    app.post('/hooks/main', honoWebhook(main, (event) => record.mainHandler(event)))
    app.post('/hooks/flaky', honoWebhook(flaky, (event) => record.flakyHandler(event)))
    app.onError((error, c) => c.json({ message: error.message }, error.status ?? 500))
    const server = honoServe({ fetch: app.fetch, port, hostname: '127.0.0.1' })
    await once(server, 'listening')
    return () => closeServer(server)
  },
}

for (const [name, start] of Object.entries(frameworks)) {
  describe(`${name} receiving from the emulator`, () => {
    let emulator
    let stopServer
    let base
    const record = recorder()
    const hooks = {}

    before(async () => {
      emulator = await startEmulator()
      const port = await freePort()
      base = `http://127.0.0.1:${port}`
      hooks.all = await emulator.createWebhook(`${base}/hooks/main`, ANCHOR_TYPES)
      hooks.second = await emulator.createWebhook(`${base}/hooks/main`, ['task.completed'])
      hooks.flaky = await emulator.createWebhook(`${base}/hooks/flaky`, ['task.failed'])
      const main = new Receiver(new Verifier([hooks.all.secret, hooks.second.secret]), new MemoryStore())
      const flaky = new Receiver(new Verifier(hooks.flaky.secret), new MemoryStore())
      stopServer = await start({ port, main, flaky, record })
    })

    // The emulator first: its retries and pooled keep-alive connections would otherwise hold the server's
    // close until Node's header timeout ends them (60 to 90 s, seen in CI).
    after(async () => {
      await emulator?.stop()
      await stopServer?.()
    })

    test('every event type is delivered, verified and processed once', async () => {
      const ids = new Map()
      for (const type of ANCHOR_TYPES) ids.set(type, await emulator.testEvent(hooks.all.id, type))
      await eventually(() => [...ids.values()].every((id) => record.main.has(id)), 'every test event handled')
      for (const [type, id] of ids) {
        const seen = record.main.get(id)
        assert.equal(seen.length, 1, `${type} handled once`)
        assert.equal(seen[0].type, type)
        assert.equal(seen[0].matchedSecret, 0)
        assert.equal(typeof seen[0].data, 'object')
        assert.ok(seen[0].created instanceof Date)
        assert.equal(typeof seen[0].deliveryId, 'string')
        assert.equal(seen[0].task === null, !type.startsWith('task.'), type)
        assert.equal(seen[0].session === null, !type.startsWith('session.'), type)
      }
      const history = await eventually(async () => {
        const rows = await emulator.history(hooks.all.id)
        return rows.length === ANCHOR_TYPES.length && rows.every((row) => row.status === 'succeeded') && rows
      }, 'history all succeeded')
      assert.ok(history.every((row) => row.attempt === 1 && row.response_status === 200))
    })

    test('a forged delivery is answered 401 and never reaches the handler', async () => {
      const body = JSON.stringify({ id: 'evt_forged', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
      const response = await fetch(`${base}/hooks/main`, { method: 'POST', headers: sign(STRANGER, body), body })
      assert.equal(response.status, 401)
      const answer = await response.json()
      assert.deepEqual([answer.ok, answer.kind, answer.code], [false, 'rejected', 'signature_mismatch'])
      assert.match(answer.message, /^signature mismatch: none of the 1 signature\(s\) matches any of the 2 secret\(s\)/)
      const missing = await fetch(`${base}/hooks/main`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      assert.equal(missing.status, 400)
      assert.equal((await missing.json()).code, 'missing_header')
      assert.equal(record.main.has('evt_forged'), false)
    })

    test('an endpoint answering 503 first is retried and processed exactly once', async () => {
      const id = await emulator.testEvent(hooks.flaky.id, 'task.failed')
      const row = await eventually(async () => {
        const [latest] = await emulator.history(hooks.flaky.id)
        return latest && latest.status === 'succeeded' && latest
      }, 'the retry succeeded')
      assert.equal(row.external_event_id, id)
      assert.equal(row.attempt, 2)
      assert.equal(record.flakyCalls.get(id), 2)
      assert.equal(record.flakyDone.get(id), 1)
    })

    test('duplicates (one event to two webhooks, and a replay) are 200 without re-running the handler', async () => {
      const published = await emulator.publish('task.completed', { task_id: 'tsk_dup' })
      assert.equal(published.deliveries, 2)
      const id = published.external_event_id
      await eventually(async () => {
        const rows = [...(await emulator.history(hooks.all.id)), ...(await emulator.history(hooks.second.id))].filter((row) => row.external_event_id === id)
        return rows.length === 2 && rows.every((row) => row.status === 'succeeded' && row.response_status === 200)
      }, 'both deliveries succeeded')
      assert.equal(record.main.get(id).length, 1)
      assert.equal(record.main.get(id)[0].data.task_id, 'tsk_dup')

      const replay = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
      const response = await fetch(`${base}/hooks/main`, { method: 'POST', headers: sign(hooks.second.secret, replay), body: replay })
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { ok: true, kind: 'duplicate', id })
      assert.equal(record.main.get(id).length, 1)
    })
  })
}

describe('Express body handling', () => {
  const secret = 'express-secret'
  const body = JSON.stringify({ id: 'evt_express', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { n: 1 } })
  let server
  let base
  let rejected = 0
  let errorsHandled = 0

  before(async () => {
    const verifier = new Verifier(secret)
    const app = express()
    app.post('/raw', express.raw({ type: 'application/json' }), expressWebhook(verifier), (req, res) => res.json({ seen: req.webhookEvent.data }))
    app.post('/text', express.text({ type: 'application/json' }), expressWebhook(verifier, (event) => {}))
    app.post('/stream', expressWebhook(verifier), (req, res) => res.json({ seen: req.webhookEvent.id }))
    app.post('/json', express.json(), expressWebhook(verifier), (req, res) => res.json({ unreachable: true }))
    app.post('/small-stream', expressWebhook(new Verifier(secret, { maxBodyBytes: 1024 }), () => assert.fail('no handler over the limit')))
    // express.json() keeping the bytes it parsed, as the README shows (a Buffer), as a Uint8Array, as text, or altered.
    const keep = (copy) => express.json({ verify: (req, res, buf) => void (req.rawBody = copy(buf)) })
    app.post('/json-kept', keep((buf) => buf), expressWebhook(verifier), (req, res) => res.json({ id: req.webhookEvent.id, parsed: req.body.data }))
    const receiver = new Receiver(verifier, new MemoryStore())
    app.post('/json-kept-view', keep((buf) => new Uint8Array(buf)), expressWebhook(receiver, (event) => assert.equal(event.data.n, 1)))
    app.post('/json-kept-text', keep((buf) => buf.toString('utf8')), expressWebhook(verifier), (req, res) => res.json({ unreachable: true }))
    app.post('/json-kept-altered', keep((buf) => Buffer.from(buf.toString().replace('"n":1', '"n":2'))), expressWebhook(verifier), (req, res) => res.json({ unreachable: true }))
    // express.raw() with body-parser's default limit (100 kB), and with the limit the README shows.
    app.post('/raw-default-limit', express.raw({ type: 'application/json' }), expressWebhook(verifier, { onRejected: () => rejected++ }), (req, res) => res.json({ id: req.webhookEvent.id }))
    app.post('/raw-limit', express.raw({ type: 'application/json', limit: verifier.maxBodyBytes }), expressWebhook(verifier), (req, res) => res.json({ id: req.webhookEvent.id }))
    app.post('/gone', expressWebhook(verifier, () => assert.fail('no handler for a body never received')))
    app.use((error, req, res, next) => {
      errorsHandled++
      res.status(error.status ?? 500).json({ code: error.code, message: error.message })
    })
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${server.address().port}`
  })

  after(() => closeServer(server))

  const post = (path, headers = sign(secret, body)) => fetch(`${base}${path}`, { method: 'POST', headers, body })

  test('with express.raw, express.text, or nothing in front', async () => {
    const raw = await post('/raw')
    assert.equal(raw.status, 200)
    assert.deepEqual(await raw.json(), { seen: { n: 1 } })
    const text = await post('/text')
    assert.equal(text.status, 200)
    assert.deepEqual(await text.json(), { ok: true, kind: 'processed', id: 'evt_express' })
    const stream = await post('/stream')
    assert.deepEqual(await stream.json(), { seen: 'evt_express' })
  })

  test('a client gone mid-body ends its request quietly: no next(err), no handler, the server goes on', async () => {
    const before = errorsHandled
    await withDeadline(
      new Promise((resolve) => {
        const { port } = server.address()
        const headers = { ...sign(secret, body), 'content-type': 'application/json', 'content-length': String(body.length) }
        const request = httpRequest({ host: '127.0.0.1', port, path: '/gone', method: 'POST', headers })
        request.on('error', () => {})
        request.on('close', resolve)
        request.write(body.slice(0, 40), () => setTimeout(() => request.destroy(), 50))
      }),
      'the abort',
    )
    await new Promise((resolve) => setTimeout(resolve, 100)) // the server's side of the abort
    assert.equal(errorsHandled, before, 'the abort reached the error handler')
    assert.equal((await post('/raw')).status, 200)
  })

  test('reading the stream, a huge body is answered 413 before the client has sent it all', async () => {
    // The client sends up to TOTAL bytes, always waiting for the socket to drain: a server that read the
    // whole body before answering would receive every byte first.
    const TOTAL = 256 * 1024 * 1024
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    const { status, answer, sentBeforeAnswer } = await withDeadline(
      new Promise((resolve, reject) => {
        const { port } = server.address()
        const headers = { ...sign(secret, body), 'content-type': 'application/json', 'content-length': String(TOTAL) }
        const request = httpRequest({ host: '127.0.0.1', port, path: '/small-stream', method: 'POST', headers })
        let sent = 0
        let answered = false
        request.on('error', () => {}) // the server may close the connection once it has answered
        request.on('response', (response) => {
          answered = true
          const sentBeforeAnswer = sent
          let text = ''
          response.setEncoding('utf8')
          response.on('data', (piece) => (text += piece))
          response.on('end', () => {
            request.destroy()
            resolve({ status: response.statusCode, answer: JSON.parse(text), sentBeforeAnswer })
          })
          response.on('error', reject)
        })
        const pump = () => {
          while (!answered && sent < TOTAL) {
            sent += chunk.length
            if (!request.write(chunk)) return void request.once('drain', pump)
          }
          if (!answered) request.end()
        }
        pump()
      }),
      'the 413',
    )
    assert.equal(status, 413)
    assert.deepEqual([answer.ok, answer.kind, answer.code], [false, 'rejected', 'body_too_large'])
    assert.equal(answer.message, 'body too large: more than the limit of 1024 bytes')
    assert.ok(sentBeforeAnswer < TOTAL, `answered only after all ${sentBeforeAnswer} bytes were sent`)
    // The server still answers other requests.
    assert.equal((await post('/raw')).status, 200)
  })

  test('after express.json the body is gone: a 500 whose error says so', async () => {
    const response = await post('/json')
    assert.equal(response.status, 500)
    const answer = await response.json()
    assert.equal(answer.code, 'ERR_ANCHOR_BODY_ALREADY_PARSED')
    assert.match(answer.message, /already parsed.*express\.json\(\)/)
  })

  test('after express.json({ verify }) kept the bytes in req.rawBody (a Buffer or Uint8Array), those bytes are verified', async () => {
    const kept = await post('/json-kept')
    assert.deepEqual([kept.status, await kept.json()], [200, { id: 'evt_express', parsed: { n: 1 } }])
    const view = await post('/json-kept-view')
    assert.deepEqual([view.status, await view.json()], [200, { ok: true, kind: 'processed', id: 'evt_express' }])
    // The kept bytes are what is verified: altered, they are a forgery.
    const altered = await post('/json-kept-altered')
    assert.deepEqual([altered.status, (await altered.json()).code], [401, 'signature_mismatch'])
    // Decoded text is not the raw bytes: still refused.
    const text = await post('/json-kept-text')
    assert.equal(text.status, 500)
    const answer = await text.json()
    assert.equal(answer.code, 'ERR_ANCHOR_BODY_ALREADY_PARSED')
    assert.equal(
      answer.message,
      'anchor-webhooks: the request body was already parsed (req.body is an object), probably by express.json() or ' +
        'another body parser, so the raw bytes the signature covers are gone. Register the webhook route before ' +
        'express.json(), give it express.raw({ type: "application/json" }), or keep the bytes the parser read with ' +
        'express.json({ verify: (req, res, buf) => { req.rawBody = buf } }).',
    )
  })

  test("express.raw() needs a limit of at least maxBodyBytes: body-parser's default 100 kB refuses a valid 200 kB delivery", async () => {
    const large = JSON.stringify({ id: 'evt_large_raw', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { pad: 'x'.repeat(200 * 1024) } })
    const send = (path) => fetch(`${base}${path}`, { method: 'POST', headers: sign(secret, large), body: large })
    // body-parser answers before the middleware runs: its own 413 (through the app's error handler here), no onRejected.
    const refused = await send('/raw-default-limit')
    assert.deepEqual([refused.status, (await refused.json()).message, rejected], [413, 'request entity too large', 0])
    const accepted = await send('/raw-limit')
    assert.deepEqual([accepted.status, await accepted.json()], [200, { id: 'evt_large_raw' }])
  })

  test('verification failures in verify-only mode answer with the core status', async () => {
    const stale = await post('/stream', sign(secret, body, { timestamp: 1716544084 }))
    assert.equal(stale.status, 401)
    assert.equal((await stale.json()).code, 'timestamp_too_old')
  })
})

describe('Fastify encapsulation', () => {
  test("the webhook route's body limit is maxBodyBytes, above the app's bodyLimit; other routes keep the app's", async () => {
    const secret = 'fastify-secret'
    const app = Fastify({ bodyLimit: 1024 })
    await app.register(fastifyWebhook, { verifier: new Verifier(secret, { maxBodyBytes: 256 * 1024 }), handler: () => {} })
    app.post('/echo', async (request) => ({ parsed: request.body }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const base = `http://127.0.0.1:${app.server.address().port}`
      const body = JSON.stringify({ id: 'evt_f_large', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { pad: 'x'.repeat(200 * 1024) } })
      const hook = await fetch(`${base}/webhooks`, { method: 'POST', headers: sign(secret, body), body })
      assert.deepEqual([hook.status, await hook.json()], [200, { ok: true, kind: 'processed', id: 'evt_f_large' }])
      const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(2048) }) })
      assert.deepEqual([echo.status, (await echo.json()).code], [413, 'FST_ERR_CTP_BODY_TOO_LARGE'])
    } finally {
      await app.close()
    }
  })

  test('the webhook route reads raw bytes while other routes keep JSON parsing', async () => {
    const secret = 'fastify-secret'
    const app = Fastify()
    let seen
    await app.register(fastifyWebhook, { verifier: new Verifier(secret), handler: (event) => (seen = event.data) })
    app.post('/echo', async (request) => ({ parsed: request.body }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const base = `http://127.0.0.1:${app.server.address().port}`
      const body = JSON.stringify({ id: 'evt_f', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { k: 'v' } })
      const hook = await fetch(`${base}/webhooks`, { method: 'POST', headers: sign(secret, body), body })
      assert.equal(hook.status, 200)
      assert.deepEqual(seen, { k: 'v' })
      const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' })
      assert.deepEqual(await echo.json(), { parsed: { x: 1 } })
    } finally {
      await app.close()
    }
  })
})

describe('Hono verify-only middleware and the Next.js route helper (WHATWG Request)', () => {
  const secret = 'web-secret'
  const body = JSON.stringify({ id: 'evt_web', type: 'session.completed', created: '2026-05-24T12:18:05.123Z', data: { duration: 3 } })
  const request = (headers = sign(secret, body)) => new Request('http://localhost/api/webhooks', { method: 'POST', headers, body })

  test('honoWebhook(verifier) sets webhookEvent and calls next', async () => {
    const app = new Hono()
    app.post('/hook', honoWebhook(new Verifier(secret)), (c) => c.json({ duration: c.get('webhookEvent').session.duration }))
    const ok = await app.request('/hook', { method: 'POST', headers: sign(secret, body), body })
    assert.deepEqual([ok.status, await ok.json()], [200, { duration: 3 }])
    const forged = await app.request('/hook', { method: 'POST', headers: sign(STRANGER, body), body })
    assert.equal(forged.status, 401)
  })

  test('nextWebhook(receiver, handler) and verifyRequest', async () => {
    const receiver = new Receiver(new Verifier(secret), new MemoryStore())
    let runs = 0
    const POST = nextWebhook(receiver, (event, req) => {
      runs++
      assert.ok(req instanceof Request)
    })
    const first = await POST(request())
    assert.deepEqual([first.status, await first.json()], [200, { ok: true, kind: 'processed', id: 'evt_web' }])
    const again = await POST(request())
    assert.deepEqual([again.status, await again.json()], [200, { ok: true, kind: 'duplicate', id: 'evt_web' }])
    const forged = await POST(request(sign(STRANGER, body)))
    assert.equal(forged.status, 401)
    assert.equal(runs, 1)
    const failing = nextWebhook(new Receiver(new Verifier(secret), new MemoryStore()), () => {
      throw new Error('boom')
    })
    await assert.rejects(failing(request()), /boom/)
    const event = await verifyRequest(new Verifier(secret), request())
    assert.equal(event.session.duration, 3)
    await assert.rejects(verifyRequest(new Verifier(secret), request(sign(STRANGER, body))), { code: 'signature_mismatch', httpStatus: 401 })
    assert.throws(() => nextWebhook(receiver), TypeError)
  })
})

describe('verifyRequest and nextWebhook: what is not a readable Request', () => {
  const secret = 'web-secret'
  const body = JSON.stringify({ id: 'evt_web_body', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
  const request = (init = {}) => new Request('http://localhost/api/webhooks', { method: 'POST', headers: sign(secret, body), body, ...init })
  const argumentError = (message, code) => ({ name: 'TypeError', code, message })
  const notARequest = argumentError('expected a Request', 'ERR_INVALID_ARG_TYPE')
  const used = argumentError(
    'the request body was already read or is locked: verify before parsing it, or pass request.clone()',
    'ERR_INVALID_ARG_VALUE',
  )
  const incoming = argumentError(
    'expected a Request, got a Node IncomingMessage (an Express or node:http req): use expressWebhook(verifier) ' +
      'for Express, or verifier.verify(rawBody, req.headers) with the raw body bytes',
    'ERR_INVALID_ARG_TYPE',
  )
  const unreadable = (error) => {
    assert.equal(error.name, 'TypeError')
    assert.equal(error.message, 'the request body could not be read (was it read elsewhere, or did the client go away?): client went away')
    assert.equal(error.cause.message, 'client went away')
    return true
  }
  const failingBody = () =>
    request({
      body: new ReadableStream({
        pull(controller) {
          controller.error(new Error('client went away'))
        },
      }),
      duplex: 'half',
    })

  test('the messages of the wasm package, not the runtime\'s own TypeErrors', async () => {
    const verifier = new Verifier(secret)
    const POST = nextWebhook(new Receiver(verifier, new MemoryStore()), () => assert.fail('no handler'))
    for (const handle of [(r) => verifyRequest(verifier, r), POST]) {
      await assert.rejects(handle(undefined), notARequest)
      await assert.rejects(handle({ headers: {} }), notARequest)
      const read = request()
      await read.text()
      await assert.rejects(handle(read), used)
      const locked = request()
      locked.body.getReader()
      await assert.rejects(handle(locked), used)
      await assert.rejects(handle(failingBody()), unreadable)
    }
    await assert.rejects(verifyRequest(request(), verifier), argumentError('verifyRequest: expected a Verifier', 'ERR_INVALID_ARG_TYPE'))
    assert.equal((await verifyRequest(verifier, request())).id, 'evt_web_body')
  })

  test('an Express / node:http request is pointed at expressWebhook or verifier.verify', async () => {
    const verifier = new Verifier(secret)
    const POST = nextWebhook(verifier, () => assert.fail('no handler'))
    const seen = []
    const server = createServer(async (req, res) => {
      for (const handle of [(r) => verifyRequest(verifier, r), POST]) {
        seen.push(await handle(req).then(() => 'accepted', (error) => error))
      }
      res.end()
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      await fetch(`http://127.0.0.1:${server.address().port}/`, { method: 'POST', headers: sign(secret, body), body })
    } finally {
      await closeServer(server)
    }
    assert.equal(seen.length, 2)
    for (const error of seen) assert.throws(() => { throw error }, incoming)
  })
})

describe('the web helpers read at most maxBodyBytes + 1 bytes of a Request', () => {
  const secret = 'bounded-secret'
  const LIMIT = 1024
  const CHUNK = 64 * 1024
  const CHUNKS = 1600 // 100 MiB on offer
  const tooLarge = { ok: false, kind: 'rejected', code: 'body_too_large', message: 'body too large: more than the limit of 1024 bytes' }
  const verifier = new Verifier(secret, { maxBodyBytes: LIMIT })
  const receiver = () => new Receiver(verifier, new MemoryStore())
  const noHandler = () => assert.fail('no handler for a body over the limit')

  /** A request whose body stream offers 100 MiB, and what the reader took of it. */
  function hugeRequest(headers) {
    const pulled = { pulls: 0, bytes: 0, cancelled: false }
    const chunk = new Uint8Array(CHUNK).fill(0x20)
    const body = new ReadableStream({
      pull(controller) {
        if (pulled.pulls === CHUNKS) return controller.close()
        pulled.pulls++
        pulled.bytes += chunk.byteLength
        controller.enqueue(chunk)
      },
      cancel() {
        pulled.cancelled = true
      },
    })
    return { request: new Request('http://localhost/hook', { method: 'POST', body, duplex: 'half', headers }), pulled }
  }

  /** Each helper as a fetch handler (Hono through `app.request`). */
  const helpers = {
    nextWebhook: (target, handler) => nextWebhook(target, handler),
    honoWebhook: (target, handler) => {
      const app = new Hono()
      app.post('/hook', honoWebhook(target, handler))
      return (request) => app.request(request)
    },
  }

  for (const [name, helper] of Object.entries(helpers)) {
    test(`${name}: a streamed body over the limit is 413 after one chunk, and the stream is cancelled`, async () => {
      for (const target of [receiver(), verifier]) {
        const { request, pulled } = hugeRequest(sign(secret, '{}'))
        const response = await helper(target, noHandler)(request)
        assert.deepEqual([response.status, await response.json()], [413, tooLarge])
        assert.equal(pulled.cancelled, true)
        assert.ok(pulled.pulls <= 2, `pulled ${pulled.pulls} chunks (${pulled.bytes} bytes) of ${CHUNKS}`)
      }
    })

    test(`${name}: a Content-Length over the limit is 413 before any byte is read`, async () => {
      const { request, pulled } = hugeRequest({ ...sign(secret, '{}'), 'content-length': String(CHUNK * CHUNKS) })
      const response = await helper(receiver(), noHandler)(request)
      assert.deepEqual([response.status, await response.json()], [413, tooLarge])
      assert.deepEqual(pulled, { pulls: 0, bytes: 0, cancelled: true })
    })

    test(`${name}: over the limit, a header error the core checks first still wins (as in Express and Fastify)`, async () => {
      for (const headers of [{}, { 'content-length': String(CHUNK * CHUNKS) }]) {
        const { request, pulled } = hugeRequest(headers)
        const response = await helper(receiver(), noHandler)(request)
        const answer = await response.json()
        assert.deepEqual([response.status, answer.code], [400, 'missing_header'])
        assert.ok(pulled.pulls <= 2, `pulled ${pulled.pulls} chunks`)
      }
    })
  }

  test('verifyRequest rejects a streamed body over the limit with body_too_large after one chunk', async () => {
    const { request, pulled } = hugeRequest(sign(secret, '{}'))
    await assert.rejects(verifyRequest(verifier, request), { name: 'WebhookVerificationError', code: 'body_too_large', httpStatus: 413, message: tooLarge.message })
    assert.equal(pulled.cancelled, true)
    assert.ok(pulled.pulls <= 2, `pulled ${pulled.pulls} chunks`)
  })

  test('a body at the limit, streamed in pieces, is read whole and verified; Hono handlers can read it again', async () => {
    const envelope = (pad) => JSON.stringify({ id: 'evt_pieces', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { pad } })
    const body = envelope('x'.repeat(LIMIT - envelope('').length))
    assert.equal(Buffer.byteLength(body), LIMIT)
    const bytes = new TextEncoder().encode(body)
    const streamed = () => {
      let at = 0
      const stream = new ReadableStream({
        pull(controller) {
          if (at >= bytes.byteLength) return controller.close()
          controller.enqueue(bytes.slice(at, at + 100))
          at += 100
        },
      })
      return new Request('http://localhost/hook', { method: 'POST', body: stream, duplex: 'half', headers: sign(secret, body) })
    }
    assert.equal((await verifyRequest(verifier, streamed())).id, 'evt_pieces')
    const app = new Hono()
    app.post('/hook', honoWebhook(verifier), async (c) => c.json({ id: c.get('webhookEvent').id, again: (await c.req.text()) === body }))
    const response = await app.request(streamed())
    assert.deepEqual([response.status, await response.json()], [200, { id: 'evt_pieces', again: true }])
  })
})

describe('what the web helpers take for a Receiver', () => {
  const secret = 'web-secret'
  const body = JSON.stringify({ id: 'evt_target', type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: {} })
  const request = (headers = sign(secret, body)) => new Request('http://localhost/hook', { method: 'POST', headers, body })

  test('a Verifier that also has receive(request, handler) (the wasm package\'s) is a Verifier', async () => {
    // The wasm package's Verifier: verify(body, headers) plus receive(request, handler, options), no `verifier`.
    // bindings-wasm/tests/node-web.test.mjs runs the same helpers with the real wasm classes.
    const verifier = new Verifier(secret)
    const wasmLike = {
      verify: (bytes, headers, options) => verifier.verify(bytes, headers, options),
      receive: () => assert.fail('receive(request, handler) is not receive(body, headers, handler)'),
      maxBodyBytes: verifier.maxBodyBytes,
    }
    const app = new Hono()
    app.post('/hook', honoWebhook(wasmLike), (c) => c.json({ id: c.get('webhookEvent').id }))
    const ok = await app.request('/hook', { method: 'POST', headers: sign(secret, body), body })
    assert.deepEqual([ok.status, await ok.json()], [200, { id: 'evt_target' }])
    const forged = await app.request('/hook', { method: 'POST', headers: sign(STRANGER, body), body })
    assert.equal(forged.status, 401)
    let runs = 0
    const POST = nextWebhook(wasmLike, () => void runs++)
    assert.deepEqual([(await POST(request())).status, runs], [200, 1])
    assert.equal((await POST(request(sign(STRANGER, body)))).status, 401)
    assert.equal(runs, 1)
    assert.equal(typeof expressWebhook(wasmLike), 'function', 'its maxBodyBytes is its own')
    // A Receiver is told by its `verifier` (or by having no `verify` of its own).
    const receiver = new Receiver(verifier, new MemoryStore())
    assert.throws(() => nextWebhook(receiver), { code: 'ERR_INVALID_ARG_TYPE', message: /a Receiver needs a handler/ })
    const custom = { receive: async () => ({ status: 200, kind: 'processed', event: null, error: null, retryAfter: null }) }
    assert.equal((await nextWebhook(custom, () => {})(request())).status, 200)
  })
})

// The middleware's own answers, for every framework helper: a dead store (503 + Retry-After), a delivery
// another request is still processing (503 + Retry-After), a body over maxBodyBytes (413), each with the
// package's JSON; and a handler failing with something that is not an Error is a 500 (never Express's 404,
// which the sender takes as final) after which the retry runs the handler.
const OWN_SECRET = 'own-answers-secret'
const NON_ERRORS = [
  ['Promise.reject()', () => Promise.reject()],
  ['throw undefined', () => {
    throw undefined
  }],
  ['throw null', () => {
    throw null
  }],
  ["throw 'x'", () => {
    throw 'x'
  }],
  ['throw 0', () => {
    throw 0
  }],
]

/** An error as http-errors' `createError(status, message)` makes it (the package Express depends on). */
function httpError(status, message) {
  return Object.assign(new Error(message), { name: 'HttpError', status, statusCode: status, expose: status < 500 })
}

/** An upstream HTTP client's error for a 404 answer, as AxiosError has it: `.status` and `.response.status`. */
function axiosError(status) {
  const error = new Error(`Request failed with status code ${status}`)
  return Object.assign(error, { name: 'AxiosError', code: 'ERR_BAD_REQUEST', status, response: { status } })
}

/**
 * Handler failures that carry a status, by index (`data.extra`): the status each framework answers for the
 * error handed on, and whether that is the thrown error itself or the 500 ERR_ANCHOR_HANDLER_FAILED error.
 * Final for the sender (2xx, 4xx but 408 and 429): replaced, so every framework answers 500 and the
 * released event is retried. Retried by the sender (3xx, 408, 429, 5xx) or without a status: as thrown.
 */
const FAILURES = [
  ["http-errors' createError(404)", () => httpError(404, 'Not Found'), { final: 404 }],
  ['an upstream client error with .status = 404 (AxiosError)', () => axiosError(404), { final: 404 }],
  ["Hono's HTTPException(400)", () => new HTTPException(400, { message: 'bad input' }), { final: 400 }],
  ['statusCode 422 only (Fastify style)', () => Object.assign(new Error('unprocessable'), { statusCode: 422 }), { final: 422 }],
  ["statusCode '409' as a string", () => Object.assign(new Error('conflict'), { statusCode: '409' }), { final: 409 }],
  ['status 200 on an error', () => Object.assign(new Error('odd'), { status: 200 }), { final: 200 }],
  ["http-errors' createError(503)", () => httpError(503, 'Service Unavailable'), { express: 503, fastify: 503, hono: 500, next: 500 }],
  ["Hono's HTTPException(503)", () => new HTTPException(503, { message: 'later' }), { express: 503, fastify: 503, hono: 503, next: 500 }],
  ['an upstream client error with .status = 429', () => axiosError(429), { express: 429, fastify: 429, hono: 500, next: 500 }],
  ['statusCode 408 only', () => Object.assign(new Error('timeout'), { statusCode: 408 }), { express: 408, fastify: 408, hono: 500, next: 500 }],
  ['a plain Error', () => new Error('boom'), { express: 500, fastify: 500, hono: 500, next: 500 }],
]

function ownDelivery(id, extra = '') {
  const body = JSON.stringify({ id, type: 'task.completed', created: '2026-05-24T12:18:05.123Z', data: { extra } })
  return { body, headers: sign(OWN_SECRET, body) }
}

/**
 * How a handler answers `status` itself in each framework (handler arguments after the event): Express
 * `res.status(s).json()`, Fastify `reply.code(s).send()`, Hono and Next a returned `Response`.
 */
const ownAnswer = {
  express: (status, body, [, res]) => void res.status(status).json(body),
  fastify: (status, body, [, reply]) => void reply.code(status).send(body),
  hono: (status, body, [c]) => c.json(body, status),
  next: (status, body) => Response.json(body, { status }),
}

/** How a handler sets a status without sending it (then throws): Express and Fastify would answer it. */
const ownStatus = {
  express: (status, [, res]) => void res.status(status),
  fastify: (status, [, reply]) => void reply.code(status),
  hono: (status, [c]) => void c.status(status),
  next: () => {},
}

/** The routes each framework mounts: [path, target, handler]. */
async function ownRoutes(answer, setStatus) {
  const state = { failingRuns: new Map(), verifyFailingRuns: 0, busyRuns: 0, answeringRuns: new Map(), throwingRuns: new Map(), thrown: new Map(), settingRuns: new Map(), errors: [] }
  let started
  state.busyStarted = new Promise((resolve) => (started = resolve))
  state.busyGate = {}
  state.busyGate.opened = new Promise((resolve) => (state.busyGate.open = resolve))
  const deadStore = new RedisStore(`redis://127.0.0.1:${await freePort()}/0`, { timeoutSeconds: 0.5 })
  const receiver = () => new Receiver(new Verifier(OWN_SECRET), new MemoryStore())
  state.routes = [
    ['/dead', new Receiver(new Verifier(OWN_SECRET), deadStore), () => assert.fail('no handler with a dead store')],
    [
      '/busy',
      receiver(),
      async () => {
        state.busyRuns++
        started()
        await state.busyGate.opened
      },
    ],
    ['/small', new Receiver(new Verifier(OWN_SECRET, { maxBodyBytes: 64 }), new MemoryStore()), () => assert.fail('no handler over the limit')],
    [
      '/failing',
      receiver(),
      (event) => {
        const runs = (state.failingRuns.get(event.id) ?? 0) + 1
        state.failingRuns.set(event.id, runs)
        if (runs === 1) return NON_ERRORS[Number(event.data.extra)][1]()
      },
    ],
    [
      // Throws FAILURES[data.extra] the first time (the error is kept by event id), succeeds after that.
      '/throwing',
      receiver(),
      (event) => {
        const runs = (state.throwingRuns.get(event.id) ?? 0) + 1
        state.throwingRuns.set(event.id, runs)
        if (runs > 1) return
        const error = FAILURES[Number(event.data.extra)][1]()
        state.thrown.set(event.id, error)
        throw error
      },
    ],
    [
      // Sets the status in `data.extra` without sending it, then throws an error without a status, the first time.
      '/status-then-throw',
      receiver(),
      (event, ...args) => {
        const runs = (state.settingRuns.get(event.id) ?? 0) + 1
        state.settingRuns.set(event.id, runs)
        if (runs > 1) return
        setStatus(Number(event.data.extra), args)
        throw new Error('failed after setting a status')
      },
    ],
    [
      '/verify-throwing',
      new Verifier(OWN_SECRET),
      (event) => {
        const error = httpError(404, 'Not Found')
        state.thrown.set(event.id, error)
        return Promise.reject(error)
      },
    ],
    [
      // Answers the status in `data.extra` itself the first time, 200 after that.
      '/answering',
      receiver(),
      (event, ...args) => {
        const runs = (state.answeringRuns.get(event.id) ?? 0) + 1
        state.answeringRuns.set(event.id, runs)
        const status = runs === 1 ? Number(event.data.extra) : 200
        return answer(status, { own: status, run: runs }, args)
      },
    ],
    [
      '/verify-failing',
      new Verifier(OWN_SECRET),
      () => {
        state.verifyFailingRuns++
        return Promise.reject()
      },
    ],
  ]
  return state
}

const ownServers = {
  async express(routes, errors, options) {
    const app = express()
    for (const [path, target, handler] of routes) app.post(path, expressWebhook(target, handler, options))
    // Errors are recorded, then Express's default error handler answers.
    app.use((error, req, res, next) => {
      errors.push(error)
      next(error)
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return { base: `http://127.0.0.1:${server.address().port}`, stop: () => closeServer(server) }
  },
  async fastify(routes, errors, options) {
    const app = Fastify()
    app.addHook('onError', async (request, reply, error) => void errors.push(error))
    for (const [path, target, handler] of routes) {
      const key = typeof target.receive === 'function' ? 'receiver' : 'verifier'
      await app.register(fastifyWebhook, { [key]: target, path, handler, ...options })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { base: `http://127.0.0.1:${app.server.address().port}`, stop: () => app.close() }
  },
  async hono(routes, errors, options) {
    const app = new Hono()
    for (const [path, target, handler] of routes) app.post(path, honoWebhook(target, handler, options))
    app.onError((error, c) => {
      errors.push(error)
      // What Hono's default onError answers: an HTTPException's own response, else 500.
      return error instanceof HTTPException ? error.getResponse() : c.text('Internal Server Error', 500)
    })
    const server = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await once(server, 'listening')
    return { base: `http://127.0.0.1:${server.address().port}`, stop: () => closeServer(server) }
  },
  async next(routes, errors, options) {
    // Route handlers as Next.js calls them: (request) => Response; a rejection becomes the platform's 500.
    const handlers = new Map(routes.map(([path, target, handler]) => [path, nextWebhook(target, handler, options)]))
    const fetch = (request) =>
      handlers.get(new URL(request.url).pathname)(request).catch((error) => {
        errors.push(error)
        throw error
      })
    const server = honoServe({ fetch, port: 0, hostname: '127.0.0.1' })
    await once(server, 'listening')
    return { base: `http://127.0.0.1:${server.address().port}`, stop: () => closeServer(server) }
  },
}

for (const [name, start] of Object.entries(ownServers)) {
  describe(`${name}: the middleware's own answers`, () => {
    let state
    let server
    const post = (path, { body, headers }) => fetch(`${server.base}${path}`, { method: 'POST', headers, body })

    before(async () => {
      state = await ownRoutes(ownAnswer[name], ownStatus[name])
      server = await start(state.routes, state.errors)
    })
    after(() => server?.stop())

    test('a dead store: 503, Retry-After and store_unavailable', async () => {
      const response = await post('/dead', ownDelivery('evt_dead'))
      assert.equal(response.status, 503)
      assert.equal(response.headers.get('retry-after'), '5')
      const answer = await response.json()
      assert.deepEqual([answer.ok, answer.kind, answer.code], [false, 'rejected', 'store_unavailable'])
    })

    test('a delivery still being processed elsewhere: 503, Retry-After and in_progress', async () => {
      const delivery = ownDelivery('evt_busy')
      const first = post('/busy', delivery)
      await withDeadline(state.busyStarted, 'the first delivery reached the handler')
      const second = await post('/busy', delivery)
      assert.equal(second.status, 503)
      assert.equal(second.headers.get('retry-after'), '5')
      assert.deepEqual(await second.json(), { ok: false, kind: 'in_progress', id: 'evt_busy' })
      state.busyGate.open()
      const done = await first
      assert.equal(done.status, 200)
      assert.deepEqual(await done.json(), { ok: true, kind: 'processed', id: 'evt_busy' })
      assert.equal(state.busyRuns, 1)
    })

    test('a body over maxBodyBytes: 413 and body_too_large', async () => {
      const delivery = ownDelivery('evt_large', 'x'.repeat(100))
      const response = await post('/small', delivery)
      assert.equal(response.status, 413)
      assert.equal(response.headers.get('retry-after'), null)
      const answer = await response.json()
      assert.deepEqual([answer.ok, answer.kind, answer.code], [false, 'rejected', 'body_too_large'])
      assert.match(answer.message, /^body too large: (\d+ bytes, the limit is|more than the limit of) 64 bytes$/)
      // A header error the core checks first wins, as for any body.
      const unsigned = await post('/small', { body: delivery.body, headers: { 'content-type': 'application/json' } })
      assert.deepEqual([unsigned.status, (await unsigned.json()).code], [400, 'missing_header'])
    })

    test('a handler failing with a non-Error is a 500, and the retry runs it again', async () => {
      for (const [index, [what]] of NON_ERRORS.entries()) {
        const delivery = ownDelivery(`evt_non_error_${index}`, String(index))
        const failed = await post('/failing', delivery)
        assert.equal(failed.status, 500, what)
        const retried = await post('/failing', delivery)
        assert.equal(retried.status, 200, what)
        assert.deepEqual(await retried.json(), { ok: true, kind: 'processed', id: `evt_non_error_${index}` })
        assert.equal(state.failingRuns.get(`evt_non_error_${index}`), 2, what)
      }
      const verifyOnly = await post('/verify-failing', ownDelivery('evt_verify_failing'))
      assert.equal(verifyOnly.status, 500)
      assert.equal(state.verifyFailingRuns, 1)
    })

    test('a handler failing with a status the sender takes as final is handed on as a 500 (its cause the error), and the retry runs it again', async () => {
      for (const [index, [what, , expected]] of FAILURES.entries()) {
        const id = `evt_throwing_${index}`
        const delivery = ownDelivery(id, String(index))
        const errorsBefore = state.errors.length
        const failed = await post('/throwing', delivery)
        await failed.arrayBuffer()
        const thrown = state.thrown.get(id)
        assert.equal(state.errors.length, errorsBefore + 1, what)
        const handedOn = state.errors.at(-1)
        if (expected.final !== undefined) {
          assert.equal(failed.status, 500, what)
          assert.ok(handedOn instanceof Error, what)
          assert.deepEqual(
            { code: handedOn.code, status: handedOn.status, statusCode: handedOn.statusCode, message: handedOn.message },
            {
              code: 'ERR_ANCHOR_HANDLER_FAILED',
              status: 500,
              statusCode: 500,
              message:
                `anchor-webhooks: the webhook handler failed with status ${expected.final}, which the sender takes as final ` +
                `(it would never retry, and the event would be lost), so 500 is answered instead for the sender to retry: ${thrown.message}`,
            },
            what,
          )
          assert.equal(handedOn.cause, thrown, what)
        } else {
          assert.equal(failed.status, expected[name], what)
          assert.equal(handedOn, thrown, `${what}: handed on as it is`)
        }
        // The claim was released: the sender's retry runs the handler again.
        const retried = await post('/throwing', delivery)
        assert.deepEqual([retried.status, await retried.json()], [200, { ok: true, kind: 'processed', id }], what)
        assert.equal(state.throwingRuns.get(id), 2, what)
      }
    })

    test('a handler that set a final status and then threw is answered 500, and the retry runs it again', async () => {
      // Express and Fastify answer an error without a status with the response's status when it is 4xx/5xx.
      for (const [status, expected] of [[404, 500], [422, 500], [503, 503], [429, 429]]) {
        const id = `evt_set_${status}`
        const failed = await post('/status-then-throw', ownDelivery(id, String(status)))
        await failed.arrayBuffer()
        assert.equal(failed.status, name === 'express' || name === 'fastify' ? expected : 500, `set ${status}`)
        const retried = await post('/status-then-throw', ownDelivery(id, String(status)))
        assert.deepEqual([retried.status, await retried.json()], [200, { ok: true, kind: 'processed', id }], `set ${status}`)
      }
    })

    test('verify-only with a handler: a failure with a final status is a 500 too', async () => {
      const failed = await post('/verify-throwing', ownDelivery('evt_verify_throwing'))
      await failed.arrayBuffer()
      assert.equal(failed.status, 500)
      const handedOn = state.errors.at(-1)
      assert.equal(handedOn.code, 'ERR_ANCHOR_HANDLER_FAILED')
      assert.equal(handedOn.cause, state.thrown.get('evt_verify_throwing'))
    })

    test('a handler that answers a status the sender retries (5xx, 429, 408) keeps its answer, and the claim is released: the retry runs it again', async () => {
      const errorsBefore = state.errors.length
      for (const status of [503, 500, 429, 408]) {
        const id = `evt_answers_${status}`
        const delivery = ownDelivery(id, String(status))
        const first = await post('/answering', delivery)
        assert.deepEqual([first.status, await first.json()], [status, { own: status, run: 1 }])
        // Released, not completed: the sender's retry is processed (a duplicate would lose the event).
        const retried = await post('/answering', delivery)
        assert.deepEqual([retried.status, await retried.json()], [200, { own: 200, run: 2 }])
        const again = await post('/answering', delivery)
        assert.deepEqual([again.status, await again.json()], [200, { ok: true, kind: 'duplicate', id }])
        assert.equal(state.answeringRuns.get(id), 2)
      }
      assert.deepEqual(state.errors.slice(errorsBefore), [], 'nothing goes to the error handling')
    })

    test('a handler that answers 200 itself keeps its answer, and the event is completed: the retry is a duplicate', async () => {
      const delivery = ownDelivery('evt_answers_200', '200')
      const first = await post('/answering', delivery)
      assert.deepEqual([first.status, await first.json()], [200, { own: 200, run: 1 }])
      const retried = await post('/answering', delivery)
      assert.deepEqual([retried.status, await retried.json()], [200, { ok: true, kind: 'duplicate', id: 'evt_answers_200' }])
      assert.equal(state.answeringRuns.get('evt_answers_200'), 1)
    })
  })
}

test("delivery.cjs's senderRetries, which releases a claim, is the core's sender_retries for every status", () => {
  const { senderRetries } = require('../lib/delivery.cjs')
  const statuses = [...Array(1001).keys(), -1, 65535, 65536, 200.5, NaN, Infinity]
  const differ = statuses.filter((status) => senderRetries(status) !== native.senderRetries(status))
  assert.deepEqual(differ, [])
  assert.deepEqual([200, 302, 404, 408, 429, 503].map(senderRetries), [false, true, false, true, true, true])
})

// Refusals reach `onRejected(error, { status, event, request })` in every helper, `request` being what the
// handler gets after the event; by default one console.warn line, only for what no stranger can cause.
/** Tells the framework's request object by a property only it has: Express `req`, Fastify `request`, Hono `c`, a fetch `Request`. */
const requestOf = {
  express: (request) => Array.isArray(request.rawHeaders) && typeof request.get === 'function',
  fastify: (request) => typeof request.raw?.rawHeaders === 'object' && typeof request.log?.warn === 'function',
  hono: (c) => typeof c.get === 'function' && c.req?.raw instanceof Request,
  next: (request) => request instanceof Request,
}

async function rejectionRoutes() {
  const deadStore = new RedisStore(`redis://127.0.0.1:${await freePort()}/0`, { timeoutSeconds: 0.5 })
  const noHandler = () => assert.fail('no handler for a refused delivery')
  return [
    ['/hook', new Receiver(new Verifier(OWN_SECRET), new MemoryStore()), () => {}],
    ['/dead', new Receiver(new Verifier(OWN_SECRET), deadStore), noHandler],
    ['/small', new Receiver(new Verifier(OWN_SECRET, { maxBodyBytes: 64 }), new MemoryStore()), noHandler],
  ]
}

/** Deliveries that are refused: forged (401), a dead store (503), over the limit (413), signed but not JSON (400). */
function refusals() {
  const forged = ownDelivery('evt_forged')
  const notJson = '{"id": "evt_not_json", '
  return [
    ['/hook', { body: forged.body, headers: sign(STRANGER, forged.body) }, 401, 'signature_mismatch'],
    ['/dead', ownDelivery('evt_dead_reported'), 503, 'store_unavailable'],
    ['/small', ownDelivery('evt_large_reported', 'x'.repeat(100)), 413, 'body_too_large'],
    ['/hook', { body: notJson, headers: sign(OWN_SECRET, notJson) }, 400, 'invalid_payload'],
  ]
}

for (const [name, start] of Object.entries(ownServers)) {
  describe(`${name}: refusals are reported`, () => {
    const post = (base, path, { body, headers }) => fetch(`${base}${path}`, { method: 'POST', headers, body })

    test('onRejected(error, { status, event, request }) gets every refusal, with the error the sender is answered', async () => {
      const seen = []
      const onRejected = (error, info) => {
        assert.ok(requestOf[name](info.request), `the request is ${name}'s`)
        seen.push({ code: error.code, status: info.status, event: info.event, message: error.message })
      }
      const server = await start(await rejectionRoutes(), [], { onRejected })
      try {
        for (const [path, delivery, status, code] of refusals()) {
          const response = await post(server.base, path, delivery)
          const answer = await response.json()
          assert.deepEqual([response.status, answer.code], [status, code])
          assert.deepEqual(seen.pop(), { code, status, event: null, message: answer.message })
          assert.deepEqual(seen, [], 'reported once')
        }
        const fine = await post(server.base, '/hook', ownDelivery('evt_fine'))
        assert.deepEqual([fine.status, seen], [200, []])
      } finally {
        await server.stop()
      }
    })

    test('by default, one console.warn line for a 5xx and for invalid_payload, nothing for 401 and 413', async (t) => {
      const warn = t.mock.method(console, 'warn', () => {})
      const server = await start(await rejectionRoutes(), [])
      try {
        const lines = []
        for (const [path, delivery, status] of refusals()) {
          const response = await post(server.base, path, delivery)
          assert.equal(response.status, status)
          const { code, message } = await response.json()
          if (status >= 500 || code === 'invalid_payload') lines.push([`anchor-webhooks: a delivery was refused with ${status} ${code}: ${message}`])
        }
        assert.equal(lines.length, 2)
        assert.deepEqual(warn.mock.calls.map((call) => call.arguments), lines)
      } finally {
        await server.stop()
      }
    })
  })
}

describe('onRejected in the verify-only forms and as an argument', () => {
  test('expressWebhook(verifier, { onRejected }) and honoWebhook(verifier, { onRejected })', async () => {
    // Signed when the test runs, not when the file is loaded: the suites before it take seconds.
    const forged = ownDelivery('evt_forged_verify_only')
    const headers = sign(STRANGER, forged.body)
    const seen = []
    const onRejected = (error, { status, event }) => seen.push([error.code, status, event])
    const app = express()
    app.post('/hook', expressWebhook(new Verifier(OWN_SECRET), { onRejected }), (req, res) => res.json({ id: req.webhookEvent.id }))
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const base = `http://127.0.0.1:${server.address().port}`
      assert.equal((await fetch(`${base}/hook`, { method: 'POST', headers, body: forged.body })).status, 401)
      const ok = await fetch(`${base}/hook`, { method: 'POST', headers: forged.headers, body: forged.body })
      assert.deepEqual(await ok.json(), { id: 'evt_forged_verify_only' })
    } finally {
      await closeServer(server)
    }
    const hono = new Hono()
    hono.post('/hook', honoWebhook(new Verifier(OWN_SECRET), { onRejected }), (c) => c.json({ id: c.get('webhookEvent').id }))
    assert.equal((await hono.request('/hook', { method: 'POST', headers, body: forged.body })).status, 401)
    assert.deepEqual(seen, [['signature_mismatch', 401, null], ['signature_mismatch', 401, null]])
  })

  test('options are checked by name, and onRejected must be a function', async () => {
    const verifier = new Verifier(OWN_SECRET)
    for (const [where, make] of [
      ['expressWebhook', (options) => expressWebhook(verifier, options)],
      ['honoWebhook', (options) => honoWebhook(verifier, options)],
      ['nextWebhook', (options) => nextWebhook(verifier, () => {}, options)],
    ]) {
      assert.throws(() => make({ onRejectd: () => {} }), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: `${where}: unknown option \`onRejectd\` (the options are onRejected)`,
      })
      assert.throws(() => make({ onRejected: 'log' }), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: `${where}: onRejected must be a function (error, { status, event, request }) => void`,
      })
    }
    const app = Fastify()
    app.register(fastifyWebhook, { verifier, handler: () => {}, onRejected: 1 })
    await assert.rejects(app.ready(), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'fastifyWebhook: onRejected must be a function (error, { status, event, request }) => void',
    })
  })
})

describe('the error a non-Error failure becomes', () => {
  test('an Error whose cause is the value thrown', async () => {
    for (const [what, fail] of NON_ERRORS) {
      const POST = nextWebhook(new Receiver(new Verifier(OWN_SECRET), new MemoryStore()), fail)
      const { body, headers } = ownDelivery('evt_cause')
      const value = await Promise.resolve()
        .then(fail)
        .then(() => assert.fail(`${what} must fail`), (error) => error)
      await assert.rejects(POST(new Request('http://localhost/hook', { method: 'POST', headers, body })), (error) => {
        assert.ok(error instanceof Error, what)
        assert.equal(error.cause, value, what)
        assert.match(error.message, /^anchor-webhooks: the webhook handler failed with a non-Error value \((undefined|null|string|number)\)$/)
        return true
      })
    }
  })
})
