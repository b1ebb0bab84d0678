import { readdir, readFile, stat } from "node:fs/promises";
import { posix } from "node:path";
import { UserBuildError } from "./errors.ts";
import { workPath } from "./workspace.ts";

// A native addon (`.node` file) is machine code for one OS, CPU and Node ABI, loaded at run time
// through paths bundlers cannot see (`bindings`, `node-gyp-build`). Ferry cannot ship it inside a
// bundle, so a package that has one fails the build with its name instead of crashing at run time.

const MAX_DEPTH = 6;
const MAX_ENTRIES = 20_000;

async function isFile(path: string) {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The package folder (relative to the workspace) holding a bundled input; null for the app itself. */
async function packageRoot(workDir: string, input: string, cache: Map<string, string | null>): Promise<string | null> {
  const nm = input.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = input.slice(nm + "node_modules/".length).split("/");
    const name = parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
    return input.slice(0, nm) + "node_modules/" + name;
  }
  // outside node_modules: a local package (`file:` dependency) when a package.json sits above it
  const walked: string[] = [];
  let dir = posix.dirname(input);
  let found: string | null = null;
  while (dir !== "." && dir !== "" && !dir.startsWith("..")) {
    if (cache.has(dir)) {
      found = cache.get(dir)!;
      break;
    }
    walked.push(dir);
    if (await isFile(workPath(workDir, `${dir}/package.json`))) {
      found = dir;
      break;
    }
    dir = posix.dirname(dir);
  }
  for (const d of walked) cache.set(d, found);
  return found;
}

/** First `.node` file or `binding.gyp` in a package (not in its nested node_modules). */
async function findAddon(workDir: string, pkgDir: string): Promise<string | null> {
  let seen = 0;
  const walk = async (rel: string, depth: number): Promise<string | null> => {
    let entries;
    try {
      entries = await readdir(workPath(workDir, rel), { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) return null;
      const p = `${rel}/${e.name}`;
      if (e.isFile() && (e.name.endsWith(".node") || e.name === "binding.gyp")) return p.slice(pkgDir.length + 1);
    }
    if (depth >= MAX_DEPTH) return null;
    for (const e of entries) {
      if (!e.isDirectory() || e.name === "node_modules" || e.name.startsWith(".")) continue;
      const hit = await walk(`${rel}/${e.name}`, depth + 1);
      if (hit) return hit;
    }
    return null;
  };
  return walk(pkgDir, 0);
}

async function packageName(workDir: string, pkgDir: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(workPath(workDir, `${pkgDir}/package.json`), "utf8")) as { name?: string };
    if (pkg.name) return pkg.name;
  } catch {
    // fall back to the folder name
  }
  return posix.basename(pkgDir);
}

/** Throws naming the first bundled package that carries a native addon. `inputs`: bundled files, relative to the workspace. */
export async function assertNoNativeAddons(workDir: string, inputs: Iterable<string>): Promise<void> {
  const cache = new Map<string, string | null>();
  const roots = new Set<string>();
  for (const input of inputs) {
    if (input.startsWith("<") || input.includes(":")) continue; // esbuild's virtual modules
    const root = await packageRoot(workDir, input, cache);
    if (root) roots.add(root);
  }
  for (const root of [...roots].sort()) {
    const addon = await findAddon(workDir, root);
    if (!addon) continue;
    const name = await packageName(workDir, root);
    throw new UserBuildError([
      {
        message: `package "${name}" contains a native addon (${addon}), which Ferry cannot bundle; use a pure-JavaScript alternative (or a WebAssembly build) of it`,
        file: `${root}/${addon}`,
      },
    ]);
  }
}
