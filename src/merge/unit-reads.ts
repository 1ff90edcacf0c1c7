/**
 * The run's input reads, unit by unit, in pipeline order: what each unit reads of each input
 * (a whole tensor, or a piece's span of it), and for remote sources a ReadAhead over all of
 * them, so the link stays busy across unit boundaries (read-ahead.ts).
 */
import { DTYPE_SIZE } from "../safetensors/dtype.js";
import type { LoadedModel } from "./loaded-model.js";
import type { PlannedInput, TensorRecipe } from "./plan/types.js";
import { ReadAhead, type PlannedRead } from "./read-ahead.js";
import type { WorkUnit } from "./work-units.js";

/** A recipe's inputs in read order (base first); their positions are their buffer slots. */
export function plannedInputs(recipe: TensorRecipe): PlannedInput[] {
  if (recipe.action === "copy") return [recipe.inputs[0]!];
  return recipe.base ? [recipe.base, ...recipe.inputs] : recipe.inputs;
}

/** The bytes a unit reads of one input: the whole tensor, or the piece's elements of it. */
export function inputSpan(
  unit: WorkUnit,
  model: LoadedModel,
  tensor: string,
): { byteOffset: number; bytes: number } {
  const info = model.tensors.info(tensor);
  if (!unit.piece) return { byteOffset: 0, bytes: info.end - info.begin };
  const size = DTYPE_SIZE[info.dtype];
  return { byteOffset: unit.piece.offset * size, bytes: unit.piece.count * size };
}

export class UnitReads {
  /** Per unit and slot, the read's index in the read-ahead, for inputs from remote sources. */
  private readonly index: (number | undefined)[][] = [];
  private readonly ahead: ReadAhead;
  /** Bytes of every unit's inputs: what the whole run reads. */
  readonly totalBytes: number;
  /** Per unit, the bytes of its inputs. */
  readonly unitBytes: number[] = [];

  constructor(units: readonly WorkUnit[], models: ReadonlyMap<string, LoadedModel>, budgetBytes?: number) {
    const reads: PlannedRead[] = [];
    let total = 0;
    units.forEach((unit, u) => {
      let bytesOfUnit = 0;
      this.index[u] = plannedInputs(unit.recipe).map((p) => {
        const model = models.get(p.model)!;
        const { byteOffset, bytes } = inputSpan(unit, model, p.tensor);
        bytesOfUnit += bytes;
        // Local files are read with pread at disk speed: a copy through read-ahead would only cost.
        if (model.source.repo === undefined) return undefined;
        reads.push({ bytes, read: (target) => model.tensors.readTensorInto(p.tensor, target, byteOffset) });
        return reads.length - 1;
      });
      this.unitBytes.push(bytesOfUnit);
      total += bytesOfUnit;
    });
    this.totalBytes = total;
    this.ahead = new ReadAhead(reads, budgetBytes);
  }

  start(): void {
    this.ahead.start();
  }

  /** The read-ahead's accounting (tests check the budget holds). */
  get readAhead(): ReadAhead {
    return this.ahead;
  }

  /** Input `slot` of unit `unit` into `target`: through read-ahead for remote sources, else `direct`. */
  readInto(unit: number, slot: number, target: Uint8Array, direct: () => Promise<void>): Promise<void> {
    const k = this.index[unit]?.[slot];
    return k === undefined ? direct() : this.ahead.readInto(k, target);
  }

  close(): Promise<void> {
    return this.ahead.close();
  }
}
