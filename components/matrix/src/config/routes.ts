import {
  MatrixWorkerCounts,
  SYNAPSE_MAIN,
  SynapseStream,
  WorkerGroup,
  WorkerType,
  workerGroups,
} from "./workers";

/*
 * Which Synapse process serves which request, as data. The regular expressions are copied verbatim from
 * synapse docs/workers.md (element-hq/synapse; sections named in each rule's `source`) and are valid both as
 * JavaScript RegExp and as HAProxy `path_reg` patterns (PCRE), so `routeRequest` and the generated haproxy.cfg
 * evaluate the same list in the same order: the first rule that matches decides.
 *
 * A rule names the handlers that may serve it, best first; the first one that exists in the deployment is
 * used, and `main` serves whatever has no worker. Paths the docs do not list (admin API except the listed
 * ones, SSO/OIDC callbacks, which must all reach one process) go to `main`.
 */

/** A process kind that can serve routes: a worker type with HTTP routes, or the writer of a stream. */
export type RouteHandler =
  | "synchrotron"
  | "client-reader"
  | "federation-reader"
  | "federation-inbound"
  | "event-creator"
  | "media-repository"
  | `stream:${SynapseStream}`;

/** HTTP methods a rule can be restricted to (GET rules also match HEAD, like HAProxy's METH_GET). */
export type RouteMethod = "GET" | "HEAD";

/** One routing rule. */
export interface RouteRule {
  /** Stable id (kebab-case), used in comments of the generated config. */
  id: string;
  /** The docs/workers.md section the patterns come from. */
  source: string;
  /** Who may serve it, best first; `main` is always the last resort. */
  handlers: readonly RouteHandler[];
  /** Only these methods; unset: any method. */
  methods?: readonly RouteMethod[];
  /** Regular expressions over the request path (no query string). */
  patterns: readonly string[];
}

const get: readonly RouteMethod[] = ["GET", "HEAD"];

const accountDataPaths = [
  "^/_matrix/client/(r0|v3|unstable)/.*/tags",
  "^/_matrix/client/(r0|v3|unstable)/.*/account_data",
];
const presencePaths = ["^/_matrix/client/(api/v1|r0|v3|unstable)/presence/"];
const pushRulesPaths = ["^/_matrix/client/(api/v1|r0|v3|unstable)/pushrules/"];

/** The routing table, in evaluation order. */
export const synapseRouteRules: readonly RouteRule[] = [
  {
    id: "media",
    source: "synapse.app.media_repository",
    handlers: ["media-repository"],
    patterns: [
      "^/_matrix/media/",
      "^/_matrix/client/v1/media/",
      "^/_matrix/federation/v1/media/",
      "^/_synapse/media/",
      "^/_synapse/admin/v1/purge_media_cache$",
      "^/_synapse/admin/v1/room/.*/media.*$",
      "^/_synapse/admin/v1/user/.*/media.*$",
      "^/_synapse/admin/v1/media/.*$",
      "^/_synapse/admin/v1/quarantine_media/.*$",
      "^/_synapse/admin/v1/users/.*/media$",
    ],
  },
  {
    id: "sync",
    source: "synapse.app.generic_worker: Sync requests",
    handlers: ["synchrotron"],
    patterns: [
      "^/_matrix/client/(r0|v3)/sync$",
      "^/_matrix/client/(api/v1|r0|v3)/events$",
      "^/_matrix/client/(api/v1|r0|v3)/initialSync$",
      "^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$",
    ],
  },
  {
    id: "typing-stream",
    source: "Stream writers: The `typing` stream",
    handlers: ["stream:typing"],
    patterns: ["^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/typing"],
  },
  {
    id: "to-device-stream",
    source: "Stream writers: The `to_device` stream",
    handlers: ["stream:to_device"],
    patterns: ["^/_matrix/client/(r0|v3|unstable)/sendToDevice/"],
  },
  {
    id: "account-data-read",
    source: "Stream writers: The `account_data` stream; generic_worker GET: Account data requests",
    handlers: ["stream:account_data", "client-reader"],
    methods: get,
    patterns: accountDataPaths,
  },
  {
    id: "account-data-stream",
    source: "Stream writers: The `account_data` stream",
    handlers: ["stream:account_data"],
    patterns: accountDataPaths,
  },
  {
    id: "receipts-stream",
    source: "Stream writers: The `receipts` stream (can be handled by any worker)",
    handlers: ["stream:receipts", "client-reader"],
    patterns: [
      "^/_matrix/client/(r0|v3|unstable)/rooms/.*/receipt",
      "^/_matrix/client/(r0|v3|unstable)/rooms/.*/read_markers",
    ],
  },
  {
    id: "presence-read",
    source: "Stream writers: The `presence` stream; generic_worker GET: Presence requests",
    handlers: ["stream:presence", "client-reader"],
    methods: get,
    patterns: presencePaths,
  },
  {
    id: "presence-stream",
    source: "Stream writers: The `presence` stream",
    handlers: ["stream:presence"],
    patterns: presencePaths,
  },
  {
    id: "push-rules-read",
    source: "Stream writers: The `push_rules` stream; generic_worker GET requests",
    handlers: ["stream:push_rules", "client-reader"],
    methods: get,
    patterns: pushRulesPaths,
  },
  {
    id: "push-rules-stream",
    source: "Stream writers: The `push_rules` stream",
    handlers: ["stream:push_rules"],
    patterns: pushRulesPaths,
  },
  {
    id: "device-lists-stream",
    source: "Stream writers: The `device_lists` stream (can be handled by any worker)",
    handlers: ["stream:device_lists", "client-reader"],
    patterns: [
      "^/_matrix/client/(r0|v3)/delete_devices$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/devices(/|$)",
      "^/_matrix/client/(r0|v3|unstable)/keys/upload",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/keys/device_signing/upload$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/keys/signatures/upload$",
    ],
  },
  {
    id: "federation-inbound",
    source: "synapse.app.generic_worker: Inbound federation transaction request",
    handlers: ["federation-inbound"],
    patterns: ["^/_matrix/federation/v1/send/"],
  },
  {
    id: "federation-reader",
    source: "synapse.app.generic_worker: Federation requests",
    handlers: ["federation-reader"],
    patterns: [
      "^/_matrix/federation/v1/version$",
      "^/_matrix/federation/v1/event/",
      "^/_matrix/federation/v1/state/",
      "^/_matrix/federation/v1/state_ids/",
      "^/_matrix/federation/v1/backfill/",
      "^/_matrix/federation/v1/get_missing_events/",
      "^/_matrix/federation/v1/publicRooms",
      "^/_matrix/federation/v1/query/",
      "^/_matrix/federation/v1/make_join/",
      "^/_matrix/federation/v1/make_leave/",
      "^/_matrix/federation/(v1|v2)/send_join/",
      "^/_matrix/federation/(v1|v2)/send_leave/",
      "^/_matrix/federation/v1/make_knock/",
      "^/_matrix/federation/v1/send_knock/",
      "^/_matrix/federation/(v1|v2)/invite/",
      "^/_matrix/federation/v1/event_auth/",
      "^/_matrix/federation/v1/timestamp_to_event/",
      "^/_matrix/federation/v1/exchange_third_party_invite/",
      "^/_matrix/federation/v1/user/devices/",
      "^/_matrix/key/v2/query",
      "^/_matrix/federation/v1/hierarchy/",
    ],
  },
  {
    id: "event-creator",
    source: "synapse.app.generic_worker: Event sending requests",
    handlers: ["event-creator"],
    patterns: [
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/redact",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/send",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state/",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/(join|invite|leave|ban|unban|kick)$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/join/",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/knock/",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/profile/",
    ],
  },
  {
    id: "client-reader",
    source:
      "synapse.app.generic_worker: Client API, Encryption, Registration/login and User directory search requests",
    handlers: ["client-reader"],
    patterns: [
      "^/_matrix/client/(api/v1|r0|v3|unstable)/createRoom$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/publicRooms$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/joined_members$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/context/.*$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/members$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state$",
      "^/_matrix/client/v1/rooms/.*/hierarchy$",
      "^/_matrix/client/(v1|unstable)/rooms/.*/relations/",
      "^/_matrix/client/v1/rooms/.*/threads$",
      "^/_matrix/client/unstable/im.nheko.summary/summary/.*$",
      "^/_matrix/client/(r0|v3|unstable)/account/3pid$",
      "^/_matrix/client/(r0|v3|unstable)/account/whoami$",
      "^/_matrix/client/(r0|v3|unstable)/account/deactivate$",
      "^/_matrix/client/versions$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/voip/turnServer$",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/event/",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/joined_rooms$",
      "^/_matrix/client/v1/rooms/.*/timestamp_to_event$",
      "^/_matrix/client/(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/search$",
      "^/_matrix/client/(r0|v3|unstable)/user/.*/filter(/|$)",
      "^/_matrix/client/(api/v1|r0|v3|unstable)/directory/room/.*$",
      "^/_matrix/client/(r0|v3|unstable)/capabilities$",
      "^/_matrix/client/(r0|v3|unstable)/notifications$",
      "^/_synapse/admin/v1/rooms/[^/]+$",
      // Encryption requests (the device-list ones are in device-lists-stream above)
      "^/_matrix/client/(r0|v3|unstable)/keys/query$",
      "^/_matrix/client/(r0|v3|unstable)/keys/changes$",
      "^/_matrix/client/(r0|v3|unstable)/keys/claim$",
      "^/_matrix/client/(r0|v3|unstable)/room_keys/",
      // Registration/login requests
      "^/_matrix/client/(api/v1|r0|v3|unstable)/login$",
      "^/_matrix/client/(r0|v3|unstable)/register$",
      "^/_matrix/client/(r0|v3|unstable)/register/available$",
      "^/_matrix/client/v1/register/m.login.registration_token/validity$",
      "^/_matrix/client/(r0|v3|unstable)/password_policy$",
      // User directory search requests
      "^/_matrix/client/(r0|v3|unstable)/user_directory/search$",
    ],
  },
  {
    id: "client-reader-read",
    source: "synapse.app.generic_worker: endpoints handled for GET requests",
    handlers: ["client-reader"],
    methods: get,
    patterns: ["^/_matrix/client/unstable/org.matrix.msc4140/delayed_events"],
  },
  {
    // "all requests for a given room must be routed to the same instance": the client-reader backend
    // balances by room ID.
    id: "pagination",
    source: "synapse.app.generic_worker: Pagination requests",
    handlers: ["client-reader"],
    patterns: ["^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/messages$"],
  },
];

/** A rule with the backend it resolves to for given counts. */
export interface ResolvedRoute {
  rule: RouteRule;
  /** Group name (`synchrotron`, `stream-writer`, `typing-writer`, …) or `main`. */
  backend: string;
}

function handlerGroup(groups: WorkerGroup[], handler: RouteHandler): WorkerGroup | undefined {
  if (handler.startsWith("stream:")) {
    const stream = handler.slice("stream:".length) as SynapseStream;
    return groups.find((g) => g.type === "stream-writer" && g.streams.includes(stream));
  }
  return groups.find((g) => g.type === (handler as WorkerType) && g.http);
}

/** Every rule with its backend for these counts, in evaluation order. */
export function resolveRoutes(counts: MatrixWorkerCounts): ResolvedRoute[] {
  const groups = workerGroups(counts);
  return synapseRouteRules.map((rule) => {
    const group = rule.handlers.map((h) => handlerGroup(groups, h)).find((g) => g !== undefined);
    return { rule, backend: group?.name ?? SYNAPSE_MAIN.group };
  });
}

const compiled = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let r = compiled.get(pattern);
  if (!r) {
    r = new RegExp(pattern);
    compiled.set(pattern, r);
  }
  return r;
}

/** True when the rule applies to the method and path. */
export function ruleMatches(rule: RouteRule, method: string, path: string): boolean {
  if (rule.methods && !rule.methods.includes(method.toUpperCase() as RouteMethod)) return false;
  return rule.patterns.some((p) => regex(p).test(path));
}

/**
 * The backend (worker group name, or `main`) the generated HAProxy config sends a request to, assuming every
 * backend has a healthy server (an empty worker backend falls back to `main` at run time). A query string is
 * ignored, as HAProxy's `path` does.
 */
export function routeRequest(method: string, path: string, counts: MatrixWorkerCounts): string {
  const bare = path.split("?")[0];
  const hit = resolveRoutes(counts).find((r) => ruleMatches(r.rule, method, bare));
  return hit?.backend ?? SYNAPSE_MAIN.group;
}
