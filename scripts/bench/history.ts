/**
 * The bench's history (scripts/bench/history.jsonl, one JSON line per run, committed) and the regression
 * guard over it: `npm run -s bench:compare` compares the newest run with the one before and names every
 * ratio that moved by more than its spread.
 */
import * as fs from "fs";
import { BenchResult, Row, Unit } from "./report";

export interface HistoryRow {
  id: string;
  unit: Unit;
  value: number;
  spread?: number;
  samples?: number[];
}

export interface HistoryEntry {
  date: string;
  commit: string;
  runs: number;
  loadAverage: { start: number[]; end: number[] };
  versions: Record<string, string>;
  rows: HistoryRow[];
}

export function historyEntry(result: BenchResult, commit: string): HistoryEntry {
  const rows = result.rows.map((r: Row) => {
    const row: HistoryRow = { id: r.id, unit: r.unit, value: r.value };
    if (r.spread !== undefined) row.spread = r.spread;
    if (r.samples) row.samples = r.samples;
    return row;
  });
  return {
    date: result.date,
    commit,
    runs: result.runs,
    loadAverage: result.machine.loadAverage,
    versions: result.versions,
    rows,
  };
}

export function appendHistory(file: string, entry: HistoryEntry): void {
  fs.appendFileSync(file, JSON.stringify(entry) + "\n");
}

export function readHistory(file: string): HistoryEntry[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as HistoryEntry;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not JSON: ${(e as Error).message}`);
      }
    });
}

export interface Movement {
  id: string;
  unit: Unit;
  before: number;
  after: number;
  /** The larger of the two runs' spreads: a move within it is noise. */
  allowed: number;
  moved: boolean;
}

/** Ratios: the rows in % or ×, which the bench pairs run by run. */
function isRatio(row: HistoryRow): boolean {
  return row.unit === "%" || row.unit === "x";
}

/** Every ratio both runs measured, with whether it moved beyond the larger of their spreads. */
export function compareRuns(before: HistoryEntry, after: HistoryEntry): Movement[] {
  const old = new Map(before.rows.map((r) => [r.id, r]));
  return after.rows.filter(isRatio).flatMap((r) => {
    const b = old.get(r.id);
    if (!b || b.unit !== r.unit) return [];
    const allowed = Math.max(r.spread ?? 0, b.spread ?? 0);
    return [
      {
        id: r.id,
        unit: r.unit,
        before: b.value,
        after: r.value,
        allowed,
        moved: Math.abs(r.value - b.value) > allowed,
      },
    ];
  });
}
