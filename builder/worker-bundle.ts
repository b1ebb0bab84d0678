import * as esbuild from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BANNER } from "./bundle.ts";

// A sandboxed build sees neither this repo nor its node_modules: its process runs one file, the
// build worker with every JavaScript dependency bundled in (esbuild's JS API too, pointed at its
// binary with ESBUILD_BINARY_PATH), plus the esbuild binary itself, both mounted read-only.

const WORKER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "worker.ts");

export interface WorkerFiles {
  /** the bundled worker (one ESM file) */
  worker: string;
  /** esbuild's native binary, as the platform's own esbuild package uses it */
  esbuild: string;
}

let pending: Promise<WorkerFiles> | null = null;

/**
 * Bundles the build worker once per platform process, into a private temp folder removed at
 * exit (the sources can change between runs; a build costs about 0.1 s).
 */
export function workerFiles(): Promise<WorkerFiles> {
  pending ??= bundleWorker().catch((e) => {
    pending = null;
    throw e;
  });
  return pending;
}

async function bundleWorker(): Promise<WorkerFiles> {
  const result = await esbuild.build({
    entryPoints: [WORKER_SOURCE],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    charset: "utf8",
    banner: { js: BANNER },
    define: { __dirname: "__ferryDirname", __filename: "__ferryFilename" },
    // @vercel/nft reaches node-pre-gyp, whose test mocks and S3 publishing need packages that are
    // not installed and never run while tracing; its bundled HTML page is loaded as text
    external: ["nock", "mock-aws-s3", "aws-sdk"],
    loader: { ".html": "text" },
    logLevel: "silent",
  });
  const dir = mkdtempSync(join(tmpdir(), "ferry-build-worker-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const worker = join(dir, "build-worker.mjs");
  writeFileSync(worker, result.outputFiles[0]!.contents, { mode: 0o644 });
  return { worker, esbuild: esbuildBinary() };
}

/** The native binary the platform's esbuild package runs (its own lookup, for the common platforms). */
export function esbuildBinary(): string {
  if (process.env.ESBUILD_BINARY_PATH) return process.env.ESBUILD_BINARY_PATH;
  const fromEsbuild = createRequire(createRequire(import.meta.url).resolve("esbuild"));
  const pkg = `@esbuild/${process.platform}-${process.arch}`;
  return fromEsbuild.resolve(process.platform === "win32" ? `${pkg}/esbuild.exe` : `${pkg}/bin/esbuild`);
}
