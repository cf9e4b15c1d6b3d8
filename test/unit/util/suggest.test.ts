import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, nearest } from '../../../src/util/suggest.js';

describe('editDistance', () => {
  it.each([
    ['needs', 'needs', 0],
    ['nedds', 'needs', 1],
    ['biuld', 'build', 1], // a swap of neighbours is one edit
    ['concurency', 'concurrency', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s ~ %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('didYouMean', () => {
  const stepKeys = ['run', 'prompt', 'needs', 'if', 'output', 'outputs_schema', 'timeout', 'idle_timeout', 'retry', 'env', 'cwd', 'shell'];
  it.each([
    ['nedds', ' (did you mean "needs"?)'],
    ['outputs', ' (did you mean "output"?)'],
    ['timout', ' (did you mean "timeout"?)'],
    ['retries', ''],
    ['zz', ''],
    ['x', ''],
  ])('%s', (word, hint) => {
    expect(didYouMean(word, stepKeys)).toBe(hint);
  });

  it('does not suggest an unrelated short id', () => {
    expect(didYouMean('zz', ['a', 'b'])).toBe('');
  });

  it('offers the longer id a prefix starts', () => {
    expect(nearest('20261121-2148', ['20261121-214818-123-k3x9q', '20251121-000000-000-aaaaa'])).toEqual(['20261121-214818-123-k3x9q']);
  });
});
