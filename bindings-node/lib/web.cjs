'use strict'
// Web-standard helpers: Hono middleware and a fetch-style route handler (Next.js, Bun, Deno, workers).
//
// This file needs nothing but WHATWG `Request`, `Response` and `Headers`, and requires only delivery.cjs (the
// same), so it loads in any runtime (an edge worker cannot load the native addon): the verifier or receiver
// is passed in, so the wasm package can reuse it with its own classes. A target is a Verifier, anything with
// `verify(body, headers)` (throws an error carrying `code` and `httpStatus`), or a Receiver, anything with
// `receive(body, headers, handler)` (resolves to `{ status, kind, event, error, retryAfter }`) and the
// `verifier` it was built with (see `isReceiver`).
//
// The verify-only path answers what the core's `Outcome` says for a processed delivery and a rejection
// (200; the error's own status); test/frameworks.test.mjs holds the two to the core's outcome catalogue.

const {
  isVerificationError,
  argumentError,
  helperArguments,
  reported,
  rejection,
  handedOn,
  answer,
  handleDelivery,
  bodyLimitOf,
} = require('./delivery.cjs')

/**
 * Hono middleware. Reads the raw body from `c.req.raw` (at most `maxBodyBytes + 1` bytes, see
 * `readRequestBody`) and hands it to Hono's body cache, so later handlers can still read it (a body Hono
 * already holds, read by an earlier middleware, is taken from there); the headers from `c.req.raw.headers`.
 *
 * - `honoWebhook(receiver, handler)`: verify, dedupe, run `handler(event, c)`, answer 200/401/400/413/503
 *   (a `Response` the handler returns is sent instead; one of a status the sender retries, 3xx, 408, 429 or 5xx, releases the claim).
 * - `honoWebhook(verifier, handler)`: verify, run `handler(event, c)` (a `Response` it returns is sent).
 * - `honoWebhook(verifier)`: verify, `c.set('webhookEvent', event)`, then `next()`.
 *
 * A handler that throws is rethrown to Hono (`app.onError`), after a Receiver released the claim (one with
 * a status the sender takes as final as the 500 error `handedOn` makes of it).
 */
function honoWebhook(target, handler, options) {
  const { receiver, handler: run, onRejected } = helperArguments(target, handler, options, 'honoWebhook')
  const limit = bodyLimitOf(target, receiver)
  return async function anchorWebhook(c, next) {
    const body = await honoBody(c.req, limit)
    const headers = c.req.raw.headers
    if (!receiver && run === undefined) {
      let event
      try {
        event = target.verify(body, headers)
      } catch (error) {
        if (isVerificationError(error)) {
          return answer(reported(rejection(error), onRejected, c))
        }
        throw error
      }
      c.set('webhookEvent', event)
      return next()
    }
    const result = reported(await handleDelivery(target, receiver, body, headers, (event) => run(event, c)), onRejected, c)
    return result.returned instanceof Response ? result.returned : answer(result)
  }
}

/** The raw body of a Hono request: from Hono's cache when a middleware already read it, else read here and cached. */
async function honoBody(req, limit) {
  const cache = req.bodyCache !== null && typeof req.bodyCache === 'object' ? req.bodyCache : null
  if (cache !== null && Object.keys(cache).length > 0) return new Uint8Array(await req.arrayBuffer())
  const body = await readRequestBody(req.raw, limit)
  // Over the limit the delivery is refused and no handler reads the body: nothing to cache.
  if (cache !== null && !(body.byteLength > limit)) cache.arrayBuffer = Promise.resolve(body.buffer)
  return body
}

/** A Node `IncomingMessage` (an Express or `node:http` request), told apart without importing `node:http`. */
function isIncomingMessage(value) {
  return Array.isArray(value.rawHeaders) && typeof value.on === 'function' && typeof value.pipe === 'function'
}

/** The request's `Content-Length`, when it has a valid one. */
function declaredLength(headers) {
  const value = typeof headers.get === 'function' ? headers.get('content-length') : null
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined
}

/**
 * The first `most` bytes of a stream (all of a shorter one), in one new buffer. It stops reading as soon as
 * it has them and cancels the stream: the rest is never pulled from the client.
 */
async function readAtMost(stream, most) {
  const reader = stream.getReader()
  const chunks = []
  let size = 0
  while (size < most) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
  }
  if (size >= most) reader.cancel().catch(() => {})
  const bytes = new Uint8Array(Math.min(size, most))
  let at = 0
  for (const chunk of chunks) {
    const piece = chunk.subarray(0, bytes.byteLength - at)
    bytes.set(piece, at)
    at += piece.byteLength
  }
  return bytes
}

/**
 * A `Request`'s raw body, read once, with the wasm package's messages (`readRequestBody` in
 * bindings-wasm/js/api.mjs) instead of the runtime's own TypeErrors. With a `limit` (the verifier's
 * `maxBodyBytes`), a longer body is not buffered: a `Content-Length` over it is refused before reading, and
 * the stream is read up to `limit + 1` bytes and cancelled. Either way the core gets `limit + 1` bytes and
 * answers for them, after the header checks it makes first (`body_too_large`, 413, as the Express and
 * Fastify helpers answer).
 */
async function readRequestBody(request, limit) {
  if (request === null || typeof request !== 'object' || typeof request.arrayBuffer !== 'function' || !request.headers) {
    if (request !== null && typeof request === 'object' && isIncomingMessage(request)) {
      throw argumentError(
        'expected a Request, got a Node IncomingMessage (an Express or node:http req): use expressWebhook(verifier) ' +
          'for Express, or verifier.verify(rawBody, req.headers) with the raw body bytes',
      )
    }
    throw argumentError('expected a Request')
  }
  if (request.bodyUsed || request.body?.locked) {
    throw argumentError(
      'the request body was already read or is locked: verify before parsing it, or pass request.clone()',
      'ERR_INVALID_ARG_VALUE',
    )
  }
  const stream = request.body
  const bounded = limit !== undefined && typeof stream?.getReader === 'function'
  if (bounded && declaredLength(request.headers) > limit) {
    stream.cancel().catch(() => {})
    return new Uint8Array(limit + 1)
  }
  try {
    return bounded ? await readAtMost(stream, limit + 1) : new Uint8Array(await request.arrayBuffer())
  } catch (error) {
    throw new TypeError(`the request body could not be read (was it read elsewhere, or did the client go away?): ${error?.message ?? error}`, {
      cause: error,
    })
  }
}

/** Reads a `Request`'s raw body (at most `maxBodyBytes + 1` bytes) and verifies it: resolves to the event, or rejects with the error. */
async function verifyRequest(verifier, request, options) {
  if (verifier === null || typeof verifier !== 'object' || typeof verifier.verify !== 'function') {
    throw argumentError('verifyRequest: expected a Verifier')
  }
  return verifier.verify(await readRequestBody(request, bodyLimitOf(verifier, false)), request.headers, options)
}

/**
 * A fetch-style route handler, `(request: Request) => Promise<Response>`, e.g. a Next.js App Router
 * `export const POST = nextWebhook(receiver, async (event) => { ... })`. Statuses, the body limit, and a
 * `Response` the handler returns, as for Hono.
 */
function nextWebhook(target, handler, options) {
  const { receiver, handler: run, onRejected } = helperArguments(target, handler, options, 'nextWebhook')
  const limit = bodyLimitOf(target, receiver)
  return async function anchorWebhook(request) {
    const body = await readRequestBody(request, limit)
    const result = reported(
      await handleDelivery(target, receiver, body, request.headers, run && ((event) => run(event, request))),
      onRejected,
      request,
    )
    return result.returned instanceof Response ? result.returned : answer(result)
  }
}

module.exports = {
  honoWebhook,
  nextWebhook,
  verifyRequest,
  isVerificationError,
}
