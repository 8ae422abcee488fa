import { K8sObject, asArray, asNumber, asString, isRecord, specOf } from "./k8s";
import { Direction, isDefaultDeny, policyTypes, rulesOf } from "./network";
import { isEmptySelector } from "./selectors";

/**
 * A policy over every pod of its namespace that allows nothing in `direction`, except DNS for Egress: a
 * default deny that lets pods resolve names (port 53 to kube-dns, or to anywhere) still keeps egress closed.
 */
export function deniesByDefault(np: K8sObject, direction: Direction): boolean {
  return isDefaultDeny(np, direction) || (direction === "Egress" && isDnsOnlyEgressDeny(np));
}

/** A policy over every pod of the namespace whose egress rules all allow DNS only. */
export function isDnsOnlyEgressDeny(np: K8sObject): boolean {
  const rules = rulesOf(np, "Egress");
  return (
    isEmptySelector(specOf(np).podSelector) &&
    policyTypes(np).includes("Egress") &&
    rules.length > 0 &&
    rules.every(isDnsOnlyRule)
  );
}

/** Port 53 (or kube-dns's port names) over UDP or TCP, and nothing else; no ports at all means every port. */
function isDnsOnlyRule(rule: { ports?: unknown[] }): boolean {
  const ports = asArray<unknown>(rule.ports);
  return ports.length > 0 && ports.every(isDnsPort);
}

const DNS_PORT_NAMES = new Set(["dns", "dns-tcp"]);

function isDnsPort(port: unknown): boolean {
  if (!isRecord(port)) {
    return false;
  }
  const protocol = asString(port.protocol) ?? "TCP";
  const name = asString(port.port);
  const endPort = asNumber(port.endPort);
  const dns = asNumber(port.port) === 53 || (name !== undefined && DNS_PORT_NAMES.has(name));
  return dns && (protocol === "UDP" || protocol === "TCP") && (endPort === undefined || endPort === 53);
}
