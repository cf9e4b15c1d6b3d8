// The UI's front end: plain DOM code, bundled by esbuild into dist/ui/app.js at build time and served by
// `orchestrator ui` (the page's CSP allows scripts from that server only). Which part runs is <body data-page>.

/** The header every request that changes something carries (the server refuses actions without it). */
const ACTION_HEADER = { 'x-orchestrator-action': '1' };
/** Journal events arriving together redraw the report once. */
const REDRAW_DELAY_MS = 200;
/** While a job runs, the timeline's running bars grow even when no event arrives. */
const TICK_MS = 2000;

const body = document.body;

function byId<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

/** Runs page: pick two runs to compare, and refresh the table while jobs come and go. */
function startRunsPage(): void {
  const picked: string[] = [];
  const button = byId<HTMLButtonElement>('compare-picked');
  const form = button?.form;
  const sync = () => {
    if (!button || !form) return;
    button.disabled = picked.length !== 2;
    (form.elements.namedItem('a') as HTMLInputElement).value = picked[0] ?? '';
    (form.elements.namedItem('b') as HTMLInputElement).value = picked[1] ?? '';
    for (const box of document.querySelectorAll<HTMLInputElement>('input.pick')) box.checked = picked.includes(box.value);
  };
  document.addEventListener('change', (e) => {
    const box = e.target as HTMLInputElement;
    if (!box.classList.contains('pick')) return;
    const at = picked.indexOf(box.value);
    if (box.checked && at < 0) picked.push(box.value);
    if (!box.checked && at >= 0) picked.splice(at, 1);
    while (picked.length > 2) picked.shift();
    sync();
  });
  const params = new URLSearchParams(location.search);
  params.set('fragment', '1');
  setInterval(async () => {
    const res = await fetch(`/?${params.toString()}`);
    if (!res.ok) return;
    const table = byId('runs-table');
    if (table) table.outerHTML = await res.text();
    sync();
  }, 2000);
}

/** Which <details> are open, by step card and summary text: kept across a redraw. */
function openDetails(root: HTMLElement): Set<string> {
  const open = new Set<string>();
  for (const d of root.querySelectorAll('details')) {
    if (d.open) open.add(`${d.closest('article')?.id ?? ''}|${d.querySelector('summary')?.textContent ?? ''}`);
  }
  return open;
}

/** Run page: the journal streamed in (from the last seq after a reconnect), the report redrawn from the server's rendering. */
function startRunPage(): void {
  const job = body.dataset.job!;
  const wasRunning = body.dataset.jobStatus === 'running';
  const list = byId<HTMLOListElement>('event-list')!;
  const state = byId('stream-state')!;
  let lastSeq = 0;
  // One redraw at a time, and the next no sooner than the last one took: the server renders the whole run for each
  // (a big fan-out's takes most of a second), and events keep coming while the job runs.
  let timer: number | undefined;
  let drawing = false;
  let dirty = false;
  let lastCostMs = 0;
  let current: Promise<void> = Promise.resolve();
  const schedule = (delayMs: number) => {
    if (drawing) dirty = true;
    else timer ??= window.setTimeout(() => (current = redraw()), Math.max(delayMs, lastCostMs));
  };
  const redraw = async () => {
    drawing = true;
    const started = performance.now();
    try {
      const res = await fetch(`/runs/${job}/view`);
      const old = byId('report');
      if (!res.ok || !old) return;
      const open = openDetails(old);
      const holder = document.createElement('div');
      holder.innerHTML = await res.text();
      const next = holder.firstElementChild as HTMLElement;
      for (const d of next.querySelectorAll('details')) {
        if (open.has(`${d.closest('article')?.id ?? ''}|${d.querySelector('summary')?.textContent ?? ''}`)) d.open = true;
      }
      old.replaceWith(next);
    } finally {
      lastCostMs = performance.now() - started;
      drawing = false;
      timer = undefined;
      if (dirty) {
        dirty = false;
        schedule(REDRAW_DELAY_MS);
      }
    }
  };
  const source = new EventSource(`/runs/${job}/events`);
  const ticker = wasRunning ? window.setInterval(() => schedule(0), TICK_MS) : undefined;
  source.addEventListener('open', () => (state.textContent = 'live'));
  source.addEventListener('error', () => (state.textContent = 'reconnecting…'));
  source.addEventListener('run', (m) => {
    const e = JSON.parse((m as MessageEvent<string>).data) as { seq: number; type: string; step?: string; attempt?: number };
    if (e.seq <= lastSeq) return; // the server resumes after Last-Event-ID; this is only a guard
    lastSeq = e.seq;
    const li = document.createElement('li');
    li.value = e.seq;
    li.dataset.seq = String(e.seq);
    li.textContent = [e.type, e.step ?? '', e.attempt !== undefined ? `attempt ${e.attempt}` : ''].filter(Boolean).join(' ');
    list.append(li);
    schedule(REDRAW_DELAY_MS);
  });
  source.addEventListener('end', () => {
    source.close();
    window.clearInterval(ticker);
    state.textContent = 'the job has ended';
    // Its actions change (cancel → resume, rerun): a job seen running is reloaded once, now finished.
    if (wasRunning) {
      window.clearTimeout(timer);
      dirty = false;
      void current.catch(() => {}).then(redraw).then(() => location.reload());
    }
  });
  document.addEventListener('click', (e) => void onAction(e, job));
}

/** A click on an action button: confirmed first, then sent; a started job is opened. */
async function onAction(e: Event, job: string): Promise<void> {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
  if (!button) return;
  const action = button.dataset.action!;
  const step = byId<HTMLSelectElement>('rerun-step')?.value ?? '';
  const question =
    action === 'cancel' ? `Cancel job ${job}? Its running steps are stopped (as with Ctrl-C).` : action === 'resume' ? `Resume job ${job} as a new job?` : `Re-run step "${step}" of ${job} (and what depends on it) as a new job?`;
  if (!window.confirm(question)) return;
  const status = byId('action-status');
  button.disabled = true;
  const res = await fetch(`/runs/${job}/${action}${action === 'rerun' ? `?step=${encodeURIComponent(step)}` : ''}`, { method: 'POST', headers: ACTION_HEADER });
  if (!res.ok) {
    const holder = document.createElement('div');
    holder.innerHTML = await res.text();
    if (status) status.textContent = holder.querySelector('.error')?.textContent ?? `failed (${res.status})`;
    button.disabled = false;
    return;
  }
  const answer = (await res.json()) as { jobId?: string };
  if (answer.jobId) location.href = `/runs/${answer.jobId}/`;
  else if (status) status.textContent = 'cancel sent: the job is stopping';
}

/** Log page: the step's log streamed as it is written, resuming at the last byte after a reconnect. */
function startLogPage(): void {
  const job = body.dataset.job!;
  const step = body.dataset.step!;
  const text = byId('log-text')!;
  const state = byId('log-state')!;
  const source = new EventSource(`/runs/${job}/log/${encodeURIComponent(step)}/stream`);
  source.addEventListener('open', () => (state.textContent = 'following the log as it is written'));
  source.addEventListener('error', () => (state.textContent = 'reconnecting…'));
  source.addEventListener('skipped', (m) => {
    const { bytes } = JSON.parse((m as MessageEvent<string>).data) as { bytes: number };
    byId('log-note')!.textContent = `The first ${bytes} bytes are left out (the raw log has them).`;
  });
  source.addEventListener('log', (m) => text.append(JSON.parse((m as MessageEvent<string>).data) as string));
  source.addEventListener('end', () => {
    source.close();
    state.textContent = 'the step has ended: this is its whole log';
  });
}

switch (body.dataset.page) {
  case 'runs':
    startRunsPage();
    break;
  case 'run':
    startRunPage();
    break;
  case 'log':
    startLogPage();
    break;
  default:
    break;
}
