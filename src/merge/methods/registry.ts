import type { MergeMethod } from "../types.js";
import { breadcrumbsTiesMethod } from "./breadcrumbs-ties.js";
import { breadcrumbsMethod } from "./breadcrumbs.js";
import { dareLinearMethod } from "./dare-linear.js";
import { dareTiesMethod } from "./dare-ties.js";
import { dellaLinearMethod } from "./della-linear.js";
import { dellaMethod } from "./della.js";
import { linearMethod } from "./linear.js";
import { modelStockMethod } from "./model-stock.js";
import { nuslerpMethod } from "./nuslerp.js";
import { passthroughMethod } from "./passthrough.js";
import { slerpMethod } from "./slerp.js";
import { taskArithmeticMethod } from "./task-arithmetic.js";
import { tiesMethod } from "./ties.js";

/** Every merge method, by mergekit's name. */
const METHODS: ReadonlyMap<string, MergeMethod> = new Map(
  [
    linearMethod,
    taskArithmeticMethod,
    tiesMethod,
    dareLinearMethod,
    dareTiesMethod,
    breadcrumbsMethod,
    breadcrumbsTiesMethod,
    dellaMethod,
    dellaLinearMethod,
    slerpMethod,
    nuslerpMethod,
    modelStockMethod,
    passthroughMethod,
  ].map((method) => [method.name, method]),
);

/** The methods the fast kernels can run: those with a kernel plan. */
export const ACCELERATED_METHODS: readonly string[] = [...METHODS.values()]
  .filter((method) => method.kernelPlan !== undefined)
  .map((method) => method.name);

export const methodRegistry = {
  get(name: string): MergeMethod | undefined {
    return METHODS.get(name);
  },
  names(): string[] {
    return [...METHODS.keys()];
  },
};
