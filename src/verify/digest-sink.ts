/**
 * A stand-in for the shard writer that keeps only digests: verify merges tensors (all of them, or
 * a sample) and hashes each one as the executor hands it over, in memory, without writing a file.
 * When every tensor comes (--full), it also hashes each shard as the writer would have written it:
 * its header, then its tensors in order, so the result is the shard file's sha256.
 */
import { createHash, type Hash } from "node:crypto";
import { HubmergeError } from "../errors.js";
import type { TensorSink } from "../merge/execute.js";
import { encodeShardHeader } from "../safetensors/shard-header.js";
import { plannedSize, type ShardPlan } from "../safetensors/shard-plan.js";
import type { WrittenShard, WrittenTensor } from "../safetensors/writer.js";

interface Slot {
  shard: number;
  size: number;
  /** Position in plan order (whole-shard hashing needs the tensors in that order). */
  order: number;
}

export class DigestSink implements TensorSink {
  private readonly slots = new Map<string, Slot>();
  private readonly tensors = new Map<string, string>();
  private readonly shardHashes: (Hash | undefined)[];
  private current: { name: string; hash: Hash; received: number } | undefined;
  private nextOrder = 0;

  /**
   * `metadata` is each shard's `__metadata__` as the writer wrote it (`shardMetadata`); with
   * `wholeShards` every tensor must come, in plan order.
   */
  constructor(
    private readonly plan: ShardPlan,
    private readonly metadata: Record<string, string>,
    private readonly wholeShards: boolean,
  ) {
    let order = 0;
    plan.files.forEach((shard, index) =>
      shard.tensors.forEach((tensor) =>
        this.slots.set(tensor.name, { shard: index, size: plannedSize(tensor), order: order++ }),
      ),
    );
    this.shardHashes = plan.files.map(() => undefined);
  }

  async writeTensor(name: string, bytes: Uint8Array): Promise<void> {
    await this.writeTensorPart(name, 0, bytes);
  }

  async writeTensorPart(name: string, byteOffset: number, bytes: Uint8Array): Promise<void> {
    const slot = this.slots.get(name);
    if (!slot) throw sinkError(`tensor "${name}" is not in the shard plan`);
    if (byteOffset === 0) this.begin(name, slot);
    const current = this.current;
    if (current?.name !== name || current.received !== byteOffset) {
      throw sinkError(`parts of tensor "${name}" came out of order (at byte ${byteOffset})`);
    }
    current.hash.update(bytes);
    if (this.wholeShards) this.shardHash(slot.shard).update(bytes);
    current.received += bytes.byteLength;
    if (current.received > slot.size) throw sinkError(`tensor "${name}" got more bytes than planned`);
    if (current.received === slot.size) {
      this.tensors.set(name, current.hash.digest("hex"));
      this.current = undefined;
    }
  }

  /** Per tensor digests; shard sizes and digests only with `wholeShards` (else size 0, sha256 ""). */
  async finish(): Promise<{ files: string[]; shards: WrittenShard[] }> {
    if (this.current) throw sinkError(`tensor "${this.current.name}" was not finished`);
    if (this.wholeShards && this.nextOrder !== this.slots.size) {
      throw sinkError(`${this.slots.size - this.nextOrder} tensor(s) never came`);
    }
    const shards = this.plan.files.map((shard, index): WrittenShard => {
      const tensors: WrittenTensor[] = shard.tensors.flatMap(({ name }) => {
        const sha256 = this.tensors.get(name);
        return sha256 === undefined ? [] : [{ name, sha256 }];
      });
      if (!this.wholeShards) return { file: shard.file, size: 0, sha256: "", tensors };
      const header = encodeShardHeader(shard.tensors, this.metadata);
      const sha256 = this.shardHash(index).digest("hex");
      return { file: shard.file, size: header.byteLength + shard.size, sha256, tensors };
    });
    return { files: [], shards };
  }

  async abort(): Promise<void> {}

  private begin(name: string, slot: Slot): void {
    if (this.current) throw sinkError(`tensor "${name}" began before "${this.current.name}" ended`);
    if (this.wholeShards && slot.order !== this.nextOrder) {
      throw sinkError(`tensor "${name}" came out of plan order`);
    }
    this.nextOrder = slot.order + 1;
    this.current = { name, hash: createHash("sha256"), received: 0 };
  }

  /** The running hash of shard `index`, begun with its header on first use. */
  private shardHash(index: number): Hash {
    let hash = this.shardHashes[index];
    if (!hash) {
      hash = createHash("sha256").update(encodeShardHeader(this.plan.files[index]!.tensors, this.metadata));
      this.shardHashes[index] = hash;
    }
    return hash;
  }
}

function sinkError(message: string): HubmergeError {
  return new HubmergeError("E_INTERNAL", `verify's digest sink: ${message}`);
}
