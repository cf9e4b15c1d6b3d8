import type { EventSink, RunEvent, RunEventBody } from './types.js';

/** Stamps events with ts, seq and job_id and fans them out to every sink, in order. */
export class EventBus {
  #seq = 0;
  readonly #sinks: EventSink[];
  readonly #jobId: string;

  constructor(jobId: string, sinks: EventSink[]) {
    this.#jobId = jobId;
    this.#sinks = sinks;
  }

  /** Emit one event to every sink; returns the stamped event. */
  emit(body: RunEventBody): RunEvent {
    const event = { ts: new Date().toISOString(), seq: ++this.#seq, job_id: this.#jobId, ...body } as RunEvent;
    for (const sink of this.#sinks) sink.emit(event);
    return event;
  }
}
