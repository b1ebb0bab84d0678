import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import { sha1 } from "../core/ids.ts";
import { confinePath } from "../core/paths.ts";
import type { FileEntry } from "../core/types.ts";
import { throwIfAborted, UserBuildError } from "./errors.ts";

/** How many blobs are fetched at once: enough to hide store latency (S3), few enough for fds. */
const CONCURRENCY = 32;

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Writes the uploaded files into the workspace. Paths were confined by the API already; they are
 * checked again here because the workspace is on the build machine's disk. Bytes are verified
 * against their sha so a corrupted blob fails the build instead of shipping.
 */
export async function materialize(files: FileEntry[], accountId: string, blobs: BlobStore, workDir: string, signal?: AbortSignal): Promise<void> {
  const root = resolve(workDir);
  await mkdir(root, { recursive: true });
  const seen = new Set<string>();
  const targets = files.map((f) => {
    let rel: string;
    try {
      rel = confinePath(f.file);
    } catch (e) {
      throw new UserBuildError((e as Error).message);
    }
    const abs = resolve(root, ...rel.split("/"));
    if (!abs.startsWith(root + sep)) throw new UserBuildError(`file path ${JSON.stringify(f.file)} escapes the app folder`);
    if (seen.has(rel)) throw new UserBuildError(`file ${JSON.stringify(rel)} is listed twice`);
    seen.add(rel);
    return { entry: f, abs };
  });
  // each folder once, before the writes
  await eachLimit([...new Set(targets.map((t) => dirname(t.abs)))], CONCURRENCY, async (d) => void (await mkdir(d, { recursive: true })));
  await eachLimit(targets, CONCURRENCY, async ({ entry, abs }) => {
    throwIfAborted(signal);
    const bytes = await blobs.get(blobKeys.file(accountId, entry.sha));
    if (!bytes) throw new UserBuildError(`file ${entry.file} (${entry.sha}) was not uploaded`);
    if (sha1(bytes) !== entry.sha) throw new UserBuildError(`file ${entry.file} does not match its sha ${entry.sha}`);
    await writeFile(abs, bytes);
    // keep the executable bit (scripts run by a build command); everything else stays 0644
    if (entry.mode & 0o111) await chmod(abs, 0o755);
  });
}

export const workPath = (workDir: string, rel: string) => join(workDir, ...rel.split("/"));
