// The queue engine of workers: BullMQ and its Redis client, ioredis. The build bundles this file, with them,
// into a file of its own (dist/workers/queue-lib.cjs; scripts/build.mjs): one file to compile instead of some
// two hundred modules to find, read and compile, which took a run with workers ~0.3 s longer to start. Only
// the commands that use workers load it; a local run never does.
export { DelayedError, Queue, Worker } from 'bullmq';
export { Redis } from 'ioredis';
