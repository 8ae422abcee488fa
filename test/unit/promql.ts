import { parser } from "@prometheus-io/lezer-promql";

/** Syntax errors of a PromQL expression, from Prometheus' own grammar (@prometheus-io/lezer-promql). */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) {
        errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
      }
    },
  });
  return errors;
}
