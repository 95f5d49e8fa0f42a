// Every case of tests/vectors/*.json through the nodejs build, with the exact error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Verifier, WebhookVerificationError } from 'anchor-webhooks-wasm';

const vectors = new URL('../../tests/vectors/', import.meta.url);
const load = (name) => {
  const doc = JSON.parse(readFileSync(new URL(name, vectors), 'utf8'));
  assert.equal(doc.format, 1, `${name}: unknown format`);
  assert.ok(doc.cases.length > 0, `${name} has no cases`);
  return doc;
};

function outcome(run) {
  try {
    const event = run();
    // Every field the event exposes is read, so a conversion that fails on a legal value fails here.
    assert.ok(event.projectId === null || typeof event.projectId === 'string');
    assert.ok(event.text === null || typeof event.text === 'string');
    assert.ok(event.created === null || Number.isFinite(event.created.getTime()), 'created is a valid Date');
    if (event.created !== null) assert.equal(typeof event.created.toISOString(), 'string');
    void event.data; // JSON.parse of the exact `data` text the core found: throws if that span is wrong
    assert.ok(event.rawBody instanceof Uint8Array);
    assert.equal(typeof JSON.stringify(event), 'string');
    return {
      ok: true,
      matched_secret: event.matchedSecret,
      timestamp: event.timestamp,
      id: event.id,
      type: event.type,
      delivery_id: event.deliveryId,
      created_ms: event.created === null ? null : event.created.getTime(),
    };
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `not a WebhookVerificationError: ${error?.stack ?? error}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'WebhookVerificationError');
    assert.equal(typeof error.httpStatus, 'number');
    return { ok: false, error: error.code };
  }
}

for (const file of ['anchor.json', 'standard.json']) {
  const doc = load(file);
  for (const vector of doc.cases) {
    test(`${doc.scheme} vector ${vector.name}`, () => {
      const options = { scheme: doc.scheme };
      if (vector.tolerance !== undefined) options.tolerance = vector.tolerance;
      if (vector.max_body_bytes !== undefined) options.maxBodyBytes = vector.max_body_bytes;
      const verifier = new Verifier(vector.secrets, options);
      const bytes =
        vector.body_base64 !== undefined
          ? new Uint8Array(Buffer.from(vector.body_base64, 'base64'))
          : new TextEncoder().encode(vector.body);
      const now = { now: vector.now };

      // Raw pairs keep repeated and oddly cased names exactly as received.
      assert.deepEqual(outcome(() => verifier.verify(bytes, vector.headers, now)), vector.expect);

      // The same delivery with the body as text (its UTF-8 bytes are what was signed).
      if (vector.body !== undefined) {
        assert.deepEqual(outcome(() => verifier.verify(vector.body, vector.headers, now)), vector.expect);
      }
      // And with the headers as a plain object, where no name repeats.
      const names = vector.headers.map(([name]) => name.toLowerCase());
      if (new Set(names).size === names.length) {
        const record = Object.fromEntries(vector.headers);
        assert.deepEqual(outcome(() => verifier.verify(bytes, record, now)), vector.expect);
      }
    });
  }
}

test('created at both ends of the range every host date type holds (years 1 and 9999 UTC)', () => {
  const doc = load('anchor.json');
  const expected = {
    'created-year-one-ok': ['0001-01-01T00:00:00.000Z', -62135596800000],
    'created-year-9999-ok': ['9999-12-31T23:59:59.000Z', 253402300799000],
  };
  for (const [name, [iso, ms]] of Object.entries(expected)) {
    const vector = doc.cases.find((item) => item.name === name);
    assert.ok(vector, `${name} is in anchor.json`);
    const event = new Verifier(vector.secrets).verify(vector.body, vector.headers, { now: vector.now });
    assert.equal(event.created.toISOString(), iso);
    assert.equal(event.created.getTime(), ms);
    assert.equal(JSON.parse(JSON.stringify(event)).created, iso);
  }
});

const secrets = load('secrets.json');
for (const vector of secrets.cases) {
  test(`secret vector ${vector.name}`, () => {
    let code = null;
    try {
      new Verifier(vector.secrets, { scheme: vector.scheme });
    } catch (error) {
      assert.ok(error instanceof WebhookVerificationError, String(error));
      code = error.code;
      for (const secret of vector.secrets) {
        if (secret.trim().length >= 4) assert.ok(!error.message.includes(secret.trim()), 'the message shows a secret');
      }
    }
    assert.deepEqual(code === null ? { ok: true } : { ok: false, error: code }, vector.expect);
  });
}
