import type { InstanceCounts } from '../../events/types.js';
import type { JobManifest } from '../../store/manifest.js';
import { toPrintable } from './units.js';

/** Instances of a fanned step `show` (and its `--timeline`) lists one by one; past this, only those that did not succeed. */
const INSTANCES_LISTED = 20;

/** Of a fanned step's instances, those `show` lists one by one: each of a few; of many, those that need a look (`--json` has them all). */
export function listedInstances(m: JobManifest, instances: readonly string[]): readonly string[] {
  return instances.length <= INSTANCES_LISTED ? instances : instances.filter((x) => m.steps[x]?.status !== 'succeeded');
}

/** How an instance is shown: its step and its values, `count (chapter-2.txt)`, control characters made visible (toPrintable). */
export function instanceName(step: string, label: string): string {
  return `${step} (${toPrintable(label)})`;
}

const ORDER = ['succeeded', 'failed', 'cancelled', 'skipped'] as const;

/** `3 succeeded, 1 failed` (`0 instances` for none): a fanned step's instances by status. */
export function countsText(counts: InstanceCounts): string {
  const parts = ORDER.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length === 0 ? '0 instances' : parts.join(', ');
}
