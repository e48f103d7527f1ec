import { html, raw } from 'hono/html'
import type { NodeStatus } from '../../node/node-status.ts'
import { clientsSection } from './clients-section.ts'
import type { Html } from './format.ts'
import { nodeSection } from './node-section.ts'
import { searchSection, type SearchState } from './search-section.ts'
import { recentSection, trafficSection } from './traffic-section.ts'

const STYLE = raw(`
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem 3rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; margin: .5rem 0 0; } h2 { font-size: 1.1rem; margin: 1.8rem 0 .5rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; } dt { color: #666; } dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { font-weight: 600; color: #555; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.path code { overflow-wrap: anywhere; } code, pre { font: 12.5px ui-monospace, monospace; }
.muted { color: #777; font-weight: normal; } .error { color: #b00020; }
.meter { width: 100%; max-width: 480px; height: 10px; display: block; }
.chart { display: block; max-width: 100%; height: auto; }
.swatch { display: inline-block; width: .8em; height: .8em; margin: 0 .2em 0 .6em; vertical-align: -.05em; }
.o-HIT, .cache-HIT { background: #2e9d5b; } .o-PEER, .cache-PEER { background: #3b7dd8; } .o-MISS, .cache-MISS { background: #e08a2b; } .o-STALE, .cache-STALE { background: #8a8a8a; }
.cache { color: #fff; padding: 0 .35em; border-radius: 3px; font-size: 12px; }
.copyable { display: flex; gap: .5rem; align-items: flex-start; }
pre { flex: 1; background: #f6f6f6; padding: .5rem .7rem; margin: 0; overflow-x: auto; border-radius: 4px; }
form input { font: inherit; padding: .2rem .4rem; } button { font: inherit; cursor: pointer; }
`)

// copies a snippet's text; the Clipboard API needs a secure context, so selection + execCommand is the fallback
const SCRIPT = raw(`
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-copy]')
  if (button === null) return
  const pre = document.getElementById(button.dataset.copy)
  try {
    await navigator.clipboard.writeText(pre.textContent)
  } catch {
    const range = document.createRange()
    range.selectNodeContents(pre)
    getSelection().removeAllRanges()
    getSelection().addRange(range)
    document.execCommand('copy')
  }
  button.textContent = 'Copied'
  setTimeout(() => { button.textContent = 'Copy' }, 1500)
})
`)

/** The whole dashboard, rendered from one status. `nonce` lets the inline style and script past the CSP. */
export function dashboardPage (status: NodeStatus, search: SearchState, nonce: string): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DPM node ${status.node.peerId.slice(-8)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>DPM node</h1>
  <p class="muted">A distributed pull-through cache. This page: <a href="/">refresh</a> · JSON: <a href="/-/api/status">/-/api/status</a> · <a href="/-/health">/-/health</a> · <a href="/-/metrics">/-/metrics</a></p>
</header>
${nodeSection(status)}
${trafficSection(status)}
${recentSection(status)}
${searchSection(search)}
${clientsSection(status)}
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`
}
