/** An attribute value of Alloy's configuration syntax; `{ ref }` is an expression (a component export). */
export type AlloyValue = string | number | boolean | string[] | { ref: string };

/** A block: `name "label" { attributes… blocks… }`. */
export interface AlloyBlock {
  name: string;
  label?: string;
  attrs?: Record<string, AlloyValue>;
  blocks?: AlloyBlock[];
}

function value(v: AlloyValue): string {
  if (Array.isArray(v)) return `[${v.map((s) => JSON.stringify(s)).join(", ")}]`;
  if (typeof v === "object") return v.ref;
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function block(b: AlloyBlock, indent: number): string[] {
  const pad = "  ".repeat(indent);
  const head = `${pad}${b.name}${b.label !== undefined ? ` ${JSON.stringify(b.label)}` : ""} {`;
  const attrs = Object.entries(b.attrs ?? {}).map(([k, v]) => `${pad}  ${k} = ${value(v)}`);
  // A blank line between items, none after the opening brace.
  const inner = (b.blocks ?? []).flatMap((c, i) => [
    ...(i > 0 || attrs.length > 0 ? [""] : []),
    ...block(c, indent + 1),
  ]);
  return [head, ...attrs, ...inner, `${pad}}`];
}

/** Renders blocks in the given order (deterministic: the order is the program's). */
export function renderAlloy(blocks: AlloyBlock[]): string {
  return blocks.map((b) => block(b, 0).join("\n")).join("\n\n") + "\n";
}

const relabel = (source: string, target: string): AlloyBlock => ({
  name: "rule",
  attrs: { source_labels: [source], target_label: target },
});

/**
 * config.alloy: pods of the watched namespaces are discovered and their logs tailed through the Kubernetes API
 * (`loki.source.kubernetes`: no hostPath, no root, no DaemonSet), labelled and pushed to Loki.
 */
export function renderAlloyConfig(namespaces: readonly string[], lokiPushUrl: string): string {
  return renderAlloy([
    {
      name: "discovery.kubernetes",
      label: "pods",
      attrs: { role: "pod" },
      blocks: [{ name: "namespaces", attrs: { names: [...new Set(namespaces)].sort() } }],
    },
    {
      name: "discovery.relabel",
      label: "pods",
      attrs: { targets: { ref: "discovery.kubernetes.pods.targets" } },
      blocks: [
        {
          name: "rule",
          attrs: {
            action: "drop",
            source_labels: ["__meta_kubernetes_pod_phase"],
            regex: "Pending|Succeeded|Failed",
          },
        },
        // One target per container, not per container port: one tailer per log stream.
        { name: "rule", attrs: { action: "labeldrop", regex: "__meta_kubernetes_pod_container_port_.*" } },
        relabel("__meta_kubernetes_namespace", "namespace"),
        relabel("__meta_kubernetes_pod_name", "pod"),
        relabel("__meta_kubernetes_pod_container_name", "container"),
        relabel("__meta_kubernetes_pod_label_app_kubernetes_io_name", "app"),
        relabel("__meta_kubernetes_pod_label_app_kubernetes_io_part_of", "part_of"),
        {
          name: "rule",
          attrs: {
            source_labels: [
              "__meta_kubernetes_namespace",
              "__meta_kubernetes_pod_label_app_kubernetes_io_name",
            ],
            separator: "/",
            target_label: "job",
          },
        },
      ],
    },
    {
      name: "loki.source.kubernetes",
      label: "pods",
      attrs: {
        targets: { ref: "discovery.relabel.pods.output" },
        forward_to: { ref: "[loki.write.default.receiver]" },
      },
    },
    { name: "loki.write", label: "default", blocks: [{ name: "endpoint", attrs: { url: lokiPushUrl } }] },
  ]);
}
