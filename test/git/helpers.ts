import { spawn } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a test's git client runs with: a fixed identity, no prompts, no user config. */
export const gitClientEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  GIT_AUTHOR_NAME: "Ada Lovelace",
  GIT_AUTHOR_EMAIL: "ada@example.test",
  GIT_COMMITTER_NAME: "Ada Lovelace",
  GIT_COMMITTER_EMAIL: "ada@example.test",
  LC_ALL: "C",
  ...extra,
});

/** Runs the real git client. */
export function gitCli(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: opts.cwd, env: gitClientEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`git ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 180_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => {}); // git may exit before reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs git and fails the test on a non-zero exit. */
export async function gitOk(args: string[], opts: Parameters<typeof gitCli>[1] = {}): Promise<string> {
  const r = await gitCli(args, opts);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Writes files into a folder (creating sub-folders). */
export async function writeFiles(dir: string, files: Record<string, string>) {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
}

/** A new work tree on branch main with the files committed. */
export async function newRepo(files: Record<string, string>, message = "first commit"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-git-client-"));
  await gitOk(["init", "-q", "-b", "main"], { cwd: dir });
  await writeFiles(dir, files);
  await commitAll(dir, message);
  return dir;
}

export async function commitAll(dir: string, message: string): Promise<string> {
  await gitOk(["add", "-A"], { cwd: dir });
  await gitOk(["commit", "-q", "--allow-empty", "-m", message], { cwd: dir });
  return (await gitOk(["rev-parse", "HEAD"], { cwd: dir })).trim();
}

/** `http://127.0.0.1:1234` + token -> a remote URL with the token as the Basic-auth password. */
export const remoteUrl = (apiUrl: string, project: string, token?: string, user = "git") => {
  const u = new URL(`${apiUrl}/git/${project}.git`);
  if (token !== undefined) {
    u.username = user;
    u.password = token;
  }
  return u.toString();
};

/** The `remote:` lines of a push, without the prefix and git's padding. */
export const remoteLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("remote: "))
    .map((l) => l.slice("remote: ".length).trimEnd());

/** `git daemon` serving every bare repository under `base` on a free loopback port (a stand-in git provider). */
export async function startGitDaemon(base: string): Promise<{ url: (repo: string) => string; stop: () => void }> {
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn("git", ["daemon", "--export-all", "--reuseaddr", `--base-path=${base}`, "--listen=127.0.0.1", `--port=${port}`, base], { env: gitClientEnv(), stdio: "ignore" });
  // ready once it accepts connections
  const { connect } = await import("node:net");
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1").once("connect", () => (c.destroy(), r(true))).once("error", () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: (repo) => `git://127.0.0.1:${port}/${repo}`, stop: () => void child.kill("SIGTERM") };
}
