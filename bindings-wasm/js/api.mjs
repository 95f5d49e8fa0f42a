// The public API of anchor-webhooks-wasm, over the raw exports of the wasm module (src/lib.rs).
//
// Written once; each entry point (index.node.mjs, index.cjs, index.web.mjs, index.workerd.mjs,
// index.bundler.mjs) loads the wasm its own way and calls createApi. build.sh makes the CommonJS copy
// (pkg/nodejs/api.cjs) by rewriting the single export line at the bottom, so this file imports nothing
// and keeps that line as is.
//
// What lives here: conversions (bodies, header containers, the clock, claim tokens), moving data to and
// from the user's asynchronous store, and building a Response. Every rule (verification, the dedupe
// decisions, error codes, HTTP statuses) is the core's.

// One API per loaded wasm module, so every entry point over one instance shares its classes (`instanceof`
// works across them, and the error class the instance throws is theirs): `index.web.mjs` and `./manual`
// (one ES module namespace, a key here), and Node's `import` and `require` entries (the CommonJS exports
// object of the nodejs build, which each of the two copies of this file sees: the cache is put on it).
const apis = new WeakMap();
const API = Symbol.for('anchor-webhooks-wasm/api');

// Argument errors are TypeErrors with the Node package's codes (Node's own convention): a value of the
// wrong type is `ERR_INVALID_ARG_TYPE`, a value of the right type that is refused `ERR_INVALID_ARG_VALUE`.
function typeError(message) {
  const error = new TypeError(message);
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

function valueError(message) {
  const error = new TypeError(message);
  error.code = 'ERR_INVALID_ARG_VALUE';
  return error;
}

/** What `value` is, for an error message (never its contents: it may be a secret or a body). */
function describe(value) {
  if (value === null) return 'null';
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  if (Array.isArray(value)) return 'an array';
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
}

/**
 * `describe(value)`, and for an object named like one of this package's classes but not of them, where it
 * comes from: the native package's classes, or those of another copy of this one, work only with their own.
 */
function describeForeign(value) {
  const shown = describe(value);
  return ['a MemoryStore', 'a RedisStore', 'a Verifier'].includes(shown)
    ? `${shown} from another package or another copy of anchor-webhooks-wasm (the classes of anchor-webhooks, the ` +
        'native package, or of a second installed copy of this one, work only with their own Receiver)'
    : shown;
}

/** Unix seconds from here on are refused: they are milliseconds (`Date.now()`), not a time in the year 5138. */
const MILLISECONDS_FROM = 1e11;

/** Unix seconds from a number of seconds or a Date (`what` names the argument), with the Node package's rule. */
function unixSeconds(value, what) {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (typeof value !== 'number') throw typeError(`\`${what}\` must be unix seconds (a number) or a Date`);
  if (value >= MILLISECONDS_FROM) {
    throw valueError(`${what} must be unix seconds or a Date; ${value} looks like milliseconds (Date.now()): pass seconds or a Date`);
  }
  return value;
}

/** The longest delay `setTimeout` keeps (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
const LONGEST_TIMER_MS = 0x7fffffff;

/** `10 s`, or `250 ms` when not whole seconds, as the core writes durations. */
function durationText(ms) {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * A TypeError of the wasm module (a value it refused: a scheme, a negative or non-finite number) with the
 * code of a refused value; a refused `scheme` also says what was given, as in the Node package.
 */
function refusedValue(error, scheme) {
  if (!(error instanceof TypeError) || error.code !== undefined) return error;
  if (scheme !== undefined && error.message.startsWith('`scheme`')) {
    return valueError(`${error.message}, got ${JSON.stringify(scheme)}`);
  }
  error.code = 'ERR_INVALID_ARG_VALUE';
  return error;
}

function createApi(raw) {
  const known = apis.get(raw) ?? raw[API];
  if (known) return known;

  const RAW = Symbol('anchor-webhooks-wasm raw handle');
  const textEncoder = new TextEncoder();
  const textDecoder = new TextDecoder();

  /** A delivery refused by the core: `code` is its stable error code, `httpStatus` the answer it suggests. */
  class WebhookVerificationError extends Error {
    constructor(message, code, httpStatus, skewSeconds) {
      super(message);
      this.name = 'WebhookVerificationError';
      this.code = code;
      this.httpStatus = httpStatus;
      this.skewSeconds = skewSeconds ?? null;
    }
  }
  raw.registerErrorClass(WebhookVerificationError);

  // ---- conversions -------------------------------------------------------------------------------

  function bodyBytes(body) {
    if (body instanceof Uint8Array) return body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (typeof SharedArrayBuffer === 'function' && body instanceof SharedArrayBuffer) return new Uint8Array(body);
    if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    throw typeError('body must be a Uint8Array, an ArrayBuffer (view) or a string: the raw request body, before any JSON parsing');
  }

  // Header containers become one string of names and values end to end plus their lengths, one pair per
  // value (a repeated name is passed as repeated pairs; the core decides what that means). As in the Node
  // package: an absent value (null, undefined), alone or inside an array of values, is no header; a value
  // that is neither a string nor a number is a TypeError naming the header.
  function flattenHeaders(headers) {
    let joined = '';
    const lengths = [];
    const one = (name, value) => {
      if (value === undefined || value === null) return;
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw typeError(`header \`${name}\`: a value must be a string or a number, got ${typeof value}`);
      }
      value = String(value);
      joined += name;
      joined += value;
      lengths.push(name.length, value.length);
    };
    const add = (name, value) => {
      name = String(name);
      if (Array.isArray(value)) for (const item of value) one(name, item);
      else one(name, value);
    };
    if (headers === null || typeof headers !== 'object') {
      throw typeError('headers must be a Headers object, a Map, an array of [name, value] pairs or a plain object');
    }
    if (Array.isArray(headers)) {
      if (typeof headers[0] === 'string') {
        throw typeError(
          'headers: a flat list of names and values (like Node\'s req.rawHeaders) is not accepted: pass [name, value] pairs, a Headers, a Map or a plain object (req.headers)',
        );
      }
      for (const pair of headers) {
        if (!Array.isArray(pair) || pair.length !== 2) throw typeError('headers: header entries must be [name, value] pairs');
        add(pair[0], pair[1]);
      }
    } else if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
      headers.forEach((value, name) => add(name, value)); // WHATWG Headers, Map
    } else {
      for (const name of Object.keys(headers)) add(name, headers[name]);
    }
    return [joined, lengths];
  }

  function secretList(secretOrSecrets) {
    const secrets = typeof secretOrSecrets === 'string' ? [secretOrSecrets] : secretOrSecrets;
    // Bytes get a hint: the secret is text, and raw key bytes are written as `whsec_` + their base64.
    const refuse = (secret) => typeError('secrets must be a string or an array of strings' + (ArrayBuffer.isView(secret)
      ? ": decode a secret read as bytes first; raw key bytes are given as 'whsec_' + their base64" : ''));
    if (!Array.isArray(secrets)) throw refuse(secrets);
    // Every index, holes included (`[, secret]`): `every` skips holes, and wasm-bindgen then refused the
    // list with a plain Error of its own.
    for (let i = 0; i < secrets.length; i++) {
      if (typeof secrets[i] !== 'string') throw refuse(secrets[i]);
    }
    return secrets.slice();
  }

  function optionalNumber(name, value) {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw typeError(`\`${name}\` must be a number`);
    return value;
  }

  /** `options` (an object, or absent) with only the `allowed` keys: a misspelt option is an error, not ignored. */
  function knownOptions(what, options, allowed) {
    if (options === undefined || options === null) return {};
    // A plain object, as in the Node package: an array, a Date or a Map is a mistake, not options.
    if (typeof options !== 'object' || Array.isArray(options) || Object.prototype.toString.call(options) !== '[object Object]') {
      throw typeError(`${what}: options must be an object`);
    }
    for (const key of Object.keys(options)) {
      if (!allowed.includes(key)) {
        throw typeError(`${what}: unknown option \`${key}\` (the options are ${allowed.join(', ')})`);
      }
    }
    return options;
  }

  /**
   * A duration option in seconds as milliseconds (`fallbackMs` when absent), in the core's range for
   * `setting` (`lease` or `doneTtl`), checked when the object is built: a bad value must not surface later,
   * inside a delivery, after a handler ran.
   */
  function durationMs(setting, name, value, fallbackMs) {
    if (value === undefined || value === null) return fallbackMs;
    if (typeof value !== 'number') throw typeError(`\`${name}\` must be a number of seconds`);
    try {
      return raw.settingMs(setting, name, value);
    } catch (error) {
      throw refusedValue(error);
    }
  }

  function optionalString(name, value) {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw typeError(`\`${name}\` must be a string`);
    return value;
  }

  /** The host clock in unix seconds, or `options.now` (unix seconds, or a Date; milliseconds are refused). */
  function nowSeconds(options, what = 'verify') {
    const now = knownOptions(what, options, ['now']).now;
    if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
    return unixSeconds(now, 'now');
  }

  function claimToken() {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
    let hex = '';
    for (const byte of bytes) hex += (byte < 16 ? '0' : '') + byte.toString(16);
    return hex;
  }

  /**
   * The first `most` bytes of a stream (all of a shorter one), in one new buffer: it stops reading as soon as
   * it has them and cancels the stream, so the rest is never pulled from the client.
   */
  async function readAtMost(stream, most) {
    const reader = stream.getReader();
    const chunks = [];
    let size = 0;
    while (size < most) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    if (size >= most) reader.cancel().catch(() => {});
    const bytes = new Uint8Array(Math.min(size, most));
    let at = 0;
    for (const chunk of chunks) {
      const piece = chunk.subarray(0, bytes.byteLength - at);
      bytes.set(piece, at);
      at += piece.byteLength;
    }
    return bytes;
  }

  /**
   * A Request's raw body, read once, and at most `limit + 1` bytes of it (`limit`: the verifier's
   * `maxBodyBytes`): a `Content-Length` over the limit is refused before reading, a longer stream is read to
   * `limit + 1` bytes and cancelled. Either way the core gets `limit + 1` bytes and answers for them, after the
   * header checks it makes first: `body_too_large` (413), as the Node package's helpers answer.
   */
  async function readRequestBody(request, limit) {
    if (!request || typeof request.arrayBuffer !== 'function' || !request.headers) {
      throw typeError('expected a Request');
    }
    if (request.bodyUsed || request.body?.locked) {
      throw valueError('the request body was already read or is locked: verify before parsing it, or pass request.clone()');
    }
    const stream = request.body;
    const streamed = typeof stream?.getReader === 'function';
    const declared = typeof request.headers.get === 'function' ? request.headers.get('content-length') : null;
    if (streamed && typeof declared === 'string' && /^\d+$/.test(declared) && Number(declared) > limit) {
      stream.cancel().catch(() => {});
      return new Uint8Array(limit + 1);
    }
    try {
      return streamed ? await readAtMost(stream, limit + 1) : new Uint8Array(await request.arrayBuffer());
    } catch (error) {
      throw new TypeError(`the request body could not be read (was it read elsewhere, or did the client go away?): ${error?.message ?? error}`, {
        cause: error,
      });
    }
  }

  /**
   * `call(bytes)` with at most `maxBodyBytes + 1` of them in wasm memory: enough for the core to refuse an
   * oversized body with `body_too_large` at its own point in its order of checks (headers and timestamp
   * first), without copying a body that wasm memory may not even hold (that would abort the instance).
   * The refusal then states the body's real length.
   */
  function withinLimit(verifier, bytes, call) {
    const limit = verifier.maxBodyBytes;
    const over = bytes.byteLength > limit;
    try {
      return call(over ? bytes.subarray(0, limit + 1) : bytes);
    } catch (error) {
      throw over && error instanceof WebhookVerificationError && error.code === 'body_too_large'
        ? raw.bodyTooLargeError(bytes.byteLength, limit)
        : refusedValue(error);
    }
  }

  // ---- events ------------------------------------------------------------------------------------

  /** A verified event. `data` is parsed from the signed body on first access, then cached. */
  class Event {
    #dataSource; // the JSON text of `data`
    #data = null;
    #body; // what was verified: bytes, or a string until `rawBody` is first read

    // `body` is what was verified (a string, or bytes), `fields` what the core read from it: ONE string,
    // `createdMs,matchedSecret,timestamp,dataStart,dataEnd,idLen,typeLen,projectIdLen,textLen,deliveryIdLen;`
    // then those strings end to end (src/lib.rs, `event_text`); an empty field is absent.
    constructor(fields, body) {
      const head = fields.indexOf(';');
      const n = fields.slice(0, head).split(',');
      let at = head + 1;
      const next = (length) => {
        if (length === '') return null;
        const start = at;
        at += Number(length);
        return fields.slice(start, at);
      };
      this.id = next(n[5]);
      this.type = next(n[6]);
      this.created = n[0] === '' ? null : new Date(Number(n[0]));
      this.projectId = next(n[7]);
      this.text = next(n[8]);
      this.matchedSecret = Number(n[1]);
      this.timestamp = Number(n[2]);
      this.deliveryId = next(n[9]);
      // Decoded now, not kept as a view: bytes the caller changes after verification must not become
      // `data` (a string is immutable, and decoding costs about what copying the bytes would).
      this.#dataSource =
        n[3] === ''
          ? null
          : typeof body === 'string'
            ? body.slice(Number(n[3]), Number(n[4]))
            : textDecoder.decode(body.subarray(Number(n[3]), Number(n[4])));
      this.#body = body;
    }

    /** The verified body as bytes (a body given as text: its UTF-8 bytes, which were verified). */
    get rawBody() {
      if (typeof this.#body === 'string') this.#body = textEncoder.encode(this.#body);
      return this.#body;
    }

    get data() {
      const source = this.#dataSource;
      if (source !== null) {
        this.#data = JSON.parse(source);
        this.#dataSource = null;
      }
      return this.#data;
    }

    /** Whether this is an event of `type` (a type guard in TypeScript). */
    is(type) {
      return this.type === type;
    }

    toJSON() {
      const { id, type, created, projectId, text, data, matchedSecret, timestamp, deliveryId } = this;
      return { id, type, created, projectId, text, data, matchedSecret, timestamp, deliveryId };
    }
  }


  // ---- verifier ----------------------------------------------------------------------------------

  class Verifier {
    #defaultStore = null;
    #receivers = new WeakMap();
    #maxBodyBytes;

    constructor(secretOrSecrets, options) {
      const { tolerance, scheme, maxBodyBytes } = knownOptions('Verifier', options, ['tolerance', 'scheme', 'maxBodyBytes']);
      const secrets = secretList(secretOrSecrets);
      const schemeName = optionalString('scheme', scheme);
      const toleranceSeconds = optionalNumber('tolerance', tolerance);
      const maxBytes = optionalNumber('maxBodyBytes', maxBodyBytes);
      try {
        this[RAW] = new raw.RawVerifier(secrets, schemeName, toleranceSeconds, maxBytes);
      } catch (error) {
        throw refusedValue(error, schemeName);
      }
      this.#maxBodyBytes = this[RAW].maxBodyBytes;
    }

    get scheme() {
      return this[RAW].scheme;
    }

    get tolerance() {
      return this[RAW].tolerance;
    }

    get maxBodyBytes() {
      return this.#maxBodyBytes;
    }

    get secretCount() {
      return this[RAW].secretCount;
    }

    /** Verifies a delivery: the raw body (bytes, or text whose UTF-8 bytes were signed) and its headers. */
    verify(body, headers, options) {
      const [joined, lengths] = flattenHeaders(headers);
      const now = nowSeconds(options);
      const text = typeof body === 'string';
      const bytes = text ? textEncoder.encode(body) : bodyBytes(body);
      const fields = withinLimit(this, bytes, (within) => this[RAW].verify(within, joined, lengths, now, text));
      return new Event(fields, text ? body : bytes);
    }

    /** Headers, timestamp and signature only, without reading the body as JSON. */
    verifySignature(body, headers, options) {
      const [joined, lengths] = flattenHeaders(headers);
      const now = nowSeconds(options, 'verifySignature');
      const bytes = typeof body === 'string' ? textEncoder.encode(body) : bodyBytes(body);
      const [matchedSecret, timestamp] = withinLimit(this, bytes, (within) =>
        this[RAW].verifySignature(within, joined, lengths, now),
      );
      return { matchedSecret, timestamp };
    }

    /** Reads the request body once and verifies it; the bytes stay on the event (`event.rawBody`). */
    async verifyRequest(request, options) {
      nowSeconds(options, 'verifyRequest'); // the options, `now` included, are checked before the body is read
      return this.verify(await readRequestBody(request, this.#maxBodyBytes), request.headers, options);
    }

    /**
     * Verify, dedupe, run `handler(event, body)`, and answer: 200 processed or duplicate (handler not run),
     * 401/400/413 refused, 503 store unavailable or in progress elsewhere (Retry-After), 500 handler failed.
     */
    async receive(request, handler, options) {
      if (typeof handler !== 'function') throw typeError('handler must be a function');
      const { store: given, onError, ...receiverOptions } = knownOptions('receive', options, [
        'store', 'leaseSeconds', 'ttlSeconds', 'prefix', 'timeoutSeconds', 'onClaimLost', 'onError',
      ]);
      const store = given ?? (this.#defaultStore ??= new MemoryStore());
      const defaults = Object.values(receiverOptions).every((value) => value === undefined);
      let receiver = defaults ? this.#receivers.get(store) : undefined;
      if (!receiver) {
        // Its errors name this call (the user did not call `new Receiver`).
        receiver = new Receiver(this, store, { ...receiverOptions, [CALLED_AS]: 'receive' });
        if (defaults) this.#receivers.set(store, receiver);
      }
      const body = await readRequestBody(request, this.#maxBodyBytes);
      const outcome = await receiver.receive(body, request.headers, handler);
      if (outcome.kind === 'handler_failed') {
        if (typeof onError === 'function') onError(outcome.error, outcome.event);
        else console.error('anchor-webhooks-wasm: the handler failed; answered 500 so the sender retries:', outcome.error);
      }
      return outcomeResponse(outcome);
    }

    toString() {
      return `Verifier { scheme: ${this.scheme}, secrets: [${this.secretCount} redacted] }`;
    }
  }

  function outcomeResponse(outcome) {
    const payload =
      outcome.kind === 'rejected'
        ? { ok: false, error: outcome.error.code, message: outcome.error.message }
        : { ok: outcome.status < 300, outcome: outcome.kind };
    const headers = { 'content-type': 'application/json' };
    if (outcome.retryAfter !== null) headers['retry-after'] = String(outcome.retryAfter);
    return new Response(JSON.stringify(payload), { status: outcome.status, headers });
  }

  // ---- dedupe ------------------------------------------------------------------------------------

  /** The core's in-memory store (bounded, with a TTL), inside this wasm instance. */
  class MemoryStore {
    constructor(options) {
      const { maxEntries, ttlSeconds } = knownOptions('MemoryStore', options, ['maxEntries', 'ttlSeconds']);
      const entries = optionalNumber('maxEntries', maxEntries);
      const ttl = optionalNumber('ttlSeconds', ttlSeconds);
      try {
        this[RAW] = new raw.RawMemoryStore(entries, ttl);
      } catch (error) {
        throw refusedValue(error);
      }
    }

    get size() {
      return this[RAW].size;
    }

    get maxEntries() {
      return this[RAW].maxEntries;
    }

    /** Seconds a completed id is remembered. */
    get ttlSeconds() {
      return this[RAW].ttl;
    }
  }

  // The reason each failed adapter call was raised with: after the handler ran, the core retells it as the
  // completion it could not record, naming the event (Outcome::after_handler), as in every language.
  const storeReasons = new WeakMap();

  function storeFailure(reason) {
    const error = raw.storeUnavailableError(reason);
    storeReasons.set(error, reason);
    return error;
  }

  function storeError(error) {
    return storeFailure(`the store failed: ${error?.message ?? String(error)}`);
  }

  // An asynchronous key-value store (Workers KV, a Durable Object's storage, Deno KV behind an adapter):
  // `get(key)` -> string | null, `put(key, value, { expirationTtl })`, and `delete(key)` if it has one
  // (without it, a release puts the core's "no record" value instead); each call settles within the
  // Receiver's `timeoutSeconds`, or is a store failure. The record carries its own
  // deadline; the store's expiry only collects garbage, so Workers KV's 60 s minimum is harmless.
  const KV_MIN_EXPIRATION_TTL = 60;

  /**
   * `store[method](...args)`, settled within `timeoutMs` (`timeoutSeconds`): an adapter call that never
   * settles (a hung request, a promise no one resolves) would otherwise hold the delivery forever. Past the
   * deadline the call is a store failure naming it (`store_unavailable`, 503: the sender retries). Its late
   * settle changes nothing: the promise here is already settled, both handlers stay attached (a late
   * rejection is never unhandled), and nothing touches the delivery again. A write that lands late is what a
   * worker that died after writing leaves behind: a claim that holds the event until its lease ends, or a
   * completion the retry finds (README "Stores").
   */
  function kvCall(store, method, args, timeoutMs) {
    return new Promise((resolve, reject) => {
      let pending;
      try {
        pending = store[method](...args);
      } catch (error) {
        reject(storeError(error));
        return;
      }
      const timer =
        timeoutMs > LONGEST_TIMER_MS // never reached within a delivery; such a timer would fire at once
          ? undefined
          : setTimeout(
              () => reject(storeFailure(`the store's ${method}() did not settle within ${durationText(timeoutMs)} (timeoutSeconds)`)),
              timeoutMs,
            );
      Promise.resolve(pending).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          clearTimeout(timer);
          reject(storeError(error));
        },
      );
    });
  }

  async function kvGet(store, key, timeoutMs) {
    const value = await kvCall(store, 'get', [key], timeoutMs);
    if (value === null || value === undefined) return undefined;
    if (typeof value === 'string') return value;
    // A bug of the user's adapter (it returned the wrapper a KV client gives, or bytes), refused by name:
    // `String(value)` made it "[object Object]", which the core read as a record of an unknown version.
    // Answered as a store failure (503), not thrown as a TypeError: the value comes from the store during a
    // delivery, not from an argument, so the answer stays the core's for a store that cannot be read. The
    // claim's read claims nothing and runs no handler; after the handler, the core decides as for any failed
    // read (Outcome::after_handler: 503, the claim held until its lease ends). The sender retries either way,
    // so no delivery is lost, and the 503's body names the fault. Thrown, the error would escape `receive`
    // mid-delivery past that decision and reach the host as a bare exception (a Worker's plain 500).
    const shown = typeof value === 'object' || typeof value === 'function' ? describe(value) : `a ${typeof value}`;
    throw storeFailure(`the store's get() must return a string or null, got ${shown}`);
  }

  async function kvApply(store, key, plan, timeoutMs) {
    if (plan[0] === 'put') {
      await kvCall(store, 'put', [key, plan[1], { expirationTtl: Math.max(KV_MIN_EXPIRATION_TTL, plan[2]) }], timeoutMs);
    } else if (plan[0] === 'delete') {
      if (typeof store.delete === 'function') await kvCall(store, 'delete', [key], timeoutMs);
      else await kvCall(store, 'put', [key, plan[1], { expirationTtl: KV_MIN_EXPIRATION_TTL }], timeoutMs);
    }
  }

  function isKvStore(store) {
    return (
      store !== null &&
      typeof store === 'object' &&
      typeof store.get === 'function' &&
      typeof store.put === 'function'
    );
  }

  /**
   * An option of `new Receiver` that only `Verifier#receive` gives (`'receive'`), so the errors name the call
   * the user made. A symbol: `knownOptions` lists string keys only, and no user can spell it.
   */
  const CALLED_AS = Symbol('calledAs');

  /** Verification plus claim / complete / release dedupe, with an async handler. */
  class Receiver {
    #verifier;
    #store;
    #leaseMs;
    #ttlMs;
    #prefix;
    #timeoutMs;
    #onClaimLost;
    #memory = null;

    constructor(verifier, store, options) {
      if (!(verifier instanceof Verifier)) throw typeError(`expected a Verifier, got ${describeForeign(verifier)}`);
      const calledAs = options?.[CALLED_AS];
      if (store !== undefined && store !== null && !(store instanceof MemoryStore) && !isKvStore(store)) {
        const call = calledAs === undefined ? 'new Receiver(verifier, store, options)' : 'receive(request, handler, { store })';
        throw typeError(
          `${call}: store must be a MemoryStore or an object with async get(key) and put(key, value, options) (delete(key) optional), got ${describeForeign(store)}`,
        );
      }
      const { leaseSeconds, ttlSeconds, prefix, timeoutSeconds, onClaimLost } = knownOptions('Receiver', options, [
        'leaseSeconds', 'ttlSeconds', 'prefix', 'timeoutSeconds', 'onClaimLost',
      ]);
      if (onClaimLost !== undefined && onClaimLost !== null && typeof onClaimLost !== 'function') {
        throw typeError('`onClaimLost` must be a function (event, message) => void');
      }
      this.#onClaimLost = onClaimLost ?? warnClaimLost;
      this.#verifier = verifier;
      this.#store = store ?? new MemoryStore();
      // Every option is converted here, so none can fail inside a delivery (after its handler ran).
      this.#leaseMs = durationMs('lease', 'leaseSeconds', leaseSeconds, raw.defaultLeaseMs());
      this.#ttlMs = durationMs('doneTtl', 'ttlSeconds', ttlSeconds, raw.defaultDoneTtlMs());
      this.#prefix = optionalString('prefix', prefix);
      this.#timeoutMs = durationMs('timeout', 'timeoutSeconds', timeoutSeconds, raw.defaultKvTimeoutMs());
      if (this.#store instanceof MemoryStore) {
        if ([ttlSeconds, prefix, timeoutSeconds].some((value) => value !== undefined && value !== null)) {
          throw valueError(
            `${calledAs ?? 'Receiver'}: \`ttlSeconds\`, \`prefix\` and \`timeoutSeconds\` are options of a key-value store; a MemoryStore takes its own: new MemoryStore({ ttlSeconds })`,
          );
        }
        this.#memory = new raw.RawReceiver(verifier[RAW], this.#store[RAW], this.#leaseMs);
      }
    }

    get verifier() {
      return this.#verifier;
    }

    get store() {
      return this.#store;
    }

    /**
     * Resolves to `{ kind, status, event, error, retryAfter }`; kind is `processed`, `duplicate`,
     * `in_progress`, `rejected` or `handler_failed`, status the HTTP answer the core suggests.
     */
    async receive(body, headers, handler, options) {
      if (typeof handler !== 'function') throw typeError('handler must be a function');
      const [joined, lengths] = flattenHeaders(headers);
      const bytes = typeof body === 'string' ? textEncoder.encode(body) : bodyBytes(body);
      // `now`, when given, is the clock of every step (as in the core's Receiver::handle); else the host clock.
      const given = knownOptions('receive', options, ['now']).now;
      // Converted once: every step reads the same fixed time without checking `options` again.
      const fixedMs = given === undefined || given === null ? null : nowSeconds(options, 'receive') * 1000;
      const clockMs = fixedMs === null ? () => Date.now() : () => fixedMs;
      let delivery;
      try {
        delivery = withinLimit(this.#verifier, bytes, (within) =>
          this.#memory
            ? this.#memory.receive(within, joined, lengths, clockMs())
            : this.#verifier[RAW].verifyDelivery(within, joined, lengths, Math.floor(clockMs() / 1000)),
        );
      } catch (error) {
        if (error instanceof WebhookVerificationError) return rejected(error);
        throw error;
      }
      try {
        return await this.#run(delivery, new Event(delivery.fields(false), bytes), bytes, handler, clockMs, fixedMs === null);
      } finally {
        delivery.free();
      }
    }

    // `hostClock`: the steps read the host's clock (no `now` given), so the time the claim was held is known.
    async #run(delivery, event, body, handler, clockMs, hostClock) {
      const store = this.#store;
      const key = this.#memory ? null : delivery.kvKey(this.#prefix);
      let claimedAtMs = null;
      if (key !== null) {
        try {
          const current = await kvGet(store, key, this.#timeoutMs);
          if (hostClock) claimedAtMs = clockMs();
          const plan = delivery.kvClaim(current, claimToken(), this.#leaseMs, clockMs());
          await kvApply(store, key, plan, this.#timeoutMs);
        } catch (error) {
          // No event with it: a rejected outcome carries one only when its handler ran (as in Node and Go).
          if (error instanceof WebhookVerificationError) return rejected(error);
          throw error;
        }
      }
      if (delivery.kind !== 'fresh') return finished(delivery, event);
      let handlerError = null;
      let handled = true;
      try {
        await handler(event, body);
      } catch (error) {
        handled = false;
        handlerError = error;
      }
      // The core ends the claim (complete after success, release after a failure) and decides the answer:
      // Receiver::finish for the memory store; kv::finish and Outcome::after_handler for a key-value store,
      // whose reads and writes happen here.
      let kind;
      let status;
      let claimLost;
      let unreleased;
      try {
        if (key === null) {
          [kind, status, claimLost, unreleased] = this.#memory.finish(delivery, handled, clockMs());
        } else {
          let endFailure;
          try {
            const current = await kvGet(store, key, this.#timeoutMs);
            await kvApply(store, key, delivery.kvFinish(current, handled, this.#ttlMs, clockMs()), this.#timeoutMs);
          } catch (error) {
            endFailure = storeReasons.get(error);
            if (endFailure === undefined) throw error;
          }
          // A completion the store could not record is thrown as the core's error naming the event.
          [kind, status, claimLost, unreleased] = delivery.outcome(handled, endFailure);
        }
      } catch (error) {
        // The handler ran; 503 makes the sender retry, which may run it again: at-least-once.
        if (error instanceof WebhookVerificationError) return rejected(error, event);
        throw error;
      }
      if (claimLost) {
        // How long the claim was held tells a key-value store's race from a lease too short (the core's
        // report); unknown when the call fixed its own `now`, and the memory store's claims are atomic.
        const heldMs = claimedAtMs === null ? undefined : Math.max(0, clockMs() - claimedAtMs);
        this.#onClaimLost(event, raw.claimLostWarning(event.id, this.#leaseMs, heldMs));
      }
      // The claim of a failed handler stays until its lease ends (the retries meanwhile are in progress): say why.
      if (unreleased) console.warn(unreleased);
      return { kind, status, event, error: handlerError, retryAfter: null };
    }
  }

  /** `onClaimLost`'s default: the report (naming the event and the lease) on the console. */
  function warnClaimLost(_event, message) {
    console.warn(message);
  }

  /** A refusal; a 503 (`store_unavailable`) carries `Retry-After` like every 503, as in the Node and Python packages. */
  function rejected(error, event = null) {
    const retryAfter = error.httpStatus === 503 ? raw.inProgressRetryAfterSeconds() : null;
    return { kind: 'rejected', status: error.httpStatus, event, error, retryAfter };
  }

  /** The answer to a delivery the handler does not run for: a duplicate, or one in progress elsewhere. */
  function finished(delivery, event) {
    const [kind, status] = delivery.outcome(false, undefined);
    const retryAfter = kind === 'in_progress' ? raw.inProgressRetryAfterSeconds() : null;
    return { kind, status, event, error: null, retryAfter };
  }

  // ---- signing and the catalogue -------------------------------------------------------------------

  /** Signs a test delivery; returns its headers (name -> value, in the order a sender writes them). */
  function sign(secretOrSecrets, body, options) {
    const { timestamp, scheme, id, eventType } = knownOptions('sign', options, ['timestamp', 'scheme', 'id', 'eventType']);
    const bytes = typeof body === 'string' ? textEncoder.encode(body) : bodyBytes(body);
    const at = timestamp === undefined || timestamp === null ? Math.floor(Date.now() / 1000) : unixSeconds(timestamp, 'timestamp');
    const secrets = secretList(secretOrSecrets);
    const schemeName = optionalString('scheme', scheme);
    let flat;
    try {
      flat = raw.sign(secrets, bytes, at, schemeName, optionalString('id', id), optionalString('eventType', eventType));
    } catch (error) {
      throw refusedValue(error, schemeName);
    }
    const headers = {};
    for (let i = 0; i < flat.length; i += 2) headers[flat[i]] = flat[i + 1];
    return headers;
  }

  const api = {
    Verifier,
    Event,
    WebhookVerificationError,
    MemoryStore,
    Receiver,
    sign,
    eventTypes: () => raw.eventTypes(),
    errorCodes: () => raw.errorCodes(),
    version: raw.version(),
  };
  apis.set(raw, api);
  if (Object.isExtensible(raw)) raw[API] = api;
  return api;
}

export { createApi };
