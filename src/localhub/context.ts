/** What every route handler gets: the request, the response, its identity and the hub's services. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Identity } from "./auth.js";
import type { LocalCdn } from "./cdn-types.js";
import type { FaultRule } from "./faults.js";
import type { LinkPacer } from "./pacing.js";
import type { RepoStore } from "./repo-store.js";
import type { UploadSigner } from "./upload-signer.js";

export interface HubServices {
  store: RepoStore;
  /** The server's base URL, no trailing slash (known once it listens). */
  baseUrl: string;
  signer: UploadSigner;
  /** LFS objects larger than this are uploaded in parts of `multipartChunkSize` bytes. */
  multipartThreshold: number;
  multipartChunkSize: number;
  /** Entries per page of the tree API. */
  treePageSize: number;
  /** Paces and counts what is sent (pacing.ts). */
  link: LinkPacer;
  /** Set in CDN mode: LFS files are served from this second origin (cdn.ts). */
  cdn?: LocalCdn;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Decoded captures of the route's pattern. */
  params: string[];
  identity: Identity;
  hub: HubServices;
  /** A cutBody/slowBody fault to apply to this response's body. */
  bodyFault: FaultRule | undefined;
}
