import { connectRedis } from '../../workers/connect.js';
import { listWorkers } from '../../workers/registry.js';
import { table } from '../render/table.js';

/** `orchestrator workers --redis …`: the connected workers, their tags and load. */
export async function workersCommand(opts: { redis: string; json?: boolean }): Promise<number> {
  const redis = await connectRedis({ url: opts.redis });
  try {
    const workers = await listWorkers(redis);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(workers, null, 2)}\n`);
      return 0;
    }
    if (workers.length === 0) {
      process.stdout.write('no workers connected (start one with `orchestrator worker --redis …`)\n');
      return 0;
    }
    const rows = workers.map((w) => [w.name, w.tags.join(',') || '-', `${w.running}/${w.concurrency}`, w.host, String(w.pid), w.started_at]);
    process.stdout.write(`${table(['worker', 'tags', 'running', 'host', 'pid', 'since'], rows)}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
