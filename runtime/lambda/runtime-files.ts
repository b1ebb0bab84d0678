import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ZipEntry } from "./zip.ts";

/** Where Ferry's own files sit in every function's zip. The CLI never uploads a `.ferry` folder,
 * so no app file can be there; Node resolves the helpers' packages from `.ferry/node_modules`
 * before the app's own `node_modules`, so an app's other version of them does not interfere. */
export const RUNTIME_DIR = ".ferry";
/** Where cdk/bundle.ts puts the same tree beside the bundled build coordinator. */
export const BUNDLED_RUNTIME_DIR = "ferry-runtime";

const here = dirname(fileURLToPath(import.meta.url));
// the packages runtime/local/vercel-helpers.mjs imports
const PACKAGES = ["cookie", "content-type"];

/**
 * The files every zip carries, by path under `.ferry/` and where they are in this repository:
 * the Lambda bootstrap and the child-side files it shares with the local host (handler shapes,
 * Vercel's Node helpers), laid out as in `runtime/` so their relative imports hold, plus the
 * helpers' packages (code, package.json, licence).
 */
export function runtimeSources(): { path: string; source: string }[] {
  const runtime = join(here, "..");
  const out = [
    { path: "lambda/bootstrap.mjs", source: join(runtime, "lambda/bootstrap.mjs") },
    { path: "local/child-helpers.mjs", source: join(runtime, "local/child-helpers.mjs") },
    { path: "local/vercel-helpers.mjs", source: join(runtime, "local/vercel-helpers.mjs") },
  ];
  const require = createRequire(import.meta.url);
  for (const name of PACKAGES) {
    // from the main file: their `exports` do not expose package.json
    const main = require.resolve(name);
    const marker = `${sep}node_modules${sep}${name}${sep}`;
    const root = main.slice(0, main.lastIndexOf(marker) + marker.length - 1);
    for (const file of [join(root, "package.json"), main, join(root, "LICENSE")]) {
      if (existsSync(file)) out.push({ path: `node_modules/${name}/${relative(root, file).split(sep).join("/")}`, source: file });
    }
  }
  return out;
}

let cached: Promise<ZipEntry[]> | undefined;

/** Ferry's files as zip entries (under `.ferry/`), read once: from beside the bundled platform
 * code when it runs on Lambda, else from this repository. */
export function runtimeEntries(): Promise<ZipEntry[]> {
  cached ??= (async () => {
    const bundled = join(here, BUNDLED_RUNTIME_DIR);
    const files = existsSync(bundled) ? (await walk(bundled)).map((f) => ({ path: relative(bundled, f).split(sep).join("/"), source: f })) : runtimeSources();
    return Promise.all(files.map(async (f) => ({ path: `${RUNTIME_DIR}/${f.path}`, data: await readFile(f.source) })));
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
