import type { EventSink, RunEvent, RunEventBody } from './types.js';

/** Stamps events with ts, seq and job_id and fans them out to every sink, in order. */
export class EventBus {
  #seq = 0;
  readonly #sinks: EventSink[];
  readonly #jobId: string;
  readonly #mask: ((event: RunEvent) => RunEvent) | undefined;

  /** `mask` (secrets to *** in every string of the event) is applied once here, so no sink — file, terminal or --json — ever sees a secret. */
  constructor(jobId: string, sinks: EventSink[], mask?: (event: RunEvent) => RunEvent) {
    this.#jobId = jobId;
    this.#sinks = sinks;
    this.#mask = mask;
  }

  /** Emit one event to every sink; returns the stamped event. */
  emit(body: RunEventBody): RunEvent {
    let event = { ts: new Date().toISOString(), seq: ++this.#seq, job_id: this.#jobId, ...body } as RunEvent;
    if (this.#mask) event = this.#mask(event);
    for (const sink of this.#sinks) sink.emit(event);
    return event;
  }
}
