const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const DAY_MS = 86_400_000;
const DAYS = /^(\d+(?:\.\d+)?)\s*d$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

/** `500ms`, `30s`, `5m`, `1h`, or a number of seconds, in milliseconds; undefined if malformed. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** The forms parseAge takes, for messages. */
export const AGE_FORMS = 'a number of seconds (3600), or 500ms, 45s, 90m, 12h, 30d';

/**
 * An age on the command line (`prune --older-than`, `cache prune --older-than`): a duration as in a spec (a unit,
 * or a bare number of seconds), or days (`30d`), in milliseconds.
 */
export function parseAge(value: string): number | undefined {
  const text = value.trim();
  if (SECONDS.test(text)) return parseDuration(Number(text));
  const days = DAYS.exec(text);
  return days ? Number(days[1]) * DAY_MS : parseDuration(text);
}

/** A human duration for terminals: `840ms`, `3.2s`, `2m05s`, `2m`, `6h`, `1h30m`, `3d04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return twoUnits(Math.round(ms / 1000), 60, 'm', 's');
  if (ms < DAY_MS) return twoUnits(Math.round(ms / 60_000), 60, 'h', 'm');
  return twoUnits(Math.round(ms / 3_600_000), 24, 'd', 'h');
}

/** `2m05s`, or `2m` when the smaller unit is zero. */
function twoUnits(small: number, per: number, big: string, little: string): string {
  const rest = small % per;
  return `${Math.floor(small / per)}${big}${rest === 0 ? '' : `${String(rest).padStart(2, '0')}${little}`}`;
}
