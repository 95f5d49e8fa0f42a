// Rewrites the catalogue unions of index.d.ts from the core's catalogue (through the nodejs build):
//   bindings-wasm/build.sh && node bindings-wasm/scripts/regen-dts.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { UNIONS, replaceUnion } from './dts-catalogue.mjs';

const raw = createRequire(import.meta.url)('../pkg/nodejs/anchor_webhooks_wasm.js');
const path = new URL('../index.d.ts', import.meta.url);
let text = readFileSync(path, 'utf8');
for (const [name, source] of Object.entries(UNIONS)) text = replaceUnion(text, name, raw[source]());
writeFileSync(path, text);
console.log('index.d.ts: catalogue unions rewritten');
