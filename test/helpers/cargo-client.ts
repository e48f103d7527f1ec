import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand, type CommandResult } from './run-command.ts'
import { tempDir } from './temp-dir.ts'

export interface CargoProject {
  dir: string
  /** Runs cargo in the project with its current CARGO_HOME. */
  run(...args: string[]): Promise<CommandResult>
  /** A new, empty CARGO_HOME: cargo downloads again instead of reusing its own cache. */
  forget(): Promise<void>
}

/** A cargo project depending on `deps`, with crates.io replaced by a node's sparse registry. */
export async function createCargoProject (init: { registry: string, deps: Record<string, string>, main: string }): Promise<CargoProject> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-cargo-project-'))
  await mkdir(join(dir, 'src'))
  await writeFile(join(dir, 'Cargo.toml'), `[package]\nname = "app"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n${Object.entries(init.deps).map(([n, r]) => `${n} = "${r}"`).join('\n')}\n`)
  await writeFile(join(dir, 'src', 'main.rs'), init.main)
  let home = ''
  const project: CargoProject = {
    dir,
    async forget () {
      home = await tempDir('cargo-home-')
      await writeFile(join(home, 'config.toml'), `[source.crates-io]\nreplace-with = "dpm"\n\n[source.dpm]\nregistry = "sparse+${init.registry}"\n\n[net]\nretry = 0\n`)
    },
    async run (...args) {
      return await runCommand('cargo', args, { cwd: dir, env: { ...process.env, CARGO_HOME: home, CARGO_TARGET_DIR: join(dir, 'target'), CARGO_TERM_COLOR: 'never' } })
    }
  }
  await project.forget()
  return project
}
