import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../../src/expr/coerce.js';

// formatNumber has a fast path for integers of up to 15 digits; the rest go through GitHub's rounding.
describe('formatNumber', () => {
  it('prints integers of up to 15 digits as themselves, -0 as 0 (the fast path)', () => {
    expect([0, -0, 7, -42, 999_999_999_999_999, -999_999_999_999_999].map(formatNumber)).toEqual(['0', '0', '7', '-42', '999999999999999', '-999999999999999']);
  });

  it('rounds longer integers to 15 significant digits, never with an exponent (the general path)', () => {
    expect(formatNumber(1_234_567_890_123_456)).toBe('1234567890123460');
    expect(formatNumber(1e15)).toBe('1000000000000000');
    expect(formatNumber(1.5e21)).toBe('1500000000000000000000');
  });

  it('keeps decimals as GitHub prints them', () => {
    expect([0.1 + 0.2, 1.5e-7, -2.5].map(formatNumber)).toEqual(['0.3', '0.00000015', '-2.5']);
  });
});
