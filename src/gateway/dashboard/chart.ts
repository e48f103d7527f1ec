import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { OUTCOMES, type Outcome, type Sample } from '../../node/activity.ts'
import { clock } from './format.ts'

export const OUTCOME_COLOURS: Record<Outcome, string> = { HIT: '#2e9d5b', PEER: '#3b7dd8', MISS: '#e08a2b', STALE: '#8a8a8a' }

const WIDTH = 480
const HEIGHT = 64
/** Bars are no wider than a 30th of the chart, the newest at the right. */
const MIN_SLOTS = 30
/** Room under the bars for the time axis. */
const AXIS = 14

/** `95 s`, `12 min`, `2.5 h`: how far back a chart reaches. */
function span (ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000))
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

/**
 * One format's responses per interval as stacked bars (HIT, PEER, MISS, STALE
 * from the bottom), drawn server-side; each bar's title gives its counts and hit ratio.
 */
export function historyChart (format: string, samples: Sample[], intervalSeconds: number, now = Date.now()): HtmlEscapedString | Promise<HtmlEscapedString> {
  const counts = samples.map((s) => s.formats[format])
  const totals = counts.map((c) => c === undefined ? 0 : OUTCOMES.reduce((sum, o) => sum + c[o], 0))
  const max = Math.max(0, ...totals)
  const since = samples[0]?.at ?? now
  if (max === 0) return html`<p class="muted">no responses in the last ${span(now - since)}</p>`
  const slot = WIDTH / Math.max(samples.length, MIN_SLOTS)
  const bars = samples.map((sample, i) => {
    const c = counts[i]
    if (c === undefined || totals[i] === 0) return ''
    let y = HEIGHT
    const parts = OUTCOMES.filter((o) => c[o] > 0).map((o) => {
      const h = (c[o] / max) * HEIGHT
      y -= h
      return html`<rect x="${(WIDTH - (samples.length - i) * slot).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(slot - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${OUTCOME_COLOURS[o]}"></rect>`
    })
    const label = `${clock(sample.at)} UTC: ${OUTCOMES.map((o) => `${c[o]} ${o}`).join(', ')} (${Math.round((c.HIT / totals[i]!) * 100)}% HIT)`
    return html`<g data-testid="chart-bar"><title>${label}</title>${parts}</g>`
  })
  const axis = html`<text x="0" y="${HEIGHT + AXIS - 3}" font-size="10" fill="#777">${span(Math.max(samples.length, MIN_SLOTS) * intervalSeconds * 1000)} ago</text><text x="${WIDTH}" y="${HEIGHT + AXIS - 3}" font-size="10" fill="#777" text-anchor="end">now</text>`
  return html`<svg class="chart" role="img" aria-label="${format} responses per ${intervalSeconds} s" viewBox="0 0 ${WIDTH} ${HEIGHT + AXIS}" width="${WIDTH}" height="${HEIGHT + AXIS}" data-testid="chart-${format}"><line x1="0" y1="${HEIGHT - 0.5}" x2="${WIDTH}" y2="${HEIGHT - 0.5}" stroke="#ccc"></line>${bars}${axis}</svg>`
}
