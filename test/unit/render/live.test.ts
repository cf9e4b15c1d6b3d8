import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { RunEvent, RunEventBody } from '../../../src/events/types.js';
import { LiveRenderer, isLiveTerminal, type LiveStream } from '../../../src/cli/render/live.js';

/** A fake terminal for tests: records what is written to it. */
class RecordingTerminal {
  readonly writes: string[] = [];
  columns = 80;
  rows = 24;
  isTTY = true;
  write(chunk: string | Uint8Array): boolean {
    this.writes.push(String(chunk));
    return true;
  }
  /** Everything written, colour and cursor codes removed. */
  text(): string {
    return this.writes.join('').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  }
}

function rig(stepIds: string[], size: { columns?: number; rows?: number } = {}) {
  const term = Object.assign(new RecordingTerminal(), size);
  let clock = 1_000_000;
  let seq = 0;
  const live = new LiveRenderer({ out: term as unknown as LiveStream, colors: new Chalk({ level: 0 }), stepIds, now: () => clock });
  const emit = (body: RunEventBody) => live.emit({ ts: new Date(clock).toISOString(), seq: ++seq, job_id: 'job-1', ...body } as RunEvent);
  const advance = (ms: number) => {
    clock += ms;
  };
  const start = () =>
    emit({ type: 'job.started', name: 'tiny', spec_path: 's.yaml', concurrency: 2, pid: 1, steps: stepIds, vars: {} } as RunEventBody);
  return { term, live, emit, advance, start };
}

describe('LiveRenderer', () => {
  it('shows a fanned step with 500 instances as one line with counts (the summary counts its instances), and prints only its failed instances above the frame', () => {
    const { term, live, emit, advance, start } = rig(['list', 'count']);
    start();
    const instances = Array.from({ length: 500 }, (_, i) => ({ id: `count-${i}`, label: `f${i}.txt`, item: `f${i}.txt` }));
    emit({ type: 'step.expanded', step: 'count', instances });
    for (let i = 0; i < 10; i++) emit({ type: 'step.started', step: `count-${i}`, attempt: 1 });
    for (let i = 0; i < 7; i++) emit({ type: 'step.succeeded', step: `count-${i}`, attempt: 1, exit_code: 0, duration_s: 0.1, cached: false, reused: false });
    emit({ type: 'step.failed', step: 'count-7', attempt: 1, exit_code: 1, duration_s: 0.1, error: { code: 'exit', message: 'exited with code 1' }, continue_on_error: false });
    advance(1000);
    const frame = live.frame();
    expect(frame).toEqual([expect.stringMatching(/^ {2}\S count +running +1\.0s {2}7\/500 done · 2 running · 1 failed$/), expect.stringMatching(/^ {2}· list +queued$/), '7 done · 2 running · 491 queued · 1 failed   1.0s']); // 490 instances not started, and list
    live.close();
    expect(term.text()).toMatch(/✗ count \(f7\.txt\) +failed/);
    expect(term.text()).not.toMatch(/count \(f3\.txt\)/);
  });

  it('shows the control characters of a label or a job name as symbols: no escape sequence of theirs reaches the terminal', () => {
    const { term, live, emit } = rig(['u']);
    emit({ type: 'job.started', name: 'ci\u001b]0;pwned\u0007', spec_path: 's.yaml', concurrency: 2, pid: 1, steps: ['u'], vars: {} } as RunEventBody);
    emit({ type: 'step.expanded', step: 'u', instances: [{ id: 'u-1', label: '\u001b[2Jbad\tline\nnext', item: 'x' }] });
    emit({ type: 'step.started', step: 'u-1', attempt: 1 });
    emit({ type: 'step.failed', step: 'u-1', attempt: 1, exit_code: 1, duration_s: 0.1, error: { code: 'exit', message: 'exited with code 1' }, continue_on_error: false });
    // An error that quotes what a server or a step said (a provider's message) is shown the same way.
    emit({ type: 'step.failed', step: 'u', attempt: 1, exit_code: null, duration_s: 0.1, error: { code: 'provider', message: 'HTTP 400: \u001b[31mno\u001b[0m' }, continue_on_error: false });
    live.close();
    const written = term.writes.join('');
    expect(written).not.toContain('\u001b[2J');
    expect(written).not.toContain('\u001b]');
    expect(term.text()).toContain('ci␛]0;pwned␇');
    expect(term.text()).toMatch(/✗ u \(␛\[2Jbad␉line↵next\) +failed/);
    expect(written).not.toContain('\u001b[31mno');
    expect(term.text()).toContain('provider: HTTP 400: ␛[31mno␛[0m');
  });

  it('shows running and queued steps with attempt and elapsed time, and a summary line', () => {
    const { live, emit, advance, start } = rig(['architect', 'builder', 'docs', 'qa']);
    start();
    emit({ type: 'step.started', step: 'architect', attempt: 1 });
    advance(300);
    emit({ type: 'step.succeeded', step: 'architect', attempt: 1, exit_code: 0, duration_s: 0.3, cached: false, reused: false });
    emit({ type: 'step.started', step: 'builder', attempt: 1 });
    emit({ type: 'step.started', step: 'docs', attempt: 1 });
    advance(1500);
    emit({ type: 'step.retrying', step: 'builder', attempt: 2, delay_s: 2, error: { code: 'exit', message: 'exit code 1' } });
    advance(500);
    const frame = live.frame();
    expect(frame).toHaveLength(4);
    expect(frame[0]).toMatch(/^ {2}\S builder +running +2\.0s {2}attempt 2 {2}retrying in 1\.5s$/);
    expect(frame[1]).toMatch(/^ {2}\S docs +running +2\.0s$/);
    expect(frame[2]).toMatch(/^ {2}· qa +queued$/);
    expect(frame[3]).toBe('1 done · 2 running · 1 queued · 0 failed   2.3s');
    live.close();
  });

  it('names the worker running a step (runs with --workers)', () => {
    const { live, emit, advance, start } = rig(['build', 'test']);
    start();
    emit({ type: 'step.started', step: 'build', attempt: 1 });
    emit({ type: 'step.worker', step: 'build', attempt: 1, worker: 'ci-runner-3' });
    emit({ type: 'step.started', step: 'test', attempt: 1 });
    advance(1000);
    const frame = live.frame();
    expect(frame[0]).toMatch(/^ {2}\S build +running +1\.0s {2}on ci-runner-3$/);
    expect(frame[1]).toMatch(/^ {2}\S test +running +1\.0s$/);
    live.close();
  });

  it('prints every settled step once above the frame, and leaves no frame behind at the end', () => {
    const { term, emit, advance, start } = rig(['architect', 'builder', 'docs', 'qa']);
    start();
    emit({ type: 'step.started', step: 'architect', attempt: 1 });
    advance(120);
    emit({ type: 'step.succeeded', step: 'architect', attempt: 1, exit_code: 0, duration_s: 0.12, cached: false, reused: false });
    emit({ type: 'step.started', step: 'builder', attempt: 1 });
    emit({ type: 'step.started', step: 'docs', attempt: 1 });
    advance(150);
    emit({ type: 'step.failed', step: 'builder', attempt: 1, exit_code: 2, duration_s: 0.15, error: { code: 'exit', message: 'exit code 2' }, continue_on_error: false });
    advance(150);
    emit({ type: 'step.cancelled', step: 'docs', attempt: 1, duration_s: 0.3, error: { code: 'cancelled', message: 'cancelled: the job stopped' } });
    emit({ type: 'step.skipped', step: 'qa', error: { code: 'skipped', message: 'skipped: need "builder" failed' } });
    emit({ type: 'job.finished', status: 'failed', duration_s: 0.42 });

    const text = term.text();
    const lines = text.split('\n');
    const settled = (re: RegExp) => lines.filter((l) => re.test(l));
    expect(settled(/^ {2}✓ architect +succeeded +120ms$/)).toHaveLength(1);
    expect(settled(/^ {2}✗ builder +failed +150ms {2}exit: exit code 2$/)).toHaveLength(1);
    expect(settled(/^ {2}■ docs +cancelled +cancelled: the job stopped$/)).toHaveLength(1);
    expect(settled(/^ {2}↷ qa +skipped +skipped: need "builder" failed$/)).toHaveLength(1);
    expect(lines[0]).toBe('tiny  job-1  4 steps, concurrency 2');
    const one = rig(['only']);
    one.start();
    expect(one.term.text().split('\n')[0]).toBe('tiny  job-1  1 step, concurrency 2');
    // The frame is erased at the end: the last thing written is not a summary line.
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/skipped/);
  });

  it('stays within the terminal with hundreds of steps: running first, then counts', () => {
    const ids = Array.from({ length: 600 }, (_, i) => `step_${String(i).padStart(3, '0')}`);
    const { live, emit, start } = rig(ids, { rows: 12 });
    start();
    for (const id of ids.slice(0, 200)) emit({ type: 'step.started', step: id, attempt: 1 });
    for (const id of ids.slice(0, 50)) emit({ type: 'step.succeeded', step: id, attempt: 1, exit_code: 0, duration_s: 1, cached: false, reused: false });
    const frame = live.frame();
    expect(frame.length).toBeLessThanOrEqual(11); // rows less the cursor line
    expect(frame.filter((l) => /^  \S step_\d+ +running/.test(l))).toHaveLength(8);
    expect(frame[0]).toContain('step_050');
    expect(frame).toContain('  … 142 more running');
    expect(frame).toContain('  … 400 queued');
    expect(frame.at(-1)).toMatch(/^50 done · 150 running · 400 queued · 0 failed/);
    live.close();
  });

  it('keeps every settled line when more settle at once than the terminal is tall', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const { term, emit, start } = rig(ids, { rows: 5 });
    start();
    for (const id of ids) emit({ type: 'step.started', step: id, attempt: 1 });
    for (const id of ids) emit({ type: 'step.succeeded', step: id, attempt: 1, exit_code: 0, duration_s: 0.5, cached: false, reused: false });
    emit({ type: 'job.finished', status: 'succeeded', duration_s: 1 });
    const text = term.text();
    for (const id of ids) expect(text).toMatch(new RegExp(`^ {2}✓ ${id} +succeeded +500ms$`, 'm'));
  });

  it('redraws at most once per interval however many events arrive', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const { term, emit, start, live } = rig(ids);
    start();
    const before = term.writes.length;
    for (const id of ids) emit({ type: 'step.started', step: id, attempt: 1 });
    expect(term.writes.length - before).toBeLessThanOrEqual(2);
    live.close();
  });

  it('cuts lines to the terminal width', () => {
    const { live, emit, start } = rig(['a'], { columns: 40 });
    start();
    emit({ type: 'step.started', step: 'a', attempt: 1 });
    emit({ type: 'step.failed', step: 'a', attempt: 1, exit_code: 1, duration_s: 1, error: { code: 'exit', message: 'x'.repeat(200) }, continue_on_error: false });
    for (const l of live.frame()) expect(l.length).toBeLessThan(40);
    live.close();
  });

  it('stops its clock at the end of the job', async () => {
    const { term, emit, start } = rig(['a']);
    start();
    emit({ type: 'step.started', step: 'a', attempt: 1 });
    emit({ type: 'job.finished', status: 'cancelled', duration_s: 0.1 });
    const after = term.writes.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(term.writes.length).toBe(after);
  });
});

describe('isLiveTerminal', () => {
  const tty = { isTTY: true, rows: 24, columns: 80 } as unknown as LiveStream;
  it('is a sized terminal outside CI', () => {
    expect(isLiveTerminal(tty, {})).toBe(true);
    expect(isLiveTerminal(tty, { CI: 'true' })).toBe(false);
    expect(isLiveTerminal({ ...tty, isTTY: false } as unknown as LiveStream, {})).toBe(false);
    expect(isLiveTerminal({ ...tty, rows: 0 } as unknown as LiveStream, {})).toBe(false);
  });
});
