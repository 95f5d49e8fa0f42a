import { Verifier, sign } from 'anchor-webhooks-wasm';
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
function body(size) {
  const envelope = (pad) => JSON.stringify({ type: 'extraction.completed', timestamp: '2026-05-24T12:18:05.123Z',
      data: { extraction_id: 'ext_01J9Z', status: 'processed', workflow_id: 'wf_7', notes: 'x'.repeat(pad) } });
  return envelope(size - envelope(0).length);
}
const size = 65536;
const text = body(size); const bytes = new TextEncoder().encode(text);
const headers = sign(secret, bytes, { scheme: 'standard', timestamp: Math.floor(Date.now()/1000), id: 'msg_p5jXN8AQM9LWM0D4loKWxJek' });
const ours = new Verifier(secret, { scheme: 'standard' });
const dec = new TextDecoder();
const cases = {
  sig: () => ours.verifySignature(bytes, headers).timestamp,
  verify: () => ours.verify(bytes, headers).id,
  verifyData: () => ours.verify(bytes, headers).data,
  decode: () => dec.decode(bytes.subarray(100, 65530)),
  parse: () => JSON.parse(text),
  decodeParse: () => JSON.parse(dec.decode(bytes.subarray(0, 65536))),
};
const best = {};
for (let r = 0; r < 30; r++) for (const [k, f] of Object.entries(cases)) {
  const n = 200; const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) f();
  const per = Number(process.hrtime.bigint() - t) / n / 1000; if (r > 0) best[k] = Math.min(best[k] ?? 1e9, per);
}
console.log(best);
