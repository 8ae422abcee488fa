/** Report rows from the CPU split of paired preview runs (scripts/bench/cpu.ts). */
import { CPU_GROUPS, CpuSplit, cpuTotal } from "./cpu";
import { Row, derived, measured } from "./report";
import { Target, median, pairedOverheads, pairedShares, spread } from "./stats";

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
