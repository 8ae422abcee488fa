import { ValidationError, nodePortRange } from "@keel/core";
import { turnListener } from "./stunner";

/** Settings of the WebRTC platform. */
export interface WebRtcAppSettings {
  /**
   * LiveKit's ICE/TCP port, advertised as-is (a node port). The defaults sit in the node-port range's
   * static band (30000–30085), which the API server keeps for fixed ports, so no dynamically allocated
   * node port can take them. @default 30081
   */
  rtcTcpPort?: number;
  /** First port of LiveKit's UDP media range (node ports); equal to the end for one multiplexed port. @default 30082 */
  rtcUdpPortStart?: number;
  /** Last port of LiveKit's UDP media range, inclusive. @default 30082 */
  rtcUdpPortEnd?: number;
  /** Network interfaces LiveKit gathers candidates on. @default ["eth0"] */
  rtcInterfaces?: string[];
  /** Deploy coturn (host network, the documented exception). @default true */
  coturn?: boolean;
  /** First port of coturn's relay range on the host. @default 49160 */
  turnRelayMinPort?: number;
  /** Last port of coturn's relay range on the host. @default 49400 */
  turnRelayMaxPort?: number;
  /** coturn's public address when the nodes sit behind NAT. @default "" (none) */
  turnExternalIp?: string;
  /** Private ranges coturn may relay to (air-gapped sites add their internal networks). @default [] */
  turnAllowedPeerIps?: string[];
  /** Networks STUNner may relay to: where LiveKit's nodes live. @default ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] */
  stunnerPeerCidrs?: string[];
  /** Install the Gateway API and STUNner CRDs (off where a gateway controller already owns them). @default true */
  installCrds?: boolean;
  /**
   * STUN servers (`host:port`) LiveKit hands to clients. Empty: LiveKit's built-in public ones (Google's);
   * an air-gapped stack gets the stack's own STUNner listener instead (see {@link ownStunServer}). @default []
   */
  stunServers?: string[];
}

export type ResolvedWebRtcSettings = Required<WebRtcAppSettings>;

export const appSettingDefaults: ResolvedWebRtcSettings = {
  rtcTcpPort: 30081,
  rtcUdpPortStart: 30082,
  rtcUdpPortEnd: 30082,
  rtcInterfaces: ["eth0"],
  coturn: true,
  turnRelayMinPort: 49160,
  turnRelayMaxPort: 49400,
  turnExternalIp: "",
  turnAllowedPeerIps: [],
  stunnerPeerCidrs: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
  installCrds: true,
  stunServers: [],
};

/** The TURN realm and host of a stack: `turn.<domain>`. */
export function turnHost(domain: string): string {
  return `turn.${domain}`;
}

/** The stack's own STUN server: STUNner's TURN listener on `turn.<domain>` (TURN servers answer STUN). */
export function ownStunServer(domain: string): string {
  return `${turnHost(domain)}:${turnListener.port}`;
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const cidr = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const hostPort = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*:[1-9]\d{0,4}$/;
const ipRange = new RegExp(`^${ipv4.source.slice(1, -1)}(-${ipv4.source.slice(1, -1)})?$`);

/** Fills defaults and validates; errors name `<field>.<key>`. */
export function resolveWebRtcSettings(
  s: WebRtcAppSettings | undefined,
  field = "app",
): ResolvedWebRtcSettings {
  const m = { ...appSettingDefaults, ...s };
  const fail = (key: string, problem: string) => new ValidationError(`${field}.${key}`, problem);
  const nodePort = (key: keyof WebRtcAppSettings) => {
    const v = m[key] as number;
    if (!Number.isInteger(v) || v < nodePortRange.min || v > nodePortRange.max) {
      throw fail(
        key,
        `must be a node port from ${nodePortRange.min} to ${nodePortRange.max} (advertised as-is), got ${v}`,
      );
    }
  };
  nodePort("rtcTcpPort");
  nodePort("rtcUdpPortStart");
  nodePort("rtcUdpPortEnd");
  if (m.rtcUdpPortEnd < m.rtcUdpPortStart) throw fail("rtcUdpPortEnd", "must not be below rtcUdpPortStart");
  if (m.rtcUdpPortEnd - m.rtcUdpPortStart + 1 > 2000) {
    throw fail("rtcUdpPortEnd", "the UDP range may hold at most 2000 ports");
  }
  for (const key of ["turnRelayMinPort", "turnRelayMaxPort"] as const) {
    if (!Number.isInteger(m[key]) || m[key] < 1024 || m[key] > 65535) {
      throw fail(key, `must be a port from 1024 to 65535, got ${m[key]}`);
    }
  }
  if (m.turnRelayMaxPort <= m.turnRelayMinPort)
    throw fail("turnRelayMaxPort", "must be above turnRelayMinPort");
  for (const key of ["coturn", "installCrds"] as const) {
    if (typeof m[key] !== "boolean") throw fail(key, `must be true or false, got ${JSON.stringify(m[key])}`);
  }
  if (m.turnExternalIp !== "" && !ipv4.test(m.turnExternalIp)) {
    throw fail("turnExternalIp", `must be an IPv4 address, got "${m.turnExternalIp}"`);
  }
  const list = (
    key: "rtcInterfaces" | "turnAllowedPeerIps" | "stunnerPeerCidrs",
    re: RegExp,
    what: string,
  ) => {
    const v = m[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || !re.test(x))) {
      throw fail(key, `must be a list of ${what}, got ${JSON.stringify(v)}`);
    }
  };
  list("rtcInterfaces", /^[a-zA-Z0-9._-]{1,15}$/, "interface names");
  list("turnAllowedPeerIps", ipRange, "IPv4 addresses or ranges (a.b.c.d-e.f.g.h)");
  list("stunnerPeerCidrs", cidr, "IPv4 CIDRs");
  if (
    !Array.isArray(m.stunServers) ||
    m.stunServers.some((x) => typeof x !== "string" || !hostPort.test(x) || Number(x.split(":")[1]) > 65535)
  ) {
    throw fail("stunServers", `must be a list of host:port, got ${JSON.stringify(m.stunServers)}`);
  }
  if (m.rtcInterfaces.length === 0) throw fail("rtcInterfaces", "needs at least one interface");
  return m;
}
