/** Command-line options of `npm run bench`. */

export const MEASURES = ["a", "b", "c", "d", "e", "f"] as const;
export type Measure = (typeof MEASURES)[number];

export interface BenchOptions {
  runs: number;
  /** Previews of each variant per run in (a)-(c); the run keeps the median one (speed-adjusted). */
  repeats: number;
  /** Take the shared cluster lock for the whole run (re-executing under flock). */
  lock: boolean;
  lockFile: string;
  only: Measure[];
  /** Objects in the audit's manifest set (approximately: whole copies of the rendered prod stack). */
  objects: number;
  outDir: string;
  /** The committed history the run is appended to (scripts/bench/history.jsonl); undefined: none. */
  history: string | undefined;
  /** Keep the temporary backend, projects and manifests. */
  keep: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--runs N] [--repeats K] [--only a,b,c,d,e,f] [--objects N] [--out DIR] [--history FILE | --no-history] [--no-lock] [--keep]
  --runs N      samples per measure (default 3); medians are reported
  --repeats K   previews of each variant per run in a-c (default 1); each run keeps the median one
  --only LIST   measures to run (default all): a prod preview, b policy pack, c engine floor,
                d dev up / no-op up, e audit throughput, f unit tests
  --objects N   size of the audit's manifest set (default 5000)
  --out DIR     where <date>.md and <date>.json go (default bench-results)
  --history F   append the run to F (default scripts/bench/history.jsonl; npm run bench:compare reads it)
  --no-history  do not append the run to the history
  --no-lock     do not take /tmp/keel-cluster.lock (only when nothing else uses the cluster)
  --keep        keep the temporary state, projects and manifests`;

export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    runs: 3,
    repeats: 1,
    lock: true,
    lockFile: "/tmp/keel-cluster.lock",
    only: [...MEASURES],
    objects: 5000,
    outDir: "bench-results",
    history: "scripts/bench/history.jsonl",
    keep: false,
    help: false,
  };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${flag} needs a positive integer, got ${v ?? "nothing"}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.includes("=") ? argv[i]!.split(/=(.*)/s) : [argv[i]!, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--runs":
        o.runs = positive(flag, value());
        break;
      case "--repeats":
        o.repeats = positive(flag, value());
        break;
      case "--objects":
        o.objects = positive(flag, value());
        break;
      case "--only": {
        const list = (value() ?? "").split(",").filter(Boolean);
        const bad = list.filter((m) => !(MEASURES as readonly string[]).includes(m));
        if (list.length === 0 || bad.length > 0) {
          throw new Error(
            `--only takes a comma-separated list of ${MEASURES.join(", ")}; got ${bad.join(",")}`,
          );
        }
        o.only = MEASURES.filter((m) => list.includes(m));
        break;
      }
      case "--out": {
        const v = value();
        if (!v) throw new Error("--out needs a folder");
        o.outDir = v;
        break;
      }
      case "--history": {
        const v = value();
        if (!v) throw new Error("--history needs a file");
        o.history = v;
        break;
      }
      case "--no-history":
        o.history = undefined;
        break;
      case "--no-lock":
        o.lock = false;
        break;
      case "--keep":
        o.keep = true;
        break;
      case "--help":
      case "-h":
        o.help = true;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}
