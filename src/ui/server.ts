// The `orchestrator ui` web app: Node's own http server over the runs folder, which is its only data (it keeps no
// state of its own). Built as a bundle of its own (dist/ui/server.cjs), loaded only by `orchestrator ui`.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OrchestratorError } from '../errors.js';
import type { RunEvent } from '../events/types.js';
import { escapeHtml as esc } from '../report/escape.js';
import { REPORT_CSS } from '../report/style.js';
import { isJobId } from '../store/job-id.js';
import { JournalWatch } from '../store/journal-watch.js';
import { isWriterAlive, readManifest } from '../store/runs.js';
import { runFileProblem } from '../store/run-file.js';
import { answerVerdict, checkAccess, isLoopbackHost, SECURITY_HEADERS, type AccessRule } from './access.js';
import { cancelJob, startAction } from './actions.js';
import { loadSide, renderComparePage } from './compare.js';
import { renderPage } from './page.js';
import { renderLogPage, renderRunPage, renderRunView } from './run-page.js';
import { listRunsPage, type RunsQuery } from './runs-list.js';
import { renderRunsBody, renderRunsTable } from './runs-page.js';
import { pathSegments, resolveInside } from './safe-path.js';
import { streamEvents, streamLog } from './streams.js';
import { UI_CSS } from './style.js';
import { WatchedJournals } from './watched-journals.js';

/** Options of the UI server. */
export interface UiServerOptions {
  runsDir: string;
  host: string;
  port: number;
  /** Required on a non-loopback host; generated there when not given. */
  token?: string;
  /** A request that failed in a way that is a bug: the command prints it (only cli/ prints). */
  onInternalError: (e: unknown) => void;
}

/** A running UI server. */
export interface UiServer {
  /** The address to open, with `?token=` when one is needed. */
  url: string;
  /** The token every request needs, when the host is not loopback. */
  token?: string;
  close(): Promise<void>;
}

/** Runs shown per page. */
const PAGE_SIZE = 50;
/** Only these requests change anything; they must carry this header, which no other site's page can send here (CORS). */
const ACTION_HEADER = 'x-orchestrator-action';

/** A request the app answers with a status and a short text. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

const html = (res: ServerResponse, body: string, status = 200) => send(res, status, 'text/html; charset=utf-8', body);
const json = (res: ServerResponse, value: unknown, status = 200) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

/** The front end and the stylesheets, read once from the package (dist/ui/app.js beside this bundle). */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  return new Map([
    ['app.js', { type: 'text/javascript; charset=utf-8', body: fs.readFileSync(path.join(__dirname, 'app.js')) }],
    ['report.css', { type: 'text/css; charset=utf-8', body: Buffer.from(REPORT_CSS) }],
    ['ui.css', { type: 'text/css; charset=utf-8', body: Buffer.from(UI_CSS) }],
  ]);
}

/**
 * The job of a URL segment: a well-formed id of a run folder that exists (no prefixes, nothing else reaches the disk).
 * Every folder the runs page lists has its page, as every one `list-runs` lists is one `show` shows: also one with a
 * manifest and no journal, or one with neither (its process died before its first event: `show` reads it as never
 * started, interrupted), whose manifest readManifest rebuilds or explains.
 */
function jobOf(runsDir: string, id: string | undefined): string {
  if (id === undefined || !isJobId(id) || !fs.existsSync(path.join(runsDir, id))) throw new HttpError(404, `no job "${id ?? ''}" in ${runsDir}`);
  return id;
}

function runsQuery(url: URL): RunsQuery {
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const status = url.searchParams.get('status') ?? '';
  const name = url.searchParams.get('name') ?? '';
  return { offset: Number.isInteger(offset) && offset > 0 ? offset : 0, limit: PAGE_SIZE, ...(status ? { status } : {}), ...(name ? { name } : {}) };
}

/** The SHA-256 of a file, read as a stream (an artifact can be larger than memory). */
async function hashStream(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Send an artifact after checking it against the SHA-256 the manifest recorded: a changed file is refused, never
 * served as the job's. Read twice (hash, then send) rather than held in memory.
 */
async function sendArtifact(res: ServerResponse, runsDir: string, jobId: string, segments: string[]): Promise<void> {
  const rel = segments.join('/');
  const record = readManifest(runsDir, jobId).files.find((f) => f.path === rel);
  const file = resolveInside(path.join(runsDir, jobId), segments);
  if (!record || !file) throw new HttpError(404, `no file ${rel} in job ${jobId}`);
  const actual = await hashStream(file);
  if (actual !== record.sha256) throw new HttpError(409, `${rel} changed since the job recorded it: SHA-256 ${actual}, recorded ${record.sha256}`);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'application/octet-stream',
    'content-length': String(record.size_bytes),
    'content-disposition': `attachment; filename="${path.basename(rel).replace(/[^\w.-]/g, '_')}"`,
    'x-sha256': actual,
  });
  await pipeline(fs.createReadStream(file), res);
}

/** The routes under /runs/<id>/. */
async function routeRun(o: { req: IncomingMessage; res: ServerResponse; url: URL; runsDir: string; rest: string[]; journals: WatchedJournals }): Promise<void> {
  const { req, res, url, runsDir } = o;
  const jobId = jobOf(runsDir, o.rest[0]);
  const [what, ...more] = o.rest.slice(1);
  const dir = path.join(runsDir, jobId);
  if (req.method === 'POST') {
    if (req.headers[ACTION_HEADER] !== '1') throw new HttpError(403, `actions need the ${ACTION_HEADER} header (the page sends it)`);
    if (what === 'cancel') return json(res, { ok: true, ...cancelJob(runsDir, jobId) });
    if (what === 'resume') return json(res, { ok: true, ...(await startAction(runsDir, { kind: 'resume', jobId })) });
    const step = url.searchParams.get('step');
    if (what === 'rerun' && step) return json(res, { ok: true, ...(await startAction(runsDir, { kind: 'rerun', jobId, step })) });
    throw new HttpError(404, 'no such action');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'only GET and POST');
  if (what === undefined) {
    res.writeHead(301, { ...SECURITY_HEADERS, location: `/runs/${jobId}/` });
    return void res.end();
  }
  // A running job's journal is read once (and only what it gained since the last look): for its manifest, and for the report's timeline.
  const readRun = () => {
    let journal: RunEvent[] | undefined;
    const m = readManifest(runsDir, jobId, { journal: o.journals.of(dir), onJournal: (events) => (journal = events) });
    if (m.status !== 'running') o.journals.drop(dir);
    return [m, journal] as const;
  };
  if (what === '' && more.length === 0) return html(res, renderRunPage(runsDir, ...readRun()));
  if (what === 'view' && more.length === 0) return html(res, renderRunView(runsDir, ...readRun()));
  if (what === 'events' && more.length === 0) {
    // The stream itself sees job.finished; asked while the journal is quiet, only whether the job's process still lives.
    const m = readManifest(runsDir, jobId);
    return streamEvents({ req, res, file: path.join(dir, 'events.jsonl'), isOpen: () => m.status === 'running' && isWriterAlive(m) });
  }
  if (what === 'log' && more.length >= 1) {
    const step = more[0]!;
    const m = readManifest(runsDir, jobId);
    if (!Object.hasOwn(m.steps, step) || /[/\\\0]|^\.\.?$/.test(step)) throw new HttpError(404, `job ${jobId} has no step "${step}"`);
    if (more.length === 1) return html(res, renderLogPage(m, step));
    if (more.length === 2 && more[1] === 'stream') {
      // Whether the step may still write: read from the journal as it grows, not by replaying it once a second.
      const journal = new JournalWatch(path.join(dir, 'events.jsonl'), step);
      const stepOpen = () => m.status === 'running' && journal.readEnd() === undefined && isWriterAlive(m);
      return streamLog({ req, res, file: path.join(dir, 'logs', `${step}.log`), isOpen: stepOpen });
    }
  }
  if (what === 'logs' && more.length === 1) {
    // A link in a log's place is no log (as on the page and in the stream), even one that stays in the folder.
    const file = runFileProblem(path.join(dir, 'logs', more[0]!)) ? undefined : resolveInside(dir, ['logs', more[0]!]);
    if (!file) {
      // A step that printed nothing (yet) has no log file, which appears with its first byte: its log is empty.
      const step = more[0]!.endsWith('.log') ? more[0]!.slice(0, -'.log'.length) : '';
      const nothingThere = !/[/\\\0]/.test(more[0]!) && fs.lstatSync(path.join(dir, 'logs', more[0]!), { throwIfNoEntry: false }) === undefined;
      if (nothingThere && Object.hasOwn(readManifest(runsDir, jobId).steps, step)) return send(res, 200, 'text/plain; charset=utf-8', Buffer.alloc(0));
      throw new HttpError(404, `no log ${more[0]} in job ${jobId}`);
    }
    return send(res, 200, 'text/plain; charset=utf-8', fs.readFileSync(file));
  }
  if (what === 'artifacts' && more.length >= 2) return sendArtifact(res, runsDir, jobId, ['artifacts', ...more]);
  throw new HttpError(404, `not found: ${url.pathname}`);
}

/** One request: access first, then the route. */
async function route(o: {
  req: IncomingMessage;
  res: ServerResponse;
  runsDir: string;
  rule: AccessRule;
  assets: Map<string, { type: string; body: Buffer }>;
  journals: WatchedJournals;
}): Promise<void> {
  const { req, res, runsDir } = o;
  // WHATWG URL parsing removes `.` and `..` segments (also written %2e%2e): a path cannot climb out of its route.
  const url = new URL(req.url ?? '/', 'http://ui.invalid');
  const verdict = checkAccess(req, url, o.rule);
  if (verdict) return answerVerdict(res, verdict);
  const segments = pathSegments(url.pathname);
  if (!segments) throw new HttpError(400, 'bad percent-encoding in the path');
  const [top, ...rest] = segments;
  // Only /runs/… takes actions (POST, routeRun); every other page is read.
  if (top !== 'runs' && req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'only GET here');
  if (top === '' && rest.length === 0) {
    const q = runsQuery(url);
    const page = listRunsPage(runsDir, q);
    if (url.searchParams.get('fragment') === '1') return html(res, renderRunsTable(page, q));
    return html(res, renderPage({ title: 'orchestrator · runs', page: 'runs', body: renderRunsBody(page, q, runsDir) }));
  }
  if (top === 'assets' && rest.length === 1) {
    const asset = o.assets.get(rest[0]!);
    if (!asset) throw new HttpError(404, `no asset ${rest[0]}`);
    return send(res, 200, asset.type, asset.body);
  }
  if (top === 'runs') return routeRun({ req, res, url, runsDir, rest, journals: o.journals });
  if (top === 'compare' && rest.length === 0) {
    const a = jobOf(runsDir, url.searchParams.get('a') ?? undefined), b = jobOf(runsDir, url.searchParams.get('b') ?? undefined);
    return html(res, renderComparePage(loadSide(runsDir, readManifest(runsDir, a)), loadSide(runsDir, readManifest(runsDir, b))));
  }
  throw new HttpError(404, `not found: ${url.pathname}`);
}

function answerError(res: ServerResponse, e: unknown, onInternalError: (e: unknown) => void): void {
  const status = e instanceof HttpError ? e.status : e instanceof OrchestratorError ? (e.diagnostics[0]?.code === 'unknown-job' ? 404 : 409) : 500;
  if (status === 500) onInternalError(e);
  const message = status === 500 ? 'internal error: the terminal running `orchestrator ui` shows it' : (e as Error).message;
  if (res.headersSent) return void res.end();
  html(res, renderPage({ title: `${status}`, page: 'error', body: `<header class="job"><h1>${status}</h1><p class="error">${esc(message)}</p></header>` }), status);
}

/**
 * Start the server; resolves once it listens, or with the reason it cannot (a plain message: this bundle's error
 * classes are not the CLI's). A non-loopback host without a token gets a generated one.
 */
export async function startUiServer(o: UiServerOptions): Promise<UiServer | { problem: string }> {
  const runsDir = path.resolve(o.runsDir);
  const token = isLoopbackHost(o.host) ? o.token : (o.token ?? randomBytes(24).toString('base64url'));
  const assets = loadAssets();
  const rule: AccessRule = token !== undefined ? { token } : {};
  const journals = new WatchedJournals();
  const server = http.createServer((req, res) => {
    route({ req, res, runsDir, rule, assets, journals }).catch((e: unknown) => answerError(res, e, o.onInternalError));
  });
  const problem = await new Promise<string | undefined>((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      resolve(`cannot listen on ${o.host}:${o.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (--port another, or 0 for any free one)' : e.message}`),
    );
    server.listen(o.port, o.host, () => resolve(undefined));
  });
  if (problem !== undefined) return { problem };
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  // Bound to every address (0.0.0.0, ::): the URL names this machine, as another machine's browser would reach it.
  const shownHost = o.host === '0.0.0.0' || o.host === '::' ? hostname() : o.host;
  const hostInUrl = shownHost.includes(':') ? `[${shownHost}]` : shownHost;
  return {
    url: `http://${hostInUrl}:${port}/${token !== undefined ? `?token=${token}` : ''}`,
    ...(token !== undefined ? { token } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
