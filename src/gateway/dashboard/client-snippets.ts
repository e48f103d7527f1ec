import type { FormatStatus } from '../../node/node-status.ts'

/** A copyable piece of client configuration pointing at this node. */
export interface Snippet {
  id: string
  format: string
  title: string
  /** Where it goes, or what to run it with. */
  where: string
  text: string
}

/**
 * How to point each enabled format's clients at this node, the same set-ups
 * the README gives, with the node's public URL in them.
 */
export function clientSnippets (publicUrl: string, formats: Array<Pick<FormatStatus, 'name' | 'mounts'>>): Snippet[] {
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`
  const at = (prefix: string): string => `${base}${prefix.replace(/^\/+/, '')}`
  const snippets: Snippet[] = []
  for (const format of formats) {
    for (const [i, mount] of format.mounts.entries()) {
      const url = at(mount.prefix)
      const name = mount.prefix.replace(/^\/+|\/+$/g, '').split('/').at(-1) ?? format.name
      const id = (suffix: string): string => `snippet-${format.name}-${i}${suffix}`
      if (format.name === 'npm') {
        snippets.push({ id: id(''), format: 'npm', title: 'npm', where: 'run once; or registry=… in a project’s .npmrc', text: `npm config set registry ${url}` })
      } else if (format.name === 'pypi') {
        snippets.push({ id: id(''), format: 'pypi', title: 'pip', where: `run once; or pip install --index-url ${url}simple/ …`, text: `pip config set global.index-url ${url}simple/` })
      } else if (format.name === 'apt') {
        snippets.push({ id: id(''), format: 'apt', title: `apt (${name})`, where: '/etc/apt/sources.list, with your release’s suite (e.g. bookworm) and components', text: `deb ${url.replace(/\/+$/, '')} <suite> main` })
      } else if (format.name === 'oci') {
        snippets.push(...ociSnippets(base, id))
      } else if (format.name === 'cargo') {
        const registry = `sparse+${url}`
        snippets.push(name === 'crates-io'
          ? { id: id(''), format: 'cargo', title: 'Cargo (crates-io)', where: '~/.cargo/config.toml', text: `[source.crates-io]\nreplace-with = "dpm"\n\n[source.dpm]\nregistry = "${registry}"` }
          : { id: id(''), format: 'cargo', title: `Cargo (${name})`, where: '~/.cargo/config.toml', text: `[registries.${name}]\nindex = "${registry}"` })
      } else {
        snippets.push({ id: id(''), format: format.name, title: format.name, where: 'the client’s registry or index URL', text: url })
      }
    }
  }
  return snippets
}

/** Docker's mirrors serve Docker Hub only; containerd and podman are shown for docker.io too, as in the README. */
function ociSnippets (base: string, id: (suffix: string) => string): Snippet[] {
  const url = new URL(base)
  const host = url.host
  const origin = `${url.protocol}//${host}`
  const insecure = url.protocol === 'http:'
  return [
    {
      id: id('-docker'),
      format: 'oci',
      title: 'Docker',
      where: '/etc/docker/daemon.json',
      text: insecure ? `{ "registry-mirrors": ["${origin}"], "insecure-registries": ["${host}"] }` : `{ "registry-mirrors": ["${origin}"] }`
    },
    {
      id: id('-containerd'),
      format: 'oci',
      title: 'containerd',
      where: '/etc/containerd/certs.d/docker.io/hosts.toml',
      text: `server = "https://registry-1.docker.io"\n\n[host."${origin}"]\n  capabilities = ["pull", "resolve"]`
    },
    {
      id: id('-podman'),
      format: 'oci',
      title: 'podman, buildah, CRI-O',
      where: '/etc/containers/registries.conf',
      text: `[[registry]]\nprefix = "docker.io"\nlocation = "registry-1.docker.io"\n\n[[registry.mirror]]\nlocation = "${host}/docker.io"${insecure ? '\ninsecure = true' : ''}`
    }
  ]
}
