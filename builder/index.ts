// The builder's public surface: build in-process, or in a child process (what the platform does).
export { build, createBuilder, type BuilderOptions } from "./build.ts";
export { runBuildInChild, type ChildBuildOptions } from "./child.ts";
export { DEFAULT_LIMITS, type BundleLimits } from "./limits.ts";
export { buildLimitsFromEnv, DEFAULT_BUILD_LIMITS, type BuildLimits } from "./build-limits.ts";
export type { Builder, BuildContext, BuildRequest } from "./port.ts";
