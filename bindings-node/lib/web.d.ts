// Types of the web-standard helpers (lib/web.cjs): they need only WHATWG Request, Response and Headers.
// Hono's own types are used when they are installed: without them (the import below fails, and is
// ignored) `Context` and `MiddlewareHandler` are `any`, and these declarations still compile.

// @ts-ignore: hono is optional
import type { Context as HonoContext, MiddlewareHandler as HonoMiddlewareHandler } from 'hono'
import type { ErrorCode } from './catalogue'

/**
 * Anything that verifies: `Verifier` here, or the wasm package's. Throws an error with `code`/`httpStatus`.
 * Its `maxBodyBytes` caps what the helpers read of a request.
 */
export interface VerifyTarget<E> {
  /** Returns the event, or throws the refusal (an error with `code` and `httpStatus`). */
  verify(body: Uint8Array, headers: Headers, options?: { now?: Date | number | undefined }): E
  /** The largest body accepted, in bytes: the helpers read at most one byte more (all of it without this). */
  readonly maxBodyBytes?: number
}

/** The result of `Receiver#receive` (see that method). */
export interface ReceiveResultLike<E> {
  /** The HTTP status to answer. */
  status: number
  /** What happened: processed, duplicate 200; in_progress 503; rejected the error's status; handler_failed 500. */
  kind: 'processed' | 'duplicate' | 'in_progress' | 'rejected' | 'handler_failed'
  /** The event; `null` for a refusal before the handler ran. */
  event: E | null
  /** The refusal (`rejected`), what the handler threw (`handler_failed`), else `null`. */
  error: unknown
  /** Seconds for the `Retry-After` header of a 503, else `null`. */
  retryAfter: number | null
}

/**
 * Anything that verifies and dedupes: `Receiver` here, or the wasm package's. At run time a Receiver is an
 * object with `receive` and a `verifier` (both packages' Receivers have one), or with `receive` and no
 * `verify`: the wasm package's `Verifier`, which also has a `receive(request, handler)`, is a Verifier.
 */
export interface ReceiveTarget<E> {
  /** Verifies, claims, runs `handler` for a fresh event, completes or releases: resolves to what it did. */
  receive(body: Uint8Array, headers: Headers, handler: (event: E) => unknown): Promise<ReceiveResultLike<E>>
  /** The verifier it was built with: its `maxBodyBytes` caps what the helpers read (a Receiver without one is read whole). */
  readonly verifier?: { readonly maxBodyBytes?: number }
}

/** What the helpers take: a Receiver (verify, dedupe, complete or release) or a Verifier (verify only). */
export type WebhookTarget<E> = ReceiveTarget<E> | VerifyTarget<E>

/** A verification error as the helpers see it: an `Error` with the catalogue's `code` and the `httpStatus` to answer. */
export type VerificationErrorLike = Error & { code: ErrorCode; httpStatus: number }

/** What `onRejected` is told besides the error. */
export interface RejectionInfo<E, R> {
  /** The status answered (the error's: 401, 400, 413, or 503 for `store_unavailable`). */
  status: number
  /** The event, when the refusal came after verification (a completion the store could not record), else `null`. */
  event: E | null
  /** What the handler gets after the event: Express `req`, Fastify `request`, Hono `c`, a fetch `Request`. */
  request: R
}

/** Options of every framework helper. */
export interface WebhookHelperOptions<E, R> {
  /**
   * Called with every refusal (`kind: 'rejected'`: a verification failure, a body over `maxBodyBytes`, or the
   * dedupe store failing), before the answer is sent. Default: one `console.warn` line for the refusals no
   * stranger can cause: a 5xx (the store failed) and `invalid_payload` (validly signed, but not an envelope
   * the core reads: a 400 is final, so that event is lost); forged, stale, unsigned and oversized requests,
   * which anyone can send, log nothing. Pass your own to log them all (e.g. with your framework's logger).
   */
  onRejected?: ((error: VerificationErrorLike, info: RejectionInfo<E, R>) => void) | undefined
}

/** The variables `honoWebhook(verifier)` sets: `c.get('webhookEvent')` in the handlers after it. */
export type WebhookVariables<E> = { webhookEvent: E }

/** Hono middleware; `V` are the variables it sets for the handlers after it. */
export type HonoMiddleware<V extends object = {}> = HonoMiddlewareHandler<{ Variables: V }>

/**
 * Hono middleware (reads the body from `c.req.raw`, at most `maxBodyBytes + 1` bytes, and leaves it in
 * Hono's body cache; headers from `c.req.raw.headers`).
 * - `honoWebhook(receiver, handler)`: verify, dedupe, run the handler, answer 200/401/400/413/503. A
 *   `Response` the handler returns is sent instead; one of a status the sender retries (3xx, 408, 429,
 *   5xx) releases the claim (as a throw does), so the sender's retry is processed.
 * - `honoWebhook(verifier, handler)`: verify, run the handler (a `Response` it returns is sent), answer 200.
 * - `honoWebhook(verifier)`: verify, `c.set('webhookEvent', event)`, call `next()`; the handlers after it
 *   read it, typed, with `c.get('webhookEvent')`.
 * A handler that throws is rethrown to Hono (`app.onError`), after a receiver released the claim: as it is,
 * unless it carries a status the sender takes as final (2xx, 4xx other than 408 and 429: an
 * `HTTPException(400)`, an error with `status`/`statusCode` 404). Then a plain `Error` is rethrown instead,
 * with `status`/`statusCode` 500, `code: 'ERR_ANCHOR_HANDLER_FAILED'` and the original as `cause`: Hono's
 * default `onError` answers it 500, so the sender retries (a final answer would lose the released event).
 */
export declare function honoWebhook<E>(
  verifier: VerifyTarget<E>,
  options?: WebhookHelperOptions<E, HonoContext>,
): HonoMiddleware<WebhookVariables<E>>
export declare function honoWebhook<E>(
  target: WebhookTarget<E>,
  handler: (event: E, c: HonoContext) => unknown,
  options?: WebhookHelperOptions<E, HonoContext>,
): HonoMiddleware

/**
 * A fetch-style route handler `(request) => Promise<Response>`, e.g. in a Next.js App Router route:
 * `export const POST = nextWebhook(receiver, async (event) => { ... })`. Statuses, the body limit, a
 * `Response` the handler returns, and the error a failing handler rejects with, as for Hono.
 */
export declare function nextWebhook<E>(
  target: WebhookTarget<E>,
  handler: (event: E, request: Request) => unknown,
  options?: WebhookHelperOptions<E, Request>,
): (request: Request) => Promise<Response>

/**
 * Reads the request's raw body (at most the verifier's `maxBodyBytes + 1` bytes: a longer body is refused
 * `body_too_large` without being buffered) and verifies it: resolves to the event or rejects with the error.
 * Not a `Request` (an Express `req`), or a body already read or locked: a `TypeError` saying so.
 */
export declare function verifyRequest<E>(
  verifier: VerifyTarget<E>,
  request: Request,
  options?: { now?: Date | number | undefined },
): Promise<E>

/** True for verification errors: an `Error` with a string `code` and a numeric `httpStatus`. */
export declare function isVerificationError(error: unknown): error is VerificationErrorLike
