// What must hold after every trial, whatever was done to it (issue 14): each check returns violations
// {kind, detail}; an empty list means the trial ended in a recorded, explained state.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A Node stack frame, or Node's internals named: what a user must never see. */
const STACK = /^\s+at (?:async )?\S.*:\d+:\d+\)?\s*$|\bnode:internal\//m;
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Whether `text` holds a stack trace. */
export function hasStack(text) {
  return STACK.test(text);
}

/** Runs `node bin args` without blocking the harness (trials share its event loop); SIGKILLed after `timeoutMs`. */
export function runCli({ bin, args, cwd, env, timeoutMs, detached = false }) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const keep = (key) => (chunk) => {
    if (out[key].length < 4 << 20) out[key] += chunk;
  };
  child.stdout.setEncoding('utf8').on('data', keep('stdout'));
  child.stderr.setEncoding('utf8').on('data', keep('stderr'));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ...out });
    });
  });
  return { child, done };
}

/** Job folders of a runs folder (none when it is gone). */
export function listJobs(runsDir) {
  try {
    return fs.readdirSync(runsDir).filter((n) => /^\d{8}-\d{6}-\d{3}-/.test(n)).sort();
  } catch {
    return [];
  }
}

/**
 * Every file that should parse does: manifest.json, each line of events.jsonl (a torn last line only where the
 * orchestrator was SIGKILLed), outputs/*.json; and a finished manifest's files[] match the files on disk.
 */
export function checkRunFolder({ runDir, tornLastLineAllowed, filesMayBeGone = false }) {
  const found = [];
  const bad = (kind, detail) => found.push({ kind, detail: `${path.basename(runDir)}: ${detail}` });
  const manifest = readJson(path.join(runDir, 'manifest.json'), bad);
  const journal = path.join(runDir, 'events.jsonl');
  if (fs.existsSync(journal)) {
    const lines = fs.readFileSync(journal, 'utf8').split('\n');
    const last = lines.pop(); // '' when the file ends with a newline
    lines.forEach((line, i) => parses(line) || bad('unparsable-file', `events.jsonl line ${i + 1} does not parse: ${line.slice(0, 80)}`));
    if (last !== '' && !tornLastLineAllowed) bad('unparsable-file', `events.jsonl ends in a torn line: ${last.slice(0, 80)}`);
  }
  // outputs/<id>.json is made empty ahead of time (README, Performance) and written when the step settles:
  // empty is "not yet" for a step the journal does not call settled, and a violation for one it does.
  const settled = settledSteps(journal);
  const outputs = path.join(runDir, 'outputs');
  for (const f of fs.existsSync(outputs) ? fs.readdirSync(outputs) : []) {
    const file = path.join(outputs, f);
    if (!f.endsWith('.json')) continue;
    if (fs.statSync(file).size > 0) readJson(file, bad);
    else if (settled.has(f.slice(0, -'.json'.length))) bad('unparsable-file', `outputs/${f} is empty though the journal settled its step`);
  }
  if (manifest && TERMINAL.has(manifest.status) && Array.isArray(manifest.files)) {
    for (const f of manifest.files) {
      const file = path.join(runDir, f.path);
      // A runs folder deleted under the job may go only in part (the job wrote into it while it went): the files the
      // deletion took are missing from a manifest written after. What is there must still be what the manifest says.
      if (!fs.existsSync(file)) {
        if (!filesMayBeGone) bad('manifest-mismatch', `${f.path} is listed in the finished manifest but missing`);
      } else if (sha256(file) !== f.sha256) bad('manifest-mismatch', `${f.path}: SHA-256 differs from the manifest's`);
    }
  }
  return { found, manifest };
}

/** Steps the journal records as settled (its lines that parse). */
function settledSteps(journal) {
  const settled = new Set();
  if (!fs.existsSync(journal)) return settled;
  for (const line of fs.readFileSync(journal, 'utf8').split('\n')) {
    if (!parses(line)) continue;
    const e = JSON.parse(line);
    if (e.step && /^step\.(succeeded|failed|skipped|cancelled)$/.test(e.type)) settled.add(e.step);
  }
  return settled;
}

function readJson(file, bad) {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    bad('unparsable-file', `${path.basename(file)} does not parse (${e.message.slice(0, 80)})`);
    return undefined;
  }
}

function parses(line) {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * `show <job> --json` and `list-runs --json` exit 0 or 2 with exactly one JSON document and no stack, within
 * 30 s; `show` never calls a job whose orchestrator is gone `running`. Returns violations and the texts read.
 */
export async function checkReaders({ bin, cwd, env, runsDir, job }) {
  const found = [];
  const texts = [];
  for (const [name, args] of [['show', ['show', job ?? 'latest', '--json']], ['list-runs', ['list-runs', '--json']]]) {
    const r = await runCli({ bin, args: [...args, '--runs-dir', runsDir], cwd, env, timeoutMs: 30_000 }).done;
    texts.push(r.stdout, r.stderr);
    const doc = parseDocument(r.stdout);
    if (r.timedOut) found.push({ kind: `${name}-hang`, detail: `\`${args.join(' ')}\` still running after 30 s` });
    else if (r.code !== 0 && r.code !== 2) found.push({ kind: `${name}-failed`, detail: `\`${args.join(' ')}\` exit ${r.code ?? r.signal}: ${firstLine(r.stderr)}` });
    else if (doc === undefined) found.push({ kind: `${name}-failed`, detail: `\`${args.join(' ')}\` exit ${r.code}: stdout is not one JSON document: ${firstLine(r.stdout)}` });
    if (hasStack(r.stderr) || hasStack(r.stdout)) found.push({ kind: 'stack-trace', detail: `\`${args.join(' ')}\` printed a stack: ${firstLine(r.stderr)}` });
    if (name === 'show' && r.code === 0 && doc?.status === 'running') found.push({ kind: 'stale-running', detail: `show calls ${job} running after its orchestrator is gone` });
  }
  return { found, texts };
}

function parseDocument(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first non-empty line of a text, cut for a report. */
export function firstLine(text) {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 160);
}

/**
 * No byte of the secret on disk: neither the whole value nor its first 6 characters (a truncated secret no
 * longer matches a mask) in any file under `roots` (run folders, cache, JUnit). Artifacts are the step's own
 * business (SPEC §4), but no body here writes the secret there, so they are searched too.
 */
export async function checkSecretOnDisk({ roots, secret }) {
  const needles = [Buffer.from(secret), Buffer.from(secret.slice(0, 6))];
  const found = [];
  for (const file of roots.flatMap(walk)) {
    let bytes;
    try {
      bytes = await fs.promises.readFile(file);
    } catch {
      continue;
    }
    const which = needles.findIndex((n) => bytes.includes(n));
    if (which >= 0) found.push({ kind: 'secret-on-disk', detail: `${which === 0 ? 'the secret' : 'its first 6 characters'} in ${file}` });
  }
  return found;
}

/** The secret (or its first 6 characters) in what a command printed. */
export function checkSecretInText({ texts, secret, where }) {
  const hit = texts.find((t) => t.includes(secret.slice(0, 6)));
  return hit === undefined ? [] : [{ kind: 'secret-on-console', detail: `${where}: …${around(hit, secret.slice(0, 6))}…` }];
}

function around(text, needle) {
  const i = text.indexOf(needle);
  return text.slice(Math.max(0, i - 60), i + 40).replaceAll('\n', '⏎');
}

function walk(root) {
  const out = [];
  const visit = (p) => {
    let st;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else if (st.isFile()) out.push(p);
  };
  visit(root);
  return out;
}

/** A log a step wrote as valid UTF-8 must read back as such (no U+FFFD from chunks decoded one by one). */
export function checkUtf8Log({ file }) {
  if (!fs.existsSync(file)) return [];
  const bytes = fs.readFileSync(file);
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return [{ kind: 'log-utf8', detail: `${file} is not valid UTF-8` }];
  }
  const n = text.split('\uFFFD').length - 1;
  return n ? [{ kind: 'log-utf8', detail: `${file} holds ${n} U+FFFD` }] : [];
}
