import { buildSync } from "esbuild";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
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
