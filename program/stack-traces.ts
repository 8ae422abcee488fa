/**
 * The Node.js SDK captures a full stack trace for every resource it registers and every promise it tracks,
 * and its launcher installs source-map-support, which maps every frame of each to its source (this program
 * ships compiled, with source maps). On the prod stack that mapping is half the program's CPU (≈ 7 of 14 s
 * under the unit mocks) and repays nothing: keel's errors name the config field at fault. V8's own
 * formatting is restored unless `KEEL_SOURCE_MAPS=1` asks for mapped traces (debugging the program).
 * docs/benchmarks.md has the figures.
 */
export function plainStackTraces(env: NodeJS.ProcessEnv = process.env): void {
  if (env.KEEL_SOURCE_MAPS !== "1") delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
}
