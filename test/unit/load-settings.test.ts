import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ConfigError } from '../../src/config/config-error.ts'
import { loadSettings } from '../../src/config/load-settings.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const KEY = '/key/swarm/psk/1.0.0/\n/base16/\n' + 'ab'.repeat(32) + '\n'
const base = { DPM_NPM_UPSTREAM: 'http://127.0.0.1:9/' }

async function load (env: Record<string, string>, configFile?: string) {
  return await loadSettings({ env: { ...base, ...env }, configFile, homeDir: '/home/someone' })
}

async function rejects (env: Record<string, string>, pattern: RegExp, configFile?: string): Promise<void> {
  await assert.rejects(load(env, configFile), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.ok(!err.message.includes('\n'), 'one line')
    assert.match(err.message, pattern)
    return true
  })
}

describe('settings', () => {
  it('has the documented defaults', async () => {
    const settings = await load({})
    assert.equal(settings.data_dir, '/home/someone/.local/share/dpm')
    assert.equal(settings.http_host, '127.0.0.1')
    assert.equal(settings.http_port, 8484)
    assert.deepEqual(settings.p2p_listen, ['/ip4/0.0.0.0/tcp/4001'])
    assert.equal(settings.log_level, 'info')
    assert.equal(settings.max_store, 50 * 1024 ** 3)
    assert.equal(settings.swarm_key, undefined)
    assert.equal(settings.public_url, undefined)
  })

  it('reads DPM_MOUNT: an absolute directory, none by default', async () => {
    assert.equal((await load({})).mount, undefined)
    assert.equal((await load({ DPM_MOUNT: ' /mnt/dpm ' })).mount, '/mnt/dpm')
    await rejects({ DPM_MOUNT: 'relative/dir' }, /DPM_MOUNT.*absolute/)
  })

  it('puts the data dir under XDG_DATA_HOME when set', async () => {
    assert.equal((await load({ XDG_DATA_HOME: '/xdg' })).data_dir, '/xdg/dpm')
  })

  it('reads every setting from the environment', async () => {
    const settings = await load({
      DPM_DATA_DIR: '/data', DPM_HTTP_HOST: '0.0.0.0', DPM_HTTP_PORT: '0', DPM_PUBLIC_URL: 'https://cache.example.test',
      DPM_SWARM_KEY: KEY, DPM_P2P_LISTEN: '/ip4/0.0.0.0/tcp/4001, /ip6/::/tcp/4001', DPM_LOG_LEVEL: 'debug',
      DPM_NPM_UPSTREAM: 'http://registry.example.test/npm', DPM_ADMIN_TOKEN: 'a-long-enough-secret', DPM_MAX_STORE: '512MB'
    })
    assert.equal(settings.data_dir, '/data')
    assert.equal(settings.http_port, 0)
    assert.equal(settings.public_url, 'https://cache.example.test/')
    assert.deepEqual(settings.p2p_listen, ['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001'])
    assert.equal(settings.npm_upstream, 'http://registry.example.test/npm/')
    assert.equal(Buffer.from(settings.swarm_key!).toString(), KEY)
    assert.equal(settings.max_store, 512 * 1024 ** 2)
  })

  it('reads a YAML file, and the environment wins over it', async () => {
    const dir = await tempDir('config-')
    const file = join(dir, 'dpm.yaml')
    await writeFile(file, 'http_port: 9000\nlog_level: warn\ndata_dir: /from-file\n')
    const settings = await load({ DPM_LOG_LEVEL: 'error' }, file)
    assert.equal(settings.http_port, 9000)
    assert.equal(settings.log_level, 'error')
    assert.equal(settings.data_dir, '/from-file')
    assert.equal((await load({ DPM_CONFIG: file })).http_port, 9000)
  })

  it('reads the swarm key from a file', async () => {
    const dir = await tempDir('config-')
    await writeFile(join(dir, 'swarm.key'), KEY)
    const settings = await load({ DPM_SWARM_KEY_FILE: join(dir, 'swarm.key') })
    assert.equal(Buffer.from(settings.swarm_key!).toString(), KEY)
    await rejects({ DPM_SWARM_KEY_FILE: join(dir, 'missing.key') }, /^DPM_SWARM_KEY_FILE: cannot read .*ENOENT/)
    await writeFile(join(dir, 'bad.key'), 'not a key')
    await rejects({ DPM_SWARM_KEY_FILE: join(dir, 'bad.key') }, /^DPM_SWARM_KEY_FILE: .*swarm\.key/)
  })

  it('takes bootstrap peers by peer id, or seeds by name or address without one', async () => {
    const peer = '/ip4/10.0.0.5/tcp/4001/p2p/12D3KooWAbcdefghijkLmnopqrstuvwxyz12345678ABCDEFGHJK'
    const settings = await load({ DPM_BOOTSTRAP: `${peer},/dns4/dpm-peers.dpm.svc.cluster.local/tcp/4001,/ip4/10.0.0.6/tcp/4001` })
    assert.deepEqual(settings.bootstrap, [peer, '/dns4/dpm-peers.dpm.svc.cluster.local/tcp/4001', '/ip4/10.0.0.6/tcp/4001'])
    await rejects({ DPM_BOOTSTRAP: '/dns4/dpm-peers/udp/4001' }, /^DPM_BOOTSTRAP: .*\/dns4\/<name>\/tcp\/<port>/)
    await rejects({ DPM_BOOTSTRAP: '/ip4/10.0.0.6' }, /^DPM_BOOTSTRAP: /)
  })

  it('stops on a bad value with one line naming the setting', async () => {
    await rejects({ DPM_HTTP_PORT: 'eighty' }, /^DPM_HTTP_PORT: expected a port number .*"eighty"/)
    await rejects({ DPM_HTTP_PORT: '70000' }, /^DPM_HTTP_PORT: /)
    await rejects({ DPM_HTTP_PORT: '-1' }, /^DPM_HTTP_PORT: /)
    await rejects({ DPM_LOG_LEVEL: 'loud' }, /^DPM_LOG_LEVEL: expected one of debug, info, warn, error/)
    await rejects({ DPM_PUBLIC_URL: 'not a url' }, /^DPM_PUBLIC_URL: /)
    await rejects({ DPM_PUBLIC_URL: 'ftp://files.example.test/' }, /^DPM_PUBLIC_URL: expected an http/)
    await rejects({ DPM_NPM_UPSTREAM: 'registry' }, /^DPM_NPM_UPSTREAM: /)
    await rejects({ DPM_P2P_LISTEN: 'tcp://0.0.0.0:4001' }, /^DPM_P2P_LISTEN: expected comma-separated multiaddrs/)
    await rejects({ DPM_SWARM_KEY: 'secret' }, /^DPM_SWARM_KEY: expected a kubo swarm\.key/)
    await rejects({ DPM_ADMIN_TOKEN: 'short' }, /^DPM_ADMIN_TOKEN: must be at least 16/)
    await rejects({ DPM_MAX_STORE: 'lots' }, /^DPM_MAX_STORE: expected a size such as 50GB/)
    await rejects({ DPM_MAX_STORE: '0' }, /^DPM_MAX_STORE: must be more than 0/)
    await rejects({ DPM_MAX_STORE: '-5GB' }, /^DPM_MAX_STORE: must be more than 0/)
  })

  it('names the file and the problem when the config file is wrong', async () => {
    const dir = await tempDir('config-')
    await rejects({}, /^DPM_CONFIG: cannot read .*nope\.yaml/, join(dir, 'nope.yaml'))
    await writeFile(join(dir, 'list.yaml'), '- a\n- b\n')
    await rejects({}, /^DPM_CONFIG: .* must be a YAML mapping/, join(dir, 'list.yaml'))
    await writeFile(join(dir, 'typo.yaml'), 'http_prot: 80\n')
    await rejects({}, /^DPM_CONFIG: .* unknown setting "http_prot"/, join(dir, 'typo.yaml'))
    await writeFile(join(dir, 'broken.yaml'), 'http_port: [\n')
    await rejects({}, /^DPM_CONFIG: cannot read /, join(dir, 'broken.yaml'))
    await writeFile(join(dir, 'port.yaml'), 'http_port: lots\n')
    await rejects({}, /^DPM_HTTP_PORT: /, join(dir, 'port.yaml'))
  })
})
