import { ValidationError } from "@keel/core";

/**
 * Application settings the audit found missing: bounded pools and caches (F24) are the application's job,
 * so they are exposed here and passed to the services as environment.
 */
export interface AiCoreAppSettings {
  /** Orchestrator's shared HTTP client pool (one client per process, not per request). @default 100 */
  orchestratorHttpPoolSize?: number;
  /** Orchestrator's PostgreSQL pool per replica. @default 5 */
  orchestratorDbPoolSize?: number;
  /** Orchestrator's Redis pool per replica. @default 10 */
  orchestratorRedisPoolSize?: number;
  /** Idle conversation sessions expire after this many hours. @default 24 */
  sessionTimeoutHours?: number;
  /** Conversation turns kept in memory per session. @default 20 */
  maxHistoryMessages?: number;
  /** Keycloak's database pool per replica (KC_DB_POOL_MAX_SIZE). @default 20 */
  keycloakDbPoolSize?: number;
  /** Voices the TTS service keeps in its LRU cache (each holds 200–500 MB of GPU memory). @default 10 */
  ttsVoiceCacheSize?: number;
  /** faster-whisper model name, loaded from the model volume. @default "large-v2" */
  sttModel?: string;
  /**
   * A Hugging Face mirror (HF_ENDPOINT) the speech services fetch missing models from into their model volume.
   * Empty: the hub is offline and the models must already be on the volume. @default ""
   */
  modelMirror?: string;
}

export const appSettingDefaults: Required<AiCoreAppSettings> = {
  orchestratorHttpPoolSize: 100,
  orchestratorDbPoolSize: 5,
  orchestratorRedisPoolSize: 10,
  sessionTimeoutHours: 24,
  maxHistoryMessages: 20,
  keycloakDbPoolSize: 20,
  ttsVoiceCacheSize: 10,
  sttModel: "large-v2",
  modelMirror: "",
};

const ranges: Record<Exclude<keyof AiCoreAppSettings, "sttModel" | "modelMirror">, [number, number]> = {
  orchestratorHttpPoolSize: [1, 1000],
  orchestratorDbPoolSize: [1, 100],
  orchestratorRedisPoolSize: [1, 200],
  sessionTimeoutHours: [1, 168],
  maxHistoryMessages: [1, 500],
  keycloakDbPoolSize: [2, 200],
  ttsVoiceCacheSize: [1, 100],
};

export function resolveAppSettings(
  s: AiCoreAppSettings | undefined,
  field = "app",
): Required<AiCoreAppSettings> {
  const merged = { ...appSettingDefaults, ...s };
  for (const [key, [min, max]] of Object.entries(ranges)) {
    const v = merged[key as keyof typeof ranges];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ValidationError(`${field}.${key}`, `must be an integer from ${min} to ${max}, got ${v}`);
    }
  }
  if (!["tiny", "base", "small", "medium", "large-v2", "large-v3"].includes(merged.sttModel)) {
    throw new ValidationError(
      `${field}.sttModel`,
      "must be one of tiny, base, small, medium, large-v2, large-v3",
    );
  }
  if (
    typeof merged.modelMirror !== "string" ||
    (merged.modelMirror !== "" && !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?(\/\S*)?$/.test(merged.modelMirror))
  ) {
    throw new ValidationError(
      `${field}.modelMirror`,
      `must be an http(s) URL or empty, got "${merged.modelMirror}"`,
    );
  }
  return merged;
}

/** The TCP port of a mirror URL (explicit, else 443 for https and 80 for http). */
export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
}
