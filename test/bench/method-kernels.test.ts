import { describe, expect, it } from "vitest";
import { KERNEL_MERGES, measureMethodKernels, parseMethodKernelArgs } from "../../bench/method-kernels.js";

describe("the nearswap/sce kernel table", () => {
  it("measures the reference and wasm at 1 and N threads, with the reference's bytes", async () => {
    const { rows, text } = await measureMethodKernels({
      elements: 3 * 65536,
      tensorElements: 65536,
      threads: 2,
      repeats: 1,
      gpu: false,
      allowSoftware: false,
    });
    expect(rows.map((row) => `${row.method}: ${row.label}`)).toEqual(
      KERNEL_MERGES.flatMap(({ name }) => [
        `${name}: reference`,
        `${name}: wasm 1 thread`,
        `${name}: wasm 2 threads`,
      ]),
    );
    expect(rows.filter((row) => row.label !== "reference").every((row) => row.equal === true)).toBe(true);
    expect(rows.every((row) => row.seconds > 0 && row.elements === 3 * 65536)).toBe(true);
    expect(text).toMatch(/method kernels alone, in memory: 3 × 65536 bf16 elements/);
    expect(text).toMatch(/sce select_topk=0\.5 +wasm 2 threads +[\d.]+ +[\d.]+× += reference/);
  });

  it("parses its options", () => {
    expect(
      parseMethodKernelArgs(["--elements", "8M", "--tensor", "512K", "--threads", "3", "--gpu"]),
    ).toEqual({
      elements: 8 << 20,
      tensorElements: 512 << 10,
      threads: 3,
      repeats: 3,
      gpu: true,
      allowSoftware: false,
    });
    expect(() => parseMethodKernelArgs(["--elements", "lots"])).toThrow(/bad element count/);
  });
});
