// `orchestrator ui` over HTTP, without a browser: what it refuses (paths out of the runs folder, requests without
// the token, foreign Host headers, actions without their header), the journal stream resuming after Last-Event-ID,
// and artifacts served only when their SHA-256 still matches. The browser tests are in test/browser/ui.test.ts.
import fs from 'node:fs';
import http from 'node:http';
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
    const origin = ui.origin.replace('0.0.0.0', '127.0.0.1');
    for (const p of ['/', '/assets/app.js', `/runs/${job}/`, `/runs/${job}/events`, `/runs/${job}/logs/s.log`, `/runs/${job}/artifacts/s/real.txt`, `/compare?a=${job}&b=${job}`, `/?token=wrong`]) {
      const r = await raw(origin, p);
      expect(r.status, p).toBe(401);
      expect(r.body, p).not.toContain('files');
    }
    expect((await raw(origin, `/runs/${job}/cancel`, { method: 'POST', headers: { 'x-orchestrator-action': '1' } })).status).toBe(401);
    expect((await raw(origin, `/`, { headers: { cookie: 'orch_ui_token=nope' } })).status).toBe(401);
    // The token once in the address: moved into a cookie, which then opens every page.
    const first = await raw(origin, `/?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toBe(`orch_ui_token=${token}`);
    expect((await raw(origin, `/runs/${job}/`, { headers: { cookie } })).status).toBe(200);
    expect((await raw(origin, '/', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
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
});
