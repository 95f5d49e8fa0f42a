// Node, `import`: the nodejs build (CommonJS, loads the .wasm synchronously from disk).
import raw from './pkg/nodejs/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

export const { Verifier, Event, WebhookVerificationError, MemoryStore, Receiver, sign, eventTypes, errorCodes, version } =
  createApi(raw);
