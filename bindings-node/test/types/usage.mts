// Compile-only checks of the public types (run by test.sh with `tsc -p test/types`): the unions, the
// typed data, the scheme-dependent event type, the receive() result and the framework helpers.
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import {
  type ErrorCode,
  type Event,
  type EventData,
  type EventType,
  type KnownEventType,
  MemoryStore,
  type RedisCheckError,
  Receiver,
  RedisStore,
  Verifier,
  WebhookVerificationError,
  errorCodes,
  eventTypes,
  expressWebhook,
  fastifyWebhook,
  honoWebhook,
  nextWebhook,
  sign,
  verifyRequest,
} from 'anchor-webhooks'
import { honoWebhook as honoFromWeb } from 'anchor-webhooks/web'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(): void {}

const verifier = new Verifier(['new', 'old'], { tolerance: 120 })
const event = verifier.verify(Buffer.from('{}'), { 'anchor-signature': 't=1,v1=00' }, { now: new Date() })
expectType<Equal<typeof event, Event<EventData>>>()
const type: EventType = event.type
const known: KnownEventType = 'session.recording.ready'
// @ts-expect-error: not in the catalogue
const notKnown: KnownEventType = 'task.exploded'
if (event.type === 'task.failed') {
  const errorType: string | undefined = event.data.error?.type
  const artifacts = event.task?.artifacts.map((artifact) => artifact.url)
}
const created: Date | null = event.created
const id: string = event.id
const secret: number = event.matchedSecret
verifier.verify('{}', new Headers(), { now: 1716544084 })
verifier.verify(new Uint8Array(2), [['a', 'b']])
verifier.verify('{}', ['Anchor-Signature', 'x'])
// @ts-expect-error: a parsed body is not a body
verifier.verify({ id: 'evt' }, {})

const standard = new Verifier('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { scheme: 'standard' })
const standardEvent = standard.verify('{}', {})
expectType<Equal<typeof standardEvent.data, unknown>>()

try {
  verifier.verify('{}', {})
} catch (error) {
  if (error instanceof WebhookVerificationError) {
    const code: ErrorCode = error.code
    const status: number = error.httpStatus
    // @ts-expect-error: not a code
    const wrong: typeof error.code = 'nope'
  }
}
const codes: ErrorCode[] = errorCodes()
const types: KnownEventType[] = eventTypes()

const receiver = new Receiver(verifier, new MemoryStore({ maxEntries: 10 }), { leaseSeconds: 30 })
const redisStore = new RedisStore('redis://127.0.0.1:6379/0', { timeoutSeconds: 1, maxThreads: 16 })
const shared = new Receiver(verifier, redisStore)
const checked: Promise<void> = redisStore.check()
checked.catch((error: RedisCheckError) => {
  const retry: boolean = error.code === 'ERR_REDIS_UNAVAILABLE'
  // @ts-expect-error: not a check code
  const wrong: RedisCheckError['code'] = 'store_unavailable'
})
const result = await receiver.receive('{}', {}, async (e) => {
  const data: EventData = e.data
})
if (result.kind === 'rejected') {
  const code: ErrorCode = result.error.code
} else if (result.kind === 'in_progress') {
  const retry: number = result.retryAfter
} else if (result.kind === 'processed') {
  const processedId: string = result.event.id
}

const headers: Record<string, string> = sign('secret', '{}', { timestamp: new Date(), eventType: 'task.completed' })

const app = express()
app.post('/a', expressWebhook(receiver, (e, req, res) => e.id))
app.post('/b', express.raw({ type: 'application/json' }), expressWebhook(verifier), (req, res) => res.end())
// The README's express.raw() with a limit, and express.json() keeping the raw bytes.
app.post('/webhooks', express.raw({ type: 'application/json', limit: receiver.verifier.maxBodyBytes }), expressWebhook(receiver, (e) => {}))
app.use(express.json({ limit: verifier.maxBodyBytes, verify: (req, res, buf) => { (req as { rawBody?: Buffer }).rawBody = buf } }))

const fastify = Fastify()
await fastify.register(fastifyWebhook, { receiver, handler: (e: Event) => e.id, path: '/hooks' })

const hono = new Hono()
hono.post('/c', honoWebhook(receiver, (e) => { const t: EventType = e.type }))
hono.post('/d', honoFromWeb(verifier), (c) => c.text('ok'))

export const POST = nextWebhook(receiver, async (e, request) => { const t: string = e.type })
const verified: Event = await verifyRequest(verifier, new Request('http://x', { method: 'POST', body: '{}' }))

// The runtime constructor is (code, message): a lone message must not type-check as one.
const constructed: WebhookVerificationError = new WebhookVerificationError('signature_mismatch', 'forged')
const constructedStatus: number = constructed.httpStatus
// @ts-expect-error: a message alone would become the code
new WebhookVerificationError('boom')

// The README's framework snippets, as written there (test/types is compiled with --strict).
// Express: typed req/res in the handler (with @types/express), req.webhookEvent after expressWebhook(verifier).
app.post('/webhooks', expressWebhook(receiver, async (event, req, res) => {
  const data: EventData = event.data
  res.setHeader('x-event', event.id)
  const path: string = req.path
  // @ts-expect-error: res is Express's Response, not any
  res.definitelyNotAMethod()
}))
app.post('/verify-only', expressWebhook(verifier), (req, res) => {
  const event = req.webhookEvent!
  res.json({ id: event.id, task: event.data.task_id })
})
app.post('/logged', expressWebhook(receiver, (e) => {}, {
  onRejected: (error, { status, event, request }) => {
    const code: string = error.code
    const line: string = `${status} ${error.message} ${request.path} ${event?.id}`
  },
}))
expressWebhook(verifier, { onRejected: (error) => console.info(error.httpStatus) })
// The helpers' error carries the catalogue's codes, so a typo is caught.
expressWebhook(verifier, {
  onRejected: (error) => {
    expectType<Equal<typeof error.code, ErrorCode>>()
    // @ts-expect-error: not a code
    if (error.code === 'signature_mismach') return
  },
})
// Options read from configuration may be undefined (exactOptionalPropertyTypes): each falls back to its default.
const fromConfig = process.env.UNSET_NUMBER === undefined ? undefined : Number(process.env.UNSET_NUMBER)
const prefixFromConfig: string | undefined = process.env.UNSET_PREFIX
new Verifier('new', { tolerance: fromConfig, maxBodyBytes: fromConfig, scheme: undefined })
new Receiver(verifier, new MemoryStore({ maxEntries: fromConfig, ttlSeconds: fromConfig }), { leaseSeconds: fromConfig, onClaimLost: undefined })
new RedisStore('redis://127.0.0.1:6379/0', { keyPrefix: prefixFromConfig, timeoutSeconds: fromConfig, tlsRootCertificates: undefined })
sign('new', '{}', { timestamp: fromConfig, id: prefixFromConfig, eventType: undefined, scheme: undefined })
verifier.verify('{}', {}, { now: fromConfig })
// @ts-expect-error: not an option
expressWebhook(verifier, { onRejectd: () => {} })

// Fastify: the handler's event is the receiver's (data: EventData), request and reply are Fastify's.
await fastify.register(fastifyWebhook, {
  receiver,
  path: '/webhooks',
  handler: async (event, request, reply) => {
    const taskId: string | undefined = event.data.task_id
    const url: string = request.url
    reply.code(202)
  },
  onRejected: (error, { request }) => request.log.warn({ code: error.code }, error.message),
})
await fastify.register(fastifyWebhook, {
  verifier: standard,
  handler: (event) => {
    expectType<Equal<typeof event.data, unknown>>()
  },
})

// Hono: c.get('webhookEvent') after honoWebhook(verifier) is the verifier's event.
hono.post('/hook', honoWebhook(verifier), (c) => c.json({ id: c.get('webhookEvent').id }))
hono.post('/hook-data', honoWebhook(verifier), (c) => {
  const event = c.get('webhookEvent')
  expectType<Equal<typeof event, Event<EventData>>>()
  return c.text(event.data.task_id ?? '')
})
hono.post('/webhooks', honoWebhook(receiver, async (event, c) => {
  const path: string = c.req.path
}, { onRejected: (error, { status }) => console.warn(status, error.code) }))

// Next.js
export const PUT = nextWebhook(receiver, async (event, request) => {}, { onRejected: (error, { request }) => console.warn(request.url) })

// Narrowing: event.is(type) narrows task/session; comparing event.type narrows type only.
function handle(event: Event) {
  if (event.is('task.completed')) {
    const count: number = event.task.artifacts.length
    const t: 'task.completed' = event.type
  }
  if (event.is('session.completed')) {
    const duration: number | null = event.session.duration
  }
  // @ts-expect-error: not in the catalogue
  event.is('task.compelted')
  switch (event.type) {
    case 'task.failed': {
      const errorType = event.data.error?.type
      // @ts-expect-error: a switch on event.type does not make task non-null (type is any string too)
      const artifacts = event.task.artifacts
      break
    }
  }
}
