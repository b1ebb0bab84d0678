import { readLines } from "../core/lines.ts";
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildResult } from "../core/types.ts";
import { canceledResult, errorResult } from "./errors.ts";
import type { BuildRequest } from "./port.ts";
import type { ParentMessage, WorkerMessage } from "./worker-protocol.ts";

export interface ChildBuildOptions {
  /** blob store the child opens (`blobStoreFromSpec`): `fs:/abs/path` or `s3:bucket?...` */
  blobSpec: string;
  workDir: string;
  cacheDir: string;
  onLog: (line: string) => void;
  signal?: AbortSignal;
}

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, "worker.ts");
const REPO_ROOT = join(here, "..");
// the TypeScript loader the worker runs under, resolved from this repo (not from the app being built)
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** The child's whole environment: tools' basics and the build env. The platform's own secrets stay here. */
function childEnv(req: BuildRequest, blobSpec: string): Record<string, string> {
  const env: Record<string, string> = { ...req.buildEnv };
  env.PATH = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  env.HOME = process.env.HOME ?? "/tmp";
  env.FERRY_BLOB_SPEC = blobSpec;
  return env;
}


/**
 * Runs one build in a child process, so a build (npm, a build command, esbuild) cannot take the
 * platform down with it and can be killed as a whole. The child leads its own process group:
 * cancel kills the group, npm and build-command grandchildren included.
 */
export async function runBuildInChild(req: BuildRequest, opts: ChildBuildOptions): Promise<BuildResult> {
  if (opts.signal?.aborted) return canceledResult();
  await mkdir(opts.workDir, { recursive: true });
  const child = spawn(process.execPath, ["--import", TSX, WORKER], {
    cwd: REPO_ROOT,
    env: childEnv(req, opts.blobSpec),
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
    serialization: "advanced",
  });
  readLines(child.stdout!, opts.onLog);
  readLines(child.stderr!, opts.onLog);

  return new Promise<BuildResult>((resolve) => {
    let result: BuildResult | undefined;
    let canceled = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL"); // the group is already gone, or never formed
      }
    };
    const onAbort = () => {
      canceled = true;
      killGroup();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("message", (msg: WorkerMessage) => {
      if (msg.type === "log") opts.onLog(msg.line);
      else if (msg.type === "result") result = msg.result;
    });
    child.on("error", (e) => {
      opts.signal?.removeEventListener("abort", onAbort);
      resolve(errorResult([{ message: `could not start the build process: ${e.message}` }]));
    });
    // `exit` can arrive before the last IPC message and output lines are read; `close` comes after
    // them. Something that left our process group could hold the pipes open, hence the timer.
    let finish = () => {};
    child.on("exit", (code, signal) => {
      opts.signal?.removeEventListener("abort", onAbort);
      // whatever the build started (a stray server from a build command) must not outlive it
      killGroup();
      const timer = setTimeout(() => finish(), 2000);
      finish = () => {
        clearTimeout(timer);
        if (canceled) resolve(canceledResult());
        else if (result) resolve(result);
        else resolve(errorResult([{ message: `build process exited unexpectedly (code ${code} / signal ${signal})` }]));
      };
    });
    child.on("close", () => finish());

    const start: ParentMessage = { type: "build", request: req, workDir: opts.workDir, cacheDir: opts.cacheDir };
    child.send(start);
  });
}
