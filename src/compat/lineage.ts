/**
 * Lineage from Hub model cards: a fine-tune's `base_model` chain should meet the reference's
 * (reach the base, one of the base's own ancestors, or share an ancestor with a reference that
 * is itself a fine-tune). Cards are written by people, so this can only warn.
 */
import type { ModelRef } from "../model-ref.js";
import type { Pos } from "../manifest/types.js";
import type { Finding } from "./report.js";

/**
 * The `base_model` chain of a Hub repo, nearest first: `[its base_model, that model's base_model,
 * ...]`; `[]` when its card names none; undefined when the card cannot be read. Where a card
 * lists several base models (a merge), the lookup follows the first.
 */
export type LineageLookup = (repo: string) => Promise<string[] | undefined>;

export interface LineageSide {
  name: string;
  ref: ModelRef;
  pos?: Pos;
}

/** Findings for every Hub model whose chain does not meet the reference's; local models are skipped. */
export async function checkLineage(
  reference: LineageSide,
  others: readonly LineageSide[],
  lookup: LineageLookup,
): Promise<Finding[]> {
  const referenceRepo = reference.ref.repo;
  if (reference.ref.kind !== "hub" || referenceRepo === undefined) return [];
  const cache = new Map<string, Promise<ChainResult>>();
  const chainOf = (repo: string) => {
    const key = repo.toLowerCase();
    if (!cache.has(key)) cache.set(key, safeLookup(lookup, repo));
    return cache.get(key)!;
  };
  const referenceChain = await chainOf(referenceRepo);
  const findings: Finding[] = [];
  for (const model of others) {
    const repo = model.ref.repo;
    if (model.ref.kind !== "hub" || repo === undefined) continue;
    const chain = await chainOf(repo);
    const finding = judge(model, repo, chain, reference, referenceRepo, referenceChain);
    if (finding) findings.push(finding);
  }
  return findings;
}

type ChainResult = { chain: string[] } | { problem: string };

async function safeLookup(lookup: LineageLookup, repo: string): Promise<ChainResult> {
  try {
    const chain = await lookup(repo);
    return chain === undefined ? { problem: "its model card could not be read" } : { chain };
  } catch (error) {
    return { problem: `reading its model card failed: ${(error as Error).message}` };
  }
}

function judge(
  model: LineageSide,
  repo: string,
  result: ChainResult,
  reference: LineageSide,
  referenceRepo: string,
  referenceResult: ChainResult,
): Finding | undefined {
  const unknown = (why: string): Finding => ({
    severity: "info",
    code: "lineage.unknown",
    model: model.name,
    base: referenceRepo,
    value: null,
    message: `the lineage of ${model.name} is unknown: ${why}`,
    fix: "nothing to do; the delta probe checks the weights themselves",
    pos: model.pos,
  });
  if ("problem" in result) return unknown(result.problem);
  if (result.chain.length === 0) return unknown("its model card names no base_model");
  const referenceChain = "chain" in referenceResult ? referenceResult.chain : [];
  const ours = lineageSet([repo, ...result.chain]);
  if ([referenceRepo, ...referenceChain].some((id) => ours.has(id.toLowerCase()))) return undefined;
  const modelLine = [repo, ...result.chain].join(" → ");
  const referenceLine = [referenceRepo, ...referenceChain].join(" → ");
  return {
    severity: "warning",
    code: "lineage.unrelated",
    model: model.name,
    base: [referenceRepo, ...referenceChain],
    value: [repo, ...result.chain],
    message: `the model cards do not connect: ${modelLine}, but the reference is ${referenceLine}`,
    fix: `check that ${model.name} was fine-tuned from ${reference.name}; if its card is wrong, trust the delta probe`,
    pos: model.pos,
  };
}

function lineageSet(ids: readonly string[]): Set<string> {
  return new Set(ids.map((id) => id.toLowerCase()));
}
