import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { realpath } from "node:fs/promises";
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
  /** the bytes that were hashed, kept for the upload (small files, up to KEEP_BYTES in all) */
  bytes?: Buffer;
}

/** Files up to this size are read whole to be hashed; larger ones are streamed. */
const READ_WHOLE_MAX = 256 * 1024;
/** how many bytes of small files are kept in memory between hashing and uploading */
const KEEP_BYTES = 64 * 1024 * 1024;

/**
 * Lists the files of an app folder the way git would see them: `.gitignore`, `.ferryignore` and
 * `.vercelignore` at any depth apply to their folder; symlinks are followed only when they stay inside the folder.
 * The walk makes synchronous calls: nothing else runs meanwhile, and a stat or readdir takes less
 * than the thread pool hop of its async form (thousands of files add up).
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

  const readIgnore = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return null;
    }
  };
  const walk = (dir: string, relDir: string) => {
    const added: typeof rules = [];
    // .vercelignore (and Now's .nowignore) so apps written for Vercel upload what they did there
    for (const name of [".gitignore", ".ferryignore", ".vercelignore", ".nowignore"]) {
      const text = readIgnore(join(dir, name));
      if (text !== null) added.push({ base: relDir, ig: ignore().add(text) });
    }
    rules.push(...added);
    const entries = readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const ent of entries) {
      const abs = join(dir, ent.name);
      const rel = relDir ? `${relDir}/${ent.name}` : ent.name;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        let target: string | null = null;
        try {
          target = realpathSync(abs);
        } catch {
          /* a dangling link */
        }
        if (!target || !(target === rootReal || target.startsWith(rootReal + sep))) {
          warn(`skipping ${rel}: symlink points outside the app folder`);
          continue;
        }
        const s = statSync(abs);
        isDir = s.isDirectory();
        isFile = s.isFile();
      }
      if (ignored(rel, isDir)) continue;
      if (isDir) walk(abs, rel);
      else if (isFile) {
        const l = lstatSync(abs);
        const s = l.isSymbolicLink() ? statSync(abs) : l;
        out.push({ file: rel, abs, size: s.size, mode: 0o100000 | (s.mode & 0o777), sha: "" });
      }
    }
    rules.splice(rules.length - added.length, added.length);
  };
  walk(root, "");
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

/**
 * Hashes files, reporting progress: small ones read whole with synchronous reads (their bytes kept
 * for the upload, and their size taken from what was read), large ones streamed, `concurrency` at once.
 */
export async function hashFiles(files: LocalFile[], onProgress: (done: number) => void, concurrency = 16) {
  let done = 0;
  let kept = 0;
  const large: LocalFile[] = [];
  for (const f of files) {
    if (f.size > READ_WHOLE_MAX) {
      large.push(f);
      continue;
    }
    const bytes = readFileSync(f.abs);
    f.sha = createHash("sha1").update(bytes).digest("hex");
    f.size = bytes.length;
    if (kept + bytes.length <= KEEP_BYTES) {
      f.bytes = bytes;
      kept += bytes.length;
    }
    onProgress(++done);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, large.length) }, async () => {
      while (next < large.length) {
        const f = large[next++]!;
        f.sha = await sha1File(f.abs);
        onProgress(++done);
      }
    }),
  );
  return files;
}

export const relativeTo = (root: string, abs: string) => relative(root, abs).split(sep).join("/");
