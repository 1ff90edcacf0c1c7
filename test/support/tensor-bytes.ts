import { SafetensorsModel } from "../../src/safetensors/reader.js";
import { LocalSource } from "../../src/source/local-source.js";

/** The stored bytes of one tensor of the model folder at `model`, as written. */
export async function tensorBytes(model: string, name = "model.embed_tokens.weight"): Promise<Uint8Array> {
  const opened = await SafetensorsModel.open(await LocalSource.open(model, model));
  try {
    const info = opened.info(name);
    const bytes = new Uint8Array(info.end - info.begin);
    await opened.readTensorInto(name, bytes, 0);
    return bytes;
  } finally {
    await opened.close();
  }
}
