import type { BuildOutput } from "../core/types.ts";
import type { BuildPlan } from "./build.ts";
import type { BuildErrorItem } from "./errors.ts";
import type { BundleLimits } from "./limits.ts";
import type { BuildRequest } from "./port.ts";

// The channel between the platform and a sandboxed build process. The build process is not
// trusted: the platform checks every blob request (blob-gate.ts) and the output it reports.

/** What a build process runs: the install (its own sandbox, so the platform can seal what it
 * installed once nothing runs) or everything after it. */
export type Phase = "install" | "build";

/** parent -> build process */
export type ParentMessage =
  | { type: "start"; phase: Phase; request: BuildRequest; plan: BuildPlan; limits: BundleLimits }
  | { type: "blob-reply"; id: number; ok: true; bytes?: Uint8Array | null }
  | { type: "blob-reply"; id: number; ok: false; error: string };

/** build process -> parent: log lines as they happen, blob requests, then exactly one outcome */
export type WorkerMessage =
  | { type: "log"; line: string }
  | { type: "blob"; id: number; op: "put"; key: string; bytes: Uint8Array }
  | { type: "blob"; id: number; op: "get"; key: string }
  | { type: "done"; output: BuildOutput | null }
  | { type: "failed"; errors: BuildErrorItem[] }
  | { type: "internal"; message: string; stack?: string };

/** Where a build sees things inside its sandbox. */
export const INSIDE = {
  workspace: "/workspace",
  cache: "/cache",
  worker: "/opt/ferry/build-worker.mjs",
  esbuild: "/opt/ferry/esbuild",
} as const;
