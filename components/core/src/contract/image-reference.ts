// Generated from contract/image-reference.ts by `npm run contract`; edit that file, not this copy.
/** A container image reference `[registry/]repository[:tag][@digest]`, as Docker reads it. */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** `host/path:tag@sha256:…` split into the name (`host/path`), tag and digest, without normalising. */
export function splitReference(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

/** Parses a reference the way Docker does: no registry means docker.io, a bare name is `library/<name>`. */
export function parseImage(image: string): ImageRef {
  const { name, tag, digest } = splitReference(image.trim());
  const slash = name.indexOf("/");
  const first = slash >= 0 ? name.slice(0, slash) : "";
  const hasRegistry = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  let repository = hasRegistry ? name.slice(slash + 1) : name;
  if (registry === "docker.io" && !repository.includes("/")) {
    repository = `library/${repository}`;
  }
  return { registry, repository, tag, digest };
}

/** Last path segment of the repository, lower-cased: "bitnami/postgresql" -> "postgresql". */
export function imageBaseName(image: string): string {
  const { repository } = parseImage(image);
  return (repository.split("/").pop() ?? "").toLowerCase();
}

/**
 * Rewrites `host/path:tag` to `<registry>/path:tag`, the layout mirroring tools produce when they drop the
 * source host. Without a registry the reference is unchanged.
 */
export function rewriteRegistry(reference: string, registry?: string): string {
  if (!registry) return reference;
  const slash = reference.indexOf("/");
  const path = reference.slice(slash + 1);
  return `${registry.replace(/\/+$/, "")}/${path}`;
}
