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

/** A file shipped beside the bundle: its size, and its bytes when the zipped size must be estimated. */
export interface ShippedFile {
  size: number;
  read(): Promise<Uint8Array>;
}

/**
 * Fails when a function's files (its bundle and the files shipped beside it) are over the limits.
 * The zipped size is estimated with gzip, and only when the raw size could exceed it (compressing
 * every function would slow every build).
 */
export async function checkBundleSize(name: string, files: Uint8Array[], limits: BundleLimits, shipped: ShippedFile[] = []): Promise<void> {
  const bundle = files.reduce((n, f) => n + f.byteLength, 0);
  const extra = shipped.reduce((n, f) => n + f.size, 0);
  const raw = bundle + extra;
  const what = extra ? ` (bundle ${formatBytes(bundle)} + ${formatBytes(extra)} of files it reads)` : "";
  if (raw > limits.maxUnzippedBytes) {
    throw new UserBuildError(`function ${name} is ${formatBytes(raw)} unzipped${what}, over the ${formatBytes(limits.maxUnzippedBytes)} limit`);
  }
  // gzip output is at most a few bytes per block larger than its input
  if (raw + 1024 * (1 + shipped.length) <= limits.maxZippedBytes) return;
  let zipped = 0;
  for (const f of files) zipped += (await gzipP(f)).byteLength;
  for (const f of shipped) zipped += (await gzipP(await f.read())).byteLength;
  if (zipped > limits.maxZippedBytes) {
    throw new UserBuildError(`function ${name} is ${formatBytes(zipped)} zipped${what}, over the ${formatBytes(limits.maxZippedBytes)} limit`);
  }
}
