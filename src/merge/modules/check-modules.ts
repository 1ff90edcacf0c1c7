/**
 * A `modules:` manifest against the reference model's architecture, before anything is planned:
 * each module it names exists there, and every module that holds tensors is named. mergekit
 * silently leaves an unnamed module's tensors out, which publishes a model that does not load;
 * hubmerge refuses instead and says how to keep the base's module.
 */
import { HubmergeError } from "../../errors.js";
import { closestMatch, listWords } from "../../manifest/suggest.js";
import type { Manifest, ModuleSpec } from "../../manifest/types.js";
import type { LoadedModel } from "../loaded-model.js";
import type { ModuleLayout } from "./architectures.js";
import type { ModuleSplits } from "./module-scope.js";

/** The architecture's layout of each module the manifest names, in manifest order. */
export function layoutsOf(
  manifest: Manifest,
  modules: readonly ModuleSpec[],
  splits: ModuleSplits,
): ModuleLayout[] {
  const { split } = splits;
  const names = split.modules.map((m) => m.name);
  return modules.map((spec) => {
    const layout = split.modules.find((m) => m.name === spec.name);
    if (layout !== undefined) return layout;
    const suggestion = closestMatch(spec.name, names);
    const message = split.modular
      ? `${split.architecture} has no module \`${spec.name}\`${suggestion ? `; did you mean \`${suggestion}\`?` : "."}`
      : `\`${spec.name}\` is not a module of ${split.architecture}: hubmerge cannot split this architecture into modules, so its one module is \`default\`.`;
    throw new HubmergeError("E_MANIFEST", message, {
      where: { file: manifest.file, ...spec.pos },
      hint: split.modular
        ? `${split.architecture}'s modules are ${listWords(names)} (docs/modules.md).`
        : "Write `modules: {default: {...}}`, or use `models`/`slices` at the top level (docs/modules.md lists the architectures hubmerge splits).",
    });
  });
}

/** Every module of the reference that holds tensors must be in the manifest. */
export function checkAllListed(
  manifest: Manifest,
  modules: readonly ModuleSpec[],
  reference: LoadedModel,
  splits: ModuleSplits,
  baseName: string,
): void {
  const listed = new Set(modules.map((m) => m.name));
  const missing = splits.split.modules
    .filter((m) => !listed.has(m.name))
    .map((m) => ({ name: m.name, tensors: splits.namesOf(reference, m).length }))
    .filter((m) => m.tensors > 0);
  if (missing.length === 0) return;
  const what = missing.map((m) => `\`${m.name}\` (${m.tensors} tensor${m.tensors === 1 ? "" : "s"})`);
  const fix = missing.map((m) => `\`${m.name}: {models: [{model: ${baseName}}]}\``);
  throw new HubmergeError(
    "E_MANIFEST",
    `\`modules\` leaves out ${what.join(", ")} of ${reference.ref}; mergekit would drop ${missing.length === 1 ? "its" : "their"} tensors, and the output would not load.`,
    {
      where: { file: manifest.file, ...(manifest.locateKey(["modules"]) ?? { line: 1, column: 1 }) },
      hint: `Name every module; to keep the base's, add ${fix.join(" and ")} under \`modules\`.`,
    },
  );
}
