import * as esbuild from "esbuild";
import { join } from "node:path";
import { assertKey, blobKeys, type BlobStore } from "../core/blobs/port.ts";
import type { FerryConfig } from "../core/config/schema.ts";
import type { BuiltFunction } from "../core/types.ts";
import type { PlannedFunction } from "./detect.ts";
import { throwIfAborted, UserBuildError } from "./errors.ts";
import { toBuildErrors, warningLines } from "./esbuild-errors.ts";
import { formatBytes } from "./format.ts";
import { functionConfigFor } from "./function-config.ts";
import { checkBundleSize, type BundleLimits } from "./limits.ts";
import { assertNoNativeAddons } from "./native-addons.ts";
import { exportNames, mapSources } from "./bundle-info.ts";
import { eachLimit } from "./concurrency.ts";

export const ENTRY = "index.mjs";
const MAP = `${ENTRY}.map`;

// Bundled CommonJS calls `require` for node builtins; ESM has none, so give it one. `__dirname`
// and `__filename` are free variables in CommonJS only: esbuild's `define` swaps just the free
// references for ours, so ESM code declaring its own `__dirname` keeps working.
export const BANNER = [
  `import { createRequire as __ferryCR } from "node:module";`,
  `const require = __ferryCR(import.meta.url);`,
  `import { fileURLToPath as __ferryFU } from "node:url";`,
  `import { dirname as __ferryDN } from "node:path";`,
  `const __ferryFilename = __ferryFU(import.meta.url);`,
  `const __ferryDirname = __ferryDN(__ferryFilename);`,
].join(" ");

export interface BundleOptions {
  workDir: string;
  deploymentId: string;
  functions: PlannedFunction[];
  config: FerryConfig;
  blobs: BlobStore;
  limits: BundleLimits;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface BundleResult {
  functions: BuiltFunction[];
  /** every workspace file that went into some bundle (relative paths), so it is never served as static */
  inputs: Set<string>;
}

/**
 * Bundles every function in one esbuild run (one parse of shared modules and node_modules) and
 * uploads each bundle under its artifact prefix. Exports and input files are read from the bundles
 * and their maps (see bundle-info.ts). Outputs are named in the workspace root so source
 * map `sources` read `api/hi.ts`, and are renamed to `index.mjs` on upload.
 */
export async function bundleFunctions(opts: BundleOptions): Promise<BundleResult> {
  const { workDir, functions, log } = opts;
  if (functions.length === 0) return { functions: [], inputs: new Set() };
  for (const fn of functions) {
    try {
      assertKey(blobKeys.artifactPrefix(opts.deploymentId, fn.name));
    } catch {
      throw new UserBuildError([{ message: `${fn.source}: Ferry cannot store a function with this name; use letters, digits, spaces and - _ . [ ] in file names`, file: fn.source }]);
    }
  }
  const outName = (i: number) => `__ferry_fn_${i}`;
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      absWorkingDir: workDir,
      entryPoints: functions.map((f, i) => ({ in: `./${f.source}`, out: outName(i) })),
      outdir: workDir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      write: false,
      sourcemap: "linked",
      sourcesContent: true,
      charset: "utf8",
      banner: { js: BANNER },
      define: { __dirname: "__ferryDirname", __filename: "__ferryFilename" },
      logLevel: "silent",
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    if (Array.isArray(failure.errors) && failure.errors.length) throw new UserBuildError(toBuildErrors(failure.errors));
    throw e;
  }
  throwIfAborted(opts.signal);
  for (const line of warningLines(result.warnings)) log(line);
  const byPath = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  const built: BuiltFunction[] = new Array(functions.length);
  const sizes: number[] = new Array(functions.length);
  const inputs = new Set<string>();
  for (let i = 0; i < functions.length; i++) {
    const map = byPath.get(join(workDir, `${outName(i)}.mjs.map`));
    if (map) for (const source of mapSources(map)) inputs.add(source);
  }
  await assertNoNativeAddons(workDir, inputs);

  await eachLimit(functions, 16, async (fn, i) => {
    throwIfAborted(opts.signal);
    const js = byPath.get(join(workDir, `${outName(i)}.mjs`));
    const map = byPath.get(join(workDir, `${outName(i)}.mjs.map`));
    if (!js || !map) throw new Error(`esbuild produced no output for ${fn.source}`);
    const code = renameMapUrl(js, `${outName(i)}.mjs.map`);
    sizes[i] = code.byteLength;
    await checkBundleSize(fn.name, [code, map], opts.limits);
    const prefix = blobKeys.artifactPrefix(opts.deploymentId, fn.name);
    await Promise.all([opts.blobs.put(`${prefix}/${ENTRY}`, code), opts.blobs.put(`${prefix}/${MAP}`, map)]);
    built[i] = {
      name: fn.name,
      route: fn.route,
      source: fn.source,
      handler: fn.handler,
      exports: await exportNames(code),
      artifact: { prefix, entry: ENTRY, files: [ENTRY, MAP] },
      config: functionConfigFor(fn.source, opts.config),
    };
  });
  // a function file that exports nothing the runtime can call would only fail on its first visit
  const useless = built.filter((fn) => fn.handler === "function" && !fn.exports!.some((e) => HANDLER_EXPORTS.has(e)));
  if (useless.length) {
    throw new UserBuildError(
      useless.map((fn) => ({
        message: `${fn.source} exports no handler (found: ${fn.exports!.join(", ") || "nothing"}); export default a function (Web (req) => Response or Node (req, res)), an object with fetch(), or GET/POST/... functions`,
        file: fn.source,
      })),
    );
  }
  built.forEach((fn, i) => {
    const exports = fn.handler === "server" ? "" : `, exports: ${fn.exports!.join(", ") || "(none)"}`;
    log(`Bundled ${fn.name} -> ${fn.route} (${formatBytes(sizes[i]!)}${exports})`);
  });
  return { functions: built, inputs };
}

const HANDLER_EXPORTS = new Set(["default", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** Points the bundle's `//# sourceMappingURL=` comment (its last line) at `index.mjs.map`. */
function renameMapUrl(js: Uint8Array, from: string): Uint8Array {
  const buf = Buffer.from(js.buffer, js.byteOffset, js.byteLength);
  const marker = `//# sourceMappingURL=${from}`;
  const at = buf.lastIndexOf(marker);
  if (at < 0) return js;
  return Buffer.concat([buf.subarray(0, at), Buffer.from(`//# sourceMappingURL=${MAP}`), buf.subarray(at + marker.length)]);
}
