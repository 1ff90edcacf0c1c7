/**
 * Fault injection for tests and demos: rules pick requests (by a predicate or method/path) and
 * answer them with an error status, a 429 with Retry-After, a body cut off halfway (connection
 * destroyed), or a body trickled slowly. Random rules draw from a seeded generator, so a run
 * with the same requests in the same order injects the same faults.
 */

export type FaultKind = "status500" | "status503" | "rate429" | "cutBody" | "slowBody";

/** What a rule's predicate sees of a request. */
export interface FaultRequest {
  method: string;
  /** Decoded URL path, without the query. */
  path: string;
  /** Path and query as sent. */
  url: string;
  range: string | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface FaultMatch {
  method?: string;
  pathIncludes?: string;
}

export interface FaultRule {
  kind: FaultKind;
  /** Which requests the rule considers; all when omitted. */
  match?: ((req: FaultRequest) => boolean) | FaultMatch;
  /** Probability (0..1) that a considered request is faulted; 1 when omitted. */
  rate?: number;
  /** Fault at most this many requests (with no `rate`: exactly the first N that match). */
  times?: number;
  /** rate429: the Retry-After value in seconds (default 1). */
  retryAfterSeconds?: number;
  /** slowBody: bytes per write (default 1024) and pause between writes (default 20 ms). */
  chunkBytes?: number;
  delayMs?: number;
}

export type FaultCounts = Record<FaultKind | "total", number>;

export class FaultInjector {
  private rules: FaultRule[] = [];
  private fired: number[] = [];
  private random: () => number;
  private tally: FaultCounts = emptyCounts();

  constructor(
    rules: FaultRule[] = [],
    private readonly seed = 1,
  ) {
    this.random = mulberry32(seed);
    this.set(rules);
  }

  /** Replaces the rules; restarts their `times` budgets and the random sequence. */
  set(rules: FaultRule[]): void {
    for (const rule of rules) {
      if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
        throw new RangeError(`fault rate must be within 0..1, got ${rule.rate}`);
      }
    }
    this.rules = [...rules];
    this.fired = rules.map(() => 0);
    this.random = mulberry32(this.seed);
  }

  clear(): void {
    this.set([]);
  }

  /** Faults injected so far, per kind and in total. */
  get counts(): Readonly<FaultCounts> {
    return { ...this.tally };
  }

  resetCounts(): void {
    this.tally = emptyCounts();
  }

  /** The rule that faults this request, if any; counts it as injected. */
  decide(request: FaultRequest): FaultRule | undefined {
    for (const [i, rule] of this.rules.entries()) {
      if (!matches(rule, request)) continue;
      if (rule.times !== undefined && (this.fired[i] ?? 0) >= rule.times) continue;
      if (rule.rate !== undefined && this.random() >= rule.rate) continue;
      this.fired[i] = (this.fired[i] ?? 0) + 1;
      this.tally[rule.kind]++;
      this.tally.total++;
      return rule;
    }
    return undefined;
  }
}

function matches(rule: FaultRule, request: FaultRequest): boolean {
  const { match } = rule;
  if (match === undefined) return true;
  if (typeof match === "function") return match(request);
  if (match.method !== undefined && match.method.toUpperCase() !== request.method) return false;
  if (match.pathIncludes !== undefined && !request.path.includes(match.pathIncludes)) return false;
  return true;
}

function emptyCounts(): FaultCounts {
  return { status500: 0, status503: 0, rate429: 0, cutBody: 0, slowBody: 0, total: 0 };
}

/** A small seeded PRNG (uniform in [0, 1)); quality is ample for picking requests to fault. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
