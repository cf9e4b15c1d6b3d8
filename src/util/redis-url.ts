// What is wrong with a Redis URL, said before ioredis is given it: ioredis parses it with `new URL`, whose
// "Invalid URL" names neither the URL nor its fault (and was an internal error, exit 70). Used by every command
// that takes one (run, worker, workers, doctor) and by `validate` for the spec's `workers.redis`.

/**
 * Of a URL that starts redis:// or rediss:// (callers check that first, with their own message): what is wrong
 * with the rest (`its port "x" is not a number`), or undefined when nothing is.
 */
export function redisUrlProblem(url: string): string | undefined {
  const scheme = /^rediss?:\/\//.exec(url);
  if (!scheme) return undefined;
  // The authority: after the scheme, up to the path, query or fragment, without the user and password.
  const authority = url.slice(scheme[0].length).split(/[/?#]/)[0]!;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return 'its IPv6 address opens a [ that no ] closes (redis://[::1]:6379)';
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return `"${rest}" follows its IPv6 address, where only :port may (redis://[::1]:6379)`;
    if (rest) port = rest.slice(1);
  } else if (hostPort.includes(':')) {
    port = hostPort.slice(hostPort.lastIndexOf(':') + 1);
  }
  if (port !== undefined && port !== '') {
    if (!/^\d+$/.test(port)) return `its port "${port}" is not a number`;
    if (Number(port) < 1 || Number(port) > 65535) return `its port ${port} is out of range (1 to 65535)`;
  }
  try {
    new URL(url);
  } catch {
    return 'it is not a valid URL (redis://host:port)';
  }
  return undefined;
}
