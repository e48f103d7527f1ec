import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { OUTCOMES, type Outcome, type Sample } from '../../node/activity.ts'

export const OUTCOME_COLOURS: Record<Outcome, string> = { HIT: '#2e9d5b', PEER: '#3b7dd8', MISS: '#e08a2b', STALE: '#8a8a8a' }

const WIDTH = 480
const HEIGHT = 64

/**
 * One format's responses per interval as stacked bars (HIT, PEER, MISS, STALE
 * from the bottom), drawn server-side; each bar's title gives its counts and hit ratio.
 */
export function historyChart (format: string, samples: Sample[], intervalSeconds: number): HtmlEscapedString | Promise<HtmlEscapedString> {
  const counts = samples.map((s) => s.formats[format])
  const totals = counts.map((c) => c === undefined ? 0 : OUTCOMES.reduce((sum, o) => sum + c[o], 0))
  const max = Math.max(0, ...totals)
  if (max === 0) return html`<p class="muted">no responses in the last ${Math.round(samples.length * intervalSeconds / 60)} min</p>`
  const slot = WIDTH / Math.max(samples.length, 30)
  const bars = samples.map((sample, i) => {
    const c = counts[i]
    if (c === undefined || totals[i] === 0) return ''
    let y = HEIGHT
    const parts = OUTCOMES.filter((o) => c[o] > 0).map((o) => {
      const h = (c[o] / max) * HEIGHT
      y -= h
      return html`<rect x="${(i * slot).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(slot - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${OUTCOME_COLOURS[o]}"></rect>`
    })
    const label = `${new Date(sample.at).toISOString().slice(11, 19)} UTC: ${OUTCOMES.map((o) => `${c[o]} ${o}`).join(', ')} (${Math.round((c.HIT / totals[i]!) * 100)}% HIT)`
    return html`<g data-testid="chart-bar"><title>${label}</title>${parts}</g>`
  })
  return html`<svg class="chart" role="img" aria-label="${format} responses per ${intervalSeconds} s" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" data-testid="chart-${format}"><line x1="0" y1="${HEIGHT - 0.5}" x2="${WIDTH}" y2="${HEIGHT - 0.5}" stroke="#ccc"></line>${bars}</svg>`
}
