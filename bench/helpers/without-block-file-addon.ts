// Preloaded (`--import`) into a node that is to run without the block file
// addon, as on an install without a C compiler: its require finds nothing, so
// Node's fs writes the block files. For bench/cold-cpu, which compares the two.
import { registerHooks } from 'node:module'

registerHooks({
  resolve (specifier, context, nextResolve) {
    if (specifier.endsWith('/block-file.node')) throw Object.assign(new Error(`${specifier} left out`), { code: 'MODULE_NOT_FOUND' })
    return nextResolve(specifier, context)
  }
})
