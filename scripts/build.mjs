#!/usr/bin/env node
// Compiles the `ferry` CLI and the embedded platform into dist/ with esbuild, so neither is
// compiled from TypeScript on every start. Run by `npm install`/`npm ci` (prepare) and by
// `npm start`; a target whose sources have not changed since its last build is skipped.
//
//   node scripts/build.mjs [cli|server...] [--force]
//
// Each bundle is written with a manifest of the files it was built from and their mtimes
// (dist-manifest.mjs), which bin/ferry.mjs checks before running the compiled CLI.
import * as esbuild from "esbuild";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative, sep } from "node:path";
import { DIST, ROOT, freshBundle, manifestPath } from "./dist-manifest.mjs";

const TARGETS = {
  // the CLI's few packages (citty, ignore) are bundled in: fewer files to resolve at start-up
  cli: { entry: "cli/main.ts", out: "cli.mjs", external: [] },
  // the platform's packages stay in node_modules: some resolve their own files at run time
  // (dynalite, s3rver, esbuild's binary) and the AWS SDK gains nothing from being copied
  server: { entry: "server/main.ts", out: "server.mjs", packages: "external" },
};

/** Files that change what a bundle would be without being one of its inputs. */
const BUILD_INPUTS = ["scripts/build.mjs", "scripts/dist-manifest.mjs", "tsconfig.json"];
const tsconfigRaw = JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8"));
const posix = (p) => p.split(sep).join("/");

/**
 * A bundle moves code to dist/, but some modules find their own neighbours by
 * `new URL("./bootstrap.mjs", import.meta.url)` or resolve packages from where they are
 * (runtime/local/instance.ts mounts its child-side .mjs files into sandboxes, builder/worker-bundle.ts
 * bundles worker.ts at run time). So each first-party module that mentions `import.meta` keeps
 * seeing its own source location, as a path relative to the bundle: the checkout can move.
 * esbuild's own parser does the replacement (strings and comments that merely mention
 * import.meta, like the banner builder/bundle.ts adds to tenant bundles, are left alone).
 */
const sourceImportMeta = {
  name: "source-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta")) return undefined;
      const ext = extname(args.path);
      const result = await esbuild.transform(source, {
        loader: ext === ".ts" || ext === ".mts" ? "ts" : "js",
        format: "esm",
        target: "node20",
        tsconfigRaw,
        sourcemap: "external",
        sourcefile: args.path,
        define: { "import.meta.url": "__ferrySourceUrl", "import.meta.dirname": "__ferrySourceDirname", "import.meta.filename": "__ferrySourceFilename" },
      });
      const rel = JSON.stringify(posix(relative(DIST, args.path)));
      // one line, so the transform's source map only needs shifting down by one line
      const prologue =
        `import { fileURLToPath as __ferryToPath } from "node:url"; import { dirname as __ferryDirname } from "node:path"; ` +
        `const __ferrySourceUrl = new URL(${rel}, import.meta.url).href, __ferrySourceFilename = __ferryToPath(__ferrySourceUrl), __ferrySourceDirname = __ferryDirname(__ferrySourceFilename);`;
      const map = JSON.parse(result.map);
      map.mappings = ";" + map.mappings;
      const inlineMap = Buffer.from(JSON.stringify(map)).toString("base64");
      return { contents: `${prologue}\n${result.code}\n//# sourceMappingURL=data:application/json;base64,${inlineMap}\n`, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

async function buildTarget(name) {
  const t = TARGETS[name];
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [t.entry],
    outfile: join(DIST, t.out),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: t.packages,
    external: t.external,
    tsconfig: join(ROOT, "tsconfig.json"),
    // error names and function names as the sources have them (messages and logs quote them)
    keepNames: true,
    // used only when asked for (FERRY_DEBUG for the CLI, NODE_OPTIONS=--enable-source-maps)
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: "warning",
    plugins: [sourceImportMeta],
  });
  // inputs are stamped after the build; one edited while it ran is recorded as unknown, so the
  // next start sees the bundle as stale rather than running code older than the file
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...BUILD_INPUTS]) {
    const mtimeMs = statSync(join(ROOT, file)).mtimeMs;
    inputs[posix(file)] = mtimeMs <= startedAt ? mtimeMs : -1;
  }
  mkdirSync(DIST, { recursive: true });
  // each file appears whole (temp + rename), the manifest last: a half-written dist is never current
  const place = (path, contents) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  };
  for (const f of result.outputFiles) place(f.path, f.contents);
  place(manifestPath(name), JSON.stringify({ out: t.out, inputs }, null, 1) + "\n");
  return Date.now() - startedAt;
}

const args = process.argv.slice(2);
const force = args.includes("--force");
const names = args.filter((a) => !a.startsWith("-"));
for (const name of names) if (!TARGETS[name]) throw new Error(`unknown build target ${JSON.stringify(name)} (known: ${Object.keys(TARGETS).join(", ")})`);
for (const name of names.length ? names : Object.keys(TARGETS)) {
  if (!force && freshBundle(name)) continue;
  let ms;
  try {
    ms = await buildTarget(name);
  } catch (e) {
    // esbuild has printed the errors with their file and line; its stack would add nothing
    if (!e?.errors) throw e;
    process.stderr.write(`could not build dist/${TARGETS[name].out}\n`);
    process.exit(1);
  }
  process.stderr.write(`built dist/${TARGETS[name].out} (${ms} ms)\n`);
}
