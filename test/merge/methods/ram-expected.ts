const f = Math.fround;

/** Independent restatement in plain arrays: classify, then sum δ (unique) or δ/c (shared). */
export function ramExpected(
  base: number[],
  models: number[][],
  epsilon: number,
  lambdas?: number[],
): number[] {
  const deltas = models.map((m) => m.map((x, e) => f(x - base[e]!)));
  return base.map((b, e) => {
    const active = deltas.map((d) => Math.abs(d[e]!) > f(epsilon));
    const c = active.filter(Boolean).length;
    let sum = 0;
    deltas.forEach((d, i) => {
      if (!active[i]) return;
      sum = f(sum + (c === 1 ? f(d[e]! * (lambdas?.[i] ?? 1)) : f(d[e]! / c)));
    });
    return f(b + sum);
  });
}
