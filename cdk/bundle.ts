import { buildSync } from "esbuild";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLED_RUNTIME_DIR, runtimeSources } from "../runtime/lambda/runtime-files.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The platform's own Lambdas and their entry files. */
export const HANDLERS = {
  api: "cdk/handlers/api.ts",
  router: "cdk/handlers/router.ts",
  builds: "cdk/handlers/builds.ts",
  buildWorker: "cdk/handlers/build-worker.ts",
  bootstrapAdmin: "cdk/handlers/bootstrap-admin.ts",
} as const;
export type HandlerName = keyof typeof HANDLERS;

/**
 * Bundles one handler with the local esbuild into `<outDir>/<name>/index.mjs` (an asset folder)
 * at synth time: no Docker, one esbuild call each. The AWS SDK v3 is bundled rather than taken
 * from the runtime, so the deployed code runs the SDK version this repository tested.
 */
export function bundleHandler(name: HandlerName, outDir: string): string {
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  buildSync({
    entryPoints: [join(root, HANDLERS[name])],
    outfile: join(dir, "index.mjs"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "error",
    // ESM output still meets CommonJS dependencies that call require()
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    // the builder's native esbuild binary is resolved at run time, not bundled
    // (and what @vercel/nft's node-pre-gyp only requires in its test mocks)
    external: ["esbuild", "aws-sdk", "mock-aws-s3", "nock"],
    loader: { ".html": "empty" },
  });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  if (name === "buildWorker") addBuildTools(dir);
  if (name === "builds") {
    // what runtime/lambda/package.ts puts in every deployed function's zip
    for (const f of runtimeSources()) {
      const target = join(dir, BUNDLED_RUNTIME_DIR, ...f.path.split("/"));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(f.source, target);
    }
  }
  return dir;
}

/**
 * What a build needs beside the worker's code: esbuild's native binary for the worker's
 * architecture (x86_64 Linux), and npm with a shim on PATH (`tools/bin/npm`), so installs do not
 * depend on what the managed Node runtime happens to ship. Both are the versions tested here.
 */
function addBuildTools(dir: string) {
  const need = createRequire(join(root, "package.json"));
  const pkgDir = (name: string, hint: string) => {
    try {
      return dirname(need.resolve(`${name}/package.json`));
    } catch {
      throw new Error(`the build worker needs ${name}: ${hint}`);
    }
  };
  const esbuild = pkgDir("esbuild", "run npm install");
  // esbuild's bin/ holds this machine's binary; the worker's comes from @esbuild/linux-x64
  cpSync(esbuild, join(dir, "node_modules", "esbuild"), { recursive: true, filter: (src) => src !== join(esbuild, "bin") });
  const binary = pkgDir("@esbuild/linux-x64", "on another platform, run `npm install --no-save --os=linux --cpu=x64 @esbuild/linux-x64` first");
  cpSync(binary, join(dir, "node_modules", "@esbuild", "linux-x64"), { recursive: true });
  const npm = [join(dirname(process.execPath), "..", "lib", "node_modules", "npm"), join(dirname(process.execPath), "node_modules", "npm")].find((d) => existsSync(join(d, "bin", "npm-cli.js")));
  if (!npm) throw new Error(`the build worker needs npm: none found beside ${process.execPath}`);
  cpSync(npm, join(dir, "tools", "npm"), { recursive: true });
  mkdirSync(join(dir, "tools", "bin"), { recursive: true });
  const shim = join(dir, "tools", "bin", "npm");
  writeFileSync(shim, `#!/bin/sh\nexec node "$(dirname "$0")/../npm/bin/npm-cli.js" "$@"\n`);
  chmodSync(shim, 0o755);
}
