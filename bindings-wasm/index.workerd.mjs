// Cloudflare Workers (workerd): wrangler bundles an imported .wasm as a compiled WebAssembly.Module, which
// is instantiated synchronously here (Workers cannot fetch their own files).
import wasmModule from './pkg/web/anchor_webhooks_wasm_bg.wasm';
import * as raw from './pkg/web/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

raw.initSync({ module: wasmModule });

export const { Verifier, Event, WebhookVerificationError, MemoryStore, Receiver, sign, eventTypes, errorCodes, version } =
  createApi(raw);
