// Any other host (Vercel Edge, a service worker, a custom loader): load the web build from a compiled
// WebAssembly.Module, a URL, a Response or the bytes you already have.
//   import wasm from 'anchor-webhooks-wasm/anchor_webhooks_wasm_bg.wasm?module';   // Vercel Edge
//   const { Verifier } = await load(wasm);
// Every call (and index.web.mjs, over the same instance) gives the same API; once loaded, `source` is not read.
import init, * as raw from './pkg/web/anchor_webhooks_wasm.js';
import { createApi } from './js/api.mjs';

let loading = null;

export function load(source) {
  loading ??= init({ module_or_path: source }).then(
    () => createApi(raw),
    (error) => {
      loading = null; // a failed load (a bad URL, say) can be retried
      throw error;
    },
  );
  return loading;
}
