import { gzip } from "node:zlib";
import { promisify } from "node:util";
import { UserBuildError } from "./errors.ts";
import { formatBytes } from "./format.ts";

const gzipP = promisify(gzip);

/** Per-function bundle limits; the defaults are AWS Lambda's so a bundle that builds also deploys there. */
export interface BundleLimits {
  maxUnzippedBytes: number;
  maxZippedBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = { maxUnzippedBytes: 250 * 1024 * 1024, maxZippedBytes: 50 * 1024 * 1024 };

/**
 * Fails when a function's files are over the limits. The zipped size is estimated with gzip, and
 * only when the raw size could exceed it (compressing every bundle would slow every build).
 */
export async function checkBundleSize(name: string, files: Uint8Array[], limits: BundleLimits): Promise<void> {
  const raw = files.reduce((n, f) => n + f.byteLength, 0);
  if (raw > limits.maxUnzippedBytes) {
    throw new UserBuildError(`function ${name} is ${formatBytes(raw)} unzipped, over the ${formatBytes(limits.maxUnzippedBytes)} limit`);
  }
  // gzip output is at most a few bytes per block larger than its input
  if (raw + 1024 <= limits.maxZippedBytes) return;
  let zipped = 0;
  for (const f of files) zipped += (await gzipP(f)).byteLength;
  if (zipped > limits.maxZippedBytes) {
    throw new UserBuildError(`function ${name} is ${formatBytes(zipped)} zipped, over the ${formatBytes(limits.maxZippedBytes)} limit`);
  }
}
