// Differential test against the npm `standardwebhooks` package (the Standard Webhooks reference for JS):
// it signs random messages and our Verifier (scheme 'standard') accepts them; our sign() output is
// accepted by it; a tampered message is refused by both.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { Verifier, sign } from '../lib/index.mjs'

/** A small seeded generator (mulberry32), so a failure names a reproducible message. */
function generator(seed) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n) => Math.floor(next() * n)
  const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 _-.,:;"\\/\n\té€漢😀'
  const text = (max) => Array.from({ length: int(max) }, () => [...ALPHABET][int([...ALPHABET].length)]).join('')
  const value = (depth) => {
    switch (depth > 2 ? int(4) : int(6)) {
      case 0: return text(40)
      case 1: return int(1e9) - 5e8
      case 2: return next() < 0.5
      case 3: return null
      case 4: return Array.from({ length: int(4) }, () => value(depth + 1))
      default: return Object.fromEntries(Array.from({ length: int(5) }, () => [text(12), value(depth + 1)]))
    }
  }
  return { int, text, value, bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))) }
}

function message(random, i) {
  const secret = `whsec_${random.bytes(16 + random.int(33)).toString('base64')}`
  const id = `msg_${i}_${random.text(20).replace(/[^a-z0-9]/g, '') || 'x'}`
  const payload = JSON.stringify({
    type: random.int(3) === 0 ? 'extraction.completed' : random.text(15),
    timestamp: new Date(1_700_000_000_000 + random.int(1e10)).toISOString(),
    data: random.value(0),
    padding: random.text(random.int(3) === 0 ? 3000 : 100),
  })
  const now = Math.floor(Date.now() / 1000)
  return { secret, id, payload, now, timestamp: now - 250 + random.int(500) }
}

test('standardwebhooks signs 300 random messages; our Verifier accepts every one', () => {
  const random = generator(0x5eed)
  for (let i = 0; i < 300; i++) {
    const m = message(random, i)
    const reference = new Webhook(m.secret)
    const headers = {
      'webhook-id': m.id,
      'webhook-timestamp': String(m.timestamp),
      'webhook-signature': reference.sign(m.id, new Date(m.timestamp * 1000), m.payload),
    }
    const event = new Verifier(m.secret, { scheme: 'standard' }).verify(Buffer.from(m.payload, 'utf8'), headers, { now: m.now })
    const parsed = JSON.parse(m.payload)
    assert.equal(event.id, m.id, `message ${i}`)
    assert.equal(event.type, parsed.type, `message ${i}`)
    assert.deepEqual(event.data, parsed.data, `message ${i}`)
    assert.equal(event.created.toISOString(), parsed.timestamp)
    // A one-byte change is refused by both.
    const tampered = m.payload.replace('"data"', '"dat\\u0061"')
    assert.throws(() => reference.verify(tampered, headers))
    assert.throws(() => new Verifier(m.secret, { scheme: 'standard' }).verify(tampered, headers, { now: m.now }), { code: 'signature_mismatch' })
  }
})

test('standardwebhooks accepts what our sign() produces for 300 random messages', () => {
  const random = generator(0xfeed)
  for (let i = 0; i < 300; i++) {
    const m = message(random, i)
    const timestamp = Math.floor(Date.now() / 1000) - random.int(200)
    const headers = sign(random.int(2) ? m.secret : [m.secret, `whsec_${random.bytes(24).toString('base64')}`], m.payload, {
      scheme: 'standard',
      timestamp,
      id: m.id,
    })
    assert.deepEqual(new Webhook(m.secret).verify(m.payload, headers), JSON.parse(m.payload), `message ${i}`)
    assert.throws(() => new Webhook(`whsec_${random.bytes(24).toString('base64')}`).verify(m.payload, headers))
  }
})
