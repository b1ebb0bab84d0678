import { spawn } from "node:child_process";

/**
 * The environment every git the platform runs gets: no user or system config (an operator's
 * ~/.gitconfig must not change how pushed content is read), no prompts, plain C locale output.
 */
export function isolatedGitEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args[0]} failed (${exitCode}): ${stderr.trim().split("\n").slice(-3).join(" / ")}`);
  }
}

/** Runs git plumbing and collects its stdout; a non-zero exit is a GitCommandError. */
export function git(args: string[], opts: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string; maxBytes?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { env: isolatedGitEnv(opts.env), cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let size = 0;
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      size += d.length;
      if (opts.maxBytes && size > opts.maxBytes) child.kill("SIGKILL");
      else out.push(d);
    });
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString("utf8")).slice(-8192)));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new GitCommandError(args, code, opts.maxBytes && size > opts.maxBytes ? `output over ${opts.maxBytes} bytes` : err));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

export const ZERO_SHA = "0000000000000000000000000000000000000000";
export const SHA_RE = /^[0-9a-f]{40}$/;
