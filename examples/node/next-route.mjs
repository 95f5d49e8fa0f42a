// Next.js App Router: save as app/api/webhooks/route.js (Node.js runtime). The helper turns a `Request`
// into a verified, deduped event and answers with the right status.
import { MemoryStore, Receiver, Verifier, nextWebhook } from 'anchor-webhooks'

const receiver = new Receiver(new Verifier(process.env.ANCHOR_WEBHOOK_SECRET), new MemoryStore())

export const POST = nextWebhook(receiver, async (event) => {
  console.log(`processed ${event.type} ${event.id}`)
})
