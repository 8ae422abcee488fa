// The bundle's bill of materials, CycloneDX 1.5 JSON (sbom.cdx.json): the npm packages of the program and
// of the policy pack, the resource plugins, the CLIs, and the container images with their digests.
import { randomUUID } from "crypto";
import { parseImage, splitReference } from "./site/image-reference";

export interface SbomPackage {
  name: string;
  version: string;
}

export interface SbomImage {
  reference: string;
  digest?: string;
  /** In the bundle's layout (false: left out, the site holds it; undefined: the bundle carries no images). */
  carried?: boolean;
}

export interface SbomInput {
  project: string;
  keel: string;
  createdAt: string;
  program: SbomPackage[];
  policyPack: SbomPackage[];
  plugins: SbomPackage[];
  /** pulumi, the language host, node, crane. */
  tools: SbomPackage[];
  images: SbomImage[];
}

type Component = Record<string, unknown>;

/** purl of an npm package: `pkg:npm/%40scope/name@version`. */
export function npmPurl(p: SbomPackage): string {
  return `pkg:npm/${p.name.replace(/^@/, "%40")}@${p.version}`;
}

/** purl of an image: `pkg:oci/<name>@sha256%3A<hex>?repository_url=<registry/path>&tag=<tag>`. */
export function imagePurl(image: SbomImage): string {
  const { name, tag } = splitReference(image.reference);
  const last = name.split("/").pop()!;
  const query = [`repository_url=${name}`, ...(tag ? [`tag=${tag}`] : [])].join("&");
  return `pkg:oci/${last}${image.digest ? `@${image.digest.replace(":", "%3A")}` : ""}?${query}`;
}

function unique(packages: SbomPackage[]): SbomPackage[] {
  const seen = new Map(packages.map((p) => [`${p.name}@${p.version}`, p]));
  return [...seen.values()].sort((a, b) => (`${a.name}@${a.version}` < `${b.name}@${b.version}` ? -1 : 1));
}

const part = (value: string) => [{ name: "keel:part", value }];

function npmComponents(packages: SbomPackage[], where: string): Component[] {
  return unique(packages).map((p) => ({
    type: "library",
    "bom-ref": `${where}:${npmPurl(p)}`,
    name: p.name,
    version: p.version,
    purl: npmPurl(p),
    properties: part(where),
  }));
}

function imageComponent(i: SbomImage): Component {
  const { repository, tag } = parseImage(i.reference);
  return {
    type: "container",
    "bom-ref": `image:${i.reference}`,
    name: `${parseImage(i.reference).registry}/${repository}`,
    version: tag ?? "",
    purl: imagePurl(i),
    ...(i.digest ? { hashes: [{ alg: "SHA-256", content: i.digest.replace(/^sha256:/, "") }] } : {}),
    properties: [
      ...part("image"),
      ...(i.carried === undefined ? [] : [{ name: "keel:carried", value: String(i.carried) }]),
    ],
  };
}

export function cycloneDx(i: SbomInput): Record<string, unknown> {
  const app = (p: SbomPackage, where: string): Component => ({
    type: "application",
    "bom-ref": `${where}:${p.name}@${p.version}`,
    name: p.name,
    version: p.version,
    purl: `pkg:generic/${p.name}@${p.version}`,
    properties: part(where),
  });
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: i.createdAt,
      tools: { components: [{ type: "application", name: "keel npm run bundle", version: i.keel }] },
      component: { type: "application", "bom-ref": "bundle", name: i.project, version: i.keel },
    },
    components: [
      ...npmComponents(i.program, "program"),
      ...npmComponents(i.policyPack, "policy-pack"),
      ...unique(i.plugins).map((p) =>
        app({ name: `pulumi-resource-${p.name}`, version: p.version }, "plugin"),
      ),
      ...unique(i.tools).map((p) => app(p, "cli")),
      ...i.images.map(imageComponent),
    ],
  };
}
