// The TypeScript unions against the core's catalogue, and the package version against the workspace's.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { errorCodes, eventTypes } from '../lib/index.mjs'
import { packageDir, repoDir } from './support.mjs'

const FIX = 'regenerate it with `node bindings-node/scripts/generate-catalogue.mjs`'

/** The string literals of `export type NAME = | 'a' | 'b'` in a .d.ts file. */
function unionMembers(file, name) {
  const text = readFileSync(join(packageDir, 'lib', file), 'utf8')
  const match = text.match(new RegExp(`export type ${name} =((?:\\s*\\|\\s*'[^']*')+)`))
  assert.ok(match, `lib/${file} declares no union ${name}: ${FIX}`)
  return [...match[1].matchAll(/'([^']*)'/g)].map((m) => m[1])
}

test('KnownEventType in lib/catalogue.d.ts is the core catalogue', () => {
  const declared = unionMembers('catalogue.d.ts', 'KnownEventType')
  assert.deepEqual(declared, eventTypes(), `lib/catalogue.d.ts is stale: ${FIX}`)
})

test('ErrorCode in lib/catalogue.d.ts is the core catalogue', () => {
  const declared = unionMembers('catalogue.d.ts', 'ErrorCode')
  assert.deepEqual(declared, errorCodes(), `lib/catalogue.d.ts is stale: ${FIX}`)
})

test('package.json has the workspace version (Cargo.toml [workspace.package])', () => {
  const cargo = readFileSync(join(repoDir, 'Cargo.toml'), 'utf8')
  const section = cargo.slice(cargo.indexOf('[workspace.package]'))
  const version = section.match(/^version\s*=\s*"([^"]+)"/m)?.[1]
  assert.ok(version, 'no version in [workspace.package]')
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  assert.equal(pkg.version, version, `set "version": "${version}" in bindings-node/package.json, then run node bindings-node/scripts/build.mjs`)
  const lock = JSON.parse(readFileSync(join(packageDir, 'package-lock.json'), 'utf8'))
  assert.equal(lock.version, version, 'package-lock.json: run `npm install` in bindings-node')
  assert.match(readFileSync(join(packageDir, 'Cargo.toml'), 'utf8'), /^version\.workspace = true$/m)
  // The generated loader checks the version of the platform package it loads against this one.
  assert.match(readFileSync(join(packageDir, 'index.js'), 'utf8'), new RegExp(`bindingPackageVersion !== '${version.replace(/\./g, '\\.')}'`))
})

test('the types resolve under moduleResolution node10 too (module commonjs), subpath ./web included (typesVersions)', () => {
  // node10 reads no "exports": a consumer's node_modules/anchor-webhooks, as npm installs it, compiled by tsc.
  const project = mkdtempSync(join(tmpdir(), 'anchor-node10-'))
  try {
    mkdirSync(join(project, 'node_modules'))
    symlinkSync(packageDir, join(project, 'node_modules', 'anchor-webhooks'), 'dir')
    writeFileSync(
      join(project, 'usage.ts'),
      [
        "import { Verifier, type ErrorCode } from 'anchor-webhooks'",
        "import { honoWebhook, verifyRequest } from 'anchor-webhooks/web'",
        "const verifier = new Verifier('0'.repeat(64))",
        "const code: ErrorCode = 'signature_mismatch'",
        'export const parts = [verifier, code, honoWebhook(verifier, async (event) => { event.id satisfies string }), verifyRequest]',
        '',
      ].join('\n'),
    )
    const tsc = join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc')
    // esModuleInterop as `tsc --init` sets it (fastify's pino types, reached through the middleware's types, need it).
    const options = ['--noEmit', '--strict', '--esModuleInterop', '--module', 'commonjs', '--moduleResolution', 'node10', '--target', 'es2022']
    try {
      execFileSync(process.execPath, [tsc, ...options, '--types', 'node', '--typeRoots', join(packageDir, 'node_modules', '@types'), 'usage.ts'], {
        cwd: project,
        encoding: 'utf8',
      })
    } catch (error) {
      assert.fail(`tsc (node10) failed:\n${error.stdout}${error.stderr}`)
    }
  } finally {
    rmSync(project, { recursive: true, force: true })
  }
})
