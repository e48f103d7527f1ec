import { html } from 'hono/html'
import { OUTCOMES } from '../../node/activity.ts'
import type { NodeStatus } from '../../node/node-status.ts'
import { historyChart } from './chart.ts'
import { clock, percent, type Html } from './format.ts'

/** Per format: responses by X-Cache, hit ratio, what came from peers, and the chart over time. */
export function trafficSection (status: NodeStatus): Html {
  const { samples, intervalSeconds } = status.history
  const legend = OUTCOMES.map((o) => html`<span class="swatch o-${o}"></span>${o} `)
  return html`
<section>
  <h2>Cache by format</h2>
  <p class="muted">Since the node started; the charts show responses per ${intervalSeconds} s interval. ${legend}</p>
  <table>
    <thead><tr><th>Format</th>${OUTCOMES.map((o) => html`<th class="num">${o}</th>`)}<th class="num">Hit ratio</th><th class="num">From peers</th><th>Over time</th></tr></thead>
    <tbody>${status.formats.map((f) => html`
      <tr data-testid="format-${f.name}">
        <td><strong>${f.name}</strong><br><span class="muted">${f.mounts.map((m) => m.prefix).join(' ')}</span></td>
        ${OUTCOMES.map((o) => html`<td class="num" data-testid="${f.name}-${o}">${f.responses[o]}</td>`)}
        <td class="num" data-testid="hit-ratio-${f.name}">${percent(f.hitRatio)}</td>
        <td class="num" data-testid="peer-ratio-${f.name}">${percent(f.peerRatio)}</td>
        <td>${historyChart(f.name, samples, intervalSeconds)}</td>
      </tr>`)}
    </tbody>
  </table>
</section>`
}

/** The last requests that carried X-Cache. */
export function recentSection (status: NodeStatus): Html {
  return html`
<section>
  <h2>Recent fetches</h2>
  ${status.recent.length === 0
    ? html`<p class="muted">Nothing fetched yet.</p>`
    : html`<table data-testid="recent">
    <thead><tr><th>Time (UTC)</th><th>Format</th><th>Method</th><th>Path</th><th class="num">Status</th><th>X-Cache</th><th class="num">ms</th></tr></thead>
    <tbody>${status.recent.map((f) => html`
      <tr data-testid="fetch"><td>${clock(f.at)}</td><td>${f.format}</td><td>${f.method}</td><td class="path"><code>${f.path}</code></td><td class="num">${f.status}</td><td><span class="cache cache-${f.cache}" data-testid="fetch-cache">${f.cache}</span></td><td class="num">${f.ms}</td></tr>`)}
    </tbody>
  </table>`}
</section>`
}
