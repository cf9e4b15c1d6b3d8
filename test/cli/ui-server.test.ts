// `orchestrator ui` over HTTP, without a browser: what it refuses (paths out of the runs folder, requests without
// the token, foreign Host headers, actions without their header), the journal stream resuming after Last-Event-ID,
// and artifacts served only when their SHA-256 still matches. The browser tests are in test/browser/ui.test.ts.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useCliRig } from '../helpers/cli.js';
import { startUi, type UiProcess } from '../helpers/ui-server.js';

const rig = useCliRig('orch-ui-server-');
let ui: UiProcess | undefined;
afterEach(async () => {
  await ui?.stop();
  ui = undefined;
});

/** A GET (or POST) sent with the path exactly as written: fetch() would normalise `..` before it left. */
function raw(origin: string, rawPath: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `id:` lines of a finished server-sent event stream. */
function eventIds(body: string): number[] {
  return [...body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
}

function runJob(): string {
  rig().write('secret.txt', 'TOP-SECRET-CONTENT\n');
  rig().write(
    'spec.yaml',
    ['name: files', 'steps:', '  s:', '    run: |', '      echo real > "$ORCH_ARTIFACTS/real.txt"', '      ln -s ../../../../secret.txt "$ORCH_ARTIFACTS/link"', '      echo logged', ''].join('\n'),
  );
  const r = rig().run(['run', 'spec.yaml', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  expect(fs.readFileSync(rig().runPath('artifacts/s/link'), 'utf8')).toContain('TOP-SECRET'); // the link does lead out
  return rig().latest();
}

describe('orchestrator ui over HTTP', () => {
  it('serves files of the run folder, and no path out of it: .., encoded separators, symlinks', async () => {
    const job = runJob();
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const ok = await raw(ui.origin, `/runs/${job}/artifacts/s/real.txt`);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('real\n');
    expect(ok.headers['x-sha256']).toBe(rig().manifest().files.find((f) => f.path === 'artifacts/s/real.txt')!.sha256);
    expect((await raw(ui.origin, `/runs/${job}/logs/s.log`)).body).toBe('logged\n');
    const attempts = [
      `/runs/${job}/artifacts/s/link`,
      `/runs/${job}/artifacts/s/..%2F..%2F..%2F..%2Fsecret.txt`,
      `/runs/${job}/artifacts/s/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt`,
      `/runs/${job}/artifacts/s/..%5C..%5C..%5C..%5Csecret.txt`,
      `/runs/${job}/logs/..%2F..%2F..%2Fsecret.txt`,
      `/runs/${job}/logs/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt`,
      `/runs/${job}/../../secret.txt`,
      `/runs/..%2Fsecret.txt/`,
      `/runs/${job}/log/..%2F..%2Fsecret.txt`,
      `/assets/..%2F..%2F..%2Fsecret.txt`,
      `/runs/${job}/artifacts/s/%00`,
      `/runs/${job}/artifacts/s/%zz`,
    ];
    for (const p of attempts) {
      const r = await raw(ui.origin, p);
      expect([400, 403, 404], `${p}: ${r.status}`).toContain(r.status);
      expect(r.body, p).not.toContain('TOP-SECRET');
    }
    // A step's log replaced by a link out of the folder: neither its stream nor the run page reads through it.
    fs.rmSync(rig().runPath('logs/s.log'));
    fs.symlinkSync(rig().path('secret.txt'), rig().runPath('logs/s.log'));
    for (const p of [`/runs/${job}/logs/s.log`, `/runs/${job}/log/s/stream`, `/runs/${job}/`]) expect((await raw(ui.origin, p)).body, p).not.toContain('TOP-SECRET');
    // The stream says it ended (a bare close has the page's EventSource reconnect every second, for good).
    expect((await raw(ui.origin, `/runs/${job}/log/s/stream`)).body).toContain('event: end');
    // Pages are read only: DELETE / was answered with the runs page.
    for (const method of ['DELETE', 'PUT', 'POST']) expect((await raw(ui.origin, '/', { method })).status, method).toBe(405);
    // Nor a link that stays in the folder: the job's spec is not served as the step's raw log.
    fs.rmSync(rig().runPath('logs/s.log'));
    fs.symlinkSync(rig().runPath('inputs/spec.yaml'), rig().runPath('logs/s.log'));
    const linked = await raw(ui.origin, `/runs/${job}/logs/s.log`);
    expect(linked.status).toBe(404);
    expect(linked.body).not.toContain('steps:');
  }, 60_000);

  it("a silent step's raw log (it has no log file) is empty, not 404; an unknown step's is 404", async () => {
    rig().write('spec.yaml', 'steps:\n  quiet:\n    run: "true"\n');
    expect(rig().run(['run', 'spec.yaml', '--quiet']).code).toBe(0);
    const job = rig().latest();
    expect(fs.existsSync(rig().runPath('logs/quiet.log'))).toBe(false);
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const page = await raw(ui.origin, `/runs/${job}/log/quiet`);
    expect(page.body).toContain('href="../logs/quiet.log">raw log</a>');
    const r = await raw(ui.origin, `/runs/${job}/logs/quiet.log`);
    expect([r.status, r.body]).toEqual([200, '']);
    expect((await raw(ui.origin, `/runs/${job}/logs/other.log`)).status).toBe(404);
  }, 60_000);

  it('refuses an artifact whose SHA-256 no longer matches the manifest', async () => {
    const job = runJob();
    fs.writeFileSync(rig().runPath('artifacts/s/real.txt'), 'tampered\n');
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const r = await raw(ui.origin, `/runs/${job}/artifacts/s/real.txt`);
    expect(r.status).toBe(409);
    expect(r.body).toContain('changed since the job recorded it');
    expect(r.body).not.toContain('tampered');
  }, 60_000);

  it('on a non-loopback host, refuses every request without the token it generated', async () => {
    const job = runJob();
    ui = await startUi({ cwd: rig().dir, env: rig().env(), args: ['--host', '0.0.0.0'] });
    const token = new URL(ui.url).searchParams.get('token');
    expect(token).toMatch(/^[\w-]{20,}$/);
    await vi.waitFor(() => expect(ui!.stderr()).toContain('a token was generated'));
    // Bound to every address, its URL names this machine (what another machine would use); here it is asked on loopback.
    expect(new URL(ui.url).hostname).toBe(os.hostname().toLowerCase());
    const origin = ui.origin.replace(new URL(ui.url).host, `127.0.0.1:${new URL(ui.url).port}`);
    for (const p of ['/', '/assets/app.js', `/runs/${job}/`, `/runs/${job}/events`, `/runs/${job}/logs/s.log`, `/runs/${job}/artifacts/s/real.txt`, `/compare?a=${job}&b=${job}`, `/?token=wrong`]) {
      const r = await raw(origin, p);
      expect(r.status, p).toBe(401);
      expect(r.body, p).not.toContain('files');
    }
    expect((await raw(origin, `/runs/${job}/cancel`, { method: 'POST', headers: { 'x-orchestrator-action': '1' } })).status).toBe(401);
    const port = new URL(origin).port;
    expect((await raw(origin, `/`, { headers: { cookie: `orch_ui_token_${port}=nope` } })).status).toBe(401);
    // The token once in the address: moved into a cookie (of this server's port alone), which then opens every page.
    const first = await raw(origin, `/?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toBe(`orch_ui_token_${port}=${token}`);
    // The way back never leaves the server (`//evil.example/x` would, in a browser).
    expect((await raw(origin, `/.//evil.example/x?token=${token}`)).headers.location).toBe('/evil.example/x');
    expect((await raw(origin, `/runs/${job}/`, { headers: { cookie } })).status).toBe(200);
    expect((await raw(origin, '/', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // A token of one's own must be one: an empty one would match an empty cookie.
    const empty = rig().run(['ui', '--host', '0.0.0.0', '--token', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--token must be at least 8 characters');
    // Nor one that a URL or a cookie would have to escape: `;` added cookie attributes (Domain=evil.example).
    for (const bad of ['abcd efgh; Domain=evil.example', 'éééééééééé']) {
      const r = rig().run(['ui', '--host', '0.0.0.0', '--token', bad]);
      expect([r.code, r.stderr.trim()], bad).toEqual([2, '--token may hold only letters, digits and . _ ~ - (it travels in a URL and a cookie); leave it out and one is generated']);
    }
  }, 60_000);

  it('on loopback, refuses a Host header that is not loopback (a rebinding page), and actions without their header', async () => {
    const job = runJob();
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    expect(new URL(ui.url).search).toBe('');
    expect((await raw(ui.origin, '/', { headers: { host: 'evil.example:80' } })).status).toBe(403);
    const page = await raw(ui.origin, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const post = await raw(ui.origin, `/runs/${job}/resume`, { method: 'POST' });
    expect(post.status).toBe(403);
    expect(rig().jobs()).toEqual([job]);
  }, 60_000);

  it("streams the journal with each event's seq as its id, and resumes after Last-Event-ID", async () => {
    const job = runJob();
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const seqs = rig().events().map((e) => e.seq);
    const all = await raw(ui.origin, `/runs/${job}/events`);
    expect(all.headers['content-type']).toContain('text/event-stream');
    expect(eventIds(all.body)).toEqual(seqs);
    expect(all.body).toMatch(/event: end\n/);
    const resumed = await raw(ui.origin, `/runs/${job}/events`, { headers: { 'last-event-id': '2' } });
    expect(eventIds(resumed.body)).toEqual(seqs.filter((s) => s > 2));
  }, 60_000);

  it('pages through 10,000 runs newest first, reading only the manifests it shows', async () => {
    runJob();
    const model = rig().manifest();
    // 10,000 folders made and removed cost ~40 s on this disk, ~1 s in memory: /dev/shm where there is one.
    const runsDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'orch-ui-bulk-'));
    const ids: string[] = [];
    try {
      for (let i = 0; i < 10_000; i++) {
        const id = `20250101-${String(Math.floor(i / 1000)).padStart(6, '0')}-${String(i % 1000).padStart(3, '0')}-${(i * 7919).toString(36).padStart(5, '0').slice(-5)}`;
        ids.push(id);
        fs.mkdirSync(path.join(runsDir, id));
        // The 9,000 oldest hold nothing (a page that read them would list them as interrupted).
        if (i >= 9_000) fs.writeFileSync(path.join(runsDir, id, 'manifest.json'), JSON.stringify({ ...model, job_id: id, name: `bulk-${i}`, status: i % 7 === 0 ? 'failed' : 'succeeded' }));
      }
      ui = await startUi({ cwd: rig().dir, env: rig().env(), args: ['--runs-dir', runsDir] });
      const started = Date.now();
      const first = await raw(ui.origin, '/');
      const took = Date.now() - started;
      expect(first.status).toBe(200);
      const rows = (body: string) => [...body.matchAll(/<tr class="status-[\w-]+" data-job="([^"]+)"/g)].map((m) => m[1]);
      expect(rows(first.body)).toEqual(ids.slice(-50).reverse());
      expect(first.body).toContain('10000 run folders');
      expect(first.body).toContain('href="/?offset=50" rel="next"');
      expect(first.body).not.toContain('status-interrupted');
      expect(took).toBeLessThan(5_000); // 50 manifests: well under this, even on a loaded 2-core machine
      const failed = await raw(ui.origin, '/?status=failed&name=bulk-99');
      const expected = Array.from({ length: 100 }, (_, k) => 9999 - k).filter((i) => i % 7 === 0);
      expect(rows(failed.body)).toEqual(expected.map((i) => ids[i]));
      const last = await raw(ui.origin, '/?offset=9995');
      expect(rows(last.body)).toEqual(ids.slice(0, 5).reverse());
      expect(last.body).toContain('status-interrupted'); // what never started is listed for what it is
      expect(last.body).not.toContain('rel="next"');
    } finally {
      fs.rmSync(runsDir, { recursive: true, force: true });
    }
  }, 180_000);

  it("never shows a secret: pages, the journal stream and the log carry the run folder's masked text", async () => {
    rig().write('spec.yaml', 'name: masked\nsecrets: [DEPLOY_TOKEN]\nsteps:\n  s:\n    run: echo "token is $DEPLOY_TOKEN"\n');
    const secret = 'hunter2-very-secret-value';
    expect(rig().run(['run', 'spec.yaml', '--quiet'], { env: { DEPLOY_TOKEN: secret } }).code).toBe(0);
    const job = rig().latest();
    ui = await startUi({ cwd: rig().dir, env: rig().env({ DEPLOY_TOKEN: secret }) });
    const bodies = await Promise.all([`/runs/${job}/`, `/runs/${job}/view`, `/runs/${job}/events`, `/runs/${job}/log/s/stream`, `/runs/${job}/logs/s.log`].map((p) => raw(ui!.origin, p)));
    for (const b of bodies) expect(b.body).not.toContain('hunter2');
    expect(bodies[4]!.body).toBe('token is ***\n');
    expect(bodies[3]!.body).toContain('data: "token is ***\\n"');
  }, 60_000);

  it("shows a big fan-out's run page with its failed instance, not a row, a card and a rerun choice for each instance", async () => {
    rig().write(
      'spec.yaml',
      ['name: fan', 'steps:', '  list:', '    output: json', '    run: |', `      echo '{"items": [${Array.from({ length: 60 }, (_, i) => i).join(',')}]}'`, '  count:', '    needs: [list]', '    for_each: ${{ steps.list.outputs.items }}', '    run: test ${{ item }} -ne 7', ''].join('\n'),
    );
    expect(rig().run(['run', 'spec.yaml', '--quiet']).code).toBe(1);
    const job = rig().latest();
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const page = (await raw(ui.origin, `/runs/${job}/`)).body;
    const failed = Object.entries(rig().manifest().steps).find(([, r]) => r.status === 'failed' && 'instance_of' in r)![0];
    const options = [...page.matchAll(/<option value="([^"]+)">/g)].map((m) => m[1]);
    expect(options).toEqual(['list', 'count', failed]);
    expect(page.match(/<article class="step /g)).toHaveLength(3);
    expect(page).toContain('60 instances. Listed here: those that did not succeed, at most 50; not listed: 59 (59 succeeded)');
  }, 60_000);

  it('opens the page of every run it lists: a folder with no journal, no manifest, or neither (as list-runs and show read them)', async () => {
    rig().write('spec.yaml', 'name: partial\nsteps:\n  a:\n    run: echo hi\n');
    for (let i = 0; i < 2; i++) expect(rig().run(['run', 'spec.yaml', '--quiet']).code).toBe(0);
    const [noJournal, noManifest] = rig().jobs();
    fs.rmSync(rig().runPath('events.jsonl', noJournal)); // a manifest alone (a folder kept without its journal)
    fs.rmSync(rig().runPath('manifest.json', noManifest)); // started, no manifest yet: running, or died there
    const empty = '20200101-000000-000-aaaaa'; // the process died before its first event
    fs.mkdirSync(path.join(rig().runsDir, empty));
    fs.mkdirSync(path.join(rig().runsDir, 'notes')); // not a run folder: neither listed nor served
    const listed = JSON.parse(rig().run(['list-runs', '--json']).stdout) as { job_id: string; name: string; status: string }[];
    expect(listed.map((r) => r.job_id).sort()).toEqual([empty, noJournal, noManifest].sort());
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const list = (await raw(ui.origin, '/')).body;
    const links = [...list.matchAll(/<a href="\/runs\/([^/"]+)\/">/g)].map((m) => m[1]!);
    expect(links.sort()).toEqual([empty, noJournal, noManifest].sort());
    expect(list).toContain('(never started)');
    for (const job of links) {
      const page = await raw(ui.origin, `/runs/${job}/`);
      expect(page.status, job).toBe(200);
      expect(page.body, job).toContain(`data-job="${job}"`);
      expect((await raw(ui.origin, `/runs/${job}/view`)).status, job).toBe(200);
    }
    const never = (await raw(ui.origin, `/runs/${empty}/`)).body;
    expect(never).toContain('(never started)');
    expect(never).not.toContain('data-action="rerun"'); // no step to pick
    const resume = await raw(ui.origin, `/runs/${empty}/resume`, { method: 'POST', headers: { 'x-orchestrator-action': '1' } });
    expect([resume.status, resume.body]).toEqual([409, expect.stringContaining('nothing to resume or rerun')]);
    expect((await raw(ui.origin, `/compare?a=${empty}&b=${noJournal}`)).status).toBe(200);
    for (const p of ['/runs/notes/', '/runs/20200101-000000-000-zzzzz/', '/compare?a=20200101-000000-000-zzzzz&b=' + noJournal]) expect((await raw(ui.origin, p)).status, p).toBe(404);
  }, 60_000);

  it('lists no run folder that is gone since the listing (a link to nothing stands for one pruned meanwhile), and does not fail on it', async () => {
    const job = runJob();
    const gone = '20200101-000000-000-aaaaa';
    fs.symlinkSync(rig().path('nowhere'), path.join(rig().runsDir, gone));
    const list = rig().run(['list-runs', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { job_id: string }[]).map((r) => r.job_id)).toEqual([job]);
    const show = rig().run(['show', gone]);
    expect([show.code, show.stderr.trim()]).toEqual([2, `no job "${gone}" in ${rig().runsDir}: its run folder is gone`]);
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const page = await raw(ui.origin, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain(`data-job="${job}"`);
    expect(page.body).not.toContain(gone);
    expect((await raw(ui.origin, `/runs/${gone}/`)).status).toBe(404);
    expect(ui.stderr()).not.toContain('internal error');
  }, 60_000);

  it('says on the run page and in the compare view that a manifest is damaged, as the runs page marks it', async () => {
    const job = runJob();
    fs.writeFileSync(rig().runPath('manifest.json'), 'null');
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const problem = `${rig().runPath('manifest.json')} is damaged (expected an object, got null)`;
    const list = (await raw(ui.origin, '/')).body;
    expect(list).toContain(`data-status="damaged"`);
    expect(list).toContain(problem);
    for (const p of [`/runs/${job}/`, `/runs/${job}/view`]) {
      const page = await raw(ui.origin, p);
      expect(page.status, p).toBe(200);
      expect(page.body, p).toContain(`<ul class="warnings"><li>${problem}; the page shows what events.jsonl recorded</li>`);
    }
    rig().write('spec.yaml', 'name: files\nsteps:\n  s:\n    run: echo other\n');
    expect(rig().run(['run', 'spec.yaml', '--quiet']).code).toBe(0);
    const compare = (await raw(ui.origin, `/compare?a=${job}&b=${rig().latest()}`)).body;
    expect(compare.match(/<p class="warnings">[^<]*<\/p>/g)).toEqual([`<p class="warnings">${problem}; compared as events.jsonl recorded it</p>`]);
  }, 60_000);

  it('compares two runs whose specs differ: a step of one run alone is added or removed, not changed', async () => {
    rig().write('spec.yaml', 'name: grow\nsteps:\n  a:\n    run: echo same\n  old:\n    run: echo gone\n');
    expect(rig().run(['run', 'spec.yaml', '--quiet']).code).toBe(0);
    rig().write('spec.yaml', 'name: grow\nsteps:\n  a:\n    run: echo same\n  new:\n    run: exit 3\n');
    expect(rig().run(['run', 'spec.yaml', '--quiet']).code).toBe(1);
    const [a, b] = rig().jobs();
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const r = await raw(ui.origin, `/compare?a=${a}&b=${b}`);
    expect(r.status).toBe(200);
    const row = (step: string) => new RegExp(`<tr data-step="${step}" data-changed="([^"]*)"[^>]*>(.*?)</tr>`).exec(r.body)?.slice(1);
    expect(row('a')).toEqual(['', expect.stringContaining('same')]);
    expect(row('old')).toEqual(['removed', expect.stringMatching(/<td>removed \(only in A\)<\/td>$/)]);
    expect(row('new')).toEqual(['added', expect.stringMatching(/<td>added \(only in B\)<\/td>$/)]);
    expect(r.body).not.toMatch(/status changed|outputs changed/);
    // The other way round: what B lacks was removed.
    const back = await raw(ui.origin, `/compare?a=${b}&b=${a}`);
    expect(back.body).toMatch(/<tr data-step="new" data-changed="removed"/);
    expect(back.body).toMatch(/<tr data-step="old" data-changed="added"/);
  }, 60_000);

  it('answers a failed action with the command\'s own one-line message, no stack', async () => {
    const job = runJob();
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const r = await raw(ui.origin, `/runs/${job}/rerun?step=nope`, { method: 'POST', headers: { 'x-orchestrator-action': '1' } });
    expect(r.status).toBe(409);
    expect(r.body).toContain(`job ${job} has no step &quot;nope&quot;`);
    expect(r.body).not.toMatch(/\n\s+at /);
    expect(rig().jobs()).toEqual([job]);
  }, 60_000);

  it('says in one line why it cannot serve: a bad port, a port in use', async () => {
    const bad = rig().run(['ui', '--port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: option '--port <n>' argument '70000' is invalid\. must be a port/);
    ui = await startUi({ cwd: rig().dir, env: rig().env() });
    const taken = rig().run(['ui', '--port', new URL(ui.origin).port], { timeoutMs: 30_000 });
    expect(taken.code).toBe(2);
    expect(taken.stderr.trim()).toMatch(/^cannot listen on 127\.0\.0\.1:\d+: the port is in use \(--port another, or 0 for any free one\)$/);
  }, 60_000);
});
