import * as esbuild from "esbuild";
import { join, posix } from "node:path";
import { assertKey, blobKeys, type BlobStore } from "../core/blobs/port.ts";
import type { FerryConfig } from "../core/config/schema.ts";
import type { BuiltFunction, FileEntry, FunctionAsset } from "../core/types.ts";
import type { PlannedFunction } from "./detect.ts";
import { throwIfAborted, UserBuildError } from "./errors.ts";
import { toBuildErrors, warningLines } from "./esbuild-errors.ts";
import { formatBytes } from "./format.ts";
import { functionConfigFor, functionFilesFor } from "./function-config.ts";
import { checkBundleSize, type BundleLimits } from "./limits.ts";
import { assertNoNativeAddons } from "./native-addons.ts";
import { exportNames } from "./bundle-info.ts";
import { eachLimit } from "./concurrency.ts";
import { createShipper } from "./shipped-files.ts";
import { createTracer } from "./trace.ts";
import { ownLocationPlugin, ROOT_BANNER, setAppRoot } from "./module-location.ts";
import { workPath } from "./workspace.ts";
import { readFile } from "node:fs/promises";

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
  accountId: string;
  /** the upload (files a build did not change ship by their sha) */
  files: FileEntry[];
  /** an install or build command ran: shipped files are read from the workspace and hashed */
  fromDisk: boolean;
  limits: BundleLimits;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface BundleResult {
  functions: BuiltFunction[];
  /** every workspace file that went into some bundle (relative paths), so it is never served as static */
  inputs: Set<string>;
}

/** The folder of a function's folder its bundle goes in: its source's (`api/users/[id].ts` -> `api/users`), "" at the root. */
export function bundleDir(source: string): string {
  const dir = posix.dirname(source);
  return dir === "." ? "" : dir;
}

/**
 * Bundles every function in one esbuild run (one parse of shared modules and node_modules) and
 * uploads each bundle under its artifact prefix, with the files it reads beside it. Exports and
 * input files are read from the bundles (see bundle-info.ts) and their maps. Outputs are named in
 * their source's folder, so `__dirname`, `import.meta.url` and the map's `sources` are those of
 * the source, and renamed to `index.mjs` on upload (placed in that folder at run time).
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
  const dirOf = (i: number) => posix.dirname(functions[i]!.source);
  const outName = (i: number) => (dirOf(i) === "." ? `__ferry_fn_${i}` : `${dirOf(i)}/__ferry_fn_${i}`);
  const run = async (plugins: esbuild.Plugin[]) => {
    try {
      return await esbuild.build({
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
        banner: { js: `${BANNER} ${ROOT_BANNER}` },
        define: { __dirname: "__ferryDirname", __filename: "__ferryFilename" },
        logLevel: "silent",
        plugins,
      });
    } catch (e) {
      const failure = e as esbuild.BuildFailure;
      if (Array.isArray(failure.errors) && failure.errors.length) throw new UserBuildError(toBuildErrors(failure.errors));
      throw e;
    }
  };
  let result = await run([]);
  throwIfAborted(opts.signal);
  for (const line of warningLines(result.warnings)) log(line);
  let byPath = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  const output = (i: number, ext: string) => byPath.get(join(workDir, ...`${outName(i)}${ext}`.split("/")));
  const built: BuiltFunction[] = new Array(functions.length);
  const sizes: { bundle: number; files: number; bytes: number }[] = new Array(functions.length);
  const inputs = new Set<string>();
  // each map's `sources` are relative to its folder; app-relative here. Their texts feed the tracer.
  const texts = new Map<string, string>();
  const fnInputs = functions.map((_, i) => {
    const map = output(i, ".mjs.map");
    if (!map) return [];
    const { sources = [], sourcesContent = [] } = JSON.parse(Buffer.from(map.buffer, map.byteOffset, map.byteLength).toString("utf8")) as { sources?: string[]; sourcesContent?: (string | null)[] };
    const own: string[] = [];
    sources.forEach((src, k) => {
      const rel = posix.normalize(posix.join(dirOf(i), src));
      if (rel.startsWith("../")) return;
      own.push(rel);
      inputs.add(rel);
      const text = sourcesContent[k];
      if (typeof text === "string") texts.set(rel, text);
    });
    return own;
  });
  await assertNoNativeAddons(workDir, inputs);

  // modules outside their function's folder that use their own location get it (module-location.ts):
  // a second esbuild run, only when some module needs it
  const tracer = createTracer(workDir, (m) => texts.get(m));
  const elsewhere = new Set<string>();
  await Promise.all(
    fnInputs.flatMap((own, i) =>
      own.filter((m) => posix.dirname(m) !== (dirOf(i) === "." ? "." : dirOf(i))).map(async (m) => {
        if (await tracer.usesOwnLocation(m)) elsewhere.add(m);
      }),
    ),
  );
  if (elsewhere.size) {
    throwIfAborted(opts.signal);
    result = await run([ownLocationPlugin(workDir, [...elsewhere])]);
    byPath = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  }

  const shipper = createShipper({ workDir, accountId: opts.accountId, files: opts.files, fromDisk: opts.fromDisk, blobs: opts.blobs, tracer, log });
  await eachLimit(functions, 16, async (fn, i) => {
    throwIfAborted(opts.signal);
    const js = output(i, ".mjs");
    const map = output(i, ".mjs.map");
    if (!js || !map) throw new Error(`esbuild produced no output for ${fn.source}`);
    const dir = bundleDir(fn.source);
    const placed = [ENTRY, MAP].map((f) => (dir ? `${dir}/${f}` : f));
    const code = setAppRoot(renameMapUrl(js, `${posix.basename(outName(i))}.mjs.map`), dir);
    const paths = await shipper.decide(fn, fnInputs[i]!, new Set(placed), functionFilesFor(fn.source, opts.config));
    const shipped = await shipper.measure(paths);
    sizes[i] = { bundle: code.byteLength, files: shipped.files.length, bytes: shipped.bytes };
    const readShipped = (path: string) => () => readFile(workPath(workDir, path));
    await checkBundleSize(fn.name, [code, map], opts.limits, shipped.files.map((f) => ({ size: f.size, read: readShipped(f.path) })));
    const prefix = blobKeys.artifactPrefix(opts.deploymentId, fn.name);
    await Promise.all([opts.blobs.put(`${prefix}/${ENTRY}`, code), opts.blobs.put(`${prefix}/${MAP}`, map)]);
    const assets: FunctionAsset[] = [];
    await eachLimit(shipped.files, 8, async (f) => {
      throwIfAborted(opts.signal);
      assets.push(await shipper.store(f));
    });
    assets.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    built[i] = {
      name: fn.name,
      route: fn.route,
      source: fn.source,
      handler: fn.handler,
      ...(fn.args ? { args: fn.args } : {}),
      exports: await exportNames(code),
      artifact: { prefix, entry: ENTRY, files: [ENTRY, MAP], ...(dir ? { dir } : {}), ...(assets.length ? { assets } : {}) },
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
    const { bundle, files, bytes } = sizes[i]!;
    const beside = files ? `, ${files} file${files === 1 ? "" : "s"} beside it (${formatBytes(bytes)})` : "";
    log(`Bundled ${fn.name} -> ${fn.route} (${formatBytes(bundle)}${exports}${beside})`);
  });
  return { functions: built, inputs };
}

const HANDLER_EXPORTS = new Set(["default", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** Points the bundle's `//# sourceMappingURL=` comment (its last line) at its map's final name. */
function renameMapUrl(js: Uint8Array, from: string): Uint8Array {
  const buf = Buffer.from(js.buffer, js.byteOffset, js.byteLength);
  const marker = `//# sourceMappingURL=${from}`;
  const at = buf.lastIndexOf(marker);
  if (at < 0) return js;
  return Buffer.concat([buf.subarray(0, at), Buffer.from(`//# sourceMappingURL=${MAP}`), buf.subarray(at + marker.length)]);
}
