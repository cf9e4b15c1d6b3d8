import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/events/types.js';
import { layoutDag, renderDagSvg } from '../../../src/report/dag-svg.js';
import { cleanLogText, escapeHtml } from '../../../src/report/escape.js';
import { renderGanttSvg, stepTimelines, tickStep } from '../../../src/report/gantt-svg.js';
import { INSTANCE_ROWS_MAX } from '../../../src/report/model.js';
import { renderReport, renderReportBody } from '../../../src/report/html.js';
import { loadReportInput, readLogTail } from '../../../src/report/load.js';
import type { ReportInput, ReportStep } from '../../../src/report/model.js';
import type { JobManifest, StepRecord } from '../../../src/store/manifest.js';

const JOB = '20261121-101500-000-abcde';
const t = (ms: number) => new Date(Date.UTC(2026, 10, 21, 10, 15, 0) + ms).toISOString();

function step(over: Partial<StepRecord>): StepRecord {
  return { status: 'succeeded', attempts: 1, started_at: null, finished_at: null, duration_s: null, exit_code: null, cached: false, reused: false, error: null, ...over };
}

let seq = 0;
function ev(ms: number, body: Record<string, unknown>): RunEvent {
  return { ts: t(ms), seq: ++seq, job_id: JOB, ...body } as RunEvent;
}

/** A failed job: setup ok, build failed after a retry, lint ok, ship skipped. */
function fixture(): ReportInput {
  const manifest: JobManifest = {
    schema_version: 1,
    job_id: JOB,
    name: 'demo <b>job</b>',
    status: 'failed',
    spec: { path: '/specs/demo.yaml', sha256: 'x' },
    started_at: t(0),
    finished_at: t(2000),
    duration_s: 2,
    concurrency: 2,
    pid: 1,
    hostname: 'h',
    steps: {
      setup: step({ started_at: t(10), finished_at: t(110), duration_s: 0.1, exit_code: 0 }),
      build: step({ status: 'failed', attempts: 2, started_at: t(120), finished_at: t(1900), duration_s: 1.78, exit_code: 2, error: { code: 'exit', message: 'exited with code 2 <script>alert("e")</script>' } }),
      lint: step({ started_at: t(120), finished_at: t(400), duration_s: 0.28, exit_code: 0, cache_key: 'c0ffee'.repeat(10), cache_key_parts: { model: 'm1', prompt: 'say <hi>' } }),
      ship: step({ status: 'skipped', attempts: 0, error: { code: 'skipped', message: 'need "build" failed' } }),
    },
    files: [{ path: 'artifacts/lint/report.txt', sha256: 'y', size_bytes: 10 }],
  };
  const events = [
    ev(0, { type: 'job.started', name: manifest.name, spec_path: '/specs/demo.yaml', concurrency: 2, pid: 1, steps: ['setup', 'build', 'lint', 'ship'] }),
    ev(10, { type: 'step.started', step: 'setup', attempt: 1 }),
    ev(110, { type: 'step.succeeded', step: 'setup', attempt: 1, exit_code: 0, duration_s: 0.1, cached: false, reused: false }),
    ev(120, { type: 'step.started', step: 'build', attempt: 1 }),
    ev(120, { type: 'step.started', step: 'lint', attempt: 1 }),
    ev(400, { type: 'step.succeeded', step: 'lint', attempt: 1, exit_code: 0, duration_s: 0.28, cached: false, reused: false }),
    ev(900, { type: 'step.retrying', step: 'build', attempt: 2, delay_s: 0.5, error: { code: 'exit', message: 'exited with code 2' } }),
    ev(1900, { type: 'step.failed', step: 'build', attempt: 2, exit_code: 2, duration_s: 1.78, error: { code: 'exit', message: 'x' }, continue_on_error: false }),
    ev(1901, { type: 'step.skipped', step: 'ship', error: { code: 'skipped', message: 'need "build" failed' } }),
    ev(2000, { type: 'job.finished', status: 'failed', duration_s: 2 }),
  ];
  const steps: ReportStep[] = [
    { id: 'setup', kind: 'shell', needs: [], outputs: { note: '</pre><script>alert("o")</script>' }, log: { text: 'hello <script>alert("log")</script>\n', omittedBytes: 0 } },
    { id: 'build', kind: 'shell', needs: ['setup'], log: { text: '\u001b[31merror\u001b[0m: it broke\n', omittedBytes: 5000 } },
    { id: 'lint', kind: 'llm', needs: ['setup'], outputs: {}, log: { text: 'ok\n', omittedBytes: 0 } },
    { id: 'ship', kind: 'shell', needs: ['build', 'lint'] },
  ];
  return { manifest, events, steps, generatedAt: t(5000), warnings: [] };
}

/** The opening tag of the first element carrying these attributes. */
function tagWith(html: string, attrs: string): string {
  const i = html.indexOf(attrs);
  expect(i, `no element with ${attrs}`).toBeGreaterThan(0);
  return html.slice(html.lastIndexOf('<', i), html.indexOf('>', i) + 1);
}

describe('renderReport', () => {
  const html = renderReport(fixture());

  it('escapes run data: no script from a log, an output, an error or the job name reaches the page', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('hello &lt;script&gt;alert(&quot;log&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;alert(\\&quot;o\\&quot;)&lt;/script&gt;');
    expect(html).toContain('exited with code 2 &lt;script&gt;');
    expect(html).toContain('<title>demo &lt;b&gt;job&lt;/b&gt; · failed');
    expect(html).not.toContain('<b>job</b>');
  });

  it('is self-contained: no external resource, and a CSP that forbids scripts and loads', () => {
    expect(html).not.toMatch(/<(link|script|img|iframe|object)\b/i);
    expect(html).not.toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/url\((?!#)/); // only same-document references (the arrow marker)
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('shows every step in the graph, the timeline, the table and a card', () => {
    for (const id of ['setup', 'build', 'lint', 'ship']) {
      expect(html).toMatch(new RegExp(`<a href="#step-${id}" class="node [^"]*" data-step="${id}"`));
      expect(html).toContain(`<g class="gantt-row" data-step="${id}"`);
      expect(html).toMatch(new RegExp(`<tr class="status-\\w+" data-step="${id}"`));
      expect(html).toContain(`<article class="step status-`);
      expect(html).toContain(`id="step-${id}" data-step="${id}"`);
    }
    expect(html.match(/<path class="edge"/g)).toHaveLength(4);
  });

  it('marks the failed step: class, data-status, the ✗ label, its error and its log open', () => {
    expect(tagWith(html, 'id="step-build"')).toBe('<article class="step status-failed" id="step-build" data-step="build" data-status="failed">');
    const card = html.slice(html.indexOf('id="step-build"'), html.indexOf('</article>', html.indexOf('id="step-build"')));
    expect(card).toContain('<span class="badge status-failed">✗ failed</span>');
    expect(card).toContain('<code>exit</code> exited with code 2');
    expect(card).toContain('<details class="log" open>');
    expect(tagWith(html, '<tr class="status-failed" data-step="build"')).toContain('data-status="failed"');
    expect(tagWith(html, 'id="step-setup"')).toContain('data-status="succeeded"');
    expect(tagWith(html, 'id="step-ship"')).toContain('class="step status-skipped"');
    expect(html).toContain('<body data-job="20261121-101500-000-abcde" data-job-status="failed">');
  });

  it('shows durations, attempts, exit codes and the job tally', () => {
    expect(html).toMatch(/data-step="build"[^]*?<td class="num" data-duration>1\.8s<\/td><td class="num">2<\/td><td class="num">2<\/td>/);
    expect(html).toMatch(/data-step="setup"[^]*?data-duration>100ms</);
    expect(html).toMatch(/data-step="ship"[^]*?data-duration>–</);
    expect(html).toContain('4 steps: ');
    expect(html).toContain('✗ 1 failed');
    expect(html).toContain('⊘ 1 skipped');
  });

  it('cleans terminal codes from logs and says when a log was cut', () => {
    expect(html).toContain('<pre>error: it broke\n</pre>');
    expect(html).not.toContain('\u001b');
    expect(html).toContain('The first 4.9 KiB are left out; the whole log is <a href="logs/build.log">logs/build.log</a>.');
  });

  it('lists outputs as JSON and artifacts as links into the run folder', () => {
    expect(html).toContain('<summary>Outputs <span class="muted">1 key</span></summary>');
    expect(html).toContain('<a href="artifacts/lint/report.txt">report.txt</a>');
    expect(html).toMatch(/id="step-ship"[^]*?no outputs[^]*?no log/);
  });

  it("shows an artifact's SHA-256, a step's cache key and its parts, and each retry with its delay", () => {
    expect(html).toContain('<code class="sha256" title="SHA-256 y" data-sha256="y">y</code>');
    const key = 'c0ffee'.repeat(10);
    expect(html).toContain(`<dt>cache key</dt><dd><code class="cache-key" title="${key}">${key.slice(0, 16)}…</code>`);
    expect(html).toContain('<summary>Cache key parts</summary><pre>{\n  &quot;model&quot;: &quot;m1&quot;,\n  &quot;prompt&quot;: &quot;say &lt;hi&gt;&quot;\n}</pre>');
    expect(html).toMatch(/id="step-build"[^]*?<h4>Retries<\/h4><ul><li>attempt 2 after 500ms \(exit: exited with code 2\)<\/li><\/ul>/);
    expect(html).not.toContain('Follow the log live'); // only the UI links a live log
  });

  it('renders the same body for the UI, with a live log link per step', () => {
    const body = renderReportBody(fixture(), { liveLog: (id) => `log/${id}` });
    expect(html).toContain(body.slice(0, 200));
    expect(body).toContain('<a href="log/build" data-live-log="build">Follow the log live</a>');
  });
});

describe('report pieces', () => {
  it('escapeHtml escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('cleanLogText drops colour codes, OSC links and control characters', () => {
    expect(cleanLogText('\u001b[1;32mok\u001b[0m \u001b]8;;http://x\u0007link\u001b]8;;\u0007 a\u0000b\r\n')).toBe('ok link ab\n');
  });

  it("renderDagSvg counts a fanned step's instances from their own records, while they run", () => {
    const records: Record<string, StepRecord> = {
      count: step({ status: 'running', instances: ['count-a', 'count-b', 'count-c'] }),
      'count-a': step({ instance_of: 'count' }),
      'count-b': step({ status: 'failed', instance_of: 'count' }),
      'count-c': step({ status: 'running', instance_of: 'count' }),
    };
    expect(renderDagSvg([{ id: 'count', kind: 'shell', needs: [] }], records)).toContain('<text class="detail" x="42" y="49">running · 2/3 done, 1 failed</text>');
  });

  it('layoutDag puts each step one column right of its deepest need', () => {
    const { nodes } = layoutDag(fixture().steps);
    expect([...nodes.values()].map((n) => [n.id, n.column])).toEqual([
      ['setup', 0],
      ['build', 1],
      ['lint', 1],
      ['ship', 2],
    ]);
    const steps: ReportStep[] = [
      { id: 'a', kind: 'shell', needs: [] },
      { id: 'b', kind: 'shell', needs: ['a'] },
      { id: 'c', kind: 'shell', needs: ['a', 'b'] },
    ];
    expect(layoutDag(steps).nodes.get('c')!.column).toBe(2);
  });

  it('stepTimelines splits retried attempts, starting the next one after the delay', () => {
    const f = fixture();
    const tl = stepTimelines(f.events, Date.parse(t(2000)));
    const base = Date.parse(t(0));
    expect(tl.get('build')!.spans.map((s) => [s.attempt, s.start - base, s.end - base, s.isLast])).toEqual([
      [1, 120, 900, false],
      [2, 1400, 1900, true],
    ]);
    expect(tl.get('ship')).toEqual({ spans: [], at: base + 1901 });
  });

  it('stepTimelines runs an attempt that never settled to the given end', () => {
    const events = [ev(0, { type: 'step.started', step: 'a', attempt: 1 })];
    const end = Date.parse(t(700));
    expect(stepTimelines(events, end).get('a')!.spans).toEqual([{ attempt: 1, start: Date.parse(t(0)), end, isLast: true }]);
  });

  it("renderGanttSvg packs a big fan-out's instances into lanes, as many as ran at once; a small one keeps a row each", () => {
    /** A fanned step of `n` instances, two at a time, each 100 ms; instance 7 fails. */
    const fanOut = (n: number) => {
      const ids = Array.from({ length: n }, (_, i) => `count (${i})`);
      const records: Record<string, StepRecord> = { count: step({ instances: ids }) };
      const events: RunEvent[] = [ev(0, { type: 'step.expanded', step: 'count', instances: ids })];
      ids.forEach((id, i) => {
        const start = Math.floor(i / 2) * 100;
        const failed = i === 7;
        records[id] = step({ status: failed ? 'failed' : 'succeeded', instance_of: 'count' });
        events.push(ev(start, { type: 'step.started', step: id, attempt: 1 }));
        events.push(ev(start + 100, { type: failed ? 'step.failed' : 'step.succeeded', step: id, attempt: 1, exit_code: failed ? 1 : 0, duration_s: 0.1, cached: false, reused: false, ...(failed ? { error: { code: 'exit', message: 'x' }, continue_on_error: false } : {}) }));
      });
      const end = Math.ceil(n / 2) * 100;
      const manifest = { ...fixture().manifest, status: 'failed' as const, started_at: t(0), finished_at: t(end), steps: records };
      const steps: ReportStep[] = [{ id: 'count', kind: 'shell', needs: [] }, ...ids.map((id): ReportStep => ({ id, kind: 'shell', needs: [], instanceOf: 'count' }))];
      return renderGanttSvg(steps, manifest, events);
    };
    const big = fanOut(INSTANCE_ROWS_MAX * 20);
    expect(big.match(/<g class="gantt-lane" data-step="count"/g)).toHaveLength(2);
    expect(big).not.toContain('data-step="count (0)"');
    expect(big).toContain('>count ×1000</text>');
    // The failed instance keeps a bar of its own, between the merged runs of succeeded ones.
    expect(big).toMatch(/<rect class="bar status-failed" data-instances="1" [^>]*><title>count \(7\): 100ms<\/title>/);
    expect(big).toMatch(/<rect class="bar status-succeeded" data-instances="\d{2,}"/);
    expect(big.length).toBeLessThan(20_000);
    const small = fanOut(3);
    expect(small.match(/<g class="gantt-row" data-step="count \(\d\)"/g)).toHaveLength(3);
    expect(small).not.toContain('gantt-lane');
  });

  it("a big fan-out lists in the table and cards only its instances that did not succeed, the rest counted; a small one lists each", () => {
    /** A fanned step of `n` instances: instance 7 failed, 8 and 9 skipped, the rest succeeded. */
    const fanOut = (n: number): ReportInput => {
      const ids = Array.from({ length: n }, (_, i) => `count (${i})`);
      const status = (i: number) => (i === 7 ? 'failed' : i === 8 || i === 9 ? 'skipped' : 'succeeded');
      const records: Record<string, StepRecord> = { count: step({ status: 'failed', instances: ids }) };
      ids.forEach((id, i) => (records[id] = step({ status: status(i), instance_of: 'count', ...(i === 7 ? { error: { code: 'exit', message: 'exited with code 3' } } : {}) })));
      const manifest = { ...fixture().manifest, steps: records, files: [] };
      const steps: ReportStep[] = [{ id: 'count', kind: 'shell', needs: [] }, ...ids.map((id): ReportStep => ({ id, kind: 'shell', needs: [], instanceOf: 'count', log: { text: `log of ${id}\n`, omittedBytes: 0 } }))];
      return { manifest, events: [], steps, generatedAt: t(3000), warnings: [] };
    };
    const big = renderReportBody(fanOut(INSTANCE_ROWS_MAX * 20));
    const rows = [...big.matchAll(/<tr class="status-\w+" data-step="([^"]+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(['count', 'count (7)', 'count (8)', 'count (9)']);
    const cards = [...big.matchAll(/<article class="step status-\w+" id="step-[^"]+" data-step="([^"]+)"/g)].map((m) => m[1]);
    expect(cards).toEqual(['count', 'count (7)', 'count (8)', 'count (9)']);
    expect(big).toContain('exited with code 3');
    expect(big).not.toContain('log of count (0)');
    // Said in the table, under the fanned step's row, and in its card.
    expect(big.match(/1000 instances\. Listed here: those that did not succeed, at most 50; not listed: 997 \(997 succeeded\)/g)).toHaveLength(2);
    expect(big).toContain(`<code>orchestrator show ${JOB}</code> lists every one`);
    // The fanned step's row and card count its instances by status.
    expect(big).toMatch(/<tr class="status-failed" data-step="count"[^]*?<span class="muted instances">1000 instances: 997 succeeded, 1 failed, 2 skipped<\/span>/);
    expect(big).toContain('<dt>instances</dt><dd>1000: 997 succeeded, 1 failed, 2 skipped</dd>');
    expect(big.length).toBeLessThan(40_000);

    // Past the limit, the failed are listed first and the rest counted with their status.
    const many = fanOut(INSTANCE_ROWS_MAX * 20);
    for (let i = 100; i < 200; i++) many.manifest.steps[`count (${i})`]!.status = 'cancelled';
    const listed = [...renderReportBody(many).matchAll(/<tr class="status-\w+" data-step="([^"]+)"/g)].map((m) => m[1]);
    expect(listed).toHaveLength(1 + INSTANCE_ROWS_MAX);
    expect(listed.slice(0, 2)).toEqual(['count', 'count (7)']);
    expect(renderReportBody(many)).toContain('not listed: 950 (897 succeeded, 51 cancelled, 2 skipped)');

    const small = renderReportBody(fanOut(5));
    expect([...small.matchAll(/<tr class="status-\w+" data-step="([^"]+)"/g)].map((m) => m[1])).toEqual(['count', 'count (0)', 'count (1)', 'count (2)', 'count (3)', 'count (4)']);
    expect(small).toContain('log of count (0)');
    expect(small).not.toContain('fan-digest');
  });

  it("loadReportInput reads no log or outputs file of the instances a report does not list", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-report-unit-'));
    try {
      const n = INSTANCE_ROWS_MAX + 10;
      const ids = Array.from({ length: n }, (_, i) => `count-${i}`);
      const steps: Record<string, StepRecord> = { count: step({ instances: ids }) };
      ids.forEach((id, i) => (steps[id] = step({ status: i === 3 ? 'failed' : 'succeeded', instance_of: 'count' })));
      fs.mkdirSync(path.join(dir, 'logs'));
      for (const id of ids) fs.writeFileSync(path.join(dir, 'logs', `${id}.log`), `log of ${id}\n`);
      const input = loadReportInput(dir, { ...fixture().manifest, steps, files: [] });
      expect(input.steps).toHaveLength(n + 1); // the timeline draws every instance
      expect(input.steps.filter((s) => s.log).map((s) => s.id)).toEqual(['count-3']);
      expect(input.steps.find((s) => s.id === 'count-3')!.log!.text).toBe('log of count-3\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loadReportInput finds nothing wrong with the empty outputs file of a step a kill interrupted; an empty one of a settled step is damaged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-report-unit-'));
    try {
      fs.mkdirSync(path.join(dir, 'outputs'));
      for (const id of ['a', 'b']) fs.writeFileSync(path.join(dir, 'outputs', `${id}.json`), ''); // made ahead of time
      const steps: Record<string, StepRecord> = { a: step({ status: 'interrupted' }), b: step({ status: 'succeeded' }) };
      const input = loadReportInput(dir, { ...fixture().manifest, status: 'interrupted', steps, files: [] });
      expect(input.warnings.filter((w) => /damaged/.test(w))).toEqual([`${path.join(dir, 'outputs', 'b.json')} is damaged (it is not JSON (it ends too early))`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tickStep picks 1-2-5 steps', () => {
    expect(tickStep(900)).toBe(200);
    expect(tickStep(5500)).toBe(1000);
    expect(tickStep(60_000)).toBe(10_000);
    expect(tickStep(0)).toBeGreaterThan(0);
  });

  it('readLogTail keeps the end of a long log from a line start, and reads a short one whole', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-report-unit-'));
    try {
      const file = path.join(dir, 'a.log');
      const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ü`).join('\n') + '\n';
      fs.writeFileSync(file, lines);
      const tail = readLogTail(file, 1000)!;
      expect(tail.text.endsWith('line 1999 ü\n')).toBe(true);
      expect(tail.text.startsWith('line ')).toBe(true);
      expect(Buffer.byteLength(tail.text) + tail.omittedBytes).toBe(Buffer.byteLength(lines));
      expect(readLogTail(file)).toEqual({ text: lines, omittedBytes: 0 });
      expect(readLogTail(path.join(dir, 'missing.log'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
