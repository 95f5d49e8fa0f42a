// Any other host (Vercel Edge, a service worker, a custom loader): load the web build from a compiled
// WebAssembly.Module, a URL, a Response or the bytes you already have.
//   import wasm from 'anchor-webhooks-wasm/anchor_webhooks_wasm_bg.wasm?module';   // Vercel Edge
//   const { Verifier } = await load(wasm);
import init, * as raw from './pkg/web/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

let api = null;

export async function load(source) {
  if (api === null) {
    await init({ module_or_path: source });
    api = createApi(raw);
  }
  return api;
}
