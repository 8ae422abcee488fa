/** A JSON value: what `stableYaml`/`stableJson` accept and what Synapse module configs may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };
