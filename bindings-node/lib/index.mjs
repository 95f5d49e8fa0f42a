// ESM entry point: the same objects as the CommonJS one (lib/index.cjs).
import cjs from './index.cjs'

export const {
  Verifier,
  Event,
  WebhookVerificationError,
  sign,
  MemoryStore,
  RedisStore,
  Receiver,
  eventTypes,
  errorCodes,
  expressWebhook,
  fastifyWebhook,
  honoWebhook,
  nextWebhook,
  verifyRequest,
} = cjs
export default cjs
