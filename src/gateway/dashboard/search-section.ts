import { html } from 'hono/html'
import type { SearchAnswer } from '../../index/search-cached.ts'
import { dateTime, size, type Html } from './format.ts'

/** What the search form last asked: nothing yet, an answer, or why the query was refused. */
export type SearchState = { query: '' } | { query: string, answer: SearchAnswer } | { query: string, error: string }

/** The search over what this node has cached, answered server-side (`/?q=GLOB`). */
export function searchSection (search: SearchState): Html {
  return html`
<section id="search">
  <h2>Search the cache</h2>
  <form method="get" action="/#search" role="search">
    <input type="search" name="q" value="${search.query}" placeholder="lodash*, npm:*, *.deb" maxlength="200" aria-label="glob" size="40">
    <button type="submit">Search</button>
    <span class="muted">a case-insensitive glob (<code>*</code> <code>?</code> <code>[a-z]</code> <code>{a,b}</code>) over cached keys, or any part of one after a <code>:</code> or <code>/</code></span>
  </form>
  ${'error' in search ? html`<p class="error" data-testid="search-error">${search.error}</p>` : ''}
  ${'answer' in search ? results(search.answer) : ''}
</section>`
}

function results (answer: SearchAnswer): Html {
  if (answer.results.length === 0) return html`<p class="muted" data-testid="search-empty">Nothing cached matches <code>${answer.query}</code>.</p>`
  return html`
  <p class="muted">${answer.results.length}${answer.truncated ? '+' : ''} ${answer.results.length === 1 ? 'record matches' : 'records match'} <code>${answer.query}</code>${answer.truncated ? ' (the first shown; narrow the glob)' : ''}.</p>
  <table data-testid="search-results">
    <thead><tr><th>Format</th><th>Key</th><th class="num">Size</th><th>Fetched (UTC)</th></tr></thead>
    <tbody>${answer.results.map((r) => html`<tr data-testid="search-result"><td>${r.format}</td><td class="path"><code>${r.key}</code></td><td class="num">${size(r.size)}</td><td>${dateTime(r.fetchedAt)}</td></tr>`)}</tbody>
  </table>`
}
