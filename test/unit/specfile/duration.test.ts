import { describe, expect, it } from 'vitest';
import { formatDuration, parseAge, parseDuration } from '../../../src/specfile/duration.js';

describe('durations', () => {
  it('parseAge takes what a spec takes (a bare number is seconds), plus days', () => {
    expect(parseAge('30d')).toBe(30 * 86_400_000);
    expect(parseAge('1.5d')).toBe(1.5 * 86_400_000);
    expect(parseAge('12h')).toBe(parseDuration('12h'));
    expect(parseAge('90m')).toBe(5_400_000);
    expect(parseAge('500ms')).toBe(500);
    expect(parseAge('3600')).toBe(3_600_000);
    expect(parseAge('3600')).toBe(parseDuration(3600));
    expect(parseAge(' 1.5 ')).toBe(1500);
    expect(parseAge('0')).toBe(0);
    expect(parseAge('30x')).toBeUndefined();
    expect(parseAge('-5')).toBeUndefined();
    expect(parseAge('')).toBeUndefined();
    expect(parseDuration('2d')).toBeUndefined(); // specs keep their units
  });

  it('formatDuration reads at every scale', () => {
    expect(formatDuration(840)).toBe('840ms');
    expect(formatDuration(3200)).toBe('3.2s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(119_600)).toBe('2m');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(6 * 3_600_000)).toBe('6h');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d04h');
  });
});
