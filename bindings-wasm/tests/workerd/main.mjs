// Runs the example worker inside workerd with an in-isolate stand-in for its queue binding, and shows
// what reached the queue at GET /sent.
import example from './edge-worker.mjs';

const sent = [];
const EVENTS = { send: async (message) => void sent.push(message) };

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/sent') return Response.json(sent);
    return example.fetch(request, { ...env, EVENTS });
  },
};
