# workerd configuration of tests/workerd.test.mjs: the example worker (examples/edge-worker/worker.mjs),
# wrapped by main.mjs, with the package's `workerd` build under its bare name, and its Durable Object
# namespace WEBHOOKS (class WebhookReceiver) kept in memory. The test passes the listening address with
# --socket-addr http=127.0.0.1:<port>.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .testWorker)],
  sockets = [(name = "http", address = "127.0.0.1:8080", http = (), service = "main")],
);

const testWorker :Workerd.Worker = (
  modules = [
    (name = "main.mjs", esModule = embed "main.mjs"),
    (name = "edge-worker.mjs", esModule = embed "../../../examples/edge-worker/worker.mjs"),
    (name = "anchor-webhooks-wasm", esModule = embed "../../index.workerd.mjs"),
    (name = "js/api.mjs", esModule = embed "../../js/api.mjs"),
    (name = "pkg/web/anchor_webhooks_wasm.js", esModule = embed "../../pkg/web/anchor_webhooks_wasm.js"),
    (name = "pkg/web/anchor_webhooks_wasm_bg.wasm", wasm = embed "../../pkg/web/anchor_webhooks_wasm_bg.wasm"),
  ],
  bindings = [
    (name = "ANCHOR_WEBHOOK_SECRET", text = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6"),
    (name = "WEBHOOKS", durableObjectNamespace = "WebhookReceiver"),
  ],
  durableObjectNamespaces = [(className = "WebhookReceiver", uniqueKey = "anchor-webhooks-test", enableSql = true)],
  durableObjectStorage = (inMemory = void),
  compatibilityDate = "2025-01-01",
);
