// Runs the example worker inside workerd with an in-isolate stand-in for its queue binding, and shows
// what reached the queue at GET /sent and what the Durable Object stores at GET /storage.
import example, { WebhookReceiver as ExampleReceiver } from './edge-worker.mjs';

const sent = [];
// Each send takes 200 ms, so a second delivery of the event arrives while the first is in its handler.
const EVENTS = {
  send: async (message) => {
    sent.push(message);
    await scheduler.wait(200);
  },
};

// The example's object with the stand-in queue (the object and the worker share this isolate).
export class WebhookReceiver extends ExampleReceiver {
  constructor(state, env) {
    super(state, { ...env, EVENTS });
  }

  async fetch(request) {
    if (new URL(request.url).pathname !== '/storage') return super.fetch(request);
    const storage = this.state.storage;
    return Response.json({ entries: [...(await storage.list())], alarm: await storage.getAlarm() });
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/sent') return Response.json(sent);
    if (pathname === '/storage') return env.WEBHOOKS.get(env.WEBHOOKS.idFromName('webhooks')).fetch(request);
    return example.fetch(request, { ...env, EVENTS });
  },
};
