import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, rawFromAllConfig, validateProviderConfig } from "./program/config";
import { deploy } from "./program/deploy";
import { plainStackTraces } from "./program/stack-traces";

plainStackTraces();

// Config is read here and nowhere else; a bad value throws before any resource is registered.
const all = pulumi.runtime.allConfig();
validateProviderConfig(all);
const cfg = parseStackConfig(rawFromAllConfig(all));
const keel = new pulumi.Config("keel");
const out = deploy(cfg, {
  tlsCertificate: keel.getSecret("tlsCertificate"),
  tlsKey: keel.getSecret("tlsKey"),
  openctiToken: keel.getSecret("openctiToken"),
  openaiApiKey: keel.getSecret("openaiApiKey"),
  anthropicApiKey: keel.getSecret("anthropicApiKey"),
});

export const namespaces = out.namespaces;
export const endpoints = out.endpoints;
export const generatedSecrets = out.generatedSecrets;
export const caCertificate = out.caCertificate;
export const images = out.images;
