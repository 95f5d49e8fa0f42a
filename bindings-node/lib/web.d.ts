// Types of the web-standard helpers (lib/web.cjs): they need only WHATWG Request, Response and Headers.

/** Anything that verifies: `Verifier` here, or the wasm package's. Throws an error with `code`/`httpStatus`. */
export interface VerifyTarget<E> {
  verify(body: Uint8Array, headers: Headers, options?: { now?: Date | number }): E
}

/** The result of `Receiver#receive` (see that method). */
export interface ReceiveResultLike<E> {
  status: number
  kind: 'processed' | 'duplicate' | 'in_progress' | 'rejected' | 'handler_failed'
  event: E | null
  error: unknown
  retryAfter: number | null
}

/**
 * Anything that verifies and dedupes: `Receiver` here, or the wasm package's. At run time a Receiver is an
 * object with `receive` and a `verifier` (both packages' Receivers have one), or with `receive` and no
 * `verify`: the wasm package's `Verifier`, which also has a `receive(request, handler)`, is a Verifier.
 */
export interface ReceiveTarget<E> {
  receive(body: Uint8Array, headers: Headers, handler: (event: E) => unknown): Promise<ReceiveResultLike<E>>
}

export type HonoMiddleware = (c: any, next: () => Promise<void>) => Promise<Response | void>

/**
 * Hono middleware (reads `c.req.arrayBuffer()` and `c.req.raw.headers`).
 * - `honoWebhook(receiver, handler)`: verify, dedupe, run the handler, answer 200/401/400/413/503. A
 *   `Response` the handler returns is sent instead; one of status 500 or more releases the claim (as a
 *   throw does), so the sender's retry is processed.
 * - `honoWebhook(verifier, handler)`: verify, run the handler (a `Response` it returns is sent), answer 200.
 * - `honoWebhook(verifier)`: verify, `c.set('webhookEvent', event)`, call `next()`.
 * A handler that throws is rethrown to Hono (`app.onError`), after a receiver released the claim.
 */
export declare function honoWebhook<E>(receiver: ReceiveTarget<E>, handler: (event: E, c: any) => unknown): HonoMiddleware
export declare function honoWebhook<E>(verifier: VerifyTarget<E>, handler?: (event: E, c: any) => unknown): HonoMiddleware

/**
 * A fetch-style route handler `(request) => Promise<Response>`, e.g. in a Next.js App Router route:
 * `export const POST = nextWebhook(receiver, async (event) => { ... })`. Statuses, and a `Response` the
 * handler returns, as for Hono.
 */
export declare function nextWebhook<E>(
  receiver: ReceiveTarget<E>,
  handler: (event: E, request: Request) => unknown,
): (request: Request) => Promise<Response>
export declare function nextWebhook<E>(
  verifier: VerifyTarget<E>,
  handler: (event: E, request: Request) => unknown,
): (request: Request) => Promise<Response>

/**
 * Reads the request's raw body and verifies it: resolves to the event or rejects with the error. Not a
 * `Request` (an Express `req`), or a body already read or locked: a `TypeError` saying so.
 */
export declare function verifyRequest<E>(
  verifier: VerifyTarget<E>,
  request: Request,
  options?: { now?: Date | number },
): Promise<E>

/** True for verification errors: an `Error` with a string `code` and a numeric `httpStatus`. */
export declare function isVerificationError(error: unknown): error is Error & { code: string; httpStatus: number }
