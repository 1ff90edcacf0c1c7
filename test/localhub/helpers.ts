/** Starting a local hub in a temporary folder for one test file. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalHub, type LocalHub, type LocalHubOptions } from "../../src/localhub/index.js";

export const ALICE = "hf_alice_token_0001";
export const BOB = "hf_bob_token_0002";
export const READER = "hf_alice_readonly_03";

export const TOKENS = [
  { token: ALICE, user: "alice", orgs: ["acme"] },
  { token: BOB, user: "bob" },
  { token: READER, user: "alice", role: "read" as const },
];

export interface TestHub {
  hub: LocalHub;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestHub(opts: Partial<LocalHubOptions> = {}): Promise<TestHub> {
  const dir = await mkdtemp(join(tmpdir(), "localhub-test-"));
  const hub = await startLocalHub({ dir, tokens: TOKENS, ...opts });
  return {
    hub,
    dir,
    async stop() {
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic non-text bytes (a NUL in the first bytes makes them "binary"). */
export function binaryBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  bytes[0] = 0;
  return bytes;
}
