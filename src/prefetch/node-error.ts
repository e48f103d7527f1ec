/**
 * The node's own words for a failed request, from an error body in the format's
 * shape: npm's `{"error"}`, OCI's `{"errors":[{code,message}]}`, or plain text.
 */
export function describeNodeError (status: number, statusText: string, body: string): string {
  const text = body.trim()
  let said: string | undefined
  try {
    const json = JSON.parse(text) as { error?: unknown, errors?: Array<{ code?: unknown, message?: unknown }> }
    if (typeof json.error === 'string') said = json.error
    else if (Array.isArray(json.errors) && json.errors.length > 0) {
      said = json.errors.map((e) => [e.code, e.message].filter((x) => typeof x === 'string').join(': ')).join('; ')
    }
  } catch {
    // not JSON: the first line of a text body, if it is text at all
    if (text !== '' && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) said = text.split('\n')[0]
  }
  const head = `${status}${statusText === '' ? '' : ` ${statusText}`}`
  return said === undefined || said === '' ? head : `${head}: ${said.slice(0, 300)}`
}
