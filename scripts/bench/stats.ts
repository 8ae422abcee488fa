/** Medians, ratios and targets: the arithmetic of the benchmark, kept pure so unit tests can check it. */

export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median of no samples");
  if (samples.some((s) => !Number.isFinite(s))) throw new Error(`median of non-finite samples: ${samples}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `value / base`; refuses a zero or negative base instead of returning Infinity. */
export function ratio(value: number, base: number): number {
  if (!(base > 0)) throw new Error(`ratio over a non-positive base (${base})`);
  return value / base;
}

/** How much `value` costs over `base`, in percent: 12 means 12 % slower. */
export function overheadPercent(value: number, base: number): number {
  return (ratio(value, base) - 1) * 100;
}

export interface Target {
  /** `max`: the value must not exceed `limit`; `min`: it must reach `limit`. */
  kind: "max" | "min";
  limit: number;
}

export type Verdict = "pass" | "miss";

export function evaluate(value: number, target: Target): Verdict {
  return (target.kind === "max" ? value <= target.limit : value >= target.limit) ? "pass" : "miss";
}

/** The largest distance of a sample from the median, in the samples' unit (percentage points for %). */
export function spread(samples: readonly number[]): number {
  const m = median(samples);
  return Math.max(...samples.map((s) => Math.abs(s - m)));
}

/** Per-run overheads of `values[i]` over `bases[i]`, in percent: runs are paired, so each ratio is local. */
export function pairedOverheads(values: readonly number[], bases: readonly number[]): number[] {
  if (values.length !== bases.length || values.length === 0)
    throw new Error(`paired samples differ in number: ${values.length} and ${bases.length}`);
  return values.map((v, i) => overheadPercent(v, bases[i]!));
}

/** Per-run `(values[i] - others[i]) / bases[i]` in percent: one part's share of an overhead. */
export function pairedShares(
  values: readonly number[],
  others: readonly number[],
  bases: readonly number[],
): number[] {
  if (values.length !== others.length || values.length !== bases.length || values.length === 0)
    throw new Error("paired samples differ in number");
  return values.map((v, i) => {
    const base = bases[i]!;
    if (!(base > 0)) throw new Error(`share of a non-positive base (${base})`);
    return ((v - others[i]!) / base) * 100;
  });
}

/**
 * Each sample's total over its own control (work that is the same in every variant compared, measured in
 * the same command): the machine's speed at that moment divides out of a ratio of two such indices.
 */
export function workIndex(totals: readonly number[], controls: readonly number[]): number[] {
  if (totals.length !== controls.length) throw new Error("paired samples differ in number");
  return totals.map((t, i) => ratio(t, controls[i]!));
}
