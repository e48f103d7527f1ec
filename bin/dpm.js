#!/usr/bin/env node
// DPM needs Node >= 22.19 (Helia 7). A checkout carries Node 24 as the `node`
// devDependency: on an older system Node, re-run this command with that one.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const [major, minor] = process.versions.node.split('.').map(Number)

if (major > 22 || (major === 22 && minor >= 19)) {
  await import(main)
} else {
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (!existsSync(bundled)) {
    process.stderr.write(`dpm: Node ${process.versions.node} is too old (need >= 22.19); run \`npm ci\` in the checkout or install a newer Node\n`)
    process.exit(1)
  }
  const child = spawn(bundled, [main, ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
}
