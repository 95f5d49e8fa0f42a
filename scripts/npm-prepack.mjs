// The `prepack` of bindings-node and bindings-wasm (run by `npm pack` and `npm publish` in the package's
// folder): refuses to pack a package whose build output is missing, which would install and then fail to
// load.
//
//   node ../scripts/npm-prepack.mjs <required file> ... -- <how to build>
//
// A required file may have one `*` in its name (the platform part of a `.node` addon's name), matched here:
// not quoted in package.json, as cmd.exe (npm's shell on Windows) would keep the quotes, and a shell that
// finds no match leaves the word as it is.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const args = process.argv.slice(2);
const separator = args.indexOf('--');
const required = separator < 0 ? args : args.slice(0, separator);
const howToBuild = separator < 0 ? 'build the package first' : args.slice(separator + 1).join(' ');

function present(path) {
  const name = basename(path);
  if (!name.includes('*')) return existsSync(path);
  const [before, after] = name.split('*');
  const folder = dirname(path);
  return existsSync(folder) && readdirSync(folder).some((file) => file.startsWith(before) && file.endsWith(after));
}

const missing = required.filter((path) => !present(path));
if (missing.length > 0) {
  console.error(`npm pack: not built yet (missing: ${missing.join(', ')}): ${howToBuild}, then pack again`);
  process.exit(1);
}
