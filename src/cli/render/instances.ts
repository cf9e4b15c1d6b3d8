import type { InstanceCounts } from '../../events/types.js';

/** How an instance is shown: its step and its values, `count (chapter-2.txt)`. */
export function instanceName(step: string, label: string): string {
  return `${step} (${label})`;
}

const ORDER = ['succeeded', 'failed', 'cancelled', 'skipped'] as const;

/** `3 succeeded, 1 failed` (`0 instances` for none): a fanned step's instances by status. */
export function countsText(counts: InstanceCounts): string {
  const parts = ORDER.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length === 0 ? '0 instances' : parts.join(', ');
}
