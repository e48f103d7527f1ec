import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { MALLOC_TUNABLES, V8_FLAGS } from '../../bin/node-settings.js'
import { waitFor } from '../helpers/wait-for.ts'

const DPM = fileURLToPath(new URL('../../bin/dpm.js', import.meta.url))

/** What a process runs: its arguments and the malloc tunables it started with. */
async function processOf (pid: number): Promise<{ args: string[], tunables: string[] }> {
  const split = async (file: string): Promise<string[]> => (await readFile(`/proc/${pid}/${file}`, 'utf8')).split('\0')
  // glibc cuts the variable where it lies at each ':' as it reads it: `A:B` shows as `A\0B`
  const env = await split('environ')
  const at = env.findIndex((entry) => entry.startsWith('GLIBC_TUNABLES='))
  const tunables = at === -1 ? [] : [env[at]!.slice('GLIBC_TUNABLES='.length)]
  for (let i = at + 1; at !== -1 && /^glibc\.[\w.]+=/.test(env[i] ?? ''); i++) tunables.push(env[i]!)
  return { args: await split('cmdline'), tunables }
}

/** Starts `dpm start` as `command`, waits for its gateway, and hands `check` the process it started. */
async function startedAs (command: string[], env: Record<string, string>, check: (node: ChildProcess) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dpm-launcher-'))
  const child = spawn(command[0]!, [...command.slice(1), 'start'], {
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, HOME: dataDir, DPM_DATA_DIR: dataDir, DPM_HTTP_PORT: '0', DPM_MDNS: 'false', DPM_P2P_LISTEN: '/ip4/127.0.0.1/tcp/0', DPM_NPM_UPSTREAM: 'http://127.0.0.1:9/', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { output += d.toString() })
  try {
    await waitFor('the gateway to listen', () => output.includes('gateway listening') || (child.exitCode !== null && assert.fail(output)), 60_000)
    await check(child)
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    await rm(dataDir, { recursive: true, force: true })
  }
}

test('bin/dpm.js run as a program starts one process with the V8 flags and malloc tunables its shebang carries', async () => {
  await startedAs([DPM], {}, async (child) => {
    const node = await processOf(child.pid!)
    assert.ok(V8_FLAGS.every((flag) => node.args.includes(flag)), `flags in ${node.args.join(' ')}`)
    assert.deepEqual(node.tunables, [MALLOC_TUNABLES])
    assert.equal((await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim(), '', 'it did not run itself again')
  })
})

test('bin/dpm.js started without the V8 flags runs again as a child with them and the tunables, keeping the caller\'s own tunables', async () => {
  await startedAs([process.execPath, DPM], { GLIBC_TUNABLES: 'glibc.malloc.tcache_count=7' }, async (child) => {
    const children = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim().split(' ')
    assert.equal(children.length, 1, 'one child')
    const node = await processOf(Number(children[0]))
    assert.ok(V8_FLAGS.every((flag) => node.args.includes(flag)), `flags in ${node.args.join(' ')}`)
    assert.deepEqual(node.tunables, ['glibc.malloc.tcache_count=7', MALLOC_TUNABLES])
  })
})
