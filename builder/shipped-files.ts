import { lstat, readdir, readFile } from "node:fs/promises";
import picomatch from "picomatch";
import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import { sha1 } from "../core/ids.ts";
import type { FileEntry, FunctionAsset } from "../core/types.ts";
import type { PlannedFunction } from "./detect.ts";
import type { FunctionFiles } from "./function-config.ts";
import type { Tracer } from "./trace.ts";
import { workPath } from "./workspace.ts";

// The app files a function's folder holds besides its bundle, at their paths from the app root:
// what its modules read (traced), what `includeFiles` names, and for a server app its whole
// folder (it serves `express.static("static")` and renders `views/` by paths no tracer sees).

/** The platform's config (env values, store names) never reaches a function's folder. */
const NEVER = new Set(["ferry.json", "vercel.json"]);
/** dotenv files hold secrets by convention; env belongs in the deployment (`ferry env`). Shipped
 * only when `includeFiles` names them. */
const DOTENV = /(^|\/)\.env(\.[^/]*)?$/;
const CODE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

export interface ShipContext {
  workDir: string;
  accountId: string;
  /** the upload: a file a build did not touch is referenced by its sha, not stored again */
  files: FileEntry[];
  /** an install or build command ran, so the workspace may differ from the upload */
  fromDisk: boolean;
  blobs: BlobStore;
  tracer: Tracer;
  log: (line: string) => void;
}

/** Regular files under `dir` (app-relative), never through a symlink; skips node_modules and .git unless asked. */
async function walk(workDir: string, opts: { nodeModules: boolean }): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string) => {
    const entries = await readdir(workPath(workDir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === ".git" || (e.name === "node_modules" && !opts.nodeModules)) continue;
        await visit(p);
      } else if (e.isFile()) out.push(p);
    }
  };
  await visit("");
  return out;
}

/**
 * Decides one function's files. `inputs` are the app-relative modules bundled into it (they ship
 * inside the bundle, not beside it); `taken` the paths its bundle files occupy. Warns once per
 * build for each file a module names that is not there.
 */
export function createShipper(ctx: ShipContext) {
  const warned = new Set<string>();
  let tree: Promise<string[]> | null = null;
  let fullTree: Promise<string[]> | null = null;
  const appTree = () => (tree ??= walk(ctx.workDir, { nodeModules: false }));
  const appTreeWithDeps = () => (fullTree ??= walk(ctx.workDir, { nodeModules: true }));

  async function decide(fn: PlannedFunction, inputs: string[], taken: Set<string>, settings: FunctionFiles): Promise<string[]> {
    const bundled = new Set(inputs);
    const exclude = settings.excludeFiles ? picomatch(settings.excludeFiles, { dot: true }) : () => false;
    const chosen = new Set<string>();
    const traced = await Promise.all(inputs.map(async (m) => ({ module: m, reads: await ctx.tracer.reads(m) })));
    for (const { module, reads } of traced) {
      for (const a of reads.assets) if (!bundled.has(a) && !DOTENV.test(a)) chosen.add(a);
      // a package probing for optional files (express looks for `views/`) is no news to the app
      const own = !module.split("/").includes("node_modules");
      for (const miss of own ? reads.missing : []) {
        const line = `Warning: ${module} reads ${miss}, which is not in the upload`;
        if (!exclude(miss) && !warned.has(line)) {
          warned.add(line);
          ctx.log(line);
        }
      }
    }
    if (fn.handler === "server") {
      // the whole folder, minus installed packages (bundled) and the sources already in the bundle
      for (const p of await appTree()) if (!DOTENV.test(p) && !(bundled.has(p) && CODE.test(p))) chosen.add(p);
    }
    if (settings.includeFiles) {
      const include = picomatch(settings.includeFiles, { dot: true });
      const files = settings.includeFiles.includes("node_modules") ? await appTreeWithDeps() : await appTree();
      for (const p of files) if (include(p)) chosen.add(p);
    }
    return [...chosen].filter((p) => !NEVER.has(p) && !exclude(p) && !taken.has(p)).sort();
  }

  /** Sizes of the chosen files, read with lstat (a symlink a build planted is not followed and not shipped). */
  async function measure(paths: string[]): Promise<{ files: { path: string; size: number; executable: boolean }[]; bytes: number }> {
    const files: { path: string; size: number; executable: boolean }[] = [];
    let bytes = 0;
    for (const path of paths) {
      const st = await lstat(workPath(ctx.workDir, path)).catch(() => null);
      if (!st?.isFile()) continue;
      files.push({ path, size: st.size, executable: (st.mode & 0o111) !== 0 });
      bytes += st.size;
    }
    return { files, bytes };
  }

  const uploaded = new Map(ctx.files.map((f) => [f.file, f]));
  const uploadedShas = new Set(ctx.files.map((f) => f.sha));
  const stored = new Map<string, Promise<FunctionAsset>>();

  /** Stores one file content-addressed (once per build, whichever functions ship it). */
  function store(file: { path: string; size: number; executable: boolean }): Promise<FunctionAsset> {
    let p = stored.get(file.path);
    if (p) return p;
    p = (async () => {
      const up = uploaded.get(file.path);
      const extra = file.executable ? { executable: true } : {};
      if (up && !ctx.fromDisk) return { path: file.path, key: blobKeys.file(ctx.accountId, up.sha), sha: up.sha, size: up.size, ...extra };
      const bytes = await readFile(workPath(ctx.workDir, file.path));
      const sha = sha1(bytes);
      if (!uploadedShas.has(sha)) await ctx.blobs.put(blobKeys.file(ctx.accountId, sha), bytes);
      return { path: file.path, key: blobKeys.file(ctx.accountId, sha), sha, size: bytes.byteLength, ...extra };
    })();
    stored.set(file.path, p);
    return p;
  }

  return { decide, measure, store };
}
