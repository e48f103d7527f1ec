/** A setting that stops the node: its message is one readable line that names the setting. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}
