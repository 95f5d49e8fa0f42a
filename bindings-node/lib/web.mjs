// ESM entry point of the web-standard helpers (lib/web.cjs): needs only WHATWG Request/Response/Headers.
import cjs from './web.cjs'

export const { honoWebhook, nextWebhook, verifyRequest, isVerificationError } = cjs
export default cjs
