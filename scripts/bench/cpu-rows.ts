/** Report rows from the CPU split of paired preview runs (scripts/bench/cpu.ts). */
import { CPU_GROUPS, CpuGroup, CpuSplit, cpuTotal } from "./cpu";
import { Row, derived, measured } from "./report";
import { Target, median, pairedOverheads, pairedShares, spread, workIndex } from "./stats";

/** CPU seconds of the whole tree per run, with the median of each role in the note. */
export function cpuRow(id: string, measure: string, splits: readonly CpuSplit[]): Row {
  const row = measured(id, measure, "s", splits.map(cpuTotal));
  row.note = CPU_GROUPS.map((g) => `${g} ${median(splits.map((s) => s[g])).toFixed(2)}`).join(", ");
  row.roles = Object.fromEntries(CPU_GROUPS.map((g) => [g, splits.map((s) => s[g])]));
  return row;
}

/** A per-run figure (percent) whose median is the row's value; the runs and their spread are listed. */
function pairedRow(id: string, measure: string, percents: number[], target?: Target): Row {
  const row = derived(id, measure, "%", median(percents), target, percents);
  row.spread = spread(percents);
  return row;
}

/** `values` over `bases`, run by run (each run's variants ran back to back). */
export function overheadRow(
  id: string,
  measure: string,
  values: readonly number[],
  bases: readonly number[],
  target?: Target,
): Row {
  return pairedRow(id, measure, pairedOverheads(values, bases), target);
}

/** `(values − others) / bases`, run by run: one part of an overhead, in % of the base. */
export function shareRow(
  id: string,
  measure: string,
  values: readonly number[],
  others: readonly number[],
  bases: readonly number[],
  target?: Target,
): Row {
  return pairedRow(id, measure, pairedShares(values, others, bases), target);
}

/** One role's CPU (e.g. the program's Node.js process) across runs. */
export function groupRow(
  id: string,
  measure: string,
  splits: readonly CpuSplit[],
  group: keyof CpuSplit,
): Row {
  return measured(
    id,
    measure,
    "s",
    splits.map((s) => s[group]),
  );
}

/**
 * Speed-adjusted CPU, per run: each preview's total CPU (or the CPU of the roles `of`) over the CPU of
 * `control`, roles doing the same work in every variant compared (the same program and resources). Ratios
 * of these indices do not move with the machine's speed, which changes from one preview to the next on a
 * shared machine.
 */
export function adjusted(
  splits: readonly CpuSplit[],
  control: readonly CpuGroup[],
  of: readonly CpuGroup[] = CPU_GROUPS,
): number[] {
  const sum = (s: CpuSplit, roles: readonly CpuGroup[]) => roles.reduce((total, g) => total + s[g], 0);
  return workIndex(
    splits.map((s) => sum(s, of)),
    splits.map((s) => sum(s, control)),
  );
}

/**
 * Of one variant's previews within a run, the one whose speed-adjusted CPU is the median (the lower middle
 * for an even count): one preview hit by a burst of load elsewhere does not decide the run.
 */
export function medianPreview<T extends { cpu: CpuSplit }>(
  previews: readonly T[],
  control: readonly CpuGroup[],
): T {
  if (previews.length === 0) throw new Error("no previews to choose from");
  const index = adjusted(
    previews.map((p) => p.cpu),
    control,
  );
  const order = previews.map((_, i) => i).sort((a, b) => index[a]! - index[b]!);
  return previews[order[Math.floor((order.length - 1) / 2)]!]!;
}
