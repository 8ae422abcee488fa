"use strict";
// What the bundled policy pack gets for `require("@pulumi/pulumi")` (scripts/bundle-pack.js):
// @pulumi/policy's deserialize.js uses only `asset` from it, and the whole SDK costs ≈ 0.7 s of CPU to load.
module.exports = { asset: require("@pulumi/pulumi/asset") };
