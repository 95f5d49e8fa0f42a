// Browsers and Deno: the web build. The .wasm is fetched next to the module (bundlers such as Vite and
// webpack see the `new URL(..., import.meta.url)` inside the generated loader and ship the file).
import init, * as raw from './pkg/web/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

await init();

const api = createApi(raw);

export const { Verifier, Event, WebhookVerificationError, MemoryStore, Receiver, sign, eventTypes, errorCodes, version } = api;
// The CommonJS entry's `module.exports`, so `import wasm from 'anchor-webhooks-wasm'` (which TypeScript
// allows, the package being CommonJS) works under every condition.
export default api;
