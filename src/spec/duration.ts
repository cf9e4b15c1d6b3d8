const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const DAY_MS = 86_400_000;
const DAYS = /^(\d+(?:\.\d+)?)\s*d$/;

/** `500ms`, `30s`, `5m`, `1h`, or a number of seconds, in milliseconds; undefined if malformed. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** An age on the command line (`prune --older-than`): a duration as in a spec, or days (`30d`), in milliseconds. */
export function parseAge(value: string): number | undefined {
  const days = DAYS.exec(value.trim());
  return days ? Number(days[1]) * DAY_MS : parseDuration(value);
}

/** A human duration for terminals: `840ms`, `3.2s`, `2m05s`, `6h00m`, `3d04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const two = (n: number) => String(n).padStart(2, '0');
  if (ms < 3_600_000) {
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  }
  if (ms < DAY_MS) {
    const m = Math.round(ms / 60_000);
    return `${Math.floor(m / 60)}h${two(m % 60)}m`;
  }
  const h = Math.round(ms / 3_600_000);
  return `${Math.floor(h / 24)}d${two(h % 24)}h`;
}
