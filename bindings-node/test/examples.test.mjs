// examples/node: each example server is started as its own process and answers a signed delivery (200
// processed), its duplicate (200) and a forgery (401); the Next.js route is called with a Request.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { sign } from '../lib/index.mjs'
import { packageDir, repoDir, withDeadline } from './support.mjs'

const examplesDir = join(repoDir, 'examples', 'node')
const SECRET = 'example-secret-36da51b166a69268'

/** The examples import `anchor-webhooks` and the frameworks as a user would: link this package's installs. */
function linkModules() {
  const modules = join(examplesDir, 'node_modules')
  mkdirSync(join(modules, '@hono'), { recursive: true })
  const links = {
    'anchor-webhooks': packageDir,
    express: join(packageDir, 'node_modules', 'express'),
    fastify: join(packageDir, 'node_modules', 'fastify'),
    hono: join(packageDir, 'node_modules', 'hono'),
    '@hono/node-server': join(packageDir, 'node_modules', '@hono', 'node-server'),
  }
  for (const [name, target] of Object.entries(links)) {
    const link = join(modules, name)
    if (!existsSync(link) && !isLink(link)) symlinkSync(target, link, 'dir')
  }
}

function isLink(path) {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

const delivery = (id, secret = SECRET) => {
  const body = JSON.stringify({ id, type: 'task.failed', created: '2026-05-24T12:18:05.123Z', data: { error: { type: 'timeout' } } })
  return { method: 'POST', headers: sign(secret, body), body }
}

before(linkModules)

for (const example of ['express.mjs', 'fastify.mjs', 'hono.mjs']) {
  describe(`examples/node/${example}`, () => {
    let child
    let url
    const lines = []

    before(async () => {
      child = spawn(process.execPath, [example], {
        cwd: examplesDir,
        env: { ...process.env, ANCHOR_WEBHOOK_SECRET: SECRET, PORT: '0' },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const reader = createInterface({ input: child.stdout })
      const first = new Promise((resolve) => reader.once('line', resolve))
      url = (await withDeadline(first, `${example} start`)).replace(/^listening on /, '')
      reader.on('line', (line) => lines.push(line))
    })

    after(async () => {
      child.kill()
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    })

    test('processed, duplicate, forged', async () => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/webhooks$/)
      const first = await fetch(url, delivery('evt_example'))
      assert.deepEqual([first.status, await first.json()], [200, { ok: true, kind: 'processed', id: 'evt_example' }])
      const again = await fetch(url, delivery('evt_example'))
      assert.deepEqual([again.status, await again.json()], [200, { ok: true, kind: 'duplicate', id: 'evt_example' }])
      const forged = await fetch(url, delivery('evt_forged', 'not-the-secret'))
      assert.equal(forged.status, 401)
      assert.equal(lines.filter((line) => line.startsWith('processed task.failed evt_example')).length, 1)
    })
  })
}

test('examples/node/next-route.mjs', async () => {
  process.env.ANCHOR_WEBHOOK_SECRET = SECRET
  const { POST } = await import(pathToFileURL(join(examplesDir, 'next-route.mjs')).href)
  const request = (init) => new Request('http://localhost/api/webhooks', init)
  assert.equal((await POST(request(delivery('evt_next')))).status, 200)
  const again = await POST(request(delivery('evt_next')))
  assert.equal((await again.json()).kind, 'duplicate')
  assert.equal((await POST(request(delivery('evt_next', 'nope')))).status, 401)
})
