import { formatSeconds } from "./format.ts";

/** What one sandboxed build may use; past any of them it is stopped and fails naming the limit. */
export interface BuildLimits {
  /** wall time of the whole build, install included */
  timeoutMs: number;
  /** memory of every process of the build together (cgroup), its private /tmp included */
  memoryMb: number;
  /** processes and threads together */
  pids: number;
  /** the workspace plus what the build adds to its account's cache folder, measured every `diskCheckMs` */
  diskMb: number;
  diskCheckMs: number;
  /** size of the build's private /tmp (memory, counted in `memoryMb`) */
  tmpMb: number;
}

export const DEFAULT_BUILD_LIMITS: BuildLimits = {
  timeoutMs: 15 * 60_000,
  memoryMb: 3072,
  pids: 512,
  diskMb: 4096,
  diskCheckMs: 2000,
  tmpMb: 1024,
};

/**
 * Limits set by the operator: `FERRY_BUILD_TIMEOUT_S`, `FERRY_BUILD_MEMORY_MB`,
 * `FERRY_BUILD_DISK_MB`, `FERRY_BUILD_PIDS`. Unset variables keep the defaults.
 */
export function buildLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<BuildLimits> {
  const out: Partial<BuildLimits> = {};
  const num = (name: string) => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  const t = num("FERRY_BUILD_TIMEOUT_S");
  if (t !== undefined) out.timeoutMs = t * 1000;
  const m = num("FERRY_BUILD_MEMORY_MB");
  if (m !== undefined) out.memoryMb = m;
  const d = num("FERRY_BUILD_DISK_MB");
  if (d !== undefined) out.diskMb = d;
  const p = num("FERRY_BUILD_PIDS");
  if (p !== undefined) out.pids = Math.floor(p);
  return out;
}

/** `15 min`, `90 s`, `1.5s` */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return formatSeconds(ms);
}

export const limitMessages = {
  time: (l: BuildLimits) => `build stopped: it ran longer than the build time limit of ${formatDuration(l.timeoutMs)}`,
  memory: (l: BuildLimits) => `build stopped: it used more than the build memory limit of ${l.memoryMb} MB`,
  pids: (l: BuildLimits) => `build failed: it tried to run more than the build process limit of ${l.pids} processes and threads`,
  disk: (l: BuildLimits, usedMb: number) => `build stopped: its workspace and cache grew to ${Math.round(usedMb)} MB, over the build disk limit of ${l.diskMb} MB`,
};
