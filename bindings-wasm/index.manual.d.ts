import type * as api from './index.js';

/** Loads the web build from a compiled module, a URL, a Response or the .wasm bytes (once). */
export declare function load(
  source: WebAssembly.Module | URL | string | Response | BufferSource | Promise<Response>,
): Promise<typeof api>;
