import { describe, expect, it } from "vitest";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main.ts";
import type { Io } from "../../cli/io.ts";
import { listAppFiles } from "../../cli/files.ts";
import { parseDotenv, dotenvLine } from "../../cli/dotenv.ts";

/** Drives the CLI in-process, capturing what it prints. */
async function cli(args: string[], env: Record<string, string> = {}, cwd = process.cwd()) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    tty: false,
    env: { FERRY_HOME: join(tmpdir(), "ferry-cli-nothing-here"), ...env },
    cwd,
    readStdin: async () => Buffer.alloc(0),
    readLine: async () => "",
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe("ferry CLI", () => {
  it("prints help and its version", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("deploy");
    expect(help.stdout).toContain("alias");
    expect((await cli(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("says how to start the platform when none is running, without a stack trace", async () => {
    const r = await cli(["ls"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: no Ferry API found: start one with `npm start`/);
    expect(r.stderr).not.toContain("    at ");
  });

  it("prints a JSON error with --json", async () => {
    const r = await cli(["ls", "--json"]);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: "no_api", message: expect.stringContaining("no Ferry API found") } });
  });

  it("rejects bad flags before talking to any server", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-cli-"));
    const r = await cli([dir, "--env", "NOT VALID"], { FERRY_API_URL: "http://127.0.0.1:9", FERRY_TOKEN: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--env");
    const missing = await cli([join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("is not a folder");
  });

  it("explains an unreachable API", async () => {
    const r = await cli(["ls"], { FERRY_API_URL: "http://127.0.0.1:9", FERRY_TOKEN: "x" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the Ferry API at http:\/\/127\.0\.0\.1:9/);
  });
});

describe("which files a deploy uploads", () => {
  it("honours .gitignore and .ferryignore at any depth, skips node_modules and .git, follows safe symlinks", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-files-"));
    const outside = await mkdtemp(join(tmpdir(), "ferry-outside-"));
    const files: Record<string, string> = {
      "index.html": "x", ".gitignore": "*.log\nbuild/\n", "app.log": "x", "build/out.js": "x",
      "node_modules/dep/index.js": "x", ".git/HEAD": "x", "sub/.ferryignore": "secret.txt\n", "sub/secret.txt": "x", "sub/keep.txt": "x",
      "secret.txt": "top-level is not ignored by sub/.ferryignore", "é dir/a b.txt": "x",
    };
    for (const [f, c] of Object.entries(files)) {
      await mkdir(join(dir, f, ".."), { recursive: true });
      await writeFile(join(dir, f), c);
    }
    await writeFile(join(outside, "passwd"), "x");
    await symlink(join(outside, "passwd"), join(dir, "escape"));
    await symlink(join(dir, "index.html"), join(dir, "alias.html"));
    const warnings: string[] = [];
    const list = (await listAppFiles(dir, (w) => warnings.push(w))).map((f) => f.file).sort();
    expect(list).toEqual([".gitignore", "alias.html", "index.html", "secret.txt", "sub/.ferryignore", "sub/keep.txt", "é dir/a b.txt"]);
    expect(warnings).toEqual(["skipping escape: symlink points outside the app folder"]);
  });
});

describe(".env files", () => {
  it("round-trips multi-line and quoted values", () => {
    const values = { A: "plain", B: "two\nlines\n", C: 'say "hi" \\ back', D: "" };
    const text = Object.entries(values).map(([k, v]) => dotenvLine(k, v)).join("\n");
    expect(parseDotenv(text)).toEqual(values);
  });
});
