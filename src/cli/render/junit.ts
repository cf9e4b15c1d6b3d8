import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { readLogLines, type LogLines } from '../../store/log-tail.js';
import type { JobManifest, StepRecord } from '../../store/manifest.js';
import { makeFolder } from '../../util/make-folder.js';
import { controlPicture } from './units.js';

/** Log lines quoted in a failure's body. */
const LOG_TAIL_LINES = 50;
/** A longer log line is cut in a failure's body. */
const LINE_CHARS = 2000;

/**
 * Text safe inside an XML element: escaped, and without characters XML 1.0 forbids (a control character other than
 * tab and line breaks is shown by its symbol, ESC as `␛`, as the terminal shows it; U+FFFE and U+FFFF are dropped).
 */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, controlPicture)
    .replace(/[\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Text safe inside an XML attribute: as in an element, and its tabs and line breaks as character references. A raw
 * one is read back as a space (XML normalises attribute values), so an instance named by a label of two lines
 * would lose its line break.
 */
export function xmlAttribute(text: string): string {
  return xmlEscape(text).replace(/[\t\n\r]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Colour codes a step may print: noise in a CI system's test report. */
function stripAnsi(text: string): string {
  return text.replace(/\u001B\[[0-9;?]*[ -/]*[@-~]/g, '');
}

/**
 * JUnit XML for a finished job: one `<testsuite>` (the job), one `<testcase>` per step (per instance of a
 * fanned step, named `step (values)`). A failed step
 * carries `<failure>` with its error and the tail of its log; skipped and cancelled steps carry
 * `<skipped>` with the reason. `readLog(step, lines)` gives the end of a step's log: its last lines and the
 * failure-looking lines above them, which the body quotes first.
 */
export function renderJunit(m: JobManifest, readLog: (step: string, lines: number, lastAttempt: number) => LogLines | undefined): string {
  // A fanned step is its instances, in its own place among the steps: one test case each (named by their values),
  // none for the step itself. (The manifest lists instances after every step: they are made when their step expands.)
  const steps = Object.entries(m.steps).flatMap(([id, s]): [string, StepRecord][] => {
    if (s.instances) return s.instances.flatMap((x): [string, StepRecord][] => (m.steps[x] ? [[x, m.steps[x]]] : []));
    return s.instance_of === undefined ? [[id, s]] : [];
  });
  const failures = steps.filter(([, s]) => s.status === 'failed').length;
  const skipped = steps.filter(([, s]) => s.status !== 'failed' && s.status !== 'succeeded').length;
  const time = (s: number | null) => (s ?? 0).toFixed(3);
  const attr = (name: string, value: string | number) => ` ${name}="${xmlAttribute(String(value))}"`;
  const suite =
    attr('name', m.name) + attr('tests', steps.length) + attr('failures', failures) + attr('errors', 0) + attr('skipped', skipped) + attr('time', time(m.duration_s)) + attr('timestamp', m.started_at);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attr('name', m.name)}${attr('tests', steps.length)}${attr('failures', failures)}${attr('errors', 0)}${attr('skipped', skipped)}${attr('time', time(m.duration_s))}>`, `  <testsuite${suite}>`];
  out.push(`    <properties>`, `      <property${attr('name', 'job_id')}${attr('value', m.job_id)}/>`, `      <property${attr('name', 'status')}${attr('value', m.status)}/>`, `    </properties>`);
  for (const [id, s] of steps) {
    const name = s.instance_of !== undefined && s.label !== undefined ? `${s.instance_of} (${s.label})` : id;
    const open = `    <testcase${attr('name', name)}${attr('classname', m.name)}${attr('time', time(s.duration_s))}`;
    const message = s.error ? `${s.error.code}: ${s.error.message}` : '';
    switch (s.status) {
      case 'succeeded':
        // A result restored from the cache (SPEC §11) is marked, as the reused ones of resume are not: no process ran.
        if (s.cached) out.push(`${open}>`, `      <properties><property${attr('name', 'cached')}${attr('value', 'true')}/></properties>`, '    </testcase>');
        else out.push(`${open}/>`);
        break;
      case 'failed': {
        const attempts = s.attempts > 1 ? ` (after ${s.attempts} attempts)` : '';
        const log = readLog(id, LOG_TAIL_LINES, s.attempts); // after retries, the last attempt's lines
        const above = log && log.failures.length > 0 ? ['lines above that look like failures:', ...log.failures, '…'] : [];
        const body = [`${message}${attempts}`, ...[...above, ...(log?.tail ?? [])].map(stripAnsi)].join('\n');
        out.push(`${open}>`, `      <failure${attr('message', message + attempts)}${attr('type', s.error?.code ?? 'failed')}>${xmlEscape(body)}</failure>`, '    </testcase>');
        break;
      }
      case 'skipped':
      case 'cancelled':
      case 'pending':
      case 'running':
      case 'interrupted':
        out.push(`${open}>`, `      <skipped${attr('message', `${s.status}${message ? `: ${s.error!.message}` : ''}`)}/>`, '    </testcase>');
        break;
      default: {
        const _exhaustive: never = s.status;
        throw new Error(`unknown step status ${String(_exhaustive)}`);
      }
    }
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Write `--junit FILE` for a finished job (creating its folder). */
export function writeJunit(file: string, m: JobManifest, runDir: string): void {
  const xml = renderJunit(m, (step, n, lastAttempt) => readLogLines(path.join(runDir, 'logs', `${step}.log`), { lines: n, lineChars: LINE_CHARS, lastAttempt }));
  try {
    makeFolder(path.dirname(path.resolve(file)));
    fs.writeFileSync(file, xml);
  } catch (e) {
    throw new OrchestratorError({ code: 'usage', message: `cannot write --junit ${file}: ${(e as Error).message}` });
  }
}
