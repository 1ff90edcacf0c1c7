/** What the server saw: one record per request, for tests to assert on. */
import type { FaultKind } from "./faults.js";

export interface RequestRecord {
  method: string;
  /** Decoded URL path, without the query (upload signatures stay out of logs). */
  path: string;
  range: string | undefined;
  /** 0 until the response is finished or aborted. */
  status: number;
  fault?: FaultKind;
}

/** Keeps the latest `capacity` records (a long-running demo server must not grow forever). */
export class RequestLog {
  private records: RequestRecord[] = [];

  constructor(private readonly capacity = 10_000) {}

  get entries(): readonly RequestRecord[] {
    return this.records;
  }

  add(record: RequestRecord): RequestRecord {
    this.records.push(record);
    if (this.records.length > this.capacity) this.records.splice(0, this.records.length - this.capacity);
    return record;
  }

  clear(): void {
    this.records = [];
  }

  /** Records whose method equals and whose path contains the given values. */
  matching(filter: { method?: string; pathIncludes?: string }): RequestRecord[] {
    return this.records.filter(
      (r) =>
        (filter.method === undefined || r.method === filter.method.toUpperCase()) &&
        (filter.pathIncludes === undefined || r.path.includes(filter.pathIncludes)),
    );
  }
}
