export { createSandbox, UNSANDBOXED_VAR, type SandboxOptions } from "./create.ts";
export { defaultSandbox } from "./default.ts";
export type { Mount, LimitHit, Sandbox, SandboxedProcess, SandboxLimits, SandboxSpec, SandboxStatus } from "./port.ts";
