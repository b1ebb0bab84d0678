import { linkSync, rmSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import { sha1 } from "../core/ids.ts";
import { confinePath } from "../core/paths.ts";
import type { FileEntry } from "../core/types.ts";
import { localBlobRoot } from "./blob-link.ts";
import { eachLimit } from "./concurrency.ts";
import { throwIfAborted, UserBuildError } from "./errors.ts";

/** How many blobs are fetched at once: enough to hide store latency (S3), few enough for fds. */
const CONCURRENCY = 32;

interface Target {
  entry: FileEntry;
  /** the confined relative path (POSIX) */
  rel: string;
  abs: string;
}

export interface MaterializeOptions {
  signal?: AbortSignal;
  /**
   * Hard-link files from a filesystem blob store instead of copying them. Only when nothing will
   * write into the workspace (no install, no build command): a write through a link would change
   * the stored blob.
   */
  link?: boolean;
  /** files already in `workDir` from an earlier build (path -> sha): kept when unchanged */
  previous?: Record<string, string> | null;
}

/**
 * Writes the uploaded files into the workspace. Paths were confined by the API already; they are
 * checked again here because the workspace is on the build machine's disk. Copied bytes are
 * verified against their sha so a corrupted blob fails the build instead of shipping.
 */
export async function materialize(files: FileEntry[], accountId: string, blobs: BlobStore, workDir: string, opts: MaterializeOptions = {}): Promise<void> {
  const root = resolve(workDir);
  await mkdir(root, { recursive: true });
  // confinePath gives a normalized relative path (no "..", no leading "/"): on POSIX joining is
  // concatenation, which for thousands of files is measurably cheaper than path.resolve
  const absOf = (rel: string) => (sep === "/" ? `${root}/${rel}` : resolve(root, ...rel.split("/")));
  const seen = new Set<string>();
  let targets = files.map((f): Target => {
    let rel: string;
    try {
      rel = confinePath(f.file);
    } catch (e) {
      throw new UserBuildError((e as Error).message);
    }
    const abs = absOf(rel);
    if (!abs.startsWith(root + sep)) throw new UserBuildError(`file path ${JSON.stringify(f.file)} escapes the app folder`);
    if (seen.has(rel)) throw new UserBuildError(`file ${JSON.stringify(rel)} is listed twice`);
    seen.add(rel);
    return { entry: f, rel, abs };
  });
  if (opts.previous) {
    // an earlier build's workspace: drop what changed or went away, keep the rest as it is.
    // Its manifest names files as they were uploaded, which is nearly always the confined form:
    // looked up as is, and confined only to remove what is not wanted as it stands.
    const prev = opts.previous;
    const wanted = new Map(targets.map((t) => [t.rel, t.entry.sha]));
    for (const file in prev) {
      if (wanted.get(file) === prev[file]) continue;
      let rel: string;
      try {
        rel = confinePath(file);
      } catch {
        continue; // never written by a build: nothing of it is in the workspace
      }
      rmSync(absOf(rel), { force: true });
    }
    targets = targets.filter((t) => prev[t.rel] !== t.entry.sha);
  }
  if (!targets.length) return;
  // each folder once, before the writes
  await eachLimit([...new Set(targets.map((t) => dirname(t.abs)))], CONCURRENCY, async (d) => void (await mkdir(d, { recursive: true })));
  const blobRoot = opts.link ? await localBlobRoot(blobs, blobKeys.file(accountId, targets[0]!.entry.sha)) : null;

  const toCopy = blobRoot ? await linkAll(targets, blobRoot, accountId, opts.signal) : targets;
  await eachLimit(toCopy, CONCURRENCY, async ({ entry, abs }) => {
    throwIfAborted(opts.signal);
    const bytes = await blobs.get(blobKeys.file(accountId, entry.sha));
    if (!bytes) throw new UserBuildError(`file ${entry.file} (${entry.sha}) was not uploaded`);
    if (sha1(bytes) !== entry.sha) throw new UserBuildError(`file ${entry.file} does not match its sha ${entry.sha}`);
    await writeFile(abs, bytes);
    // keep the executable bit (scripts run by a build command); everything else stays 0644
    if (entry.mode & 0o111) await chmod(abs, 0o755);
  });
}

/**
 * Hard-links what it can and returns the rest (another disk, links not allowed: copy those).
 * Synchronous in slices: a link is one short syscall, and the thread pool hop would cost more.
 */
async function linkAll(targets: Target[], blobRoot: string, accountId: string, signal?: AbortSignal): Promise<Target[]> {
  const rest: Target[] = [];
  const root = blobRoot.endsWith(sep) ? blobRoot : blobRoot + sep;
  for (let i = 0; i < targets.length; i++) {
    if (i % 500 === 499) {
      await new Promise((r) => setImmediate(r));
      throwIfAborted(signal);
    }
    try {
      linkSync(sep === "/" ? `${root}${blobKeys.file(accountId, targets[i]!.entry.sha)}` : join(blobRoot, ...blobKeys.file(accountId, targets[i]!.entry.sha).split("/")), targets[i]!.abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") return rest.concat(targets.slice(i));
      rest.push(targets[i]!);
    }
  }
  return rest;
}

export const workPath = (workDir: string, rel: string) => join(workDir, ...rel.split("/"));

