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
 * - `beside-api`: everything but `api/` (no `public/`), minus code and config, as Vercel serves
 *   such an app (its static step takes `!{api/**,package.json,middleware.[jt]s}`);
 * - `none`: a server app without `public/` serves everything itself.
 */
export type StaticRoot = { kind: "dir"; dir: string; fromDisk: boolean } | { kind: "whole" } | { kind: "beside-api" } | { kind: "none" };

/**
 * Never served from the app root: what describes the build rather than the site. Vercel leaves
 * out vercel.json, now.json and its ignore files, and never serves package.json (a package.json
 * needs a build unless there is `api/`, which excludes it); Ferry also keeps its own config, the
 * lockfiles, Procfile and tsconfig to itself.
 */
const ROOT_PRIVATE = new Set([
  "ferry.json", "vercel.json", "now.json", "package.json", "package-lock.json", "npm-shrinkwrap.json",
  "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb", "Procfile",
]);
const TS_SOURCE = /\.(ts|mts|cts|tsx)$/;

/** Dotfiles and dot-folders are private (`.env`, `.git`, `.vercelignore`), except `.well-known`. */
const isHidden = (rel: string) => rel.split("/").some((s) => s.startsWith(".") && s !== ".well-known");

function servedFromRoot(file: string, kind: "whole" | "beside-api", bundled: Set<string>): boolean {
  if (isHidden(file) || file.startsWith("node_modules/") || ROOT_PRIVATE.has(file) || /^tsconfig.*\.json$/.test(file)) return false;
  if (kind === "whole") return true;
  // the functions' folder, Vercel's root middleware, and anything bundled into a function is code
  if (file.startsWith("api/") || /^middleware\.[jt]s$/.test(file) || bundled.has(file)) return false;
  const name = posix.basename(file);
  return !TS_SOURCE.test(name) && !/^tsconfig.*\.json$/.test(name) && !/\.config\.[cm]?[jt]s$/.test(name);
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
  if (root.kind === "whole" || root.kind === "beside-api") {
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
