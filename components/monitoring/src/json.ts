import { stableYaml } from "@keel/core";

/** A JSON value, as core's deterministic renderers take it. */
export type Json = Parameters<typeof stableYaml>[0];
