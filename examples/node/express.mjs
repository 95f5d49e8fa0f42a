// Express: verify, dedupe and process Anchor webhooks.
//   ANCHOR_WEBHOOK_SECRET=... PORT=3000 node express.mjs
import express from 'express'
import { MemoryStore, Receiver, Verifier, expressWebhook } from 'anchor-webhooks'

// Once, at start-up. During a rotation: new Verifier([newSecret, oldSecret]).
const receiver = new Receiver(new Verifier(process.env.ANCHOR_WEBHOOK_SECRET), new MemoryStore())

const app = express()
// The webhook route reads the raw body itself: register it before any express.json().
app.post(
  '/webhooks',
  expressWebhook(receiver, async (event) => {
    // Runs once per event id. Throwing releases the claim, so the sender's retry is processed.
    console.log(`processed ${event.type} ${event.id}`)
    if (event.type === 'task.failed') console.log(`  error type: ${event.task.errorType}`)
  }),
)
app.use(express.json())

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/webhooks`)
})
