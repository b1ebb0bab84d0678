import picomatch from "picomatch";
import type { FerryConfig } from "../core/config/schema.ts";
import type { FunctionConfig } from "../core/types.ts";

export const FUNCTION_DEFAULTS: FunctionConfig = { memory: 1024, maxDuration: 30, maxConcurrency: 10 };

/**
 * Settings for one function: the defaults, overridden by every ferry.json `functions` glob that
 * matches its source path, in the order they are written (later keys win, like vercel.json).
 */
export function functionConfigFor(source: string, config: FerryConfig): FunctionConfig {
  const out = { ...FUNCTION_DEFAULTS };
  for (const [glob, settings] of Object.entries(config.functions ?? {})) {
    if (!picomatch.isMatch(source, glob, { dot: true })) continue;
    if (settings.memory !== undefined) out.memory = settings.memory;
    if (settings.maxDuration !== undefined) out.maxDuration = settings.maxDuration;
    if (settings.maxConcurrency !== undefined) out.maxConcurrency = settings.maxConcurrency;
    if (settings.streamingBody !== undefined) out.streamingBody = settings.streamingBody;
  }
  return out;
}

/** What a function ships besides what tracing finds: ferry.json `includeFiles` / `excludeFiles`. */
export interface FunctionFiles {
  includeFiles?: string;
  excludeFiles?: string;
}

/**
 * `includeFiles` and `excludeFiles` of one function (globs relative to the app root), merged the
 * same way as the other settings: the last matching `functions` glob that sets one wins. They
 * shape the build only, so they are not part of the stored FunctionConfig.
 */
export function functionFilesFor(source: string, config: FerryConfig): FunctionFiles {
  const out: FunctionFiles = {};
  for (const [glob, settings] of Object.entries(config.functions ?? {})) {
    if (!picomatch.isMatch(source, glob, { dot: true })) continue;
    if (settings.includeFiles !== undefined) out.includeFiles = settings.includeFiles;
    if (settings.excludeFiles !== undefined) out.excludeFiles = settings.excludeFiles;
  }
  return out;
}
