import type { PluginApi } from './index.ts'

/**
 * The setting of a format with several upstreams, each mounted under its name
 * (`DPM_APT_UPSTREAMS`, `DPM_CARGO_UPSTREAMS`): `name=URL` pairs, comma separated,
 * into `[{ name, url }]`, every URL with a trailing slash. `marker` is what the
 * URL must start with before its `http(s)://` and is dropped (Cargo's `sparse+`).
 * Takes valibot from the plugin API: it needs nothing from the core.
 */
export function namedUpstreams (v: PluginApi['v'], marker = '') {
  const pair = new RegExp(`^[a-z0-9][a-z0-9_-]*=${marker.replace(/[+.]/g, '\\$&')}https?:\\/\\/\\S+$`)
  return v.pipe(
    v.string(),
    v.transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean)),
    v.check((pairs) => pairs.every((p) => pair.test(p)), `expected comma-separated name=${marker}http(s)://… pairs`),
    v.transform((pairs) => pairs.map((p) => {
      const [name, url] = [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1 + marker.length)]
      return { name, url: url.endsWith('/') ? url : `${url}/` }
    }))
  )
}
