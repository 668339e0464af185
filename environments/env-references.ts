/** Names `$(NAME)` refers to in an env value; `$$(NAME)` is an escaped literal. */
export function envReferences(value: string): string[] {
  return [...value.matchAll(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
}
