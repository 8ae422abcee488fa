import { PlatformPlan } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { aiCore } from "./ai-core";
import { PlatformEntry } from "./entry";
import { matrix } from "./matrix";
import { media } from "./media";
import { microservices } from "./microservices";
import { monitoring } from "./monitoring";
import { osint } from "./osint";
import { webrtc } from "./webrtc";

/**
 * Every platform a stack can enable, by its config key, in build order: a platform is built after those it
 * wires to (Matrix after WebRTC; monitoring last, as it probes every endpoint). Adding a platform is one row
 * here plus its package.
 */
export const platforms = {
  aiCore,
  osint,
  media,
  webrtc,
  microservices,
  matrix,
  monitoring,
} as const satisfies Record<string, PlatformEntry<PlatformPlan, pulumi.ComponentResource>>;

export type PlatformName = keyof typeof platforms;
export const platformNames = Object.keys(platforms) as PlatformName[];
