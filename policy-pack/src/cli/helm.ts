import * as fs from "fs";
import * as path from "path";
import type { InputFinding } from "./input-findings";

/** A Helm chart whose templates were given to the audit (found under `<dir>/templates/`). */
export interface HelmChart {
  dir: string;
  name: string;
  templates: string[];
}

const RENDER_HINT =
  "helm template <release> <chart folder> -f <your values> | keel-audit - " +
  "(or helm template ... --output-dir rendered/ && keel-audit rendered/)";

/**
 * A template action that only Helm gives a meaning to: Helm's built-in objects or its own functions. Plain Go
 * templates in rendered manifests (Prometheus `{{ $labels.x }}`, Alertmanager `{{ range .Alerts }}`) do not match.
 */
const HELM_ACTION =
  /\{\{-?[^{}]*?(?:\$?\.(?:Values|Release|Chart|Capabilities|Files|Template)\b|\binclude\s+"|\btoYaml\b|\bnindent\b)[^{}]*\}\}/;

const CHART_FILE = /^(?:Chart\.(?:ya?ml|lock)|values[^/]*\.(?:ya?ml|json)|requirements\.(?:ya?ml|lock))$/;

/** Recognises the files of Helm charts: `<chart>/templates/**` next to a `<chart>/Chart.yaml`. */
export class ChartFinder {
  private readonly isChart = new Map<string, boolean>();
  private readonly charts = new Map<string, HelmChart>();

  /**
   * True when `file` belongs to a chart and is not a manifest: a template (recorded for the chart's finding),
   * or the chart's own Chart.yaml, Chart.lock, values or requirements file.
   */
  claim(file: string): boolean {
    const root = this.chartRootOf(file);
    if (root !== undefined) {
      this.chart(root).templates.push(file);
      return true;
    }
    return CHART_FILE.test(path.basename(file)) && this.hasChartYaml(path.dirname(path.resolve(file)));
  }

  /** The charts with at least one template among the files claimed. */
  found(): HelmChart[] {
    return [...this.charts.values()];
  }

  private chart(root: string): HelmChart {
    let chart = this.charts.get(root);
    if (!chart) {
      chart = { dir: root, name: chartName(root), templates: [] };
      this.charts.set(root, chart);
    }
    return chart;
  }

  private chartRootOf(file: string): string | undefined {
    let dir = path.dirname(path.resolve(file));
    while (path.dirname(dir) !== dir) {
      const parent = path.dirname(dir);
      if (path.basename(dir) === "templates" && this.hasChartYaml(parent)) {
        // shown the way the file was given: absolute, or relative to the working folder
        return path.isAbsolute(file) ? parent : path.relative(process.cwd(), parent) || ".";
      }
      dir = parent;
    }
    return undefined;
  }

  private hasChartYaml(dir: string): boolean {
    let known = this.isChart.get(dir);
    if (known === undefined) {
      known = fs.existsSync(path.join(dir, "Chart.yaml"));
      this.isChart.set(dir, known);
    }
    return known;
  }
}

function chartName(dir: string): string {
  try {
    const match = /^name:[ \t]*["']?([^"'\s#]+)/m.exec(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8"));
    if (match) {
      return match[1]!;
    }
  } catch {
    // an unreadable Chart.yaml: fall back to the folder's name
  }
  return path.basename(path.resolve(dir));
}

export function chartFinding(chart: HelmChart): InputFinding {
  const count = chart.templates.length;
  return {
    rule: "helm-unrendered",
    kind: "HelmChart",
    name: chart.name,
    file: chart.dir,
    message:
      `Helm chart '${chart.name}' (${chart.dir}): ${count} template file${count === 1 ? "" : "s"} under templates/ ` +
      `${count === 1 ? "is" : "are"} not rendered and ${count === 1 ? "was" : "were"} not audited: render the chart and audit the output, e.g. ${RENDER_HINT.replace("<chart folder>", chart.dir)}`,
  };
}

/** The 1-based line of the first Helm template action in `text`, if any. */
export function helmActionLine(text: string): { line: number; action: string } | undefined {
  if (!text.includes("{{")) {
    return undefined;
  }
  const match = HELM_ACTION.exec(text);
  if (!match) {
    return undefined;
  }
  return { line: text.slice(0, match.index).split("\n").length, action: match[0] };
}

/** A template file outside any chart folder: a `.tpl` file, or YAML with Helm template actions. */
export function templateFileFinding(
  file: string,
  name: string,
  at: { line: number; action: string } | undefined,
): InputFinding {
  const what = at
    ? `line ${at.line} has the Helm template action ${at.action}`
    : "a .tpl file holds Helm template definitions";
  const finding: InputFinding = {
    rule: "helm-unrendered",
    kind: "File",
    name,
    file,
    message: `unrendered Helm template (${what}); the file was not audited: render its chart and audit the output, e.g. ${RENDER_HINT}`,
  };
  if (at) {
    finding.line = at.line;
  }
  return finding;
}
