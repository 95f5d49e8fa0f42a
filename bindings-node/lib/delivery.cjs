'use strict'
// What every helper of the package shares, the Node framework adapters (adapters.cjs) and the web-standard
// ones (web.cjs) alike: their arguments, `onRejected`, running a delivery through a Verifier or a Receiver,
// and the answers. Internal: not part of the package's API (`anchor-webhooks/web` exports only its helpers).
//
// Like web.cjs, it needs nothing but WHATWG `Request`, `Response` and `Headers`, and requires no other module,
// so it loads in any runtime.

/** True for the errors verification throws (any class with a string `code` and a numeric `httpStatus`). */
function isVerificationError(error) {
  return error instanceof Error && typeof error.code === 'string' && typeof error.httpStatus === 'number'
}

/** A TypeError with Node's argument error `code` (`ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`). */
function argumentError(message, code = 'ERR_INVALID_ARG_TYPE') {
  const error = new TypeError(message)
  error.code = code
  return error
}

/**
 * True for a Receiver: an object with `receive(body, headers, handler)` and the `verifier` it was built
 * with (both packages' Receivers expose it), or with `receive` and no `verify` of its own. The presence of
 * `receive` alone does not decide it: the wasm package's Verifier has a `receive(request, handler, options)`
 * too (it answers a `Request` with a `Response`), and is a Verifier here (it has `verify`, no `verifier`).
 */
function isReceiver(target) {
  if (target === null || typeof target !== 'object' || typeof target.receive !== 'function') return false
  const verifier = target.verifier
  return (verifier !== null && typeof verifier === 'object' && typeof verifier.verify === 'function') || typeof target.verify !== 'function'
}

/**
 * A helper's arguments, `(target, handler?, options?)` or `(verifier, options)`: whether the target is a
 * Receiver, the handler, and the `onRejected` to report refusals with (see `reported`).
 */
function helperArguments(target, handler, options, where) {
  if (options === undefined && handler !== null && typeof handler === 'object') [handler, options] = [undefined, handler]
  const receiver = isReceiver(target)
  if (!receiver && (target === null || typeof target !== 'object' || typeof target.verify !== 'function')) {
    throw argumentError(`${where}: expected a Receiver or a Verifier`)
  }
  if (handler !== undefined && typeof handler !== 'function') {
    throw argumentError(`${where}: the handler must be a function`)
  }
  if (receiver && handler === undefined) {
    throw argumentError(`${where}: a Receiver needs a handler (it completes the event when the handler succeeds)`)
  }
  return { receiver, handler, onRejected: rejectionHook(options, where) }
}

/**
 * `onRejected`'s default: one `console.warn` line for the refusals no stranger can cause, which an operator
 * must see: a 5xx (the dedupe store failed; the sender retries, but every delivery fails until it is back)
 * and `invalid_payload` (the signature was valid, yet the body is not an envelope the core reads: the 400 is
 * final for the sender, so that event is lost). Forged, stale, unsigned or oversized requests, which anyone
 * can send, log nothing.
 */
function warnRejected(error, info) {
  if (info.status >= 500 || error.code === 'invalid_payload') {
    console.warn(`anchor-webhooks: a delivery was refused with ${info.status} ${error.code}: ${error.message}`)
  }
}

/** The `onRejected` of a helper's options (`{ onRejected }`, or none: `warnRejected`). */
function rejectionHook(options, where) {
  if (options === undefined || options === null) return warnRejected
  if (typeof options !== 'object' || Array.isArray(options)) throw argumentError(`${where}: options must be an object`)
  for (const key of Object.keys(options)) {
    if (key !== 'onRejected') throw argumentError(`${where}: unknown option \`${key}\` (the options are onRejected)`)
  }
  const { onRejected } = options
  if (onRejected === undefined || onRejected === null) return warnRejected
  if (typeof onRejected !== 'function') {
    throw argumentError(`${where}: onRejected must be a function (error, { status, event, request }) => void`)
  }
  return onRejected
}

/**
 * Every helper hands its result here before answering: a refusal (`kind: 'rejected'`: verification, the
 * body limit or the store failed) goes to `onRejected(error, { status, event, request })`, `request` being
 * what the helper's handler gets after the event (Express `req`, Fastify `request`, Hono `c`, a `Request`).
 */
function reported(result, onRejected, request) {
  if (result.kind === 'rejected') onRejected(result.error, { status: result.status, event: result.event, request })
  return result
}

/** The result of a verification failure, shaped like a `receive()` result. */
function rejection(error) {
  return { status: error.httpStatus, kind: 'rejected', event: null, error, retryAfter: null }
}

/**
 * What a failing handler threw, as an `Error` for the host framework's error handling: a handler that
 * rejects with `undefined`, `null` or `''` would otherwise reach Express as `next(undefined)`, "no error",
 * and be answered 404, which the sender takes as final (the event would be lost). The original value is
 * the new error's `cause`.
 */
function asError(thrown) {
  if (thrown instanceof Error || Object.prototype.toString.call(thrown) === '[object Error]') return thrown
  const shown = thrown === null ? 'null' : typeof thrown === 'object' ? 'an object' : typeof thrown
  return new Error(`anchor-webhooks: the webhook handler failed with a non-Error value (${shown})`, { cause: thrown })
}

/**
 * The status a failure carries (`status`, or `statusCode`; Hono's `HTTPException` has `status`) when it is
 * one the sender does not retry (`senderRetries`: 2xx, and 4xx other than 408 and 429), else `undefined`.
 * A numeric string counts: Fastify's error handler compares `statusCode >= 400` and answers it.
 */
function finalStatusOf(error) {
  for (const key of ['status', 'statusCode']) {
    const value = error[key]
    const status = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
    if (typeof status === 'number' && !senderRetries(status)) return status
  }
  return undefined
}

/**
 * What a failing handler's error becomes before it is handed to the framework's error handling (after a
 * Receiver released the claim): `asError(thrown)`, unless it carries a status the sender takes as final
 * (http-errors' `createError(404)`, an upstream client's error with `.status = 404`, Hono's
 * `HTTPException(400)`). The framework would answer that status, the sender would never retry, and the
 * failed (released) event would be lost; so a new `Error` is handed on instead, with `status` and
 * `statusCode` 500 (what Express, Fastify and a Hono `onError` reading `status` answer; Hono's default
 * `onError` answers 500 for any error that is not an `HTTPException`), `code` `ERR_ANCHOR_HANDLER_FAILED`
 * and the original as its `cause`. Failures without a status, or with one the sender retries (3xx, 408,
 * 429, 5xx), are handed on as they are.
 */
function handedOn(thrown) {
  const error = asError(thrown)
  const status = finalStatusOf(error)
  if (status === undefined) return error
  const final = new Error(
    `anchor-webhooks: the webhook handler failed with status ${status}, which the sender takes as final (it would ` +
      `never retry, and the event would be lost), so 500 is answered instead for the sender to retry: ${error.message}`,
    { cause: error },
  )
  final.code = 'ERR_ANCHOR_HANDLER_FAILED'
  final.status = 500
  final.statusCode = 500
  return final
}

/** The JSON body answered for a result: `{ ok, kind, id }` or `{ ok: false, kind, code, message }`. */
function answerBody(result) {
  if (result.kind === 'rejected') {
    return { ok: false, kind: result.kind, code: result.error.code, message: result.error.message }
  }
  const ok = result.status < 300
  return result.event ? { ok, kind: result.kind, id: result.event.id } : { ok, kind: result.kind }
}

/** The response headers of a result: JSON, and `Retry-After` on a 503. */
function answerHeaders(result) {
  const headers = { 'content-type': 'application/json' }
  if (result.retryAfter !== null && result.retryAfter !== undefined) {
    headers['retry-after'] = String(result.retryAfter)
  }
  return headers
}

function answer(result) {
  return new Response(JSON.stringify(answerBody(result)), { status: result.status, headers: answerHeaders(result) })
}

/**
 * Whether the sender retries a delivery answered with `status`: 3xx, 408, 429, 5xx and anything that is not
 * an HTTP status (SPEC §2). The core's `sender_retries`, written again here because this file loads without
 * the native addon; test/frameworks.test.mjs holds the two equal for every status.
 */
function senderRetries(status) {
  const final = (status >= 200 && status <= 299) || (status >= 400 && status <= 499 && status !== 408 && status !== 429)
  return !(Number.isInteger(status) && final)
}

/** What the handler answered itself, for Hono and fetch-style handlers: the status of a `Response` it returned. */
function returnedStatus(returned) {
  return returned instanceof Response ? returned.status : null
}

/**
 * Verifies (and, with a Receiver, dedupes) `body` + `headers` and runs `handler(event)`.
 * Resolves to a result; a failing handler's error is thrown (after the claim was released), so the host
 * framework's own error handling answers it: as it is, or, when it carries a status the sender takes as
 * final, as the 500 error `handedOn` makes of it, so that the sender retries.
 *
 * `answered(returned)` is the status the handler answered itself (a `Response` it returned, or what it
 * sent through Express's `res` / Fastify's `reply`), or `null`. A handler that answered a status the
 * sender retries (3xx, 408, 429, 5xx: `senderRetries`) asked for that retry: a Receiver then releases the
 * claim (as for a handler that threw) so the retry is processed, instead of completing it, which would make
 * the retry a duplicate and lose the event. Its
 * own answer is still the one sent (`returned`), and nothing goes to the framework's error handling.
 */
async function handleDelivery(target, receiver, body, headers, handler, answered = returnedStatus) {
  if (receiver) {
    let own = null
    const result = await target.receive(body, headers, async (event) => {
      const returned = await handler(event)
      const status = answered(returned)
      if (typeof status === 'number') {
        own = { status, returned, retry: null }
        if (senderRetries(status)) {
          // Thrown to the Receiver, which releases the claim; never handed on (see below).
          own.retry = new Error(`anchor-webhooks: the handler answered ${status}: the claim is released so the retry is processed`)
          throw own.retry
        }
      }
    })
    if (result.kind === 'handler_failed') {
      if (own !== null && own.retry !== null && result.error === own.retry) {
        return { status: own.status, kind: 'handler_failed', event: result.event, error: null, retryAfter: null, returned: own.returned }
      }
      throw handedOn(result.error)
    }
    // A completed delivery the handler answered itself keeps its answer (a failed completion does not: it is 503).
    return result.kind === 'processed' && own !== null ? { ...result, returned: own.returned } : result
  }
  let event
  try {
    event = target.verify(body, headers)
  } catch (error) {
    if (isVerificationError(error)) {
      return rejection(error)
    }
    throw error
  }
  let returned
  if (handler) {
    try {
      returned = await handler(event)
    } catch (error) {
      throw handedOn(error)
    }
  }
  return { status: 200, kind: 'processed', event, error: null, retryAfter: null, returned }
}

/** The body limit of a target (a Verifier's `maxBodyBytes`, or its Receiver's verifier's), or `undefined`. */
function bodyLimitOf(target, receiver) {
  const limit = (receiver ? target.verifier : target)?.maxBodyBytes
  return typeof limit === 'number' ? limit : undefined
}

module.exports = {
  isVerificationError,
  argumentError,
  helperArguments,
  reported,
  rejection,
  asError,
  handedOn,
  answerBody,
  answerHeaders,
  answer,
  senderRetries,
  handleDelivery,
  bodyLimitOf,
}
