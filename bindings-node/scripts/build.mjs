#!/usr/bin/env node
// Builds the native addon and (re)generates the committed `index.js` / `index.d.ts`.
//
//   node scripts/build.mjs [--release] [--check]
//
// `napi build` always passes `--target <host triple>`, which compiles every dependency a second time under
// `target/<triple>/`; this script runs plain `cargo build -p anchor-webhooks-node` in the shared target
// directory instead, then calls the napi CLI's own generators (`generateTypeDef`, `writeJsBinding`), so the
// files are exactly what `napi build --platform` writes. `--check` writes them to a temporary directory and
// fails if the committed ones differ.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef, parseTriple, writeJsBinding } from '@napi-rs/cli'

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))
const repoDir = dirname(packageDir)
const release = process.argv.includes('--release')
const check = process.argv.includes('--check')
const targetDir = process.env.CARGO_TARGET_DIR || join(repoDir, 'target')
const crate = 'anchor-webhooks-node'
const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
const binaryName = pkg.napi.binaryName

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { cwd: repoDir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } })
  if (result.status !== 0) {
    console.error(`build.mjs: \`${command} ${args.join(' ')}\` failed`)
    process.exit(result.status ?? 1)
  }
}

const hostTriple = spawnSync('rustc', ['-vV'], { encoding: 'utf8' })
  .stdout.split('\n')
  .find((line) => line.startsWith('host: '))
  .slice('host: '.length)
const { platformArchABI } = parseTriple(hostTriple)

// napi-derive writes one type-def file per crate into this folder while the macros expand; forcing a
// rebuild of this crate (only) makes sure they are written from the current source.
const typeDefDir = join(targetDir, 'napi-rs', `${crate}-type-def`)
rmSync(typeDefDir, { recursive: true, force: true })
mkdirSync(typeDefDir, { recursive: true })
run('cargo', ['build', '-p', crate, '--locked', ...(release ? ['--release'] : [])], {
  NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir,
  NAPI_FORCE_BUILD_ANCHOR_WEBHOOKS_NODE: String(Date.now()),
})

const library = {
  linux: `lib${crate.replace(/-/g, '_')}.so`,
  darwin: `lib${crate.replace(/-/g, '_')}.dylib`,
  win32: `${crate.replace(/-/g, '_')}.dll`,
}[process.platform]
const built = join(targetDir, release ? 'release' : 'debug', library)
if (!existsSync(built)) {
  console.error(`build.mjs: ${built} was not produced`)
  process.exit(1)
}
copyFileSync(built, join(packageDir, `${binaryName}.${platformArchABI}.node`))

const outputDir = check ? mkdtempSync(join(tmpdir(), 'anchor-webhooks-node-')) : packageDir
const { exports, dts } = await generateTypeDef({ typeDefDir, cwd: packageDir, declareBindingTarget: true })
writeFileSync(join(outputDir, 'index.d.ts'), dts)
await writeJsBinding({
  platform: true,
  idents: exports,
  jsBinding: 'index.js',
  binaryName,
  packageName: pkg.name,
  version: pkg.version,
  outputDir,
})

if (check) {
  const stale = ['index.js', 'index.d.ts'].filter((name) => {
    const committed = join(packageDir, name)
    return !existsSync(committed) || readFileSync(committed, 'utf8') !== readFileSync(join(outputDir, name), 'utf8')
  })
  rmSync(outputDir, { recursive: true, force: true })
  if (stale.length) {
    console.error(`build.mjs: ${stale.join(', ')} differ from what the napi CLI generates from src/lib.rs.`)
    console.error('Regenerate them with:  node bindings-node/scripts/build.mjs   (then commit them)')
    process.exit(1)
  }
  console.log('build.mjs: index.js and index.d.ts are up to date')
}
