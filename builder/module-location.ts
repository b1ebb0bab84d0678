import * as esbuild from "esbuild";
import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";

// In a bundle every module shares the bundle's location, but a module that reads a file by its
// own (`path.join(__dirname, "../data/x.json")` in lib/, a package reading its templates) must
// see where its source sits in the app. The bundle sits in its function's source folder, which
// is right for modules beside it; the others named here get their own `__dirname`, `__filename`
// and `import.meta.url`, computed from the function folder's root at run time (the bundles'
// banner defines `__ferryAppRoot`), so one module serves functions at any depth.

/** The banner's token for the path from a bundle's folder to its app root, set per bundle. */
export const APP_ROOT_TOKEN = "./__ferry_app_root__/";
export const ROOT_BANNER = `const __ferryAppRoot = new URL(${JSON.stringify(APP_ROOT_TOKEN)}, import.meta.url);`;

/** A bundle's banner with its own way to the app root (`api/users` -> `../../`). */
export function setAppRoot(js: Uint8Array, dir: string): Uint8Array {
  const buf = Buffer.from(js.buffer, js.byteOffset, js.byteLength);
  const token = Buffer.from(JSON.stringify(APP_ROOT_TOKEN));
  const at = buf.indexOf(token);
  // the banner is the first line, which no source map names: its length can change freely
  if (at < 0 || at > buf.indexOf(10)) return js;
  const up = dir ? "../".repeat(dir.split("/").length) : "./";
  return Buffer.concat([buf.subarray(0, at), Buffer.from(JSON.stringify(up)), buf.subarray(at + token.length)]);
}

const LOADERS: Record<string, esbuild.Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".jsx": "jsx" };
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Gives each listed module (app-relative paths) its own location. */
export function ownLocationPlugin(workDir: string, modules: string[]): esbuild.Plugin {
  const byPath = new Map(modules.map((m) => [join(workDir, ...m.split("/")), m]));
  // matched in esbuild's own process: no other module costs a call into JavaScript
  const filter = new RegExp(`^(?:${[...byPath.keys()].map(escape).join("|")})$`);
  return {
    name: "ferry-own-location",
    setup(build) {
      build.onLoad({ filter }, async (args) => {
        const rel = byPath.get(args.path);
        if (!rel) return undefined;
        // a hashbang must open the file; the prologue goes first, so it becomes an empty comment
        const source = (await readFile(args.path, "utf8")).replace(/^#!.*/, "//");
        const result = await esbuild.transform(source, {
          loader: LOADERS[extname(args.path)] ?? "js",
          sourcemap: "external",
          sourcefile: basename(args.path),
          sourcesContent: true,
          logLevel: "silent",
          define: {
            __dirname: "__ferryOwnDirname",
            __filename: "__ferryOwnFilename",
            "import.meta.url": "__ferryOwnUrl",
            "import.meta.dirname": "__ferryOwnDirname",
            "import.meta.filename": "__ferryOwnFilename",
          },
        });
        // one line, so the transform's map only shifts down by one line
        const prologue = `var __ferryOwnUrl = new URL(${JSON.stringify(rel)}, __ferryAppRoot).href, __ferryOwnFilename = __ferryFU(__ferryOwnUrl), __ferryOwnDirname = __ferryDN(__ferryOwnFilename);`;
        const map = JSON.parse(result.map) as { mappings: string };
        map.mappings = `;${map.mappings}`;
        const inline = Buffer.from(JSON.stringify(map)).toString("base64");
        return { contents: `${prologue}\n${result.code}\n//# sourceMappingURL=data:application/json;base64,${inline}\n`, loader: "js" };
      });
    },
  };
}
