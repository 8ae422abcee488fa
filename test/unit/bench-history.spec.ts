import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "../../scripts/bench/args";
import { main as compareMain } from "../../scripts/bench/compare";
import {
  HistoryEntry,
  appendHistory,
  compareRuns,
  historyEntry,
  readHistory,
} from "../../scripts/bench/history";
import { BenchResult, derived, measured } from "../../scripts/bench/report";

function entry(date: string, rows: HistoryEntry["rows"]): HistoryEntry {
  return { date, commit: "abc1234", runs: 5, loadAverage: { start: [1], end: [2] }, versions: {}, rows };
}

describe("bench: history and regression guard", () => {
  it("keeps each row's id, unit, median, spread and runs, not the details", () => {
    const result: BenchResult = {
      date: "2026-12-06T14:00:00.000Z",
      runs: 3,
      machine: { cores: 2, cpuModel: "x", memoryGi: 24, loadAverage: { start: [1], end: [2] } },
      versions: { node: "v24" },
      rows: [
        derived("b.overhead", "pack", "%", 8, undefined, [7, 8, 10]),
        measured("a.cpu", "cpu", "s", [30, 31, 29]),
      ],
      skipped: [],
      details: { big: "x".repeat(1000) },
    };
    const e = historyEntry(result, "abc1234+changes");
    expect(e.rows[0]).to.deep.equal({
      id: "b.overhead",
      unit: "%",
      value: 8,
      spread: 2,
      samples: [7, 8, 10],
    });
    expect(e.commit).to.equal("abc1234+changes");
    expect(JSON.stringify(e)).not.to.contain("xxxx");
  });

  it("names a ratio that moved beyond the larger spread, and only ratios", () => {
    const before = entry("1", [
      { id: "b.overhead", unit: "%", value: 20, spread: 2 },
      { id: "c.overhead", unit: "%", value: 5, spread: 1 },
      { id: "a.cpu", unit: "s", value: 30, spread: 1 },
    ]);
    const after = entry("2", [
      { id: "b.overhead", unit: "%", value: 10, spread: 3 },
      { id: "c.overhead", unit: "%", value: 7.5, spread: 3 },
      { id: "a.cpu", unit: "s", value: 40, spread: 1 },
      { id: "b.start", unit: "%", value: 1, spread: 0 },
    ]);
    const moves = compareRuns(before, after);
    expect(moves.map((m) => [m.id, m.moved, m.allowed])).to.deep.equal([
      ["b.overhead", true, 3],
      ["c.overhead", false, 3],
    ]);
  });

  it("appends to and reads the history file; the command exits 1 on a move, 0 without, 2 without two runs", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keel-history-")), "h.jsonl");
    const out = process.stdout.write.bind(process.stdout);
    const quiet = (f: () => number) => {
      process.stdout.write = (() => true) as typeof process.stdout.write;
      const err = process.stderr.write.bind(process.stderr);
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        return f();
      } finally {
        process.stdout.write = out;
        process.stderr.write = err;
      }
    };
    expect(quiet(() => compareMain(["--history", file]))).to.equal(2);
    appendHistory(file, entry("1", [{ id: "c.overhead", unit: "%", value: 5, spread: 1 }]));
    appendHistory(file, entry("2", [{ id: "c.overhead", unit: "%", value: 5.5, spread: 1 }]));
    expect(readHistory(file).map((e) => e.date)).to.deep.equal(["1", "2"]);
    expect(quiet(() => compareMain(["--history", file]))).to.equal(0);
    appendHistory(file, entry("3", [{ id: "c.overhead", unit: "%", value: 9, spread: 1 }]));
    expect(quiet(() => compareMain(["--history", file]))).to.equal(1);
    expect(quiet(() => compareMain(["--bogus"]))).to.equal(2);
  });

  it("the bench appends to scripts/bench/history.jsonl unless told otherwise", () => {
    expect(parseArgs([]).history).to.equal("scripts/bench/history.jsonl");
    expect(parseArgs(["--history", "h.jsonl"]).history).to.equal("h.jsonl");
    expect(parseArgs(["--no-history"]).history).to.equal(undefined);
    expect(() => parseArgs(["--history"])).to.throw(/--history needs a file/);
  });
});
