/**
 * A kernel worker thread: instantiates the WebAssembly kernels over the shared memory it is given
 * and runs one kernel call per message. Plain JavaScript, so that it runs unchanged from src/
 * (vitest, tsx) and from lib/ (compiled; scripts/build-wasm.mjs --lib copies it there).
 *
 * Message in:  { id, op, args, write?: { ptr, values }, read?: { ptr, count }, copyIn?, copyOut? }
 *   copyIn:  [{ source, offset, length, to }]: before the call, `length` bytes of the
 *            SharedArrayBuffer `source` at `offset` go to address `to` (inputs arrive in parallel);
 *   write:   u32 values stored at byte address ptr before the call (per-task arguments);
 *   read:    u32 values read back from ptr after the call (per-task results);
 *   copyOut: { from, length, target, offset }: after the call, `length` bytes at address `from`
 *            go to the SharedArrayBuffer `target` at `offset` (results leave in parallel).
 * Message out: { id, result, values? } or { id, error }.
 */
import { parentPort, workerData } from "node:worker_threads";

const { module, memory } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
let words = new Uint32Array(memory.buffer);
let bytes = new Uint8Array(memory.buffer);

/** Views of the whole memory, renewed after another thread grew it. */
function memoryWords() {
  if (words.byteLength !== memory.buffer.byteLength) {
    words = new Uint32Array(memory.buffer);
    bytes = new Uint8Array(memory.buffer);
  }
  return words;
}

function copyIn({ source, offset, length, to }) {
  memoryWords();
  bytes.set(new Uint8Array(source, offset, length), to);
}

function copyOut({ from, length, target, offset }) {
  memoryWords();
  new Uint8Array(target, offset, length).set(bytes.subarray(from, from + length));
}

parentPort.on("message", (task) => {
  try {
    const kernel = kernels[task.op];
    if (typeof kernel !== "function") throw new Error(`no kernel named ${task.op}`);
    task.copyIn?.forEach(copyIn);
    if (task.write) memoryWords().set(task.write.values, task.write.ptr >>> 2);
    const result = kernel(...task.args);
    if (task.copyOut) copyOut(task.copyOut);
    let values;
    if (task.read) {
      const start = task.read.ptr >>> 2;
      values = Array.from(memoryWords().subarray(start, start + task.read.count));
    }
    parentPort.postMessage({ id: task.id, result, values });
  } catch (error) {
    parentPort.postMessage({ id: task.id, error: error instanceof Error ? error.stack : String(error) });
  }
});
