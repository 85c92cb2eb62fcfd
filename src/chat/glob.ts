// Username globs: `*` matches any run of characters, `?` exactly one. Patterns are validated first
// (validation.ts), so only [a-z0-9_.*?-] reaches here; the rest are matched literally.

/** The characters before the first wildcard: every match starts with them, so a scan can too. */
export function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}

/** A matcher for the whole of a name (anchored at both ends). */
export function globMatcher(pattern: string): (name: string) => boolean {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 's');
  return (name) => regex.test(name);
}
