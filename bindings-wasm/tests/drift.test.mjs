// Generated and versioned things that must not drift: the .d.ts catalogue unions, the versions, the
// exports map, and the declarations themselves (tsc over a usage file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as api from 'anchor-webhooks-wasm';
import { UNIONS, readUnion, renderUnion } from '../scripts/dts-catalogue.mjs';

const here = new URL('../', import.meta.url);
const read = (path) => readFileSync(new URL(path, here), 'utf8');

test('index.d.ts unions match the core catalogue (eventTypes(), errorCodes())', () => {
  const dts = read('index.d.ts');
  for (const [name, source] of Object.entries(UNIONS)) {
    const expected = renderUnion(name, api[source]());
    assert.equal(
      readUnion(dts, name),
      expected,
      `index.d.ts: ${name} differs from the core's ${source}(). Fix: bindings-wasm/build.sh && node bindings-wasm/scripts/regen-dts.mjs\n` +
        `expected:\n${expected}`,
    );
  }
  assert.ok(api.eventTypes().includes('task.completed'));
  assert.ok(api.errorCodes().includes('signature_mismatch'));
});

test('versions: package.json = workspace = crate = lockfile', () => {
  const cargo = read('../Cargo.toml');
  const workspace = cargo.match(/\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/)?.[1];
  assert.ok(workspace, 'no [workspace.package] version in Cargo.toml');
  const pkg = JSON.parse(read('package.json'));
  const lock = JSON.parse(read('package-lock.json'));
  assert.equal(pkg.name, 'anchor-webhooks-wasm');
  assert.equal(pkg.version, workspace, 'package.json version: set it to the workspace version');
  assert.equal(api.version, workspace, 'the wasm crate version');
  assert.equal(lock.version, pkg.version, 'package-lock.json: run npm install in bindings-wasm');
  assert.equal(lock.packages[''].version, pkg.version);
});

test('wasm-bindgen: the crate pin and the CLI build.sh installs are the same exact version', () => {
  const pin = read('Cargo.toml').match(/^wasm-bindgen = "=([0-9.]+)"$/m)?.[1];
  assert.ok(pin, 'bindings-wasm/Cargo.toml must pin wasm-bindgen with "=X.Y.Z"');
  // (wasm-bindgen itself refuses a .wasm made by another version of the crate: the build proves the match.)
  const lockfile = read('../Cargo.lock');
  assert.match(lockfile, new RegExp(`name = "wasm-bindgen"\\nversion = "${pin.replaceAll('.', '\\.')}"`));
  const cli = execFileSync(fileURLToPath(new URL(`../.tools/wasm-bindgen-${pin}/bin/wasm-bindgen`, here)), ['--version'], { encoding: 'utf8' });
  assert.equal(cli.trim(), `wasm-bindgen ${pin}`);
});

test('exports map: every condition the issue names, pointing at files that exist', () => {
  const pkg = JSON.parse(read('package.json'));
  const root = pkg.exports['.'];
  for (const condition of ['types', 'workerd', 'deno', 'browser', 'import', 'require']) {
    assert.ok(condition in root, `exports["."] has no "${condition}"`);
  }
  assert.equal(Object.keys(root)[0], 'types', '"types" must come first');
  const targets = [];
  const walk = (value) => (typeof value === 'string' ? targets.push(value) : Object.values(value).forEach(walk));
  walk(pkg.exports);
  for (const target of targets) assert.doesNotThrow(() => readFileSync(new URL(target, here)), target);
});

test('the bundler build works where wasm ES-module integration exists (node --experimental-wasm-modules)', () => {
  const script = `
    const { Verifier, sign } = await import(${JSON.stringify(new URL('index.bundler.mjs', here).href)});
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"type":"extraction.completed","data":{"status":"processed"}}';
    const event = new Verifier(secret, { scheme: 'standard' }).verify(body, sign(secret, body, { scheme: 'standard' }));
    let code = null;
    try { new Verifier(secret, { scheme: 'standard' }).verify(body + ' ', sign(secret, body, { scheme: 'standard' })); }
    catch (error) { code = error.code; }
    console.log(JSON.stringify([event.type, event.data.status, code]));`;
  const out = execFileSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out), ['extraction.completed', 'processed', 'signature_mismatch']);
});

test('index.d.ts compiles and describes the API (tsc --strict --exactOptionalPropertyTypes over tests/types-usage.ts)', () => {
  const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', here));
  const usage = fileURLToPath(new URL('tests/types-usage.ts', here));
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--exactOptionalPropertyTypes', '--target', 'es2022', '--module', 'nodenext', '--lib', 'es2022,dom', usage], {
      encoding: 'utf8',
      cwd: fileURLToPath(here),
    });
  } catch (error) {
    assert.fail(`tsc failed:\n${error.stdout}${error.stderr}`);
  }
});

test('the types resolve under moduleResolution node10 too (module commonjs), subpath ./manual included (typesVersions)', () => {
  // node10 reads no "exports": a consumer's node_modules/anchor-webhooks-wasm, as npm installs it, compiled by tsc.
  const project = mkdtempSync(join(tmpdir(), 'anchor-wasm-node10-'));
  try {
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(fileURLToPath(here), join(project, 'node_modules', 'anchor-webhooks-wasm'), 'dir');
    writeFileSync(
      join(project, 'usage.ts'),
      [
        "import { Verifier, type ErrorCode } from 'anchor-webhooks-wasm';",
        "import { load } from 'anchor-webhooks-wasm/manual';",
        "const verifier = new Verifier('0'.repeat(64));",
        "const code: ErrorCode = 'signature_mismatch';",
        'export const parts = [verifier, code, load(new Uint8Array(0)).then((api) => api.eventTypes())];',
        '',
      ].join('\n'),
    );
    // "types": [] so no @types package of a folder above the temporary one joins in.
    const compilerOptions = { noEmit: true, strict: true, module: 'commonjs', moduleResolution: 'node10', target: 'es2022', lib: ['es2022', 'dom'], types: [] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['usage.ts'] }));
    const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', here));
    try {
      execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    } catch (error) {
      assert.fail(`tsc (node10) failed:\n${error.stdout}${error.stderr}`);
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('the optimised .wasm of every build is within the 150 KiB budget', () => {
  const budget = 150 * 1024;
  for (const target of ['web', 'bundler', 'nodejs']) {
    const bytes = statSync(new URL(`pkg/${target}/anchor_webhooks_wasm_bg.wasm`, here)).size;
    assert.ok(bytes <= budget, `pkg/${target}: ${bytes} bytes, over the ${budget}-byte budget (see README "Size")`);
  }
});
