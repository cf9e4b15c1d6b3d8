import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/**
 * The cookie a browser keeps the token in once it opened the printed URL, named after the server's port: a browser
 * sends a host's cookies to all its ports, and two servers on one machine must neither log each other out nor
 * receive each other's token.
 */
function tokenCookie(req: IncomingMessage): string {
  return `orch_ui_token_${req.socket.localPort ?? 0}`;
}

/** Whether `host` (what `--host` names) is this machine's loopback interface: no token needed there. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** Who may ask: the token when the server is reachable from other machines, and only loopback Host headers otherwise. */
export interface AccessRule {
  /** Required on every request when set (non-loopback host). */
  token?: string;
}

/** The refusal of a request, or undefined when it may go on; a token given in the query is moved into a cookie. */
export type AccessVerdict = { status: 403 | 401; message: string } | { redirect: string; cookie: string } | undefined;

/**
 * Check one request. On a loopback bind, the Host header must name loopback (a page of another site that resolves
 * its own name to 127.0.0.1 must not read runs); with a token, the request carries it as `?token=`, a cookie or
 * `Authorization: Bearer`.
 */
export function checkAccess(req: IncomingMessage, url: URL, rule: AccessRule): AccessVerdict {
  if (rule.token === undefined) {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!isLoopbackHost(host)) return { status: 403, message: `refused: Host "${req.headers.host ?? ''}" is not this machine's loopback address` };
    return undefined;
  }
  const given = url.searchParams.get('token');
  if (given !== null && matches(given, rule.token)) {
    url.searchParams.delete('token');
    // Into an HttpOnly cookie and out of the address bar (and its history): every later request carries it. The
    // path back starts with one slash: `//evil.example/x` would send the browser to another site.
    return { redirect: `/${url.pathname.replace(/^[/\\]+/, '')}${url.search}`, cookie: `${tokenCookie(req)}=${rule.token}; HttpOnly; SameSite=Strict; Path=/` };
  }
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const cookie = cookieValue(req.headers.cookie, tokenCookie(req));
  if ((bearer !== undefined && matches(bearer, rule.token)) || (cookie !== undefined && matches(cookie, rule.token))) return undefined;
  return { status: 401, message: 'refused: this server needs its token (open the URL `orchestrator ui` printed, with ?token=…)' };
}

function matches(given: string, token: string): boolean {
  const a = Buffer.from(given), b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** What every answer carries: a strict CSP (scripts, styles and data only from this server), no sniffing, no referrer. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Send `res` the refusal or redirect of a verdict. */
export function answerVerdict(res: ServerResponse, verdict: NonNullable<AccessVerdict>): void {
  if ('redirect' in verdict) {
    res.writeHead(303, { ...SECURITY_HEADERS, location: verdict.redirect, 'set-cookie': verdict.cookie });
    res.end();
    return;
  }
  res.writeHead(verdict.status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${verdict.message}\n`);
}
