import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { parse, parseAllDocuments } from 'yaml'

const read = (path: string): Promise<string> => readFile(new URL(`../../${path}`, import.meta.url), 'utf8')

/** The settings the README's table names: a deployment may set only those. */
async function documentedSettings (): Promise<Set<string>> {
  const readme = await read('README.md')
  return new Set([...readme.matchAll(/^\| `(DPM_[A-Z_]+)`/gm)].map((m) => m[1]!))
}

function assertKnown (names: string[], known: Set<string>, where: string): void {
  for (const name of names.filter((n) => n.startsWith('DPM_'))) assert.ok(known.has(name), `${where}: ${name} is no setting of the README's table`)
}

type Env = Record<string, string>
interface ComposeService { image: string, ports?: string[], volumes: string[], secrets: string[], environment: Env }

describe('deployments in deploy/', () => {
  it('compose: three nodes, one swarm key, a volume each, one gateway on the host, seeds naming the others', async () => {
    const compose = parse(await read('deploy/compose/compose.yaml'), { merge: true }) as { services: Record<string, ComposeService>, secrets: Record<string, { file: string }>, volumes: Record<string, unknown> }
    const services = Object.entries(compose.services)
    assert.equal(services.length, 3)
    const known = await documentedSettings()
    const dataVolumes = new Set<string>()
    for (const [name, service] of services) {
      assert.deepEqual(service.secrets, ['swarm_key'], name)
      assert.equal(service.environment.DPM_SWARM_KEY_FILE, '/run/secrets/swarm_key', name)
      const data = service.volumes.find((v) => v.endsWith(':/data'))
      assert.ok(data !== undefined, `${name} keeps its cache in a volume at /data`)
      dataVolumes.add(data.split(':')[0]!)
      for (const other of services.map(([n]) => n)) assert.match(service.environment.DPM_BOOTSTRAP ?? '', new RegExp(`/dns4/${other}/tcp/4001`), `${name} has ${other} as a seed`)
      assertKnown(Object.keys(service.environment), known, name)
    }
    assert.equal(dataVolumes.size, 3, 'no two nodes share a store')
    for (const volume of dataVolumes) assert.ok(volume in compose.volumes, volume)
    assert.deepEqual(services.filter(([, s]) => s.ports?.some((p) => p.endsWith(':8484'))).map(([n]) => n), ['node1'])
    assert.equal(compose.secrets.swarm_key?.file, './swarm.key')
  })

  it('kubernetes: a DaemonSet with probes, limits, the data volume and the key from its Secret; a headless Service its seed names', async () => {
    const docs = parseAllDocuments(await read('deploy/kubernetes/dpm.yaml')).map((d) => d.toJS() as { kind: string, metadata: { name: string }, [k: string]: any })
    const byKind = (kind: string): any => { const found = docs.filter((d) => d.kind === kind); assert.equal(found.length, 1, kind); return found[0] }
    const secret = byKind('Secret')
    const config = byKind('ConfigMap')
    const service = byKind('Service')
    const daemonSet = byKind('DaemonSet')
    assert.ok('swarm.key' in secret.stringData)
    assert.equal(service.spec.clusterIP, 'None')
    assert.equal(service.spec.publishNotReadyAddresses, true)
    assert.deepEqual(service.spec.selector, daemonSet.spec.template.metadata.labels)
    assert.match(config.data.DPM_BOOTSTRAP, new RegExp(`^/dns4/${service.metadata.name}\\.${service.metadata.namespace}\\.svc\\.cluster\\.local/tcp/${service.spec.ports[0].port}$`))

    const pod = daemonSet.spec.template.spec
    const [container] = pod.containers
    assert.equal(pod.containers.length, 1)
    assertKnown([...Object.keys(config.data), ...container.env.map((e: { name: string }) => e.name)], await documentedSettings(), 'dpm.yaml')
    assert.equal(container.envFrom[0].configMapRef.name, config.metadata.name)
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) assert.equal(container[probe].httpGet.path, '/-/health', probe)
    assert.ok(container.resources.limits.memory !== undefined && container.resources.limits.cpu !== undefined)
    assert.ok(container.securityContext.runAsNonRoot)

    const mountOf = (path: string): { name: string } => container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path)
    const volumeOf = (name: string): any => pod.volumes.find((v: { name: string }) => v.name === name)
    assert.ok(volumeOf(mountOf('/data').name).hostPath, 'the cache outlives the pod')
    const keyFile = container.env.find((e: { name: string }) => e.name === 'DPM_SWARM_KEY_FILE').value as string
    const keyMount = container.volumeMounts.find((m: { mountPath: string }) => keyFile.startsWith(`${m.mountPath}/`))
    assert.ok(keyMount !== undefined, 'the key file lies in a mounted volume')
    assert.equal(volumeOf(keyMount.name).secret.secretName, secret.metadata.name)
    assert.equal(keyFile.slice(keyMount.mountPath.length + 1), 'swarm.key')
  })

  it('systemd: runs `dpm start` as its own user, the key as a credential, stopped by SIGTERM', async () => {
    const unit = new Map<string, string[]>()
    for (const line of (await read('deploy/systemd/dpm.service')).split('\n')) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line)
      if (match !== null) unit.set(match[1]!, [...unit.get(match[1]!) ?? [], match[2]!])
    }
    assert.match(unit.get('ExecStart')?.[0] ?? '', /bin\/dpm\.js start$/)
    assert.notEqual(unit.get('User')?.[0] ?? 'root', 'root')
    assert.equal(unit.get('KillSignal')?.[0], 'SIGTERM')
    const env = Object.fromEntries((unit.get('Environment') ?? []).map((e) => e.split('=', 2) as [string, string]))
    assert.equal(env.DPM_SWARM_KEY_FILE, '%d/swarm.key')
    assert.ok(unit.get('LoadCredential')?.some((c) => c.startsWith('swarm.key:')))
    assert.equal(env.DPM_DATA_DIR, '/var/lib/dpm')
    assert.deepEqual(unit.get('StateDirectory'), ['dpm'])
    assertKnown(Object.keys(env), await documentedSettings(), 'dpm.service')
  })
})
