// The entry points: what each export condition resolves to, `./manual`, and one API per wasm instance
// whichever entries an app loads (each scenario runs in a fresh Node process: a module graph of its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = new URL('../', import.meta.url);

/** Runs an ES module script in a new Node process from the package folder (so `anchor-webhooks-wasm` is this package). */
function run(script, flags = []) {
  const out = execFileSync(process.execPath, [...flags, '--no-warnings', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(here),
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

test('export conditions: workerd, deno, browser, node import/require and ./manual resolve to their entry files', () => {
  const resolve = `console.log(JSON.stringify([import.meta.resolve('anchor-webhooks-wasm'), import.meta.resolve('anchor-webhooks-wasm/manual')]));`;
  const expected = {
    workerd: 'index.workerd.mjs',
    deno: 'index.web.mjs',
    browser: 'index.web.mjs',
  };
  for (const [condition, file] of Object.entries(expected)) {
    const [main, manual] = run(resolve, [`--conditions=${condition}`]);
    assert.equal(main, new URL(file, here).href, condition);
    assert.equal(manual, new URL('index.manual.mjs', here).href, condition);
  }
  assert.deepEqual(run(resolve), [new URL('index.node.mjs', here).href, new URL('index.manual.mjs', here).href]);
  const required = run(`import { createRequire } from 'node:module';
    console.log(JSON.stringify(createRequire(import.meta.url).resolve('anchor-webhooks-wasm')));`);
  assert.equal(required, fileURLToPath(new URL('index.cjs', here)));
});

// A delivery verified and a forged one refused by an API, with the error's class checked against `classes`.
const exercise = `
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"type":"extraction.completed","data":{"status":"processed"}}';
  function exercise(api, classes = api) {
    const verifier = new api.Verifier(secret, { scheme: 'standard' });
    const event = verifier.verify(body, api.sign(secret, body, { scheme: 'standard' }));
    let error = null;
    try { verifier.verify(body + ' ', api.sign(secret, body, { scheme: 'standard' })); } catch (caught) { error = caught; }
    return [event instanceof classes.Event, event.data.status, error?.code, error instanceof classes.WebhookVerificationError];
  }`;

test('./manual loads the web build from bytes; concurrent load() calls and index.web.mjs share one API', () => {
  const result = run(`
    import { readFileSync } from 'node:fs';
    ${exercise}
    const { load } = await import('anchor-webhooks-wasm/manual');
    const bytes = readFileSync(new URL('./pkg/web/anchor_webhooks_wasm_bg.wasm', import.meta.resolve('anchor-webhooks-wasm/manual')));
    const [a, b] = await Promise.all([load(bytes), load(bytes)]);
    // index.web.mjs over the instance ./manual made (its own init() finds it loaded).
    const web = await import('./index.web.mjs');
    console.log(JSON.stringify({
      same: [a === b, web.Verifier === a.Verifier, web.WebhookVerificationError === a.WebhookVerificationError, (await load(bytes)) === a],
      a: exercise(a, b),
      web: exercise(web, a),
    }));`);
  assert.deepEqual(result, {
    same: [true, true, true, true],
    a: [true, 'processed', 'signature_mismatch', true],
    web: [true, 'processed', 'signature_mismatch', true],
  });
});

test('index.web.mjs first, then ./manual: its errors stay instances of its own classes', () => {
  // Node's fetch does not read file: URLs; index.web.mjs fetches the .wasm next to it, as in a browser.
  const result = run(`
    import { readFileSync } from 'node:fs';
    ${exercise}
    globalThis.fetch = async (url) => new Response(readFileSync(new URL(url)), { headers: { 'content-type': 'application/wasm' } });
    const web = await import('./index.web.mjs');
    const before = exercise(web);
    const { load } = await import('anchor-webhooks-wasm/manual');
    const manual = await load(new URL('./pkg/web/anchor_webhooks_wasm_bg.wasm', import.meta.resolve('anchor-webhooks-wasm/manual')));
    console.log(JSON.stringify({ same: manual.Verifier === web.Verifier, before, after: exercise(web), manual: exercise(manual, web) }));`);
  const verdict = [true, 'processed', 'signature_mismatch', true];
  assert.deepEqual(result, { same: true, before: verdict, after: verdict, manual: verdict });
});
