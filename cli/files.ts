import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import type { FileEntry } from "../core/types.ts";

/** Never uploaded, whatever the ignore files say (what Now and Vercel skip by default). */
const ALWAYS_IGNORED = [
  ".git", ".hg", ".svn", ".ferry", ".vercel", ".now", "node_modules", ".DS_Store", "npm-debug.log*",
  ".env.local", ".env.*.local", "*.swp", ".cache", "__pycache__", ".venv",
];

export interface LocalFile extends FileEntry {
  abs: string;
}

/**
 * Lists the files of an app folder the way git would see them: `.gitignore`, `.ferryignore` and
 * `.vercelignore` at any depth apply to their folder; symlinks are followed only when they stay inside the folder.
 */
export async function listAppFiles(root: string, warn: (msg: string) => void = () => {}): Promise<LocalFile[]> {
  const rootReal = await realpath(root);
  const out: LocalFile[] = [];
  const rules: { base: string; ig: Ignore }[] = [{ base: "", ig: ignore().add(ALWAYS_IGNORED) }];

  const ignored = (rel: string, isDir: boolean) =>
    rules.some(({ base, ig }) => {
      if (base && !rel.startsWith(base + "/")) return false;
      const sub = base ? rel.slice(base.length + 1) : rel;
      return ig.ignores(isDir ? sub + "/" : sub);
    });

  const walk = async (dir: string, relDir: string) => {
    const added: typeof rules = [];
    // .vercelignore (and Now's .nowignore) so apps written for Vercel upload what they did there
    for (const name of [".gitignore", ".ferryignore", ".vercelignore", ".nowignore"]) {
      const text = await readFile(join(dir, name), "utf8").catch(() => null);
      if (text !== null) added.push({ base: relDir, ig: ignore().add(text) });
    }
    rules.push(...added);
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const ent of entries) {
      const abs = join(dir, ent.name);
      const rel = relDir ? `${relDir}/${ent.name}` : ent.name;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => null);
        if (!target || !(target === rootReal || target.startsWith(rootReal + sep))) {
          warn(`skipping ${rel}: symlink points outside the app folder`);
          continue;
        }
        const s = await stat(abs);
        isDir = s.isDirectory();
        isFile = s.isFile();
      }
      if (ignored(rel, isDir)) continue;
      if (isDir) await walk(abs, rel);
      else if (isFile) {
        const s = await lstat(abs).then((l) => (l.isSymbolicLink() ? stat(abs) : l));
        out.push({ file: rel, abs, size: s.size, mode: 0o100000 | (s.mode & 0o777), sha: "" });
      }
    }
    rules.splice(rules.length - added.length, added.length);
  };
  await walk(root, "");
  return out;
}

export const sha1File = (abs: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash("sha1");
    createReadStream(abs)
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });

/** Hashes files with bounded concurrency, reporting progress. */
export async function hashFiles(files: LocalFile[], onProgress: (done: number) => void, concurrency = 16) {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, files.length) }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        f.sha = await sha1File(f.abs);
        onProgress(++done);
      }
    }),
  );
  return files;
}

export const relativeTo = (root: string, abs: string) => relative(root, abs).split(sep).join("/");
