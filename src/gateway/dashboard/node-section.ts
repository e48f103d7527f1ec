import { html } from 'hono/html'
import type { NodeStatus } from '../../node/node-status.ts'
import { size, type Html } from './format.ts'

/** Who this node is, whom it is connected to, and how full its store is. */
export function nodeSection (status: NodeStatus): Html {
  const { node, peers, store } = status
  const share = store.limitBytes > 0 ? Math.min(store.usedBytes / store.limitBytes, 1) : 0
  return html`
<section>
  <h2>Node</h2>
  <dl>
    <dt>Peer id</dt><dd><code data-testid="peer-id">${node.peerId}</code></dd>
    <dt>Version</dt><dd>dpm ${node.version} (${node.status})</dd>
    <dt>Public URL</dt><dd><code data-testid="public-url">${node.publicUrl}</code></dd>
    <dt>Swarm</dt><dd data-testid="swarm">${node.swarm ? `on, ${peers.length} ${peers.length === 1 ? 'peer' : 'peers'} connected` : 'off: no swarm key set, running alone'}</dd>
    ${node.multiaddrs.length > 0 ? html`<dt>Listening</dt><dd>${node.multiaddrs.map((a) => html`<code>${a}</code><br>`)}</dd>` : ''}
  </dl>
  ${node.swarm
    ? peers.length === 0
      ? html`<p class="muted">No peers connected.</p>`
      : html`<table data-testid="peers"><thead><tr><th>Peer</th><th>Addresses</th></tr></thead><tbody>${peers.map((p) => html`<tr><td><code>${p.id}</code></td><td>${p.addresses.map((a) => html`<code>${a}</code> `)}</td></tr>`)}</tbody></table>`
    : ''}
</section>
<section>
  <h2>Store</h2>
  <p data-testid="store-usage"><strong>${size(store.usedBytes)}</strong> of ${size(store.limitBytes)} (${(share * 100).toFixed(1)}%), ${store.pinned} pinned</p>
  <svg class="meter" role="meter" aria-label="store usage" aria-valuemin="0" aria-valuemax="${store.limitBytes}" aria-valuenow="${store.usedBytes}" data-used-bytes="${store.usedBytes}" data-limit-bytes="${store.limitBytes}" viewBox="0 0 100 6" preserveAspectRatio="none"><rect width="100" height="6" fill="#e6e6e6"></rect><rect width="${Math.max(share * 100, store.usedBytes > 0 ? 0.5 : 0).toFixed(2)}" height="6" fill="#2e9d5b"></rect></svg>
</section>`
}
