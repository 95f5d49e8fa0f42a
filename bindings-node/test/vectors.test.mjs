// Every case of tests/vectors/*.json, with the exact error code, through several header containers and
// body types.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Verifier, WebhookVerificationError } from '../lib/index.mjs'
import { caseBody, loadVectors } from './support.mjs'

function verifierFor(scheme, testCase) {
  const options = { scheme }
  if (testCase.tolerance !== undefined) options.tolerance = testCase.tolerance
  if (testCase.max_body_bytes !== undefined) options.maxBodyBytes = testCase.max_body_bytes
  return new Verifier(testCase.secrets, options)
}

/** The case's header pairs in each container a Node user has; `null` when a container cannot hold them. */
function containers(pairs) {
  const byName = {}
  for (const [name, value] of pairs) {
    const key = name.toLowerCase()
    byName[key] = key in byName ? [].concat(byName[key], value) : value
  }
  let whatwg = null
  const names = new Set(pairs.map(([name]) => name.toLowerCase()))
  if (names.size === pairs.length) {
    try {
      // Headers joins repeats and refuses some values: only cases it can carry unchanged.
      const headers = new Headers(pairs)
      if (pairs.every(([name, value]) => headers.get(name) === value)) whatwg = headers
    } catch {
      whatwg = null
    }
  }
  return {
    'raw list': pairs.flat(),
    'array of pairs': pairs,
    // IncomingHttpHeaders shape: lower-case names, repeated values as arrays.
    'IncomingHttpHeaders': byName,
    'Map': new Map(Object.entries(byName)),
    'WHATWG Headers': whatwg,
  }
}

function outcome(verifier, body, headers, now) {
  try {
    const event = verifier.verify(body, headers, { now })
    return {
      ok: true,
      matched_secret: event.matchedSecret,
      timestamp: event.timestamp,
      id: event.id,
      type: event.type,
      delivery_id: event.deliveryId,
      created_ms: event.created === null ? null : event.created.getTime(),
    }
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `not a WebhookVerificationError: ${error}`)
    assert.ok(error instanceof Error)
    assert.equal(typeof error.httpStatus, 'number')
    return { ok: false, error: error.code }
  }
}

for (const scheme of ['anchor', 'standard']) {
  const file = loadVectors(scheme)
  assert.equal(file.scheme, scheme)
  describe(`${scheme}.json (${file.cases.length} cases)`, () => {
    for (const testCase of file.cases) {
      test(testCase.name, () => {
        const verifier = verifierFor(scheme, testCase)
        const body = caseBody(testCase)
        let checked = 0
        for (const [container, headers] of Object.entries(containers(testCase.headers))) {
          if (headers === null) continue
          assert.deepEqual(outcome(verifier, body, headers, testCase.now), testCase.expect, `${container}: ${testCase.description}`)
          checked++
        }
        assert.ok(checked >= 4)
        // The same bytes as a Uint8Array, an ArrayBuffer and (when it is text) a string.
        const raw = testCase.headers.flat()
        const view = new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength))
        assert.deepEqual(outcome(verifier, view, raw, testCase.now), testCase.expect, 'Uint8Array')
        assert.deepEqual(outcome(verifier, view.buffer, raw, testCase.now), testCase.expect, 'ArrayBuffer')
        if (testCase.body !== undefined) {
          assert.deepEqual(outcome(verifier, testCase.body, raw, testCase.now), testCase.expect, 'string')
        }
      })
    }
  })
}

const secrets = loadVectors('secrets')
describe(`secrets.json (${secrets.cases.length} cases)`, () => {
  for (const testCase of secrets.cases) {
    test(testCase.name, () => {
      let got
      try {
        new Verifier(testCase.secrets, { scheme: testCase.scheme })
        got = { ok: true }
      } catch (error) {
        assert.ok(error instanceof WebhookVerificationError, String(error))
        assert.equal(error.httpStatus, 500)
        got = { ok: false, error: error.code }
        // The message names the secret by position, never by content.
        for (const secret of testCase.secrets) {
          if (secret.trim().length >= 4) assert.ok(!error.message.includes(secret.trim()), error.message)
        }
      }
      assert.deepEqual(got, testCase.expect, testCase.description)
    })
  }
})
