// io-probe.mjs — preloaded into the orchestrator by bench/run.mjs's "scale" runs only
// (NODE_OPTIONS=--import=<this file>, BENCH_PROBE_OUT=<file>). When the process exits it writes
// this process's own counters as JSON to $BENCH_PROBE_OUT:
//   io:     /proc/self/io (rchar/wchar = bytes passed to read/write syscalls, syscr/syscw = calls),
//           summed by Linux over every thread of the process (libuv's fs threads included);
//   maxRssKb: getrusage(RUSAGE_SELF).ru_maxrss, the peak resident set of this process alone.
// It adds one tiny module import to start-up and does nothing else while the run goes on.

import fs from 'node:fs';

const out = process.env.BENCH_PROBE_OUT;
if (out) {
  // Children (the steps) inherit the environment; only the first Node process claims the file.
  delete process.env.BENCH_PROBE_OUT;
  process.on('exit', () => {
    const rec = { pid: process.pid, maxRssKb: process.resourceUsage().maxRSS, io: null };
    try {
      rec.io = Object.fromEntries(
        fs.readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((l) => {
          const [k, v] = l.split(':');
          return [k.trim(), Number(v)];
        }),
      );
    } catch (e) {
      rec.ioError = String(e);
    }
    fs.writeFileSync(out, JSON.stringify(rec));
  });
}
