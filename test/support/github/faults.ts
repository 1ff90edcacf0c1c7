/**
 * Fault injection and the request log. A rule answers matching requests with an error status
 * before any route runs; 403 and 429 come as GitHub's secondary rate limit (with Retry-After),
 * which octokit's throttling plugin recognises by the words "secondary rate limit".
 */

export type FaultStatus = 500 | 502 | 503 | 403 | 429;

export interface GitHubFault {
  method?: string;
  pathIncludes?: string;
  /** Fault at most this many matching requests; every one when omitted. */
  times?: number;
  status: FaultStatus;
  /** Seconds for the Retry-After header of 403/429 (default 1; 0 is allowed for fast tests). */
  retryAfter?: number;
}

export interface RequestRecord {
  method: string;
  /** Decoded path, without the query. */
  path: string;
  /** The query string without `?` ("" when none). */
  query: string;
  /** 0 while the response is not yet finished. */
  status: number;
  faulted?: true;
}

export class GitHubFaults {
  private rules: GitHubFault[] = [];
  private fired: number[] = [];
  private total = 0;

  /** Replaces the rules and restarts their `times` budgets. */
  set(rules: GitHubFault[]): void {
    this.rules = [...rules];
    this.fired = rules.map(() => 0);
  }

  clear(): void {
    this.set([]);
  }

  /** Faults injected since the server started. */
  get count(): number {
    return this.total;
  }

  /** The rule that faults this request, if any; counts it as fired. */
  decide(method: string, path: string): GitHubFault | undefined {
    for (const [i, rule] of this.rules.entries()) {
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.pathIncludes !== undefined && !path.includes(rule.pathIncludes)) continue;
      if (rule.times !== undefined && (this.fired[i] ?? 0) >= rule.times) continue;
      this.fired[i] = (this.fired[i] ?? 0) + 1;
      this.total++;
      return rule;
    }
    return undefined;
  }
}

/** Body and headers of an injected fault. */
export function faultResponse(rule: GitHubFault): {
  message: string;
  documentation: string;
  headers: Record<string, string>;
} {
  if (rule.status === 403 || rule.status === 429) {
    return {
      message:
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
        "(injected by the local GitHub test server)",
      documentation:
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
      headers: { "retry-after": String(rule.retryAfter ?? 1) },
    };
  }
  const text = { 500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable" }[rule.status];
  return {
    message: `${text} (injected by the local GitHub test server)`,
    documentation: "https://docs.github.com/rest",
    headers: {},
  };
}
