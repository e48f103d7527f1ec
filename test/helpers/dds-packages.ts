import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from './temp-dir.ts'

export interface DdsPackageSpec {
  name: string
  version: string
  depends?: string[]
  /** Where the manifest goes: `package.json5` unless said. */
  manifestName?: string
  /** Leave the manifest out. */
  noManifest?: boolean
}

/** A dds sdist as `dds pkg create` lays one out: the manifest at the root, sources beside it. Made with the system `tar`. */
export async function makeSdist (spec: DdsPackageSpec, into?: string): Promise<string> {
  const dir = await packageDir(spec)
  // hostile names in a test stay out of the file name
  const out = join(into ?? await tempDir('sdist-'), `${spec.name}-${spec.version}.tar.gz`.replace(/[^\w.-]|\.\./g, '_'))
  execFileSync('tar', ['-czf', out, '-C', dir, '.'])
  return out
}

/** The package's files in a directory of their own. */
export async function packageDir (spec: DdsPackageSpec): Promise<string> {
  const dir = await tempDir('ddspkg-')
  const src = join(dir, 'src', spec.name.replace(/[^\w.-]|\.\./g, '_'))
  await mkdir(src, { recursive: true })
  await writeFile(join(src, 'lib.hpp'), `#pragma once\n// ${spec.name} ${spec.version}\nint ${spec.name.replace(/\W/g, '_')}();\n`)
  if (spec.noManifest !== true) {
    const depends = (spec.depends ?? []).map((d) => `    "${d}",\n`).join('')
    // JSON5, as dds writes them: comments, unquoted keys, trailing commas
    await writeFile(join(dir, spec.manifestName ?? 'package.json5'), `{\n  // made for a test\n  name: '${spec.name}',\n  namespace: 'test',\n  version: '${spec.version}',\n  depends: [\n${depends}  ],\n}\n`)
  }
  return dir
}
