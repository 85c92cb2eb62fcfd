// Username globs (src/chat/glob.ts): the same answers as an anchored regular expression, without its
// exponential backtracking on patterns like a*a*a*…b (a ListAccounts call could block a replica).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globMatcher } from '../../src/chat/glob.js';

/** The reference: the pattern as a RegExp (fine for the short strings generated here). */
function regexMatch(pattern: string, name: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(name);
}

describe('username globs', () => {
  it('matches exactly what the equivalent anchored regular expression matches', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '-');
    const pattern = fc.array(fc.oneof(alphabet, fc.constant('*'), fc.constant('?')), { maxLength: 8 }).map((cs) => cs.join(''));
    const name = fc.array(alphabet, { maxLength: 10 }).map((cs) => cs.join(''));
    fc.assert(fc.property(pattern, name, (p, n) => globMatcher(p)(n) === regexMatch(p, n)), { numRuns: 5_000 });
  });

  it('handles the edge cases: empty pattern, only stars, trailing stars, ? against nothing', () => {
    assert.equal(globMatcher('')(''), true);
    assert.equal(globMatcher('')('a'), false);
    assert.equal(globMatcher('***')(''), true);
    assert.equal(globMatcher('a**')('a'), true);
    assert.equal(globMatcher('?')(''), false);
    assert.equal(globMatcher('*?')('ab'), true);
  });

  it('answers the longest pathological pattern at once (a backtracking regex would not finish)', () => {
    // 31 stars against a 32-character name: exponential for a RegExp (14 stars already took 9 s).
    const pattern = `${'a*'.repeat(31)}b`;
    assert.equal(globMatcher(pattern)('a'.repeat(32)), false);
    assert.equal(globMatcher(pattern)(`${'a'.repeat(31)}b`), true);
  });
});
