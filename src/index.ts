// orchestrator as a library: run a spec and read its events from a program (the CLI is one client of the same
// code). `import { run, validate } from 'orchestrator-dag'`; docs/architecture.md says how a run flows.
export { run, validate, type RunOptions, type RunResult, type ValidateResult } from './job/api.js';
export type { SpecInput } from './job/spec-input.js';
export { OrchestratorError, type Diagnostic, type ErrorCode } from './errors.js';
export type { JobStatus, RunEvent, StepError, StepErrorCode, StepStatus } from './events/types.js';
export type { JobManifest, StepRecord } from './store/manifest.js';
