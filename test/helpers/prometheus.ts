import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.ts'
import { waitFor } from './wait-for.ts'

/** Debian's package installs it here (CI installs it). */
const PROMETHEUS = '/usr/bin/prometheus'

export interface RunningPrometheus {
  url: string
  /** An instant query's samples: each series' labels and value. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>, value: number }>>
  /** What the process wrote to stderr (its log). */
  log(): string
  /** Stops the process and removes its config and storage. */
  stop(): Promise<void>
}

/**
 * The real Prometheus on a free loopback port, with its own config and storage
 * in a temporary directory, scraping `target` (`host:port`) at `metricsPath`
 * every second. Resolves once its HTTP API answers.
 */
export async function startPrometheus (init: { target: string, metricsPath: string, job: string }): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  // JSON is YAML: no YAML writer needed
  await writeFile(config, JSON.stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: init.job, metrics_path: init.metricsPath, static_configs: [{ targets: [init.target] }] }]
  }))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(PROMETHEUS, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = once(child, 'exit')

  async function stop (): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      // its TSDB closes in well under a second; a hung one is killed
      const ended = await Promise.race([exited.then(() => true), sleep(10_000, false, { ref: false })])
      if (!ended) {
        child.kill('SIGKILL')
        await exited
      }
    }
    await rm(dir, { recursive: true, force: true })
  }

  try {
    await waitFor('Prometheus to answer', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${stderr}`)
      return await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)
    }, 30_000)
  } catch (err) {
    await stop()
    throw err
  }

  return {
    url,
    log: () => stderr,
    stop,
    async query (expr) {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`)
      const body = await response.json() as { status: string, error?: string, data: { resultType: string, result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`)
      if (body.data.resultType !== 'vector') throw new Error(`query ${expr} gave a ${body.data.resultType}, not a vector`)
      return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }))
    }
  }
}
