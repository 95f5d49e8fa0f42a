// Fastify: the plugin adds POST /webhooks with raw-body parsing in its own scope.
//   ANCHOR_WEBHOOK_SECRET=... PORT=3000 node fastify.mjs
import Fastify from 'fastify'
import { MemoryStore, Receiver, Verifier, fastifyWebhook } from 'anchor-webhooks'

const receiver = new Receiver(new Verifier(process.env.ANCHOR_WEBHOOK_SECRET), new MemoryStore())

const app = Fastify()
await app.register(fastifyWebhook, {
  receiver,
  path: '/webhooks',
  handler: async (event) => {
    console.log(`processed ${event.type} ${event.id}`)
  },
})
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log(`listening on http://127.0.0.1:${app.server.address().port}/webhooks`)
