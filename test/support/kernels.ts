/**
 * Test helper: merges one tensor on a CPU backend shared per (backend, threads) and opened on
 * demand, so that a test can try one merge without managing a backend's lifetime.
 */
import { availableParallelism } from "node:os";
import { openCpuBackend, type KernelBackend, type TensorMergeArgs } from "../../src/merge/kernels/index.js";

const shared = new Map<string, KernelBackend>();

/** The backend's bytes, or undefined (then the caller would run the reference). */
export async function tryFastMerge(
  args: TensorMergeArgs & { backend?: "reference" | "wasm" | "auto"; threads?: number },
): Promise<Uint8Array | undefined> {
  const choice = args.backend ?? "auto";
  if (choice === "reference") return undefined;
  const threads = Math.max(1, Math.floor(args.threads ?? availableParallelism()));
  const key = `${choice}:${threads}`;
  let backend = shared.get(key);
  if (!backend) {
    backend = openCpuBackend(choice, threads);
    shared.set(key, backend);
  }
  return backend.tryMerge(args);
}

/** Closes the backends tryFastMerge opened (their idle workers never hold the process). */
export async function closeSharedBackends(): Promise<void> {
  const backends = [...shared.values()];
  shared.clear();
  await Promise.all(backends.map((backend) => backend.close()));
}
