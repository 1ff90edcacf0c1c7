import type { ByteSource } from "./byte-source.js";

/**
 * The only way the engine reads a model. A LocalSource reads a folder, a HubSource reads a Hub
 * repository pinned to one commit; the engine never knows which.
 */
export interface ModelSource {
  /** The reference as the manifest wrote it: `org/name`, `org/name@rev` or a path. */
  readonly ref: string;
  /** The pinned commit sha for Hub sources; undefined for local folders. */
  readonly revision: string | undefined;
  /** The Hub repo id (`org/name`) for Hub sources; undefined for local folders. */
  readonly repo?: string;
  /** Every file path in the model, relative to its root, `/`-separated. */
  listFiles(): Promise<string[]>;
  /** A small file's whole content (config, tokenizer, index); null when the model lacks it. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Random access to a (large) file such as a safetensors shard. */
  open(path: string): Promise<ByteSource>;
}
