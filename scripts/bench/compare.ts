/**
 * `npm run -s bench:compare [-- --history FILE]`: compares the newest run in the bench's history with the
 * one before and names every ratio that moved by more than its spread (the larger of the two runs').
 * Exits 1 when one did, 0 when none did, 2 on bad input.
 */
import * as path from "path";
import { Movement, compareRuns, readHistory } from "./history";
import { formatSpread, formatValue } from "./report";

export const DEFAULT_HISTORY = path.join("scripts", "bench", "history.jsonl");

function line(m: Movement): string {
  const verdict = m.moved ? (m.after > m.before ? "MOVED UP" : "MOVED DOWN") : "within spread";
  const delta = formatSpread(Math.abs(m.after - m.before), m.unit);
  return `${m.id.padEnd(18)} ${formatValue(m.before, m.unit).padStart(9)} → ${formatValue(m.after, m.unit).padStart(9)}  (Δ ${delta}, spread ± ${formatSpread(m.allowed, m.unit)})  ${verdict}`;
}

export function main(argv: readonly string[]): number {
  let file = DEFAULT_HISTORY;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--history" && argv[i + 1]) file = argv[++i]!;
    else {
      process.stderr.write(`bench:compare: unknown option ${argv[i]} (allowed: --history FILE)\n`);
      return 2;
    }
  }
  const history = readHistory(file);
  if (history.length < 2) {
    process.stderr.write(`bench:compare: ${file} holds ${history.length} run(s); two are needed\n`);
    return 2;
  }
  const [before, after] = history.slice(-2) as [(typeof history)[0], (typeof history)[0]];
  const moves = compareRuns(before, after);
  process.stdout.write(
    `${before.date} (${before.commit}, ${before.runs} runs) → ${after.date} (${after.commit}, ${after.runs} runs)\n`,
  );
  for (const m of moves) process.stdout.write(line(m) + "\n");
  const moved = moves.filter((m) => m.moved);
  process.stdout.write(
    moved.length
      ? `moved beyond their spread: ${moved.map((m) => m.id).join(", ")}\n`
      : "no ratio moved beyond its spread\n",
  );
  return moved.length ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
