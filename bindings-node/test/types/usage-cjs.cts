// The CommonJS entry point has the same types.
import anchor = require('anchor-webhooks')

const verifier: anchor.Verifier = new anchor.Verifier('secret')
const event: anchor.Event = verifier.verify('{}', {})
const code: anchor.ErrorCode = 'signature_mismatch'
export { event, code }
