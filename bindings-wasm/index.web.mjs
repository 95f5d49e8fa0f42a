// Browsers and Deno: the web build. The .wasm is fetched next to the module (bundlers such as Vite and
// webpack see the `new URL(..., import.meta.url)` inside the generated loader and ship the file).
import init, * as raw from './pkg/web/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

await init();

export const { Verifier, Event, WebhookVerificationError, MemoryStore, Receiver, sign, eventTypes, errorCodes, version } =
  createApi(raw);
