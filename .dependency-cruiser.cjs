// The architecture's arrows (docs/architecture.md), checked by test/unit/architecture.test.ts on every
// `npm test`; `npx depcruise src` shows the same. Rooms, top to bottom:
//   cli -> job -> scheduler | steps -> process | providers | remote -> store | report -> events, errors
//   cli -> ui (the `orchestrator ui` server) -> report, store
//   job -> workers (steps on other machines, BullMQ on Redis) -> steps, process, remote, store
//   specfile, expr, graph, util: usable from every room above them.
/** @type {import('dependency-cruiser').IConfiguration} */
const below = (room, forbidden, comment) => ({
  name: `${room}-not-up`,
  comment,
  severity: 'error',
  from: { path: `^src/${room}/` },
  to: { path: `^src/(${forbidden.join('|')})/` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle means two modules cannot be understood, tested or moved apart: break it by moving the shared part down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'only-cli-imports-cli',
      comment: 'cli/ turns outcomes into text and exit codes; nothing else may depend on how the CLI prints. Move what you need out of cli/ into the room it belongs to.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'job-is-the-composition-root',
      comment: 'job/ wires a run together and is the library entry; only cli/ and the library index may use it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|job|index\\.ts)' },
      to: { path: '^src/job/' },
    },
    below('scheduler', ['workers', 'store', 'remote', 'steps', 'process', 'providers', 'report', 'cli', 'job'], 'The scheduler is the pure engine (ready queue, plan, retry, cancellation): it receives what it needs through SchedulerOptions and imports no I/O room.'),
    below('steps', ['workers', 'scheduler', 'cli', 'job'], 'A step executor runs one attempt; it knows nothing of the scheduler that calls it or the CLI that shows it.'),
    below('store', ['workers', 'scheduler', 'steps', 'process', 'providers', 'remote', 'cli', 'job'], 'The store reads and writes files (run folder, cache, hashes); it depends only on events, errors and the pure rooms. A remote layer reaches the cache as an AnswerLayer, never by import.'),
    below('remote', ['workers', 'scheduler', 'steps', 'process', 'providers', 'report', 'cli', 'job'], 'remote/ is the bucket (and what the remote cache keeps in it): it may build on the store, never on what runs or shows jobs.'),
    below('providers', ['workers', 'scheduler', 'steps', 'process', 'store', 'cli', 'job'], 'Providers are HTTP clients only: no scheduling, no files, no CLI.'),
    below('process', ['workers', 'scheduler', 'steps', 'providers', 'cli', 'job'], 'process/ starts and stops process trees for whoever asks; it knows nothing of steps or scheduling.'),
    below('report', ['workers', 'scheduler', 'steps', 'process', 'providers', 'cli', 'job'], 'report/ renders a run folder; it reads through the store and depends on nothing that runs jobs.'),
    below('ui', ['workers', 'scheduler', 'steps', 'process', 'providers', 'cli', 'job'], "ui/ serves run folders to a browser: it reads through the store, draws with report/, and starts jobs only by running the CLI as a process of its own."),
    below('workers', ['scheduler', 'cli', 'job'], 'workers/ runs attempts on other machines (the coordinator\'s dispatch, the worker loop) through the step executors and the store; the scheduler stays in-process and knows nothing of it, and job/ chooses it.'),
    {
      name: 'events-import-nothing',
      comment: 'Events (and the plain data they carry) are what every room exchanges: they import nothing of ours.',
      severity: 'error',
      from: { path: '^src/events/' },
      to: { path: '^src/', pathNot: '^src/events/' },
    },
    {
      name: 'expr-is-pure',
      comment: 'The expression language is pure: it imports nothing of ours but itself and pure utilities, and no Node module that does I/O.',
      severity: 'error',
      from: { path: '^src/expr/' },
      to: { pathNot: '^src/(expr|util)/' },
    },
    {
      name: 'pure-rooms-stay-pure',
      comment: 'specfile/, graph/ and util/ are used from every room: they must not reach up into one.',
      severity: 'error',
      from: { path: '^src/(specfile|graph|util)/' },
      to: { path: '^src/(cli|job|scheduler|steps|process|providers|store|report|workers)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
