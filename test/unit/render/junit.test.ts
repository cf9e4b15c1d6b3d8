import { describe, expect, it } from 'vitest';
import { renderJunit, xmlAttribute, xmlEscape } from '../../../src/cli/render/junit.js';
import type { JobManifest, StepRecord } from '../../../src/store/manifest.js';

function step(status: StepRecord['status'], error: StepRecord['error'] = null, extra: Partial<StepRecord> = {}): StepRecord {
  return { status, attempts: 1, started_at: null, finished_at: null, duration_s: 1.5, exit_code: null, cached: false, reused: false, error, ...extra };
}

const m: JobManifest = {
  schema_version: 1,
  job_id: '20260101-000000-000-abcde',
  name: 'ci <&> "pipeline"',
  status: 'failed',
  spec: { path: '/x/spec.yaml', sha256: 'f'.repeat(64) },
  started_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:00:05.000Z',
  duration_s: 5,
  concurrency: 2,
  pid: 1,
  hostname: 'h',
  steps: {
    lint: step('succeeded'),
    test: step('failed', { code: 'exit', message: 'exit code 1 <boom>' }, { attempts: 3 }),
    build: step('skipped', { code: 'skipped', message: 'need "test" failed' }),
    deploy: step('cancelled', { code: 'cancelled', message: 'cancelled by SIGINT' }),
  },
  files: [],
};

const logs: Record<string, string[]> = { test: ['ok 1 - adds', 'not ok 2 - a < b && "c"', 'bad\u0007bell \u001b[31mred\u001b[0m'] };
const tailOf = (id: string, n: number) => {
  const lines = logs[id];
  return lines && { tail: lines.slice(-n), failures: [], failureCount: 0, earlier: Math.max(0, lines.length - n), end: 0 };
};

describe('renderJunit', () => {
  const xml = renderJunit(m, tailOf);

  it('is one testsuite for the job with a testcase per step and the right counts', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expect(xml).toContain('<testsuite name="ci &lt;&amp;&gt; &quot;pipeline&quot;" tests="4" failures="1" errors="0" skipped="2" time="5.000" timestamp="2026-01-01T00:00:00.000Z">');
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toContain('<testcase name="lint" classname="ci &lt;&amp;&gt; &quot;pipeline&quot;" time="1.500"/>');
  });

  it('gives a failed step its error and the tail of its log, escaped', () => {
    expect(xml).toContain('<failure message="exit: exit code 1 &lt;boom&gt; (after 3 attempts)" type="exit">exit: exit code 1 &lt;boom&gt; (after 3 attempts)\nok 1 - adds\nnot ok 2 - a &lt; b &amp;&amp; &quot;c&quot;\nbad␇bell red</failure>');
  });

  it('says why a step was skipped or cancelled', () => {
    expect(xml).toContain('<testcase name="build" classname="ci &lt;&amp;&gt; &quot;pipeline&quot;" time="1.500">\n      <skipped message="skipped: need &quot;test&quot; failed"/>');
    expect(xml).toContain('<skipped message="cancelled: cancelled by SIGINT"/>');
  });

  it('is well formed: every element closes, no raw markup or control characters', () => {
    const body = xml.replace(/^<\?xml[^>]*\?>\n/, '');
    const stack: string[] = [];
    for (const [, close, name, selfClose] of body.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (close) expect(stack.pop()).toBe(name);
      else if (!selfClose) stack.push(name!);
    }
    expect(stack).toEqual([]);
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  });
});

describe('xmlEscape', () => {
  it('escapes markup and replaces what XML 1.0 cannot hold: a control character by its symbol', () => {
    expect(xmlEscape(`<a href='x'>&"\u0000\u001b\ud800\uffff`)).toBe('&lt;a href=&apos;x&apos;&gt;&amp;&quot;␀␛\ufffd');
    expect(xmlEscape('a\tb\nc')).toBe('a\tb\nc');
  });

  it('in an attribute, keeps tabs and line breaks as character references (raw, a parser reads them as spaces)', () => {
    expect(xmlAttribute('u (line1\nline2\r\tx \u001b[31m)')).toBe('u (line1&#10;line2&#13;&#9;x ␛[31m)');
  });
});
