// Hono on Node (@hono/node-server). The middleware needs only WHATWG Request/Headers.
//   ANCHOR_WEBHOOK_SECRET=... PORT=3000 node hono.mjs
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { MemoryStore, Receiver, Verifier, honoWebhook } from 'anchor-webhooks'

const receiver = new Receiver(new Verifier(process.env.ANCHOR_WEBHOOK_SECRET), new MemoryStore())

const app = new Hono()
app.post(
  '/webhooks',
  honoWebhook(receiver, async (event) => {
    console.log(`processed ${event.type} ${event.id}`)
  }),
)

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}/webhooks`)
})
process.on('SIGTERM', () => server.close())
