// Username globs: `*` matches any run of characters, `?` exactly one. Patterns are validated first
// (validation.ts), so only [a-z0-9_.*?-] reaches here; the rest are matched literally.

/** The characters before the first wildcard: every match starts with them, so a scan can too. */
export function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}

/**
 * A matcher for the whole of a name (anchored at both ends), in O(pattern × name) time at worst.
 * Not a RegExp: `a*a*a*…b` against `aaaa…` makes a backtracking engine explore every way of splitting
 * the name between the stars — seconds of a blocked event loop for a 27-character pattern.
 * This is the classic two-pointer match: on a mismatch, only the most recent `*` is retried, one
 * character further on; earlier stars never need revisiting, because whatever the later star could
 * absorb, it absorbs.
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  return (name) => {
    let p = 0;
    let n = 0;
    let starAt = -1; // the pattern index just past the last `*` seen
    let resumeAt = 0; // where in the name that `*` currently stops matching
    while (n < name.length) {
      const char = pattern[p];
      if (char === '*') {
        starAt = ++p;
        resumeAt = n;
      } else if (char !== undefined && (char === '?' || char === name[n])) {
        p++;
        n++;
      } else if (starAt !== -1) {
        p = starAt;
        n = ++resumeAt;
      } else {
        return false;
      }
    }
    while (pattern[p] === '*') p++;
    return p === pattern.length;
  };
}
