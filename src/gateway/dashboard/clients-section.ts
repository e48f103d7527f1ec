import { html } from 'hono/html'
import type { NodeStatus } from '../../node/node-status.ts'
import { clientSnippets } from './client-snippets.ts'
import type { Html } from './format.ts'

/** Copyable set-ups for the clients of every enabled format. */
export function clientsSection (status: NodeStatus): Html {
  const snippets = clientSnippets(status.node.publicUrl, status.formats)
  return html`
<section>
  <h2>Point clients at this node</h2>
  ${snippets.length === 0 ? html`<p class="muted">No format is enabled.</p>` : ''}
  ${snippets.map((s) => html`
  <div class="snippet">
    <h3>${s.title} <span class="muted">${s.where}</span></h3>
    <div class="copyable"><pre id="${s.id}" data-testid="${s.id}">${s.text}</pre><button type="button" data-copy="${s.id}">Copy</button></div>
  </div>`)}
</section>`
}
