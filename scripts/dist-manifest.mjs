// What a compiled bundle in dist/ was built from, and whether it still matches the sources.
// Shared by the build script (skip an up-to-date target) and bin/ferry.mjs (run the compiled CLI
// only when it is current), so it stays small and imports nothing heavy: the CLI pays for it on
// every start.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DIST = join(ROOT, "dist");

/** dist/<target>.json: `{ out, inputs: { "<path from the repo root>": mtimeMs } }` */
export const manifestPath = (target) => join(DIST, `${target}.json`);

/**
 * The bundle of `target` when every file it was built from still has the mtime it had at build
 * time (an edit, a checkout or a deleted file makes it stale), else null. About one stat per
 * input file: a fraction of a millisecond for the CLI.
 */
export function freshBundle(target) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(target), "utf8"));
  } catch {
    return null;
  }
  try {
    for (const [file, mtimeMs] of Object.entries(manifest.inputs)) {
      if (statSync(join(ROOT, file)).mtimeMs !== mtimeMs) return null;
    }
    const out = join(DIST, manifest.out);
    statSync(out);
    return out;
  } catch {
    return null;
  }
}
