import { AsyncLocalStorage } from "node:async_hooks";
import { readFile, stat } from "node:fs/promises";
import { basename, extname, join, relative, sep } from "node:path";
import { nodeFileTrace } from "@vercel/nft";
import * as esbuild from "esbuild";

// Which files a function reads at run time. esbuild bundles the code; @vercel/nft (what Vercel
// traces with) tells which other files the code names: `fs.readFileSync(path.join(__dirname,
// "../data/x.json"))`, `path.join(process.cwd(), "views")`, `new URL("./t.html", import.meta.url)`.
// Each bundled module is analysed on its own (depth 1, no resolving): esbuild already found the
// module graph, and a module that mentions none of the tokens below cannot name a file by a path
// nft can compute, so most modules of a large app are never parsed twice.

const MAY_NAME_FILES = /__dirname|__filename|process\.cwd|import\.meta|require\.resolve|\bresolve\s*\(/;
const OWN_LOCATION = /\b__dirname\b|\b__filename\b|import\.meta\.(?:url|dirname|filename)\b/;
const TRACEABLE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const TS_LOADER: Record<string, esbuild.Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".jsx": "jsx" };

export interface ModuleReads {
  /** files the module reads that exist, relative to the app root */
  assets: string[];
  /** files it names that do not exist (not uploaded, not built), relative to the app root */
  missing: string[];
}

const NONE: ModuleReads = { assets: [], missing: [] };

export interface Tracer {
  /** What one module (a path relative to the app root) reads; analysed once per build. */
  reads(module: string): Promise<ModuleReads>;
  /** Whether the module uses its own location (`__dirname`, `__filename`, `import.meta.url`). */
  usesOwnLocation(module: string): Promise<boolean>;
}

/**
 * A tracer for one workspace: `process.cwd()` is the app root at run time, as on Vercel.
 * `known` gives a module's text when the caller has it (a source map's `sourcesContent`), so
 * the thousand modules of a large app are not read from disk again.
 */
export function createTracer(workDir: string, known: (module: string) => string | undefined = () => undefined): Tracer {
  const done = new Map<string, Promise<ModuleReads>>();
  const sources = new Map<string, Promise<string | null>>();
  const sourceOf = (module: string) => {
    let p = sources.get(module);
    if (!p) {
      const text = known(module);
      p = text !== undefined ? Promise.resolve(text) : readFile(join(workDir, module), "utf8").catch(() => null);
      sources.set(module, p);
    }
    return p;
  };
  const analysisCache = {};
  // which module a failed stat belongs to: nft checks an asset's existence with one stat and
  // drops it silently when missing; that stat is the only one made while analysing (no resolving)
  const current = new AsyncLocalStorage<Set<string>>();

  const inApp = (abs: string) => {
    const rel = relative(workDir, abs);
    return rel && !rel.startsWith("..") && !rel.startsWith(sep) ? rel.split(sep).join("/") : null;
  };

  async function analyse(module: string): Promise<ModuleReads> {
    const abs = join(workDir, module);
    const source = await sourceOf(module);
    if (!source || !MAY_NAME_FILES.test(source)) return NONE;
    const missing = new Set<string>();
    const result = await current.run(missing, () =>
      nodeFileTrace([abs], {
        base: workDir,
        processCwd: workDir,
        depth: 1,
        cache: analysisCache,
        // the module graph is esbuild's; nft only looks at this module's own file references
        resolve: async () => [],
        readFile: async (path) => {
          const text = path === abs ? source : await readFile(path, "utf8").catch(() => null);
          const loader = TS_LOADER[extname(path)];
          if (text === null || !loader) return text;
          // nft parses JavaScript; type annotations would make it give up on the module
          return (await esbuild.transform(text, { loader, format: "esm", logLevel: "silent" }).catch(() => ({ code: "" }))).code;
        },
        stat: async (path) => {
          try {
            return await stat(path);
          } catch {
            const rel = inApp(path);
            if (rel && basename(rel) !== "package.json" && !rel.split("/").includes("node_modules")) current.getStore()?.add(rel);
            return null;
          }
        },
      }),
    );
    const assets: string[] = [];
    for (const [file, reason] of result.reasons) {
      if (reason.type.includes("asset") && !reason.ignored && !file.startsWith("..")) assets.push(file.split(sep).join("/"));
    }
    return { assets, missing: [...missing] };
  }

  return {
    reads(module) {
      if (!TRACEABLE.test(module) || module.endsWith(".d.ts")) return Promise.resolve(NONE);
      let p = done.get(module);
      if (!p) done.set(module, (p = analyse(module)));
      return p;
    },
    async usesOwnLocation(module) {
      if (!TRACEABLE.test(module)) return false;
      const source = await sourceOf(module);
      return !!source && OWN_LOCATION.test(source);
    },
  };
}
