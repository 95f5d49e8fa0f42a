// Shared test helpers: paths, the vectors, the real `anchor-webhooks serve` emulator, a private
// redis-server, free ports. Every process started here is stopped by the returned handle (tests call it in
// `after`), and every wait has a deadline so no test can hang.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))
export const repoDir = dirname(packageDir)
export const targetDir = process.env.CARGO_TARGET_DIR || join(repoDir, 'target')

/** How long a test waits for a process or a delivery before failing (never reached when things work). */
export const DEADLINE_MS = 20_000

export function loadVectors(name) {
  const file = JSON.parse(readFileSync(join(repoDir, 'tests', 'vectors', `${name}.json`), 'utf8'))
  if (file.format !== 1) throw new Error(`${name}.json: unknown format ${file.format}`)
  if (!Array.isArray(file.cases) || file.cases.length === 0) throw new Error(`${name}.json has no cases`)
  return file
}

/** The raw body bytes of a vector case. */
export function caseBody(testCase) {
  return testCase.body_base64 !== undefined ? Buffer.from(testCase.body_base64, 'base64') : Buffer.from(testCase.body, 'utf8')
}

/**
 * Closes an http server and every connection to it, idle or not: `close` alone waits for the connections a
 * client keeps alive, which end only at Node's header timeout (60 to 90 s) when the client never sends again.
 */
export function closeServer(server) {
  const closed = new Promise((resolve) => server.close(resolve))
  server.closeAllConnections()
  return closed
}

export async function freePort() {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

export function withDeadline(promise, what, ms = DEADLINE_MS) {
  let timer
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Resolves once `predicate()` is truthy, polling every 10 ms; fails after the deadline. */
export async function eventually(predicate, what) {
  const end = Date.now() + DEADLINE_MS
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > end) throw new Error(`${what}: still not true after ${DEADLINE_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Reads lines of a child's stdout into a queue; `next()` waits for the next one. */
function lineReader(child) {
  const lines = []
  const waiters = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift()
    if (waiter) waiter(line)
    else lines.push(line)
  })
  return () => withDeadline(lines.length ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiters.push(resolve)), 'a line')
}

export function cliBinary() {
  const binary = process.env.ANCHOR_WEBHOOKS_BIN || join(targetDir, 'debug', process.platform === 'win32' ? 'anchor-webhooks.exe' : 'anchor-webhooks')
  if (!existsSync(binary)) throw new Error(`${binary} not found: run \`cargo build -p anchor-webhooks-cli\` (test.sh does)`)
  return binary
}

/** `anchor-webhooks serve` on a free port, plain-HTTP loopback targets allowed, schedule x0.05 (a retry after 250 ms, a 5 s answer deadline). */
export async function startEmulator() {
  const child = spawn(cliBinary(), ['serve', '--port', '0', '--allow-insecure-localhost', '--time-scale', '0.05'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const next = lineReader(child)
  const first = await next()
  const prefix = 'emulator listening on '
  if (!first.startsWith(prefix)) throw new Error(`unexpected first line ${JSON.stringify(first)}; stderr: ${stderr}`)
  const base = first.slice(prefix.length)
  const api = async (method, path, body) => {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', 'anchor-api-key': 'ak_local_test' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }
  return {
    base,
    api,
    stderr: () => stderr,
    async createWebhook(url, subscribedEvents) {
      const created = await api('POST', '/v1/webhooks', { url, subscribed_events: subscribedEvents })
      if (created.status !== 201) throw new Error(`create webhook: ${created.status} ${JSON.stringify(created.body)}`)
      return created.body
    },
    async testEvent(webhookId, eventType) {
      const sent = await api('POST', `/v1/webhooks/${webhookId}/test`, { event_type: eventType })
      if (sent.status !== 202) throw new Error(`test event: ${sent.status} ${JSON.stringify(sent.body)}`)
      return sent.body.external_event_id
    },
    async publish(type, data) {
      const sent = await api('POST', '/v1/events', { type, data })
      if (sent.status !== 202) throw new Error(`publish: ${sent.status} ${JSON.stringify(sent.body)}`)
      return sent.body
    },
    async history(webhookId) {
      const page = await api('GET', `/v1/webhooks/${webhookId}/events?limit=100`)
      if (page.status !== 200) throw new Error(`history: ${page.status}`)
      return page.body.events
    },
    async stop() {
      child.kill()
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    },
  }
}

/** A private redis-server on `port` (default: a free one) on loopback, no persistence, stopped by `stop()`. */
export async function startRedis(port) {
  port ??= await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'anchor-node-redis-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  })
  const spawnError = once(child, 'error').then(([error]) => {
    throw new Error(`redis-server could not start (${error.message}): run scripts/ensure-redis.sh`)
  })
  await withDeadline(
    Promise.race([
      spawnError,
      eventually(
        () =>
          new Promise((resolve) => {
            const socket = connect(port, '127.0.0.1')
            socket.on('connect', () => {
              socket.destroy()
              resolve(true)
            })
            socket.on('error', () => resolve(false))
          }),
        'redis-server accepting connections',
      ),
    ]),
    'redis-server',
  )
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async stop() {
      child.kill()
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A TCP server that accepts connections and never answers (a hung Redis). */
export async function startSilentServer() {
  const sockets = new Set()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: server.address().port,
    async stop() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
