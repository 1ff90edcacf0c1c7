/**
 * The slice of the WebAssembly JavaScript API the kernels use, typed here because the project's
 * TypeScript libs (ES2023 + @types/node) do not declare the WebAssembly namespace.
 */

/** A compiled module: opaque, and cloneable to worker threads. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmMemory {
  /** A SharedArrayBuffer for shared memories; re-read it after the memory grew. */
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

interface WasmNamespace {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => {
    exports: Record<string, unknown>;
  };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

export const WebAssemblyApi: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace })
  .WebAssembly;
