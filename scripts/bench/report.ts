/** The benchmark's results: their JSON shape and the Markdown table rendered from it. */
import { Target, Verdict, evaluate, median, spread } from "./stats";

export type Unit = "s" | "%" | "x" | "objects/s" | "MiB" | "count";

export interface Row {
  /** The brief's letter (a-f) and a short key, e.g. `b.overhead`. */
  id: string;
  measure: string;
  unit: Unit;
  /** The median of `samples`, or a value derived from other rows' medians (a ratio). */
  value: number;
  samples?: number[];
  /** The largest distance of a sample from the median (percentage points for a % row). */
  spread?: number;
  target?: Target;
  verdict?: Verdict;
  note?: string;
  /** A CPU row's samples split by role (engine, program, pack...), run by run: which role moves. */
  roles?: Record<string, number[]>;
}

export interface Skipped {
  id: string;
  reason: string;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGi: number;
  loadAverage: { start: number[]; end: number[] };
}

export interface BenchResult {
  date: string;
  runs: number;
  machine: Machine;
  versions: Record<string, string>;
  rows: Row[];
  skipped: Skipped[];
  /** Facts about the inputs: resource counts per type, object counts, commands. */
  details: Record<string, unknown>;
}

/** A measured row: the median of its samples, judged against its target when it has one. */
export function measured(id: string, measure: string, unit: Unit, samples: number[], target?: Target): Row {
  return derived(id, measure, unit, median(samples), target, samples);
}

/** A row computed from other rows (a ratio or a count). */
export function derived(
  id: string,
  measure: string,
  unit: Unit,
  value: number,
  target?: Target,
  samples?: number[],
): Row {
  const row: Row = { id, measure, unit, value };
  if (samples) {
    row.samples = samples;
    row.spread = spread(samples);
  }
  if (target) {
    row.target = target;
    row.verdict = evaluate(value, target);
  }
  return row;
}

export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case "s":
      return `${value.toFixed(value < 10 ? 2 : 1)} s`;
    case "%":
      return `${value >= 0 ? "+" : ""}${value.toFixed(1)} %`;
    case "x":
      return `${value.toFixed(2)} ×`;
    case "objects/s":
      return `${Math.round(value).toLocaleString("en-US")} objects/s`;
    case "MiB":
      return `${Math.round(value)} MiB`;
    case "count":
      return Math.round(value).toLocaleString("en-US");
  }
}

/** A spread in the row's unit, without a sign: points for %, seconds for s. */
export function formatSpread(value: number, unit: Unit): string {
  return unit === "%" ? `${value.toFixed(1)} pt` : formatValue(value, unit);
}

function formatTarget(target: Target, unit: Unit): string {
  const bound = unit === "%" ? `${target.limit} %` : formatValue(target.limit, unit);
  return `${target.kind === "max" ? "≤" : "≥"} ${bound}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderMarkdown(result: BenchResult): string {
  const m = result.machine;
  const lines = [
    `## keel benchmark, ${result.date}`,
    "",
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGi} GiB, load average ${m.loadAverage.start.map((l) => l.toFixed(2)).join(" ")} at start, ` +
      `${m.loadAverage.end.map((l) => l.toFixed(2)).join(" ")} at end; ${result.runs} runs per measure, medians.`,
    "",
    Object.entries(result.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
    "",
    "| # | measure | median | spread | runs | target | result |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of result.rows) {
    const samples = r.samples ? r.samples.map((s) => formatValue(s, r.unit)).join(", ") : "";
    const target = r.target ? formatTarget(r.target, r.unit) : "";
    const verdict = r.verdict ? (r.verdict === "pass" ? "pass" : "**miss**") : "";
    const measure = r.note ? `${r.measure} (${r.note})` : r.measure;
    const spreadCell = r.spread === undefined ? "" : `± ${formatSpread(r.spread, r.unit)}`;
    lines.push(
      `| ${r.id} | ${cell(measure)} | ${formatValue(r.value, r.unit)} | ${spreadCell} | ${samples} | ${target} | ${verdict} |`,
    );
  }
  for (const s of result.skipped) lines.push(`| ${s.id} | skipped: ${cell(s.reason)} | | | | | |`);
  lines.push("");
  return lines.join("\n");
}

/** Rows whose target was missed. */
export function misses(result: BenchResult): Row[] {
  return result.rows.filter((r) => r.verdict === "miss");
}
