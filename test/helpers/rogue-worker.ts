// A test double of a worker that lies: it takes attempts off the queue as `orchestrator worker` does (BullMQ,
// the same claim and fenced result, src/workers/protocol.ts) but runs nothing and sends back the files a test
// gives it, paths the step could never have made. The coordinator must refuse them before receiving anything.
import { Redis, Worker } from '../../src/workers/queue-lib.js';
import { CLAIM_AND_START, FENCED_XADD, KEY_PREFIX, KEY_TTL_MS, QUEUE_NAME, STREAM_MAX_ENTRIES, cancelledKey, claimKey, entryFields, lockKey, streamKey, type SentFile } from '../../src/workers/protocol.js';

/** What the double answers every attempt with. */
export interface RogueAnswer {
  files: SentFile[];
  workspace?: SentFile[];
}

/** Start taking attempts from `redisUrl`; `close()` stops it. */
export async function startRogueWorker(redisUrl: string, answer: RogueAnswer): Promise<{ close(): Promise<void> }> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    QUEUE_NAME,
    async (job, token) => {
      const jobId = job.id!;
      await redis.eval(CLAIM_AND_START, 4, lockKey(jobId), claimKey(jobId), streamKey(jobId), cancelledKey(jobId), token!, 'rogue', KEY_TTL_MS, STREAM_MAX_ENTRIES, ...entryFields({ t: 'start', worker: 'rogue' }));
      const result = { status: 'succeeded' as const, exitCode: 0, text: '', outputs: {}, retryable: false };
      await redis.eval(FENCED_XADD, 2, lockKey(jobId), streamKey(jobId), token!, STREAM_MAX_ENTRIES, KEY_TTL_MS, ...entryFields({ t: 'result', result, files: answer.files, ...(answer.workspace ? { workspace: answer.workspace } : {}) }));
    },
    { connection: redis, prefix: KEY_PREFIX, maxStalledCount: 0, removeOnComplete: { count: 0 } },
  );
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      redis.disconnect();
    },
  };
}
