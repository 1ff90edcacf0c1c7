/**
 * Parameter values as a method and the kernel plans see them: the leaf both `merge/types.ts`
 * and `merge/kernels/plan.ts` build on, so that neither imports the other.
 */

export type ParamValue = number | boolean | string;

/** Parameter values after gradient/filter resolution for one tensor. */
export type ResolvedParams = Readonly<Record<string, ParamValue>>;

/** DARE rescaling: the paper's exact 1/density, or mergekit's per-tensor L1 norm matching. */
export type DareRescale = "paper" | "l1";
