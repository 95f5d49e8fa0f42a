import type * as api from './index.js';

declare global {
  // Declared here too, empty, so these types compile without the DOM lib (e.g. `lib: ["es2022"]` with
  // @types/node); with the DOM lib this merges into its own `WebAssembly.Module`.
  namespace WebAssembly {
    interface Module {}
  }
}

/** Loads the web build from a compiled module, a URL, a Response or the .wasm bytes (once). */
export declare function load(
  source: WebAssembly.Module | URL | string | Response | ArrayBuffer | ArrayBufferView | Promise<Response>,
): Promise<typeof api>;
