import { html } from 'hono/html'
import type { SearchAnswer } from '../search-both.ts'
import { dateTime, size, type Html } from './format.ts'

/** What the search form last asked: nothing yet, an answer, or why the query was refused. */
export type SearchState = { query: '' } | { query: string, answer: SearchAnswer } | { query: string, error: string }

/** The search over the package catalog and what this node has cached, answered server-side (`/?q=GLOB`). */
export function searchSection (search: SearchState): Html {
  return html`
<section id="search">
  <h2>Search packages and the cache</h2>
  <form method="get" action="/#search" role="search">
    <input type="search" name="q" value="${search.query}" placeholder="lodash*, npm:*, *.deb" maxlength="200" aria-label="glob" size="40">
    <button type="submit">Search</button>
    <span class="muted">a case-insensitive glob (<code>*</code> <code>?</code> <code>[a-z]</code> <code>{a,b}</code>) over the catalog's package names, and over cached keys or any part of one after a <code>:</code> or <code>/</code></span>
  </form>
  ${'error' in search ? html`<p class="error" data-testid="search-error">${search.error}</p>` : ''}
  ${'answer' in search ? html`${packages(search.answer)}${results(search.answer)}` : ''}
</section>`
}

/** The catalog's packages (`dpm repo add` fills it), as `dpm pkg search` lists them. */
function packages (answer: SearchAnswer): Html {
  const heading = html`<h3>Packages in the catalog</h3>`
  if (answer.packages.length === 0) {
    return html`${heading}<p class="muted" data-testid="packages-empty">No package in the catalog matches <code>${answer.query}</code>.${answer.suggestions.length === 0 ? '' : html` Closest names: ${answer.suggestions.map((name, i) => html`${i === 0 ? '' : ', '}<a href="/?q=${encodeURIComponent(name)}#search" data-testid="suggestion">${name}</a>`)}.`}</p>`
  }
  return html`${heading}
  <p class="muted">${answer.packages.length}${answer.packagesTruncated ? '+' : ''} ${answer.packages.length === 1 ? 'package matches' : 'packages match'}${answer.packagesTruncated ? ' (the first shown; narrow the glob)' : ''}.</p>
  <table data-testid="package-results">
    <thead><tr><th>Name</th><th>Versions</th><th>From</th><th>Description</th></tr></thead>
    <tbody>${answer.packages.map((p) => html`<tr data-testid="package-result"><td><code>${p.name}</code></td><td>${p.versions.length === 0 ? html`<span class="muted">${p.versionsNote ?? 'none listed'}</span>` : p.versions.join(', ')}</td><td>${p.from.join(', ')}</td><td>${p.description ?? ''}</td></tr>`)}</tbody>
  </table>`
}

function results (answer: SearchAnswer): Html {
  const heading = html`<h3>Cached</h3>`
  if (answer.cached.length === 0) return html`${heading}<p class="muted" data-testid="search-empty">Nothing cached matches <code>${answer.query}</code>.</p>`
  return html`${heading}
  <p class="muted">${answer.cached.length}${answer.truncated ? '+' : ''} ${answer.cached.length === 1 ? 'record matches' : 'records match'} <code>${answer.query}</code>${answer.truncated ? ' (the first shown; narrow the glob)' : ''}.</p>
  <table data-testid="search-results">
    <thead><tr><th>Format</th><th>Key</th><th class="num">Size</th><th>Fetched (UTC)</th></tr></thead>
    <tbody>${answer.cached.map((r) => html`<tr data-testid="search-result"><td>${r.format}</td><td class="path"><code>${r.key}</code></td><td class="num">${size(r.size)}</td><td>${dateTime(r.fetchedAt)}</td></tr>`)}</tbody>
  </table>`
}
