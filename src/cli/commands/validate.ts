import { OrchestratorError, formatDiagnostic } from '../../errors.js';
import { checkSpecInput } from '../../job/spec-input.js';

/** `orchestrator validate <spec>`: 0 when the spec is sound, 2 with every problem listed. */
export async function validateCommand(file: string, opts: { json?: boolean }): Promise<number> {
  try {
    const spec = await checkSpecInput(file);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, file, name: spec.name, steps: spec.steps.length, problems: [] }, null, 2)}\n`);
    else process.stdout.write(`${file}: ok (${spec.steps.length} step${spec.steps.length === 1 ? '' : 's'})\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof OrchestratorError) || !opts.json) throw e;
    process.stdout.write(`${JSON.stringify({ ok: false, file, problems: e.diagnostics }, null, 2)}\n`);
    for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    // Loaded only on a GitHub runner: the module brings node:crypto, which a plain `validate` never needs.
    if (process.env.GITHUB_ACTIONS === 'true') (await import('../render/github-commands.js')).printDiagnosticAnnotations(e.diagnostics, true);
    return 2;
  }
}
