'use strict'
// Express middleware and a Fastify plugin. Neither framework is imported: they are plain functions of the
// shapes each framework calls. Statuses come from the receive()/verify() results (the core's catalogue).

const { answerBody, answerHeaders, asError, bodyLimitOf, handleDelivery, helperArguments, rejection, reported, senderRetries } = require('./delivery.cjs')
const { processed } = require('./outcomes.cjs')

/** The body limit of a Verifier or a Receiver's verifier: the core's `maxBodyBytes`. */
function bodyLimit(target, receiver, where) {
  const limit = bodyLimitOf(target, receiver)
  if (limit === undefined) throw new TypeError(`${where}: the verifier has no maxBodyBytes`)
  return limit
}

function bodyAlreadyParsed() {
  const error = new Error(
    'anchor-webhooks: the request body was already parsed (req.body is an object), probably by express.json() ' +
      'or another body parser, so the raw bytes the signature covers are gone. Register the webhook route before ' +
      'express.json(), give it express.raw({ type: "application/json" }), or keep the bytes the parser read with ' +
      'express.json({ verify: (req, res, buf) => { req.rawBody = buf } }).',
  )
  error.code = 'ERR_ANCHOR_BODY_ALREADY_PARSED'
  error.status = 500
  return error
}

/**
 * The raw body of an Express request: `req.body` when `express.raw()`/`express.text()` ran, else the
 * request stream. From the stream, at most `limit + 1` bytes are read: a longer body stops there (the
 * stream is paused, the rest left unread) and those bytes go to the core, which reports `body_too_large` in
 * its order of checks. When a JSON or form parser already consumed it, the bytes it kept in `req.rawBody`
 * (a Buffer or Uint8Array: `express.json({ verify: (req, res, buf) => { req.rawBody = buf } })`) are
 * verified; without them it fails. (`express.text()` hands over decoded text, re-encoded here as UTF-8:
 * lossless only for UTF-8 bodies without a BOM; see the README.)
 */
function expressBody(req, limit) {
  const parsed = req.body
  if (Buffer.isBuffer(parsed)) return Promise.resolve(parsed)
  if (typeof parsed === 'string') return Promise.resolve(Buffer.from(parsed, 'utf8'))
  const consumed = req._body === true || req.readableEnded === true
  const filled = parsed !== undefined && parsed !== null && (typeof parsed !== 'object' || Object.keys(parsed).length > 0)
  if (consumed || filled) {
    // body-parser's `verify(req, res, buf)` gets the very bytes it parsed (after Content-Encoding, before
    // any charset decoding: what express.raw() would have handed over). Only bytes: a string kept there is
    // decoded text, and the event is built from the verified bytes either way, never from req.body.
    const kept = req.rawBody
    return kept instanceof Uint8Array ? Promise.resolve(kept) : Promise.reject(bodyAlreadyParsed())
  }
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    const onData = (chunk) => {
      chunks.push(chunk)
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        req.off('end', onEnd)
        req.pause()
        resolve(Buffer.concat(chunks, size).subarray(0, limit + 1))
      }
    }
    const onEnd = () => resolve(Buffer.concat(chunks, size))
    req.on('data', onData)
    req.on('end', onEnd)
    // The request stream only fails when the connection does (the client aborted, the socket was reset).
    req.on('error', () => reject(CLIENT_GONE))
  })
}

/**
 * What reading the body rejects with when the client went away mid-body: nothing was verified or claimed,
 * and no one is left to read an answer, so the request just ends (as Python answers `client_disconnected`
 * at INFO): no `next(err)`, whose default handler would log a stack trace (and error trackers a 500) for
 * every sender timeout or dropped connection.
 */
const CLIENT_GONE = Symbol('anchor-webhooks: the client went away mid-body')

/**
 * After the answer to a request whose body was left unread (over the limit): read and drop what the client
 * still sends, up to another `limit` bytes, then close the connection. A client that stops sending once it
 * has the answer keeps its connection; one that goes on sending is cut off. Closing right away instead would
 * reset the connection with the answer possibly still unsent (unread data makes the kernel send a RST).
 */
function dropRestAfterAnswer(req, res, limit) {
  if (req.readableEnded) return
  res.once('finish', () => {
    let dropped = 0
    req.on('data', (chunk) => {
      dropped += chunk.length
      if (dropped > limit) req.socket?.destroy()
    })
    req.resume()
  })
}

function sendExpress(res, result) {
  if (res.headersSent) return
  res.status(result.status)
  res.set(answerHeaders(result))
  res.send(JSON.stringify(answerBody(result)))
}

/**
 * Express middleware (Express 4 and 5).
 *
 * - `expressWebhook(receiver, handler)`: verify, dedupe, run `handler(event, req, res)`, answer
 *   200/401/400/413/503 (unless the handler already answered; an answer the sender retries (3xx, 408, 429, 5xx) releases the claim,
 *   so the sender's retry is processed).
 * - `expressWebhook(verifier, handler)`: verify, run the handler, answer 200.
 * - `expressWebhook(verifier)`: verify, set `req.webhookEvent`, call `next()`.
 *
 * Works with or without `express.raw()` in front; fails (500, through `next(err)`) when `express.json()`
 * already parsed the body, unless it kept the bytes in `req.rawBody` (see `expressBody`). A handler that
 * throws goes to Express's error handling (`next(err)`), after a Receiver released the claim: its error as
 * it is, or, when its `status`/`statusCode` is one the sender takes as final (2xx, 4xx but 408 and 429), an
 * `ERR_ANCHOR_HANDLER_FAILED` error of status 500 whose `cause` it is, so the sender retries (`handedOn` in
 * web.cjs). `options` (third, or second
 * without a handler): `{ onRejected(error, { status, event, request: req }) }`, see `reported` in web.cjs.
 */
function expressWebhook(target, handler, options) {
  const { receiver, handler: run, onRejected } = helperArguments(target, handler, options, 'expressWebhook')
  const limit = bodyLimit(target, receiver, 'expressWebhook')
  return function anchorWebhook(req, res, next) {
    expressBody(req, limit)
      .then((body) => {
        if (body.length > limit) dropRestAfterAnswer(req, res, limit)
        if (!receiver && run === undefined) {
          const result = verifyOnly(target, body, req.rawHeaders)
          if (result.kind === 'rejected') return sendExpress(res, reported(result, onRejected, req))
          req.webhookEvent = result.event
          return next()
        }
        // What the handler sent itself (res.status(503).send()) stays the answer; one the sender retries releases the claim.
        const answered = () => (res.headersSent ? res.statusCode : null)
        return handleDelivery(target, receiver, body, req.rawHeaders, (event) => run(event, req, res), answered).then(
          (result) => sendExpress(res, reported(result, onRejected, req)),
          (error) => {
            if (!res.headersSent) res.statusCode = unsentStatusAfterFailure(res.statusCode)
            throw error
          },
        )
      })
      .catch((error) => {
        if (error === CLIENT_GONE) return void res.destroy()
        next(asError(error))
      })
  }
}

/**
 * The status to leave on a response not sent yet when the handler failed. Express and Fastify answer an
 * error without a status of its own with the response's status when it is 4xx or 5xx: a handler that set a
 * final one (`res.status(404)`) and then threw would be answered 404, and the released event never retried.
 */
function unsentStatusAfterFailure(status) {
  return status >= 400 && !senderRetries(status) ? 500 : status
}

function verifyOnly(target, body, headers) {
  try {
    return processed(target.verify(body, headers))
  } catch (error) {
    if (typeof error.httpStatus !== 'number') throw error
    return rejection(error)
  }
}

/**
 * A Fastify plugin: `app.register(fastifyWebhook, { receiver, handler, path: '/webhooks', onRejected })` (or
 * `{ verifier, handler }`; `onRejected` as for the other helpers, with Fastify's `request`). It adds `POST path` and, inside its own encapsulated scope only, content-type
 * parsers that keep the body as a raw Buffer (other routes keep Fastify's JSON parsing). The handler is
 * `handler(event, request, reply)`; one that throws goes to Fastify's error handling (after a Receiver
 * released the claim; an error whose status the sender takes as final is handed on as a 500
 * `ERR_ANCHOR_HANDLER_FAILED` error, as in Express), and one that answers a status the sender retries itself (`reply.code(503).send()`) keeps its answer
 * and has the claim released too. Bodies over the verifier's `maxBodyBytes` stop Fastify's reader at its body limit;
 * the scope's error handler then answers what the core answers for a body of `maxBodyBytes + 1` bytes with
 * these headers (as the Express reader does), so the JSON is the package's (`code: 'body_too_large'`, or a
 * header error the core checks first). That parser's `bodyLimit` is the verifier's `maxBodyBytes`, so the
 * webhook route accepts bodies up to it whatever the app's `bodyLimit` (Fastify's default is 1 MiB).
 */
function fastifyWebhook(fastify, options, done) {
  const { receiver: receiverOption, verifier, handler, path = '/webhooks', onRejected: hook } = options ?? {}
  const target = receiverOption ?? verifier
  let receiver, onRejected, limit
  try {
    ;({ receiver, onRejected } = helperArguments(target, handler, { onRejected: hook }, 'fastifyWebhook'))
    if (typeof handler !== 'function') throw new TypeError('fastifyWebhook: a handler is required')
    limit = bodyLimit(target, receiver, 'fastifyWebhook')
  } catch (error) {
    // A callback plugin reports through `done`: `register`/`ready()` reject with it (a throw here escapes Fastify).
    return done(error)
  }
  const keepRaw = (request, body, parsed) => parsed(null, body)
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, keepRaw)
  const deliver = async (body, request, reply) => {
    // What the handler sent itself (reply.code(503).send()) stays the answer; one the sender retries releases the claim.
    const answered = () => (reply.sent ? reply.statusCode : null)
    const result = await handleDelivery(
      target,
      receiver,
      body,
      request.raw.rawHeaders,
      (event) => handler(event, request, reply),
      answered,
    ).catch((error) => {
      if (!reply.sent) reply.code(unsentStatusAfterFailure(reply.statusCode))
      throw error
    })
    reported(result, onRejected, request)
    if (reply.sent) return reply
    return reply.code(result.status).headers(answerHeaders(result)).send(JSON.stringify(answerBody(result)))
  }
  fastify.post(path, (request, reply) => deliver(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), request, reply))
  // Scoped to this plugin: other errors go on to the parent's error handler.
  fastify.setErrorHandler((error, request, reply) => {
    if (error?.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error
    // The core refuses any body over the limit, so no handler runs for this one.
    return deliver(Buffer.alloc(limit + 1), request, reply)
  })
  done()
}

module.exports = { expressWebhook, fastifyWebhook }
