/** Codepoint order: `localeCompare` follows the machine's locale, and the output must not. */
export function byCodepoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
