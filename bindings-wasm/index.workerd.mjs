// Cloudflare Workers (workerd): wrangler bundles an imported .wasm as a compiled WebAssembly.Module, which
// is instantiated synchronously here (Workers cannot fetch their own files).
import wasmModule from './pkg/web/anchor_webhooks_wasm_bg.wasm';
import * as raw from './pkg/web/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

raw.initSync({ module: wasmModule });

const api = createApi(raw);

export const { Verifier, Event, WebhookVerificationError, MemoryStore, Receiver, sign, eventTypes, errorCodes, version } = api;
// The CommonJS entry's `module.exports`, so `import wasm from 'anchor-webhooks-wasm'` (which TypeScript
// allows, the package being CommonJS) works under every condition.
export default api;
