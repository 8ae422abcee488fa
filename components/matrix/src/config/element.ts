import { ValidationError, stableJson, throwIfInvalid } from "@keel/core";
import { JsonObject } from "./json";

/*
 * Element Web's config.json (element-web docs/config.md, defaults in src/SdkConfig.ts) and the
 * `.well-known/matrix/*` documents. Element's built-in defaults point at public services (scalar.vector.im
 * integrations, meet.element.io Jitsi), so the config overrides them: integrations blank (docs: "may be left
 * blank to disable integrations"), Jitsi only when a domain is given.
 */

/** MatrixRTC group calls through LiveKit (Element Call). */
export interface GroupCallSettings {
  /** lk-jwt-service base URL announced in `org.matrix.msc4143.rtc_foci`, e.g. `https://rtc.example.org/livekit/jwt`. */
  livekitServiceUrl: string;
  /** Use Element Call for every call, including 1:1 (legacy 1:1 calls use TURN instead). @default false */
  useExclusively?: boolean;
}

/** Inputs of `renderElementConfig`. */
export interface ElementConfigInput {
  /** `https://matrix.<domain>` (no trailing slash needed). */
  homeserverUrl: string;
  /** The Matrix server name shown to users. */
  serverName: string;
  /** Product name in the UI and e-mails. @default "Element" */
  brand?: string;
  /** No guest accounts. @default true */
  disableGuests?: boolean;
  /** Show the registration page (must match Synapse's `enable_registration`). @default false */
  registrationEnabled?: boolean;
  /** Group calls over LiveKit. @default undefined (no group calls) */
  groupCalls?: GroupCallSettings;
  /** A self-hosted Jitsi domain for conference widgets. @default undefined (no Jitsi) */
  jitsiDomain?: string;
  /** Permalink base (an unfederated site should use its Element URL instead of matrix.to). @default undefined */
  permalinkPrefix?: string;
  /** @default "light" */
  defaultTheme?: "light" | "dark";
}

const httpsUrl = /^https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
const hostName = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const brand = /^[\p{L}\p{N} ._-]{1,64}$/u;

function urlProblem(field: string, value: unknown): ValidationError | undefined {
  return typeof value === "string" && httpsUrl.test(value)
    ? undefined
    : new ValidationError(
        field,
        `must be an https:// URL without query or fragment, got ${JSON.stringify(value)}`,
      );
}

/** Checks the Element inputs; errors name the field. */
export function validateElementInput(input: ElementConfigInput): ValidationError[] {
  const problems: (ValidationError | undefined)[] = [urlProblem("homeserverUrl", input.homeserverUrl)];
  if (typeof input.serverName !== "string" || !hostName.test(input.serverName)) {
    problems.push(
      new ValidationError("serverName", `must be a server name, got ${JSON.stringify(input.serverName)}`),
    );
  }
  if (input.brand !== undefined && !brand.test(input.brand)) {
    problems.push(
      new ValidationError("brand", "must be 1–64 letters, digits, spaces, dots, dashes or underscores"),
    );
  }
  if (input.groupCalls)
    problems.push(urlProblem("groupCalls.livekitServiceUrl", input.groupCalls.livekitServiceUrl));
  if (input.jitsiDomain !== undefined && !hostName.test(input.jitsiDomain)) {
    problems.push(
      new ValidationError("jitsiDomain", `must be a host name, got ${JSON.stringify(input.jitsiDomain)}`),
    );
  }
  if (input.permalinkPrefix !== undefined)
    problems.push(urlProblem("permalinkPrefix", input.permalinkPrefix));
  if (input.defaultTheme !== undefined && !["light", "dark"].includes(input.defaultTheme)) {
    problems.push(new ValidationError("defaultTheme", "must be light or dark"));
  }
  return problems.filter((p): p is ValidationError => p !== undefined);
}

const trimSlash = (u: string) => u.replace(/\/+$/, "");

/** Element Web's config.json (deterministic JSON). Throws a ValidationError naming the field for bad input. */
export function renderElementConfig(input: ElementConfigInput): string {
  throwIfInvalid(validateElementInput(input));
  const registration = input.registrationEnabled ?? false;
  const config: JsonObject = {
    default_server_config: {
      "m.homeserver": { base_url: trimSlash(input.homeserverUrl), server_name: input.serverName },
    },
    brand: input.brand ?? "Element",
    default_theme: input.defaultTheme ?? "light",
    disable_custom_urls: true,
    disable_guests: input.disableGuests ?? true,
    disable_3pid_login: true,
    show_labs_settings: false,
    room_directory: { servers: [input.serverName] },
    integrations_ui_url: "",
    integrations_rest_url: "",
    integrations_widgets_urls: [],
    setting_defaults: {
      "UIFeature.registration": registration,
      "UIFeature.passwordReset": false,
      "UIFeature.identityServer": false,
      "UIFeature.thirdPartyId": false,
      "UIFeature.feedback": false,
    },
  };
  if (input.groupCalls) {
    config.features = { feature_group_calls: true };
    config.element_call = { use_exclusively: input.groupCalls.useExclusively ?? false };
  }
  if (input.jitsiDomain) config.jitsi = { preferred_domain: input.jitsiDomain };
  if (input.permalinkPrefix) config.permalink_prefix = trimSlash(input.permalinkPrefix);
  return stableJson(config);
}

/** Inputs of `renderWellKnown`. */
export interface WellKnownInput {
  /** Client base URL, e.g. `https://matrix.example.org`. */
  homeserverUrl: string;
  /** Where federation reaches Synapse (`m.server`), e.g. `matrix.example.org:443`. */
  federationHost: string;
  /** Group calls: announces the LiveKit focus. @default undefined */
  groupCalls?: GroupCallSettings;
}

/**
 * `/.well-known/matrix/client` and `/.well-known/matrix/server` bodies (deterministic JSON). With group
 * calls the client document lists the LiveKit focus under `org.matrix.msc4143.rtc_foci` (MSC4143, element-call
 * docs/self-hosting.md "MatrixRTC backend announcement"); serve it as application/json with
 * `Access-Control-Allow-Origin: *`.
 */
export function renderWellKnown(input: WellKnownInput): { client: string; server: string } {
  const problems: (ValidationError | undefined)[] = [urlProblem("homeserverUrl", input.homeserverUrl)];
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?:[0-9]{1,5}$/.test(input.federationHost ?? "")) {
    problems.push(
      new ValidationError("federationHost", `must be host:port, got ${JSON.stringify(input.federationHost)}`),
    );
  }
  if (input.groupCalls)
    problems.push(urlProblem("groupCalls.livekitServiceUrl", input.groupCalls.livekitServiceUrl));
  throwIfInvalid(problems.filter((p): p is ValidationError => p !== undefined));
  const client: JsonObject = { "m.homeserver": { base_url: trimSlash(input.homeserverUrl) } };
  if (input.groupCalls) {
    client["org.matrix.msc4143.rtc_foci"] = [
      { type: "livekit", livekit_service_url: trimSlash(input.groupCalls.livekitServiceUrl) },
    ];
  }
  return { client: stableJson(client), server: stableJson({ "m.server": input.federationHost }) };
}
