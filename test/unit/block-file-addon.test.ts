import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadBlockFileAddon, writeBlockFile } from '../../src/store/write-block-file.ts'

const dirs: string[] = []
after(async () => { for (const dir of dirs) await rm(dir, { recursive: true, force: true }) })

async function workDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-block-file-'))
  dirs.push(dir)
  return dir
}

describe('the block file addon (native/block-file.c)', () => {
  it('is built at install', () => {
    assert.ok(loadBlockFileAddon() !== undefined, 'native/build.sh built native/build/block-file.node at install (it needs cc and Node\'s headers)')
  })

  it('refuses arguments that are not two paths and bytes, before touching anything', async () => {
    const addon = loadBlockFileAddon()!
    const dir = await workDir()
    const call = addon.write as (...args: unknown[]) => Promise<void>
    for (const args of [[], [join(dir, 't'), join(dir, 'f')], [join(dir, 't'), join(dir, 'f'), 'text'], [join(dir, 't'), 7, Buffer.from('x')], [join(dir, 't'), join(dir, 'f'), new Uint16Array(2)]]) {
      assert.throws(() => call(...args), TypeError, JSON.stringify(args))
    }
    assert.deepEqual(await readdir(dir), [])
  })
})

for (const native of [true, false]) {
  describe(`a block file written ${native ? 'by the addon' : 'by Node\'s fs'}`, () => {
    it('holds the bytes whole under its name, with no temporary file beside it, however many are written at once', async () => {
      const dir = await workDir()
      const big = randomBytes(8 * 1024 * 1024 + 17)
      const small = Array.from({ length: 200 }, (_, i) => Buffer.from(`block ${i}`))
      await Promise.all([
        writeBlockFile(join(dir, 'big.tmp'), join(dir, 'big'), big, { native }),
        ...small.map(async (bytes, i) => { await writeBlockFile(join(dir, `${i}.tmp`), join(dir, String(i)), bytes, { native }) })
      ])
      assert.deepEqual(await readFile(join(dir, 'big')), big)
      for (const [i, bytes] of small.entries()) assert.deepEqual(await readFile(join(dir, String(i))), bytes)
      assert.equal((await readdir(dir)).filter((name) => name.endsWith('.tmp')).length, 0)
      // a view into a larger buffer is written as the view, not the whole buffer
      await writeBlockFile(join(dir, 'view.tmp'), join(dir, 'view'), big.subarray(5, 105), { native })
      assert.deepEqual(await readFile(join(dir, 'view')), big.subarray(5, 105))
    })

    it('makes the directories it is to go in, and overwrites a temporary file a stopped process left', async () => {
      const dir = await workDir()
      const file = join(dir, 'shard', 'deeper', 'block')
      await writeBlockFile(`${file}.tmp`, file, Buffer.from('made its way'), { native })
      assert.equal(await readFile(file, 'utf8'), 'made its way')
      await writeFile(`${file}-2.tmp`, 'a longer half-written leftover')
      await writeBlockFile(`${file}-2.tmp`, `${file}-2`, Buffer.from('new'), { native })
      assert.equal(await readFile(`${file}-2`, 'utf8'), 'new')
      assert.deepEqual((await readdir(join(dir, 'shard', 'deeper'))).sort(), ['block', 'block-2'])
    })

    it('fails with the error\'s code, and leaves neither the file nor a temporary one', async () => {
      const dir = await workDir()
      // a directory that cannot be made: a file stands where it would be
      await writeFile(join(dir, 'not-a-dir'), 'x')
      await assert.rejects(writeBlockFile(join(dir, 'not-a-dir', 'b.tmp'), join(dir, 'not-a-dir', 'b'), Buffer.from('bytes'), { native }), { code: 'ENOTDIR' })
      // a rename that cannot happen: a directory has the block's name
      await mkdir(join(dir, 'taken'))
      await writeFile(join(dir, 'taken', 'inside'), 'kept')
      await assert.rejects(writeBlockFile(join(dir, 'taken.tmp'), join(dir, 'taken'), Buffer.from('bytes'), { native }), (err: NodeJS.ErrnoException) => {
        assert.ok(['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(err.code ?? ''), String(err.code))
        assert.match(err.message, /taken/)
        return true
      })
      assert.deepEqual((await readdir(dir)).sort(), ['not-a-dir', 'taken'])
      assert.deepEqual(await readdir(join(dir, 'taken')), ['inside'])
    })
  })
}
