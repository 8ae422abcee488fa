/** Container image references: `[registry/]repository[:tag][@digest]`. */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImage(image: string): ImageRef {
  let rest = image.trim();
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
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const hasRegistry = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
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
