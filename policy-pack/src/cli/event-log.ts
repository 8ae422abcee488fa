/**
 * Policy events from the Pulumi engine's JSON event stream: `pulumi preview --event-log <file>` writes one
 * EngineEvent per line; a PolicyEvent looks like (apitype.PolicyEvent)
 * `{"policyEvent": {"resourceUrn", "message", "color", "policyName", "policyPackName", "policyPackVersion",
 * "policyPackVersionTag", "enforcementLevel": "warning" | "mandatory" | "remediate" | "none"}}`.
 * A JSON array of events (automation API, streaming `--json`) is read too.
 */
export type SummaryLevel = "mandatory" | "advisory" | "exempt";

export interface PolicyViolation {
  policyName: string;
  policyPackName: string;
  resourceUrn?: string;
  message: string;
  level: SummaryLevel;
}

interface RawPolicyEvent {
  policyName?: unknown;
  policyPackName?: unknown;
  resourceUrn?: unknown;
  message?: unknown;
  enforcementLevel?: unknown;
}

export class EventLogError extends Error {}

export function parseEventLog(text: string, source: string): PolicyViolation[] {
  const trimmed = text.trim();
  if (trimmed === "") {
    return [];
  }
  let events: unknown[];
  if (trimmed.startsWith("[")) {
    events = parseJson(trimmed, `${source}`) as unknown[];
  } else {
    events = trimmed
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line, i) => parseJson(line, `${source}:${i + 1}`));
  }
  return events.flatMap((event) => {
    const policy = (event as { policyEvent?: RawPolicyEvent } | null)?.policyEvent;
    return policy ? [toViolation(policy)] : [];
  });
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EventLogError(`${where}: not JSON (${(err as Error).message})`);
  }
}

function toViolation(raw: RawPolicyEvent): PolicyViolation {
  const message = stripColors(String(raw.message ?? ""));
  const level = String(raw.enforcementLevel ?? "");
  const detail = violationText(message);
  const exempt = detail.startsWith("[exempt] ");
  return {
    policyName: String(raw.policyName ?? "?"),
    policyPackName: String(raw.policyPackName ?? "?"),
    resourceUrn: typeof raw.resourceUrn === "string" && raw.resourceUrn !== "" ? raw.resourceUrn : undefined,
    message: exempt ? detail.slice("[exempt] ".length) : detail,
    level: exempt ? "exempt" : level === "mandatory" || level === "remediate" ? "mandatory" : "advisory",
  };
}

/** Removes the engine's colour markup, e.g. `<{%reset%}>`. */
export function stripColors(text: string): string {
  return text.replace(/<\{%[^%]*%\}>/g, "");
}

/**
 * The engine prefixes a string violation with the policy description on its own line
 * ("description\nmessage"); the message alone says what to change.
 */
function violationText(message: string): string {
  const lines = message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.length > 1 ? lines.slice(1).join(" ") : (lines[0] ?? "");
}

/** `urn:pulumi:dev::keel::kubernetes:apps/v1:Deployment::keycloak` -> "Deployment keycloak". */
export function describeUrn(urn: string | undefined): string {
  if (!urn) {
    return "(stack)";
  }
  const parts = urn.split("::");
  const name = parts[parts.length - 1] ?? urn;
  const typeChain = parts[parts.length - 2] ?? "";
  const type = typeChain.split("$").pop() ?? typeChain;
  const kind = type.split(":").pop() ?? type;
  return `${kind} ${name}`;
}
