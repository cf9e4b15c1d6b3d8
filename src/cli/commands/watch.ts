import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError, formatDiagnostic } from '../../errors.js';
import type { EventSink, ExpandedInstance } from '../../events/types.js';
import { hasTemplate } from '../../expr/index.js';
import { renderCacheGlobs } from '../../graph/instances.js';
import type { JobSpec } from '../../specfile/model.js';
import { matchFiles } from '../../store/input-hashes.js';
import { plural } from '../render/units.js';

/** How often declared inputs are looked at, and how long they must stay still before a run starts. */
const POLL_MS = 250;
const SETTLE_MS = 300;

/**
 * `run --watch` (SPEC §11): run, then wait until the spec file or a declared input of a cached step changes (files
 * polled by size, mtime, ctime and inode (a file copied over another with its mtime kept still changes its ctime); new files matched by the globs count), wait for it to settle, and run again:
 * cached steps whose inputs did not change stay cached. Ctrl-C ends it (exit 130, as every cancelled run).
 */
export async function watchRuns(o: { load: () => Promise<JobSpec>; run: (spec: JobSpec, sink: EventSink) => Promise<number>; runsDir: string; say: (line: string) => void }): Promise<number> {
  let spec = await o.load();
  for (;;) {
    const expanded = new Map<string, ExpandedInstance[]>();
    const code = await o.run(spec, { emit: (e) => void (e.type === 'step.expanded' && expanded.set(e.step, e.instances)) });
    if (code === 130) return code;
    const globs = watchedGlobs(spec, expanded);
    const specPath = spec.path;
    const watched = () => [specPath, ...matchFiles(path.dirname(specPath), globs, [path.resolve(o.runsDir)]).map((rel) => path.join(path.dirname(specPath), rel))];
    // Looked at before the line is printed: whoever reads it and then changes a file is seen.
    let before = signature(watched());
    o.say(`watching ${plural(before.size, 'file', 'files')} for changes (Ctrl-C to stop)`);
    // A spec that no longer loads runs nothing: the next change is waited for, and the spec read again.
    for (;;) {
      const changed = await waitForChange(watched, before);
      before = signature(watched());
      try {
        spec = await o.load();
        o.say(`${changed} changed: running again`);
        break;
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        o.say(`${changed} changed, and the spec does not load:\n${e.diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}\nwaiting for a fix (Ctrl-C to stop)`);
      }
    }
  }
}

/**
 * The input globs of the spec's cached steps. A fanned step's globs with `${{ }}` are rendered for each instance the
 * last run made of it (from its step.expanded event), as the run itself rendered them: a step that did not expand
 * then (a need failed) has none of them watched until it does.
 */
function watchedGlobs(spec: JobSpec, expanded: ReadonlyMap<string, ExpandedInstance[]>): string[] {
  const globs = new Set<string>();
  for (const s of spec.steps) {
    if (!s.shellCache || !s.cache) continue;
    const templated = s.shellCache.inputs.some(hasTemplate);
    if (!templated) {
      for (const g of s.shellCache.inputs) globs.add(g);
      continue;
    }
    for (const info of expanded.get(s.id) ?? []) {
      for (const g of renderCacheGlobs(s.shellCache, spec.vars, info).inputs) globs.add(g);
    }
  }
  return [...globs];
}

/** Each file's size, mtime, ctime and inode ('gone' for a missing one). */
function signature(files: string[]): Map<string, string> {
  return new Map(files.map((f) => [f, statKey(f)]));
}

/** Resolves with the first path whose stat differs from `before` (or that appeared or went), once the files have stayed still for SETTLE_MS. */
function waitForChange(files: () => string[], before: Map<string, string>): Promise<string> {
  return new Promise((resolve) => {
    let first: string | undefined;
    let last = before;
    let stillSince = 0;
    const tick = () => {
      const now = signature(files());
      const diff = firstDifference(last, now);
      if (diff) {
        first ??= diff;
        stillSince = Date.now();
      } else if (first && Date.now() - stillSince >= SETTLE_MS) {
        clearInterval(timer);
        resolve(path.relative(process.cwd(), first) || first);
        return;
      }
      last = now;
    };
    const timer = setInterval(tick, POLL_MS);
  });
}

function statKey(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}` : 'gone';
}

function firstDifference(a: Map<string, string>, b: Map<string, string>): string | undefined {
  for (const [f, k] of b) if (a.get(f) !== k) return f;
  for (const f of a.keys()) if (!b.has(f)) return f;
  return undefined;
}
