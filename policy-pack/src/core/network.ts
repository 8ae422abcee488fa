import { K8sObject, asArray, asString, isRecord, specOf } from "./k8s";
import { isEmptySelector } from "./selectors";

export type Direction = "Ingress" | "Egress";

export interface NetworkPeer {
  podSelector?: unknown;
  namespaceSelector?: unknown;
  ipBlock?: { cidr?: string; except?: string[] };
}

export interface NetworkRule {
  from?: NetworkPeer[];
  to?: NetworkPeer[];
  ports?: unknown[];
}

/** The directions a NetworkPolicy governs: spec.policyTypes, else Ingress (+ Egress when egress rules exist). */
export function policyTypes(np: K8sObject): Direction[] {
  const spec = specOf(np);
  const declared = asArray<string>(spec.policyTypes).filter(
    (t): t is Direction => t === "Ingress" || t === "Egress",
  );
  if (declared.length > 0) {
    return declared;
  }
  return Array.isArray(spec.egress) ? ["Ingress", "Egress"] : ["Ingress"];
}

export function rulesOf(np: K8sObject, direction: Direction): NetworkRule[] {
  return asArray<NetworkRule>(specOf(np)[direction === "Ingress" ? "ingress" : "egress"]).filter(isRecord);
}

/** A policy that selects every pod of its namespace and allows nothing in `direction`. */
export function isDefaultDeny(np: K8sObject, direction: Direction): boolean {
  return (
    isEmptySelector(specOf(np).podSelector) &&
    policyTypes(np).includes(direction) &&
    rulesOf(np, direction).length === 0
  );
}

export function peersOf(rule: NetworkRule, direction: Direction): NetworkPeer[] {
  return asArray<NetworkPeer>(direction === "Ingress" ? rule.from : rule.to).filter(isRecord);
}

const PRIVATE_V4: Array<[number, number]> = [
  [ipv4("10.0.0.0"), 8],
  [ipv4("172.16.0.0"), 12],
  [ipv4("192.168.0.0"), 16],
  [ipv4("127.0.0.0"), 8],
  [ipv4("169.254.0.0"), 16],
  [ipv4("100.64.0.0"), 10],
];

/** True when a CIDR reaches beyond private, loopback, link-local and CGNAT ranges (i.e. the internet). */
export function isPublicCidr(cidr: string | undefined): boolean {
  const text = asString(cidr)?.trim() ?? "";
  if (text.includes(":")) {
    return !/^(fc|fd|fe8|fe9|fea|feb)[0-9a-f]*:/i.test(text) && !/^::1(\/128)?$/.test(text);
  }
  const match = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(text);
  if (!match) {
    return true;
  }
  const address = ipv4(match[1]!);
  const prefix = match[2] === undefined ? 32 : Number(match[2]);
  return !PRIVATE_V4.some(([net, bits]) => prefix >= bits && sameNetwork(address, net, bits));
}

function ipv4(text: string): number {
  return text.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function sameNetwork(a: number, b: number, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}
