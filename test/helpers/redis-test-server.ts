// A real redis-server (Debian's) of the test's own on 127.0.0.1, on a port nobody holds, with no persistence and
// `noeviction` (what BullMQ needs), in a temporary folder; stopped by close(). Tests that need it skip, saying
// why and how to install it, when redis-server is absent, unless ORCH_REQUIRE_REDIS=1 (CI) makes that a failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where redis-server is, or undefined. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/opt/homebrew/bin/redis-server'].find((p) => fs.existsSync(p)) ?? whichRedis();

/** Why redis tests skip here, or undefined when they run; throws when ORCH_REQUIRE_REDIS=1 and they cannot. */
export function redisSkipReason(): string | undefined {
  if (REDIS_SERVER) return undefined;
  const reason = 'redis-server is not installed (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)';
  if (process.env.ORCH_REQUIRE_REDIS === '1') throw new Error(`ORCH_REQUIRE_REDIS=1, but ${reason}`);
  return reason;
}

/** A running redis-server. */
export interface RedisTestServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stop it (SIGKILL when it does not stop in 5 s) and remove its folder. */
  close(): Promise<void>;
}

/** Start redis-server on a free loopback port; resolves when it accepts connections. */
export async function startRedisTestServer(port?: number): Promise<RedisTestServer> {
  const chosen = port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-redis-'));
  const child = spawn(REDIS_SERVER!, ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (/Ready to accept connections/.test(output)) return resolve();
      if (child.exitCode !== null) return reject(new Error(`redis-server exited: ${output}`));
      if (Date.now() - started > 20_000) return reject(new Error(`redis-server did not start in 20 s: ${output}`));
      setTimeout(tick, 20);
    };
    tick();
  });
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    process: child,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port the system says is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function whichRedis(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}
