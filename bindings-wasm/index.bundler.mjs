// Bundlers with WebAssembly ES-module integration (webpack `experiments.asyncWebAssembly`, Vite with a wasm
// plugin): the bundler build imports its .wasm as a module.
import * as raw from './pkg/bundler/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

const api = createApi(raw);

export const { Verifier, Event, WebhookVerificationError, MemoryStore, Receiver, sign, eventTypes, errorCodes, version } = api;
// The CommonJS entry's `module.exports`, so `import wasm from 'anchor-webhooks-wasm'` (which TypeScript
// allows, the package being CommonJS) works under every condition.
export default api;
