/** Reading merge outputs in the `modules:` tests: every tensor's bytes, in file order, and the config. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { isHubmergeError, type HubmergeError } from "../../src/errors.js";
import { SafetensorsModel } from "../../src/safetensors/reader.js";
import { LocalSource } from "../../src/source/local-source.js";

/** Every tensor of the model in `dir`, by name, in the order the model lists them. */
export async function tensorsOf(dir: string): Promise<Map<string, Buffer>> {
  const model = await SafetensorsModel.open(await LocalSource.open(dir, dir));
  try {
    const out = new Map<string, Buffer>();
    for (const name of model.tensorNames()) out.set(name, Buffer.from(await model.readTensorBytes(name)));
    return out;
  } finally {
    await model.close();
  }
}

export async function configOf(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
}

/** Awaits `promise`, expects a HubmergeError with `code`, and returns it. */
export async function rejection(promise: Promise<unknown>, code: string): Promise<HubmergeError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isHubmergeError(caught)) throw new Error(`expected a HubmergeError, got ${String(caught)}`);
  expect(caught.code).toBe(code);
  return caught;
}
