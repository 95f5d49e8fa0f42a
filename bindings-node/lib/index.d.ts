// Public types of `anchor-webhooks`. The unions of event types and error codes live in ./catalogue.d.ts,
// generated from the core (a test compares them with eventTypes() / errorCodes()).
/// <reference types="node" />
import type { IncomingHttpHeaders } from 'node:http'
import type { ErrorCode, KnownEventType } from './catalogue'
import type { ReceiveTarget, VerifyTarget, WebhookHelperOptions } from './web'
// Express's and Fastify's own types are used when they are installed (`@types/express`; Fastify ships its
// own): without them the imports below fail, are ignored, and these names are `any`, so the declarations
// still compile.
// @ts-ignore: @types/express is optional
import type { NextFunction as ExpressNext, Request as ExpressRequest, Response as ExpressResponse } from 'express'
// @ts-ignore: fastify is optional
import type { FastifyReply, FastifyRequest } from 'fastify'

export type { ErrorCode, KnownEventType } from './catalogue'
export { honoWebhook, nextWebhook, verifyRequest } from './web'
export type {
  HonoMiddleware,
  ReceiveResultLike,
  ReceiveTarget,
  RejectionInfo,
  VerificationErrorLike,
  VerifyTarget,
  WebhookHelperOptions,
  WebhookTarget,
  WebhookVariables,
} from './web'

declare global {
  namespace Express {
    interface Request {
      /**
       * The event `expressWebhook(verifier)` (verify-only) verified, for the handlers after it; absent on
       * other routes. Typed as an Anchor event: with a Standard Webhooks verifier, its `data` is any JSON value.
       */
      webhookEvent?: Event
    }
  }
}

/** An event type: one of the catalogue, or any other string (unknown types verify too). */
export type EventType = KnownEventType | (string & {})

/**
 * The signing scheme, chosen (never guessed from the headers): `'anchor'` (`Anchor-Signature`) or
 * `'standard'` (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`; `whsec_` secrets).
 */
export type Scheme = 'anchor' | 'standard'

/** The raw request body, exactly as received (never a re-serialised object). */
export type Body = Buffer | Uint8Array | ArrayBufferLike | ArrayBufferView | string

/** One header's value: a number is its text, an array one header per item, `null`/`undefined` no header. */
export type HeaderValue = string | readonly string[] | number | null | undefined

/**
 * Headers in any container: `req.headers` (IncomingHttpHeaders, array values become repeated pairs),
 * `req.rawHeaders` (a flat name/value list), WHATWG `Headers`, a `Map`, `[name, value]` pairs, or a plain
 * object in any casing. Names are matched case-insensitively by the core.
 */
export type HeadersInput =
  | IncomingHttpHeaders
  | Headers
  | { readonly [name: string]: HeaderValue }
  | ReadonlyMap<string, HeaderValue>
  | ReadonlyArray<readonly [string, HeaderValue]>
  | readonly string[]

/** Options of `verify`, `verifySignature` and `Receiver#receive`; any other key is a TypeError naming it. */
export interface VerifyOptions {
  /**
   * The receiver's clock: a `Date` or unix seconds. Default: now. A number of 1e11 or more (milliseconds,
   * such as `Date.now()`) is a TypeError naming the unit.
   */
  now?: Date | number | undefined
}

/** Options of `new Verifier`; any other key is a TypeError naming it. */
export interface VerifierOptions<S extends Scheme = Scheme> {
  /** Two-sided timestamp tolerance in seconds (default 120 for 'anchor', 300 for 'standard'). */
  tolerance?: number | undefined
  /** The signing scheme (default 'anchor'). */
  scheme?: S | undefined
  /** The largest body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number | undefined
}

/** An artifact of a task, as sent in `data.artifacts` (`event.task.artifacts` gives the checked ones). */
export interface Artifact {
  /** The artifact's name, as sent. */
  name: string
  /** Where the artifact is stored. */
  url: string
  /** Its size, in bytes. */
  size?: number
  /** Its MIME type. */
  content_type?: string
  [field: string]: unknown
}

/** The documented values of `error.type` in `task.failed` data (the fields typed with it take any string). */
export type TaskErrorType = 'automation_failure' | 'invalid_credentials' | 'timeout' | 'agent_error' | 'system_error'

/**
 * The `data` of an Anchor event: the documented fields are typed (all optional: which ones appear depends
 * on the type), every other field is kept.
 */
export interface EventData {
  // task.*
  /** The task's id (`task.*`). */
  task_id?: string
  /** The execution's id (`task.*`). */
  execution_id?: string
  /** Captured artifacts (`task.*`); `event.task.artifacts` keeps those with a string `name` and `url`. */
  artifacts?: Artifact[]
  /** The recording's URL (`task.*`, `session.*`). */
  recording_url?: string
  /** The session's dashboard URL (`task.*`). */
  session_dashboard_url?: string
  /** `value` is `"__truncated__"` when the payload was over 64 KB. */
  output?: { value?: unknown; [field: string]: unknown }
  // task.failed
  /** What failed (`task.failed`): `type` (see `TaskErrorType`), `message` and any other field. */
  error?: { type?: TaskErrorType | (string & {}); message?: string; [field: string]: unknown }
  // task.healed
  /** The id of the healed task version (`task.healed`). */
  healed_task_version_id?: string
  // session.*
  /** The session's id (`session.*`). */
  session_id?: string
  /** The session's duration (`session.*`; the provider documents no unit, its examples are in seconds). */
  duration?: number
  /** Proxy bytes used (`session.*`); may be under `usage` instead (`event.session.proxyBytes` reads both). */
  proxy_bytes?: number
  /** Resource-usage fields (`session.*`); `event.session.usageField(name)` reads them here or at the top. */
  usage?: { proxy_bytes?: number; [field: string]: unknown }
  // extraction.* (AnyFormat, Standard Webhooks)
  /** The extraction's id (`extraction.*`). */
  extraction_id?: string
  /** `'processed'` or `'error'` (`extraction.*`). */
  status?: 'processed' | 'error' | (string & {})
  /** The workflow's id (`extraction.*`). */
  workflow_id?: string
  /** When it was processed (`extraction.*`), as sent: a string, not parsed. */
  processed_at?: string
  [field: string]: unknown
}

/** The core's typed view of `task.*` data. */
export interface TaskView {
  /**
   * Artifacts with a string `name` and `url` (others are skipped); `size` (bytes) is `null` when absent or
   * not a non-negative integer, `contentType` when absent or not a string.
   */
  readonly artifacts: ReadonlyArray<{ name: string; url: string; size: number | null; contentType: string | null }>
  /** `recording_url`; `null` when absent or not a string. */
  readonly recordingUrl: string | null
  /** `session_dashboard_url`; `null` when absent or not a string. */
  readonly sessionDashboardUrl: string | null
  /** `task_id`; `null` when absent or not a string. */
  readonly taskId: string | null
  /** `execution_id`; `null` when absent or not a string. */
  readonly executionId: string | null
  /** `output.value`, parsed (`null` when absent). */
  readonly outputValue: unknown
  /** Whether the provider replaced `output.value` with `"__truncated__"` (payload over 64 KB). */
  readonly outputTruncated: boolean
  /** `error.type` of task.failed; `null` when absent or not a string. */
  readonly errorType: TaskErrorType | (string & {}) | null
  /** The whole `error` object of task.failed; `null` when absent or not an object (it stays in `data`). */
  readonly error: { type?: string; [field: string]: unknown } | null
  /** `healed_task_version_id` of task.healed; `null` when absent or not a string. */
  readonly healedTaskVersionId: string | null
}

/** The core's typed view of `session.*` data. */
export interface SessionView {
  /** `duration`; `null` when absent or not a number (unit undocumented; seconds in the provider's examples). */
  readonly duration: number | null
  /** `proxy_bytes`, at the top of `data` or under `usage`; `null` when absent or not a non-negative integer. */
  readonly proxyBytes: number | null
  /** `recording_url`; `null` when absent or not a string. */
  readonly recordingUrl: string | null
  /** `session_id`; `null` when absent or not a string. */
  readonly sessionId: string | null
  /** A resource-usage field, at the top of `data` or under `usage`, parsed (`null` when absent). */
  usageField(name: string): unknown
}

/**
 * A verified event. Fields are read from the core on access; `data` is parsed with `JSON.parse` on first
 * access and cached. `Data` is `EventData` for the Anchor scheme; for Standard Webhooks it is the body's
 * `data` field, any JSON value (`null` when absent).
 */
export declare class Event<Data = EventData> {
  private constructor()
  /** The event id (the dedupe key): the envelope `id`, or the `webhook-id` header (Standard Webhooks). */
  readonly id: string
  /** The event type; for Standard Webhooks the body's `type` or `event` field, else `''`. */
  readonly type: EventType
  /** When the provider created the event (`created`, or a Standard body's `timestamp`), else `null`. */
  readonly created: Date | null
  /** The envelope's `project_id`; `null` when absent, and always for Standard Webhooks. */
  readonly projectId: string | null
  /** A one-line summary for humans; integrations read `data`. */
  readonly text: string | null
  /** The event's `data`, parsed on first access, then cached (Standard Webhooks: `null` when there is none). */
  readonly data: Data
  /** Index of the configured secret that matched (rotation). */
  readonly matchedSecret: number
  /** The signed timestamp, unix seconds. */
  readonly timestamp: number
  /** `Anchor-Delivery-Id` (or `null`; not signed, so for logs only, never for dedupe), or the `webhook-id` header (Standard Webhooks; signed). */
  readonly deliveryId: string | null
  /** Typed `task.*` fields; `null` for other events. */
  readonly task: TaskView | null
  /** Typed `session.*` fields; `null` for other events. */
  readonly session: SessionView | null
  /**
   * Whether this is an event of `type` (one of the catalogue), as a type guard: it narrows `type`, and
   * `task` (`task.*` types) or `session` (`session.*` types) to non-null. Comparing `event.type` narrows
   * only `type` itself: `type` is also any other string, so TypeScript cannot tie `task` to it.
   */
  is<K extends KnownEventType>(type: K): this is this & EventOfType<K>
  /**
   * Every field as a plain object (`data` parsed): what to enqueue, post or `structuredClone`. The event
   * itself spreads and clones to `{}` (its fields are getters over private state).
   */
  toJSON(): {
    id: string
    type: EventType
    created: Date | null
    projectId: string | null
    text: string | null
    data: Data
    matchedSecret: number
    timestamp: number
    deliveryId: string | null
  }
}

/** What `event.is(type)` tells about an event: its `type`, and the typed view that type always has. */
export type EventOfType<K extends KnownEventType> = { readonly type: K } & (K extends `task.${string}`
  ? { readonly task: TaskView }
  : K extends `session.${string}`
    ? { readonly session: SessionView }
    : {})

/** The event type a verifier of scheme `S` produces. */
export type EventOf<S extends Scheme> = S extends 'standard' ? Event<unknown> : Event<EventData>

/** Verification (or a dedupe store) failed. */
export declare class WebhookVerificationError extends Error {
  /** `httpStatus` is the catalogue's status of `code` (500 for a code the catalogue does not have). */
  constructor(code: ErrorCode, message: string, skewSeconds?: number | null)
  readonly name: 'WebhookVerificationError'
  /** The catalogue's code, e.g. `'signature_mismatch'`. */
  readonly code: ErrorCode
  /** The HTTP status to answer: 401 verification failure, 400 malformed input, 413, 503 store, 500 config. */
  readonly httpStatus: number
  /** The measured clock skew in seconds, for `timestamp_too_old` / `timestamp_too_new`; otherwise null. */
  readonly skewSeconds: number | null
}

/**
 * Verifies deliveries against one or more secrets (several during a rotation). The secrets are not kept as text:
 * the native verifier holds only the keyed HMAC state, zeroed when it is freed.
 */
export declare class Verifier<S extends Scheme = 'anchor'> implements VerifyTarget<EventOf<S>> {
  /**
   * Build it once and reuse it. Throws a `WebhookVerificationError` with code `invalid_secret` for an
   * unusable secret (empty, stray whitespace, not in the scheme's format; the message names the problem,
   * never the secret), and a TypeError (`ERR_INVALID_ARG_TYPE` or
   * `ERR_INVALID_ARG_VALUE`) for an option out of range.
   */
  constructor(secretOrSecrets: string | readonly string[], options?: VerifierOptions<S>)
  /** Verifies the raw body and headers; throws a `WebhookVerificationError` when they do not check out. */
  verify(body: Body, headers: HeadersInput, options?: VerifyOptions): EventOf<S>
  /** Headers, timestamp and signature only, without parsing the body. */
  verifySignature(body: Body, headers: HeadersInput, options?: VerifyOptions): { matchedSecret: number; timestamp: number }
  /** The scheme it verifies. */
  readonly scheme: S
  /** The two-sided timestamp tolerance, in seconds. */
  readonly tolerance: number
  /** The largest body accepted, in bytes; a longer one is `body_too_large` (413). */
  readonly maxBodyBytes: number
  /** How many secrets are configured (the secrets themselves cannot be read back). */
  readonly secretCount: number
}

/** Options of `sign`; any other key is a TypeError naming it. */
export interface SignOptions {
  /** The signing scheme (default 'anchor'). */
  scheme?: Scheme | undefined
  /** Unix seconds or a `Date`. Default: now. */
  timestamp?: Date | number | undefined
  /** `Anchor-Delivery-Id` / `webhook-id`. Default: derived from the timestamp and body. */
  id?: string | undefined
  /** `Anchor-Event`. Default: the body's `type` field. */
  eventType?: string | undefined
}

/** Signs `body` as the provider would (for tests): the delivery headers, e.g. `{ 'Anchor-Signature': ... }`. */
export declare function sign(secretOrSecrets: string | readonly string[], body: Body, options?: SignOptions): Record<string, string>

/** Options of `new MemoryStore`; any other key is a TypeError naming it. */
export interface MemoryStoreOptions {
  /** The most ids held (default 100 000; at least 1). Full, the oldest completed id makes room; full of claims in progress, claims fail with `store_unavailable`. */
  maxEntries?: number | undefined
  /** How long a completed id is remembered, in seconds (default 24 h; at least 1). */
  ttlSeconds?: number | undefined
}

/** The in-process dedupe store: for one process (replicas share a `RedisStore`); ids are lost on restart. */
export declare class MemoryStore {
  /** A bad option (of the wrong type, or out of range) is a TypeError. */
  constructor(options?: MemoryStoreOptions)
  /** Ids held (live, or expired and not yet evicted). */
  readonly size: number
}

/** Options of `new RedisStore`; any other key is a TypeError naming it. */
export interface RedisStoreOptions {
  /** Keys are `{keyPrefix}:{hex SHA-256 of the id}` (default `anchor-webhooks:dedupe`). */
  keyPrefix?: string | undefined
  /** How long a completed id is remembered, in seconds (default 24 h; at least 1). */
  ttlSeconds?: number | undefined
  /**
   * Deadline of every connect and command, in seconds (default 1; at least 0.001). Keep it short: while
   * Redis does not answer, each delivery waits this long for its 503 (README: "Redis calls and threads").
   */
  timeoutSeconds?: number | undefined
  /** Idle connections kept open for the next calls (default 16; 0 opens one connection per call). */
  maxIdleConnections?: number | undefined
  /**
   * The most threads this store's calls run on at once (default 64; a whole number from 1 to 4096). Each
   * busy thread holds one Redis connection; a call that waits for a thread longer than `timeoutSeconds`
   * is `store_unavailable` (503) without reaching Redis (README: "Redis calls and threads").
   */
  maxThreads?: number | undefined
  /** PEM certificates to trust for `rediss://` (a private CA). */
  tlsRootCertificates?: string | Uint8Array | undefined
}

/**
 * The Redis dedupe store (Redis 7+), shared by every replica. Its I/O runs on threads of the store's own
 * (at most `maxThreads`, reused, gone after 30 s idle), not on libuv's thread pool, so a hung Redis does
 * not stall `fs`, `dns.lookup` or `zlib`.
 */
export declare class RedisStore {
  /**
   * Only parses the URL (the server may come up later: call `check()` at start-up); an invalid URL or
   * option is a `TypeError` (`ERR_INVALID_ARG_VALUE`).
   */
  constructor(url: string, options?: RedisStoreOptions)
  /**
   * Asks the server whether this store can work. Rejects with a `RedisCheckError`: `code`
   * `'ERR_REDIS_MISCONFIGURED'` when the setup can never work (refuse to start), `'ERR_REDIS_UNAVAILABLE'`
   * when the server is down or hung (it may come back).
   */
  check(): Promise<void>
}

/** The rejection of `RedisStore#check()`: `name` is `'RedisCheckError'`; the message names the cause. */
export interface RedisCheckError extends Error {
  /** `ERR_REDIS_MISCONFIGURED`: the setup can never work; `ERR_REDIS_UNAVAILABLE`: down or hung, may recover. */
  code: 'ERR_REDIS_MISCONFIGURED' | 'ERR_REDIS_UNAVAILABLE'
}

/** What `Receiver#receive` did: the `kind` of a `ReceiveResult` (see there for each one's status). */
export type ReceiveKind = 'processed' | 'duplicate' | 'in_progress' | 'rejected' | 'handler_failed'

/**
 * What `receive` did, and the HTTP answer to give (`status`, plus `Retry-After: retryAfter` on a 503):
 * processed 200; duplicate 200 (handler not run); in_progress 503 (another worker holds the claim);
 * rejected: the error's status (401/400/413, 503 store_unavailable); handler_failed 500 (claim released).
 */
export type ReceiveResult<E> =
  | { kind: 'processed' | 'duplicate'; status: number; event: E; error: null; retryAfter: null }
  | { kind: 'in_progress'; status: number; event: E; error: null; retryAfter: number }
  | { kind: 'rejected'; status: number; event: E | null; error: WebhookVerificationError; retryAfter: number | null }
  | { kind: 'handler_failed'; status: number; event: E; error: unknown; retryAfter: null }

/** Options of `new Receiver`; any other key is a TypeError naming it. */
export interface ReceiverOptions {
  /**
   * How long a claim is held before another worker may take the event over, in seconds (default 30; at
   * least 1). Longer than the handler, and well shorter than the sender's retry window (Anchor's last
   * attempt is 80 s after the first): a worker that crashes in the handler keeps the event for the whole
   * lease, and retries meanwhile are answered 503 `in_progress` (README: "Choosing the lease").
   */
  leaseSeconds?: number | undefined
  /**
   * Called when a handler succeeded but outlasted its lease, so the claim was gone when it finished
   * (another delivery may have run it too): `message` is the core's warning, naming the event and the
   * lease. The result is still `processed` (200). Default: `process.emitWarning(message, { type:
   * 'AnchorWebhooksWarning', code: 'ANCHOR_CLAIM_LOST' })`.
   */
  onClaimLost?: ((event: Event, message: string) => void) | undefined
}

/** A Verifier and a dedupe store: verify, claim, run the handler, then complete it or release it. */
export declare class Receiver<S extends Scheme = 'anchor'> implements ReceiveTarget<EventOf<S>> {
  /**
   * The store is required (a `MemoryStore` for one process, a `RedisStore` for replicas); give each
   * endpoint its own. Options: `leaseSeconds` (default 30, at least 1) and `onClaimLost`. A bad argument is
   * a TypeError.
   */
  constructor(verifier: Verifier<S>, store: MemoryStore | RedisStore, options?: ReceiverOptions)
  /** The verifier it was built with. */
  readonly verifier: Verifier<S>
  /** The dedupe store it was built with. */
  readonly store: MemoryStore | RedisStore
  /**
   * Verifies, claims the event id, runs `handler` for a fresh event, then completes the id (handler
   * succeeded) or releases it (handler threw or rejected). Never rejects for a verification, store or
   * handler failure: they are results.
   */
  receive(
    body: Body,
    headers: HeadersInput,
    handler: (event: EventOf<S>) => unknown,
    options?: VerifyOptions,
  ): Promise<ReceiveResult<EventOf<S>>>
}

/** Every event type of the catalogue. */
export declare function eventTypes(): KnownEventType[]

/** Every error code of the catalogue. */
export declare function errorCodes(): ErrorCode[]

/** Express middleware, typed with `@types/express` when it is installed. */
export type ExpressMiddleware = (req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void

/**
 * Express middleware (Express 4 and 5), with or without `express.raw()` in front (give it a `limit` of at
 * least the verifier's `maxBodyBytes`: body-parser's default is 100 kB). A body `express.json()` already
 * parsed is refused (500, via `next(err)`, `code: 'ERR_ANCHOR_BODY_ALREADY_PARSED'`) unless the parser kept
 * its bytes in `req.rawBody` (a Buffer or Uint8Array: `express.json({ verify: (req, res, buf) => { req.rawBody = buf } })`),
 * which are then verified.
 * - `expressWebhook(receiver, handler)`: verify, dedupe, run `handler(event, req, res)`, answer
 *   200/401/400/413/503 (unless the handler answered; a handler that answered a status the sender
 *   retries, 3xx, 408, 429 or 5xx, has the claim released, so the sender's retry is processed).
 * - `expressWebhook(verifier, handler)`: verify, run the handler, answer 200.
 * - `expressWebhook(verifier)`: verify, set `req.webhookEvent`, call `next()`.
 * A handler that throws goes to `next(err)` (after the claim was released): its error as it is, unless its
 * `status`/`statusCode` is one the sender takes as final (2xx, 4xx other than 408 and 429, e.g.
 * `createError(404)`): then an `Error` with `status`/`statusCode` 500, `code: 'ERR_ANCHOR_HANDLER_FAILED'`
 * and the original as `cause` goes instead, so the answer is 500 and the sender retries (a final answer
 * would lose the released event). `options.onRejected` reports refusals (see `WebhookHelperOptions`).
 */
export declare function expressWebhook<S extends Scheme>(
  receiver: Receiver<S>,
  handler: (event: EventOf<S>, req: ExpressRequest, res: ExpressResponse) => unknown,
  options?: WebhookHelperOptions<EventOf<S>, ExpressRequest>,
): ExpressMiddleware
export declare function expressWebhook<S extends Scheme>(
  verifier: Verifier<S>,
  options?: WebhookHelperOptions<EventOf<S>, ExpressRequest>,
): ExpressMiddleware
export declare function expressWebhook<S extends Scheme>(
  verifier: Verifier<S>,
  handler?: (event: EventOf<S>, req: ExpressRequest, res: ExpressResponse) => unknown,
  options?: WebhookHelperOptions<EventOf<S>, ExpressRequest>,
): ExpressMiddleware

/**
 * The options of `fastifyWebhook`: a `receiver` (verify and dedupe) or a `verifier` (verify only), and the
 * handler. Without `S`, the union over both schemes: TypeScript picks the member of the receiver's (or
 * verifier's) scheme, so the handler's event is that scheme's (`fastifyWebhook` itself is not generic:
 * Fastify's `register` could not infer through it).
 */
export type FastifyWebhookOptions<S extends Scheme = Scheme> = S extends Scheme
  ? {
      /** The route's path (default '/webhooks'). */
      path?: string
      /** Runs for each verified event (with a `receiver`, fresh ones only: not duplicates, not in progress). */
      handler: (event: EventOf<S>, request: FastifyRequest, reply: FastifyReply) => unknown
    } & WebhookHelperOptions<EventOf<S>, FastifyRequest> &
      (
        | {
            /**
             * Verify, dedupe, complete/release; a handler that answers itself a status the sender retries
             * (3xx, 408, 429, 5xx: `reply.code(503).send()`) has the claim released too.
             */
            receiver: Receiver<S>
            verifier?: undefined
          }
        | {
            /** Verify only. */
            verifier: Verifier<S>
            receiver?: undefined
          }
      )
  : never

/**
 * Fastify plugin: `app.register(fastifyWebhook, { receiver, handler, path })` adds `POST path` with raw-body
 * parsing in its own encapsulated scope (other routes keep JSON parsing); that route's body limit is the
 * verifier's `maxBodyBytes`, whatever the app's `bodyLimit`. A handler that throws goes to Fastify's error
 * handling (after the claim was released), as it is, or as a 500 `ERR_ANCHOR_HANDLER_FAILED` error whose
 * `cause` it is when its `status`/`statusCode` is one the sender takes as final (as for `expressWebhook`).
 * `onRejected` reports refusals (see `WebhookHelperOptions`).
 */
export declare function fastifyWebhook(fastify: any, options: FastifyWebhookOptions, done: (error?: Error) => void): void
