// A real headless Chromium (Debian's, /usr/bin/chromium; test.sh installs it) loads a page served on
// loopback that imports the web build, verifies a delivery signed by the CLI (`anchor-webhooks sign`)
// and rejects a forged one. The verdicts are read from the page through playwright-core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../', import.meta.url));
const repo = resolve(root, '..');
const cli =
  process.env.ANCHOR_WEBHOOKS_CLI ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'anchor-webhooks');
const servable = ['index.web.mjs', 'js', join('pkg', 'web'), join('tests', 'browser')].map((path) => join(root, path));
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

const secret = '36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6';

function fixture() {
  const body = JSON.stringify({
    id: 'evt_browser_1',
    type: 'session.recording.ready',
    created: new Date().toISOString(),
    project_id: '5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197',
    text: 'Recording ready ✓',
    data: { session_id: 'ses_1', recording_url: 'https://example.test/r.mp4' },
  });
  // The CLI prints one `Name: value` per line.
  const printed = execFileSync(cli, ['sign', '--secret', secret], { input: body, encoding: 'utf8' });
  const headers = Object.fromEntries(
    printed
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  );
  assert.match(headers['Anchor-Signature'] ?? '', /^t=\d+,v1=[0-9a-f]{64}$/, printed);
  return { secret, body, headers, forgedBody: body.replace('ses_1', 'ses_2') };
}

function serve(fixtureJson) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    if (path === '/fixture.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(fixtureJson);
      return;
    }
    const file = resolve(root, `.${path === '/' ? '/tests/browser/index.html' : path}`);
    if (!servable.some((allowed) => file === allowed || file.startsWith(allowed + sep))) {
      response.writeHead(404).end();
      return;
    }
    try {
      const content = readFileSync(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(content);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((ready) => server.listen(0, '127.0.0.1', () => ready(server)));
}

test('headless Chromium: the web build verifies a CLI-signed delivery and rejects a forged one', async () => {
  const delivery = fixture();
  const server = await serve(JSON.stringify(delivery));
  const profile = mkdtempSync(join(tmpdir(), 'anchor-wasm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const problems = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    page.on('response', (response) => response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.anchorVerdicts !== undefined, null, { timeout: 30_000 });
    const verdicts = await page.evaluate(() => window.anchorVerdicts);
    const shown = JSON.parse(await page.textContent('#verdicts'));
    assert.deepEqual(shown, verdicts, 'the page shows what it publishes');
    assert.equal(verdicts.pageError, undefined, verdicts.pageError);
    assert.match(verdicts.userAgent, /Chrome/);

    const genuine = {
      ok: true,
      id: 'evt_browser_1',
      type: 'session.recording.ready',
      matchedSecret: 0,
      data: { session_id: 'ses_1', recording_url: 'https://example.test/r.mp4' },
    };
    assert.deepEqual(verdicts.genuineText, genuine);
    assert.deepEqual(verdicts.genuineBytes, genuine);
    assert.deepEqual(verdicts.forged, {
      ok: false,
      name: 'WebhookVerificationError',
      code: 'signature_mismatch',
      isVerificationError: true,
      isError: true,
    });
    assert.deepEqual(verdicts.genuineRequest, { ok: true, id: 'evt_browser_1', bodyBytes: new TextEncoder().encode(delivery.body).length });
    assert.deepEqual(verdicts.forgedRequest, { ok: false, name: 'WebhookVerificationError', code: 'signature_mismatch' });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
