import type { BuildResult } from "../core/types.ts";

export type BuildErrorItem = { message: string; file?: string; line?: number; column?: number };

/**
 * A user's mistake found during a build (bad code, failed install, oversized bundle).
 * Steps throw it; the orchestrator turns it into an error result, so `build()` never throws for it.
 */
export class UserBuildError extends Error {
  readonly errors: BuildErrorItem[];
  constructor(errors: BuildErrorItem[] | string) {
    const list = typeof errors === "string" ? [{ message: errors }] : errors;
    super(list.map((e) => e.message).join("\n"));
    this.name = "UserBuildError";
    this.errors = list;
  }
}

export class BuildCanceled extends Error {
  constructor() {
    super("build canceled");
    this.name = "BuildCanceled";
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new BuildCanceled();
}

export const errorResult = (errors: BuildErrorItem[]): BuildResult => ({ type: "error", errors });
export const canceledResult = (): BuildResult => errorResult([{ message: "build canceled" }]);
