#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --max-semi-space-size=4
// DPM needs Node >= 22.19 (Helia 7), and the V8 flags and malloc tunables in
// ./node-settings.js (the shebang carries them so the usual start needs one
// process). A checkout carries Node 24 as the `node` devDependency: on an older
// system Node, or without the V8 flags, this command runs again as a child with
// both (adding the tunables to any the caller set; the shebang replaces those).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { enableCompileCache } from 'node:module'
import { fileURLToPath } from 'node:url'
import { V8_FLAGS, withMallocTunables } from './node-settings.js'

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const [major, minor] = process.versions.node.split('.').map(Number)
const newEnough = major > 22 || (major === 22 && minor >= 19)

// the flags alone decide: a child started here always has them, so it never
// starts another, whatever happens to its environment
if (newEnough && V8_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  // the sources are TypeScript: with their stripped and compiled form cached
  // (NODE_COMPILE_CACHE, else the system's temporary directory), a start neither
  // loads the type stripper (~17 MiB resident for the process's life) nor compiles
  enableCompileCache()
  await import(main)
} else {
  const node = newEnough ? process.execPath : fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (!existsSync(node)) {
    process.stderr.write(`dpm: Node ${process.versions.node} is too old (need >= 22.19); run \`npm ci\` in the checkout or install a newer Node\n`)
    process.exit(1)
  }
  const child = spawn(node, [...V8_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: withMallocTunables(process.env) })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
}
