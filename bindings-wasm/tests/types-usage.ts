// Compiled by tests/drift.test.mjs with tsc --strict: the declarations describe the API as used here.
import { MemoryStore, Receiver, Verifier, WebhookVerificationError, sign } from 'anchor-webhooks-wasm';
import type { AsyncKeyValueStore, ErrorCode, EventType, Outcome } from 'anchor-webhooks-wasm';

const verifier = new Verifier(['new', 'old'], { tolerance: 120, scheme: 'anchor', maxBodyBytes: 65536 });
const headers: Record<string, string> = sign('secret', '{}', { timestamp: 1, id: 'x', eventType: 'task.completed' });
const event = verifier.verify(new Uint8Array(), new Headers(headers), { now: new Date() });
const known: EventType | string = event.type;
if (event.is('task.failed')) {
  const errorType: string | undefined = event.data.error?.type;
  void errorType;
}
if (event.is('session.completed')) {
  const duration: number | undefined = event.data.duration;
  void duration;
}
const created: Date | null = event.created;
try {
  verifier.verify('{}', { 'anchor-signature': 't=1,v1=00' });
} catch (error) {
  if (error instanceof WebhookVerificationError) {
    const code: ErrorCode = error.code;
    const status: number = error.httpStatus;
    void [code, status];
  }
}
const kv: AsyncKeyValueStore = {
  get: async (key: string) => key,
  put: async () => undefined,
  delete: async () => undefined,
};
const receiver = new Receiver(verifier, kv, { leaseSeconds: 30, timeoutSeconds: 5 });
const outcome: Promise<Outcome> = receiver.receive('{}', [['a', 'b']], async (e) => void e.id);
void outcome.then((out) => {
  if (out.kind === 'rejected') {
    const code: ErrorCode = out.error.code;
    void code;
  } else if (out.kind === 'in_progress') {
    const retry: number = out.retryAfter;
    void retry;
  } else if (out.kind === 'processed') {
    const id: string = out.event.id;
    void id;
  }
});
const response: Promise<Response> = verifier.receive(new Request('https://x'), () => undefined, { store: new MemoryStore() });
const signedAt: Record<string, string> = sign('secret', '{}', { timestamp: new Date() });
const sameVerifier: Verifier = receiver.verifier;

// Standard Webhooks: `data` is whatever the body holds (null, a string, an array, an object): unknown.
const standard = new Verifier('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { scheme: 'standard' });
const standardEvent = standard.verify('{"data":"x"}', {});
const standardData: unknown = standardEvent.data;
// @ts-expect-error a standard event's data may be null or a string: it must be checked before use
void standardEvent.data.status;
if (standardEvent.is('extraction.completed')) {
  // @ts-expect-error narrowing the type does not make a standard body's data an object
  void standardEvent.data.status;
}
const standardReceiver = new Receiver(standard, new MemoryStore());
const standardOutcome = standardReceiver.receive('{}', {}, (e) => {
  const d: unknown = e.data;
  void d;
});
// @ts-expect-error an anchor verifier is not a standard one
const wrongScheme: Verifier<'standard'> = verifier;
// An event not narrowed: every documented field of every type, optional (as in the Node package).
const artifactUrls: string[] | undefined = event.data.artifacts?.map((artifact) => artifact.url);
const sessionId: string | undefined = event.data.session_id;
// Options read from configuration may be undefined (exactOptionalPropertyTypes): each falls back to its default.
const fromConfig: number | undefined = Number.isNaN(Number('x')) ? undefined : 1;
const prefixFromConfig: string | undefined = undefined;
new Verifier('new', { tolerance: fromConfig, maxBodyBytes: fromConfig, scheme: undefined });
new Receiver(verifier, new MemoryStore({ maxEntries: fromConfig, ttlSeconds: fromConfig }), { leaseSeconds: fromConfig, onClaimLost: undefined, prefix: prefixFromConfig });
sign('new', '{}', { timestamp: fromConfig, id: prefixFromConfig, eventType: undefined, scheme: undefined });
verifier.verify('{}', new Map<string, string | string[] | undefined>([['a', ['b', 'c']], ['d', undefined]]), { now: fromConfig });
verifier.verify(new Uint8Array(8).buffer, {});
// The ES module entries export the API as their default too, as the CommonJS one does.
import wasm from 'anchor-webhooks-wasm';
const viaDefault: typeof Verifier = wasm.Verifier;
void [known, created, outcome, response, signedAt, sameVerifier, standardData, standardOutcome, wrongScheme, artifactUrls, sessionId, viaDefault];
