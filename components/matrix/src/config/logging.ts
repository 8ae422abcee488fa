import { ValidationError, stableYaml, throwIfInvalid } from "@keel/core";

/** Log levels Python's logging accepts. */
export const synapseLogLevels = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
export type SynapseLogLevel = (typeof synapseLogLevels)[number];

/** Inputs of `renderLogConfig`. */
export interface SynapseLogInput {
  /** Root level. @default "INFO" */
  level?: SynapseLogLevel;
}

/**
 * Synapse's logging config (Python `dictConfig`, version 1): one console handler to stdout for the log
 * collector. `synapse.storage.SQL` is pinned to INFO whatever the root level, because at DEBUG it logs
 * SQL parameters, access tokens included.
 */
export function renderLogConfig(input: SynapseLogInput = {}): string {
  const level = input.level ?? "INFO";
  if (!synapseLogLevels.includes(level)) {
    throwIfInvalid([
      new ValidationError("level", `must be one of ${synapseLogLevels.join(", ")}, got ${level}`),
    ]);
  }
  return stableYaml({
    version: 1,
    formatters: {
      precise: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" },
    },
    handlers: {
      console: { class: "logging.StreamHandler", formatter: "precise", stream: "ext://sys.stdout" },
    },
    loggers: { "synapse.storage.SQL": { level: "INFO" } },
    root: { level, handlers: ["console"] },
    disable_existing_loggers: false,
  });
}
