/** What the rest of the local Hub sees of the CDN origin (cdn.ts). */

/** A request the CDN saw, with every header as sent (tests look for tokens). */
export interface CdnRequestRecord {
  path: string;
  range: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  status: number;
}

export interface LocalCdn {
  readonly url: string;
  /** A signed URL for an LFS object, valid for `ttlMs` from now. */
  sign(oid: string): string;
  readonly requests: CdnRequestRecord[];
  close(): Promise<void>;
}
