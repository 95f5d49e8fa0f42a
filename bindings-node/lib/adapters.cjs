'use strict'
// Express middleware and a Fastify plugin. Neither framework is imported: they are plain functions of the
// shapes each framework calls. Statuses come from the receive()/verify() results (the core's catalogue).

const { answerBody, answerHeaders, checkTarget, handleDelivery } = require('./web.cjs')

/** The body limit of a Verifier or a Receiver's verifier. */
function bodyLimit(target) {
  const verifier = typeof target.receive === 'function' ? target.verifier : target
  const limit = verifier && verifier.maxBodyBytes
  return typeof limit === 'number' ? limit : 1024 * 1024
}

function bodyAlreadyParsed() {
  const error = new Error(
    'anchor-webhooks: the request body was already parsed (req.body is an object), probably by express.json() ' +
      'or another body parser, so the raw bytes the signature covers are gone. Register the webhook route before ' +
      'express.json(), or give it express.raw({ type: "application/json" }).',
  )
  error.code = 'ERR_ANCHOR_BODY_ALREADY_PARSED'
  error.status = 500
  return error
}

/**
 * The raw body of an Express request: `req.body` when `express.raw()`/`express.text()` ran, else the
 * request stream (kept up to one chunk past the limit, so the core reports `body_too_large` in its order of
 * checks). Fails when a JSON or form parser already consumed it.
 */
function expressBody(req, limit) {
  const parsed = req.body
  if (Buffer.isBuffer(parsed)) return Promise.resolve(parsed)
  if (typeof parsed === 'string') return Promise.resolve(Buffer.from(parsed, 'utf8'))
  const consumed = req._body === true || req.readableEnded === true
  const filled = parsed !== undefined && parsed !== null && (typeof parsed !== 'object' || Object.keys(parsed).length > 0)
  if (consumed || filled) return Promise.reject(bodyAlreadyParsed())
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      if (size <= limit) {
        chunks.push(chunk)
        size += chunk.length
      }
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
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
 *   200/401/400/413/503 (unless the handler already answered).
 * - `expressWebhook(verifier, handler)`: verify, run the handler, answer 200.
 * - `expressWebhook(verifier)`: verify, set `req.webhookEvent`, call `next()`.
 *
 * Works with or without `express.raw()` in front; fails (500, through `next(err)`) when `express.json()`
 * already parsed the body. A handler that throws goes to Express's error handling (`next(err)`), after a
 * Receiver released the claim; an `err.status` of 503 makes the sender retry.
 */
function expressWebhook(target, handler) {
  const receiver = checkTarget(target, handler, 'expressWebhook')
  const limit = bodyLimit(target)
  return function anchorWebhook(req, res, next) {
    expressBody(req, limit)
      .then((body) => {
        if (!receiver && handler === undefined) {
          const result = verifyOnly(target, body, req.rawHeaders)
          if (result.kind === 'rejected') return sendExpress(res, result)
          req.webhookEvent = result.event
          return next()
        }
        return handleDelivery(target, receiver, body, req.rawHeaders, (event) => handler(event, req, res)).then((result) =>
          sendExpress(res, result),
        )
      })
      .catch(next)
  }
}

function verifyOnly(target, body, headers) {
  try {
    return { kind: 'processed', event: target.verify(body, headers) }
  } catch (error) {
    if (typeof error.httpStatus !== 'number') throw error
    return { status: error.httpStatus, kind: 'rejected', event: null, error, retryAfter: null }
  }
}

/**
 * A Fastify plugin: `app.register(fastifyWebhook, { receiver, handler, path: '/webhooks' })` (or
 * `{ verifier, handler }`). It adds `POST path` and, inside its own encapsulated scope only, content-type
 * parsers that keep the body as a raw Buffer (other routes keep Fastify's JSON parsing). The handler is
 * `handler(event, request, reply)`; one that throws goes to Fastify's error handling (after a Receiver
 * released the claim). Bodies over the verifier's `maxBodyBytes` are refused by Fastify's own body limit
 * (413, the status of `body_too_large`).
 */
function fastifyWebhook(fastify, options, done) {
  const { receiver: receiverOption, verifier, handler, path = '/webhooks' } = options ?? {}
  const target = receiverOption ?? verifier
  const receiver = checkTarget(target, handler, 'fastifyWebhook')
  if (typeof handler !== 'function') throw new TypeError('fastifyWebhook: a handler is required')
  const limit = bodyLimit(target)
  const keepRaw = (request, body, parsed) => parsed(null, body)
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, keepRaw)
  fastify.post(path, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const result = await handleDelivery(target, receiver, body, request.raw.rawHeaders, (event) =>
      handler(event, request, reply),
    )
    if (reply.sent) return reply
    return reply.code(result.status).headers(answerHeaders(result)).send(JSON.stringify(answerBody(result)))
  })
  done()
}

module.exports = { expressWebhook, fastifyWebhook }
