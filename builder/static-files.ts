import { readdir, readFile, stat } from "node:fs/promises";
import { posix } from "node:path";
import mime from "mime-types";
import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import { sha1 } from "../core/ids.ts";
import type { FileEntry, StaticFile } from "../core/types.ts";
import { eachLimit } from "./concurrency.ts";
import { UserBuildError } from "./errors.ts";
import { workPath } from "./workspace.ts";

/**
 * Where static files come from:
 * - `dir`: one folder (`public/`, `outputDirectory`, a build's `dist/`); `fromDisk` when a build
 *   command ran, so its files are read from the workspace rather than the upload;
 * - `whole`: the whole upload (an app with no code);
 * - `top-level`: the files at the root next to `api/` (no `public/`), minus code and config;
 * - `none`: a server app without `public/` serves everything itself.
 */
export type StaticRoot = { kind: "dir"; dir: string; fromDisk: boolean } | { kind: "whole" } | { kind: "top-level" } | { kind: "none" };

/** Never served from the app root: manifests, lockfiles, config, installed packages. */
const ROOT_PRIVATE = new Set(["ferry.json", "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb"]);
const TS_SOURCE = /\.(ts|mts|cts|tsx)$/;

/** Dotfiles and dot-folders are private (`.env`, `.git`), except `.well-known`. */
const isHidden = (rel: string) => rel.split("/").some((s) => s.startsWith(".") && s !== ".well-known");

function servedFromRoot(file: string, kind: "whole" | "top-level", bundled: Set<string>): boolean {
  if (isHidden(file) || file.startsWith("node_modules/") || ROOT_PRIVATE.has(file)) return false;
  if (kind === "whole") return true;
  if (file.includes("/") || bundled.has(file)) return false;
  return !TS_SOURCE.test(file) && !/^tsconfig.*\.json$/.test(file) && !/\.config\.[cm]?[jt]s$/.test(file);
}

/** `text/html; charset=utf-8` for text types, the bare type otherwise. */
export function contentTypeOf(path: string): string {
  return mime.contentType(posix.basename(path)) || "application/octet-stream";
}

async function walkDisk(workDir: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(workPath(workDir, rel), { withFileTypes: true });
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== "node_modules") await walk(p);
      } else if (e.isFile() || (e.isSymbolicLink() && (await stat(workPath(workDir, p)).catch(() => null))?.isFile())) {
        out.push(p);
      }
    }
  };
  await walk(dir);
  return out;
}

export interface CollectOptions {
  workDir: string;
  accountId: string;
  files: FileEntry[];
  blobs: BlobStore;
  /** files bundled into functions: never served as static from the app root */
  bundled: Set<string>;
}

/**
 * The static manifest. Uploaded files are referenced where they already are (by sha); files a
 * build produced are hashed and stored the same way, so identical bytes are stored once.
 */
export async function collectStatic(root: StaticRoot, opts: CollectOptions): Promise<StaticFile[]> {
  const entry = (path: string, sha: string, size: number): StaticFile => ({
    path,
    key: blobKeys.file(opts.accountId, sha),
    sha,
    size,
    contentType: contentTypeOf(path),
  });
  let out: StaticFile[] = [];
  if (root.kind === "none") return [];
  if (root.kind === "whole" || root.kind === "top-level") {
    out = opts.files.filter((f) => servedFromRoot(f.file, root.kind, opts.bundled)).map((f) => entry(f.file, f.sha, f.size));
  } else if (!root.fromDisk) {
    const prefix = `${root.dir}/`;
    out = opts.files
      .filter((f) => f.file.startsWith(prefix) && !isHidden(f.file.slice(prefix.length)))
      .map((f) => entry(f.file.slice(prefix.length), f.sha, f.size));
  } else {
    const uploaded = new Set(opts.files.map((f) => f.sha));
    const paths = (await walkDisk(opts.workDir, root.dir)).filter((p) => !isHidden(p.slice(root.dir.length + 1)));
    await eachLimit(paths, 16, async (p) => {
      const bytes = await readFile(workPath(opts.workDir, p)).catch((e: NodeJS.ErrnoException) => {
        throw new UserBuildError([{ message: `static file ${p} cannot be read (${e.code ?? e.message})`, file: p }]);
      });
      const sha = sha1(bytes);
      if (!uploaded.has(sha)) await opts.blobs.put(blobKeys.file(opts.accountId, sha), bytes);
      out.push(entry(p.slice(root.dir.length + 1), sha, bytes.byteLength));
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
