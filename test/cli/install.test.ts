import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/platform-process.ts";

/** Runs a command to the end, collecting its output. */
function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, FERRY_API_URL: "", FERRY_TOKEN: "", ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A folder that would break a CLI resolving anything from the current folder: a tsconfig whose
 * `paths` send `citty` to a module that throws.
 */
async function hostileFolder() {
  const dir = await mkdtemp(join(tmpdir(), "ferry-elsewhere-"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { citty: ["./hijack.ts"], "tsx/esm/api": ["./hijack.ts"] } } }));
  await writeFile(join(dir, "hijack.ts"), 'throw new Error("resolved from the current folder");\n');
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "someone-elses-app", type: "commonjs" }));
  return dir;
}

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

describe("ferry as a command usable from any folder", () => {
  it("runs from a folder outside the repository, whatever that folder's tsconfig says", async () => {
    const dir = await hostileFolder();
    temps.push(dir);
    const r = await run(process.execPath, [join(ROOT, "bin/ferry.mjs"), "--help"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ferry [dir]  deploys the folder");
    // not a terminal: no colour codes
    expect(r.stdout).not.toContain("\u001b[");
  });

  it("installs with npm link into a prefix and runs from there", async () => {
    const prefix = await mkdtemp(join(tmpdir(), "ferry-prefix-"));
    const dir = await hostileFolder();
    temps.push(prefix, dir);
    const link = await run("npm", ["link", "--offline", "--no-audit", "--no-fund"], { cwd: ROOT, env: { NPM_CONFIG_PREFIX: prefix } });
    expect(link.code, link.stderr).toBe(0);
    const bin = join(prefix, "bin", "ferry");
    const help = await run(bin, ["--help"], { cwd: dir });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Deploy apps to your own Ferry platform");
    const ls = await run(bin, ["ls"], { cwd: dir, env: { FERRY_HOME: join(dir, "no-platform") } });
    expect(ls.code).toBe(1);
    expect(ls.stderr).toMatch(/^Error: no Ferry API found/);
  }, 120_000);
});

describe("a closed stdout", () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it("ends `ferry logs --follow | head` quietly with 0, no stack", async () => {
    // an API that streams log lines for as long as anyone reads them
    server = createServer((req, res) => {
      if (!req.url?.startsWith("/v1/deployments/dpl_x/logs")) return void res.writeHead(404).end("{}");
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      let n = 0;
      const t = setInterval(() => {
        for (let i = 0; i < 50; i++) res.write(JSON.stringify({ ts: Date.now(), stream: "stdout", text: `line ${n++}`, function: "api/x" }) + "\n");
      }, 5);
      res.on("close", () => clearInterval(t));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const p = spawn(process.execPath, [join(ROOT, "bin/ferry.mjs"), "logs", "dpl_x", "--follow", "--api", api, "--token", "t"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    // like `head -1`: read a little, then go away
    await new Promise<void>((r) => p.stdout.once("data", () => r()));
    p.stdout.destroy();
    const code = await new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  }, 30_000);
});

// util-linux `script` gives the command a terminal of its own
const script = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));

describe.skipIf(!script)("ferry env add on a terminal", () => {
  const onTerminal = (args: string, typed: string) =>
    new Promise<{ code: number | null; shown: string }>((resolve, reject) => {
      const command = `${process.execPath} ${join(ROOT, "bin/ferry.mjs")} ${args}`;
      const p = spawn(script!, ["-qec", command, "/dev/null"], {
        env: { ...process.env, FERRY_API_URL: "http://127.0.0.1:9", FERRY_TOKEN: "x" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let shown = "";
      let typedYet = false;
      p.stdout.on("data", (d) => {
        shown += d;
        // type only once asked: before that the terminal itself would echo it
        if (!typedYet && /Value of \w+[^:]*: /.test(shown)) {
          typedYet = true;
          p.stdin.write(typed + "\r");
        }
      });
      p.on("error", reject);
      p.on("exit", (code) => resolve({ code, shown }));
    });

  it("asks for a sensitive value without echoing it", async () => {
    const r = await onTerminal("env add TOKEN --sensitive --project p", "typed-secret");
    expect(r.shown).toContain("Value of TOKEN (not shown): ");
    expect(r.shown).not.toContain("typed-secret");
    // the answer was taken: next came the request
    expect(r.shown).toContain("cannot reach the Ferry API");
  }, 30_000);

  it("echoes a plain one, and refuses an empty answer", async () => {
    const plain = await onTerminal("env add PLAIN --project p", "visible-value");
    expect(plain.shown).toContain("visible-value");
    const empty = await onTerminal("env add EMPTY --project p", "");
    expect(empty.code).toBe(2);
    expect(empty.shown).toContain("the value of EMPTY is empty; pass --allow-empty");
  }, 30_000);
});
