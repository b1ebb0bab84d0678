import { readLines } from "../core/lines.ts";
import { spawn } from "node:child_process";
import { delimiter, dirname, join } from "node:path";
import { BuildCanceled } from "./errors.ts";

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last lines of output (stdout and stderr interleaved), for error messages */
  tail: string[];
}

const TAIL_LINES = 60;

/**
 * Environment for install and build commands: the build env plus what tools need to run (PATH
 * with the app's node_modules/.bin and this node, HOME, `extra` such as npm's cache folder).
 * Nothing else from the build process's environment reaches user commands.
 */
export function commandEnv(workDir: string, buildEnv: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const path = [join(workDir, "node_modules", ".bin"), dirname(process.execPath), process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(delimiter);
  return {
    HOME: process.env.HOME ?? "/tmp",
    CI: "1",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
    ...buildEnv,
    PATH: path,
  };
}

/**
 * Runs a command, streaming each output line to the build log. The child shares our process
 * group, so killing a build process (group) also ends whatever it started.
 */
export function runCommand(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    if (opts.signal?.aborted) return reject(new BuildCanceled());
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const onLine = (line: string) => {
      if (line.trim()) opts.log(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    };
    readLines(child.stdout!, onLine);
    readLines(child.stderr!, onLine);
    const onAbort = () => child.kill("SIGKILL");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (code, signal) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (opts.signal?.aborted) return reject(new BuildCanceled());
      resolvePromise({ code, signal, tail });
    });
  });
}

/** `sh -c <command>`: how ferry.json `installCommand` / `buildCommand` run. */
export const runShell = (command: string, opts: RunOptions) => runCommand("sh", ["-c", command], opts);
