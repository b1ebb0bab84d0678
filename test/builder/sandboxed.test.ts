import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBuildInChild } from "../../builder/child.ts";
import { accountCacheDir } from "../../builder/dep-cache.ts";
import { RESTORED_LINE, SAVED_LINE } from "../../builder/install.ts";
import type { BuildResult } from "../../core/types.ts";
import { createSandbox, type Sandbox } from "../../sandbox/index.ts";
import { cleanupTempDirs, prepareChild, REPO, tempDir, type PreparedChildBuild } from "./helpers.ts";

// Builds run tenant code (install scripts, build commands): these run real builds in the real
// sandbox and check what that code can reach, and what the platform publishes for it.

let sandbox: Sandbox;
const SECRET = `ferry-test-secret-${Math.random().toString(36).slice(2)}`;
const repoSecret = join(REPO, `.ferry-test-secret-${process.pid}`);

beforeAll(() => {
  sandbox = createSandbox();
  writeFileSync(repoSecret, SECRET);
});
afterAll(async () => {
  rmSync(repoSecret, { force: true });
  sandbox?.close();
  await cleanupTempDirs();
});

async function build(p: PreparedChildBuild, extra: Partial<Parameters<typeof runBuildInChild>[1]> = {}) {
  const logs: string[] = [];
  const result = await runBuildInChild(p.req, { ...p.opts, sandbox, onLog: (l) => logs.push(l), ...extra });
  return { result, logs };
}

function expectOk(r: { result: BuildResult; logs: string[] }) {
  if (r.result.type !== "success") throw new Error(`build failed: ${JSON.stringify(r.result.errors)}\n${r.logs.join("\n")}`);
  return r.result.output;
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

// A build command that tries to reach what belongs to the platform, recording each outcome.
const ATTACK = `
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
const p = JSON.parse(process.env.ATTACK);
const report = { uid: process.getuid(), attempts: {} };
const attempt = (name, fn) => {
  try {
    report.attempts[name] = { reached: true, value: String(fn()).slice(0, 300) };
  } catch (e) {
    report.attempts[name] = { reached: false, error: e.code ?? e.message };
  }
};
for (const f of p.secrets) attempt("read " + f, () => readFileSync(f, "utf8"));
for (const d of p.folders) attempt("list " + d, () => readdirSync(d).join(","));
attempt("signal the platform", () => { process.kill(p.platformPid, 0); return "alive"; });
attempt("write the blob store", () => { writeFileSync(p.blobFile, "x"); return "written"; });
attempt("write the system", () => { writeFileSync("/usr/ferry-test-write", "x"); return "written"; });
// every process environment it can see, the sandbox's first process included
let environs = "";
for (const pid of readdirSync("/proc").filter((n) => /^\\d+$/.test(n))) {
  try { environs += readFileSync("/proc/" + pid + "/environ", "utf8"); } catch {}
}
report.environs = environs;
attempt("read /proc/1/environ", () => readFileSync("/proc/1/environ", "utf8"));
mkdirSync("public", { recursive: true });
writeFileSync("public/report.json", JSON.stringify(report));
`;

describe("sandboxed builds", () => {
  it("a build command cannot read the platform's secrets, signal it or write its blob store; the build still succeeds", async () => {
    const home = await tempDir("ferry-home-");
    writeFileSync(join(home, "credentials.json"), JSON.stringify({ token: SECRET }));
    writeFileSync(join(home, "secret.key"), SECRET);
    mkdirSync(join(home, "cache", "builds"), { recursive: true });
    writeFileSync(join(home, "cache", "builds", "secret.txt"), SECRET);
    const p = await prepareChild({ "attack.mjs": ATTACK, "ferry.json": JSON.stringify({ buildCommand: "node attack.mjs && pwd" }), "api/hi.js": "export default () => new Response('hi');\n" }, { home });
    const secrets = [join(home, "credentials.json"), join(home, "secret.key"), join(home, "cache", "builds", "secret.txt"), repoSecret, join(REPO, "package.json")];
    const folders = [home, p.blobRoot, p.opts.cacheDir, REPO, "/root"];
    p.req.buildEnv = { ATTACK: JSON.stringify({ secrets, folders, platformPid: process.pid, blobFile: join(p.blobRoot, "files", p.req.accountId, "0".repeat(40)) }) };
    process.env.FERRY_TEST_PLATFORM_SECRET = SECRET;
    let r;
    try {
      r = await build(p);
    } finally {
      delete process.env.FERRY_TEST_PLATFORM_SECRET;
    }
    const out = expectOk(r);
    const reportFile = out.static.find((f) => f.path === "report.json")!;
    const report = JSON.parse((await p.blobs.get(reportFile.key))!.toString()) as { uid: number; environs: string; attempts: Record<string, { reached: boolean; error?: string; value?: string }> };
    const reached = Object.entries(report.attempts).filter(([name, a]) => a.reached && !(name === "read /proc/1/environ" && !a.value!.includes(SECRET)));
    expect(reached).toEqual([]);
    expect(report.attempts["signal the platform"]!.error).toBe("ESRCH");
    expect(report.environs).not.toContain(SECRET);
    if (sandbox.owner) expect(report.uid).toBe(sandbox.owner.uid);
    expect(existsSync(join(p.blobRoot, "files", p.req.accountId, "0".repeat(40)))).toBe(false);
    // the log shows the workspace as the build sees it, never the platform's folders
    expect(r.logs).toContain("/workspace");
    expect(r.logs.filter((l) => l.includes(home))).toEqual([]);
  });

  it("a symlink a build plants to a secret file publishes nothing: the static file is left out, the import fails", async () => {
    const home = await tempDir("ferry-home-");
    const secretFile = join(home, "credentials.json");
    writeFileSync(secretFile, JSON.stringify({ token: SECRET }));
    const staticLink = await prepareChild(
      {
        "ferry.json": JSON.stringify({ buildCommand: `mkdir -p public && echo fine > public/ok.txt && ln -s ${secretFile} public/leak.txt && ln -s ${home} public/home` }),
        "api/hi.js": "export default () => new Response('hi');\n",
      },
      { home },
    );
    const out = expectOk(await build(staticLink));
    expect(out.static.map((f) => f.path)).toEqual(["ok.txt"]);

    const importLink = await prepareChild(
      {
        "ferry.json": JSON.stringify({ buildCommand: `ln -s ${secretFile} api/secret.txt` }),
        "api/leak.js": `import secret from "./secret.txt";\nexport default () => new Response(secret);\n`,
      },
      { home, blobRoot: staticLink.blobRoot },
    );
    const failed = await build(importLink);
    expect(failed.result.type).toBe("error");
    if (failed.result.type === "error") expect(failed.result.errors[0]!.message).toMatch(/secret\.txt/);
    expect(filesContaining(staticLink.blobRoot, SECRET)).toEqual([]);

    // a link to something that exists in there but cannot be read is the app's error
    const unreadable = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: "mkdir -p public && ln -s /proc/1/environ public/environ.txt" }) }, { home });
    const r = await build(unreadable);
    if (sandbox.owner) expect(r.result).toEqual({ type: "error", errors: [{ message: "static file public/environ.txt cannot be read (EACCES)", file: "public/environ.txt" }] });
  });

  it("a build over the memory limit fails naming the limit", async () => {
    const p = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: `node -e "const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1))"` }) });
    const r = await build(p, { limits: { memoryMb: 256 } });
    expect(r.result.type).toBe("error");
    if (r.result.type === "error") expect(r.result.errors[0]!.message).toBe("build stopped: it used more than the build memory limit of 256 MB");
  });

  it("a build over the time limit is stopped, everything in it killed, and fails naming the limit", async () => {
    const marker = `${Math.floor(Math.random() * 1e6)}.25`;
    const p = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: `(sleep ${marker} &); sleep ${marker}` }) });
    const started = Date.now();
    const r = await build(p, { limits: { timeoutMs: 1500 } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.result).toEqual({ type: "error", errors: [{ message: "build stopped: it ran longer than the build time limit of 1.5s" }] });
    const left = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(`sleep ${marker}`));
    expect(left).toEqual([]);
  });

  it("a build that fills its disk past the limit is stopped, naming the limit", async () => {
    const p = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: "head -c 67108864 /dev/zero > big.bin; sleep 20" }) });
    const r = await build(p, { limits: { diskMb: 16, diskCheckMs: 200 } });
    expect(r.result.type).toBe("error");
    if (r.result.type === "error") expect(r.result.errors[0]!.message).toMatch(/^build stopped: its workspace and cache grew to \d+ MB, over the build disk limit of 16 MB$/);
  });

  it("the dependency cache is per account, and a build cannot change what the next one restores", async () => {
    // a dependency from a tarball in the upload: npm installs real files, with no registry
    const app = await tempDir("ferry-app-");
    mkdirSync(join(app, "pkg", "package"), { recursive: true });
    writeFileSync(join(app, "pkg", "package", "package.json"), JSON.stringify({ name: "dep", version: "1.0.0", type: "module", main: "index.js" }));
    writeFileSync(join(app, "pkg", "package", "index.js"), `export const value = "dep-value-1";\n`);
    execFileSync("tar", ["czf", join(app, "dep-1.0.0.tgz"), "-C", join(app, "pkg"), "package"]);
    rmSync(join(app, "pkg"), { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, dependencies: { dep: "file:./dep-1.0.0.tgz" } }));
    mkdirSync(join(app, "api"));
    writeFileSync(join(app, "api", "v.js"), `import { value } from "dep";\nexport default () => new Response(value);\n`);

    const home = await tempDir("ferry-home-");
    const bundleOf = async (p: PreparedChildBuild, out: ReturnType<typeof expectOk>) => (await p.blobs.get(`${out.functions[0]!.artifact.prefix}/index.mjs`))!.toString();
    const buildAs = async (accountId: string, buildCommand?: string) => {
      const p = await prepareChild(app, { home, accountId });
      if (buildCommand) p.req.config = { ...p.req.config, buildCommand };
      const r = await build(p);
      const out = expectOk(r);
      return { p, r, out, bundle: await bundleOf(p, out) };
    };

    const first = await buildAs("acc_one");
    expect(first.r.logs).toContain(SAVED_LINE);
    expect(first.bundle).toContain("dep-value-1");
    const cacheOfOne = accountCacheDir(first.p.opts.cacheDir, "acc_one");
    expect(statSync(join(cacheOfOne, "deps")).isDirectory()).toBe(true);

    // another account: no restore, and its build cannot reach the first account's cache by path
    const probe = `(ls ${cacheOfOne} && cat ${cacheOfOne}/deps/*/node_modules/dep/index.js) > /dev/null 2>&1 && echo REACHED-OTHER-CACHE || echo other-cache-unreachable; ls /cache`;
    const other = await buildAs("acc_two", probe);
    expect(other.r.logs).not.toContain(RESTORED_LINE);
    expect(other.r.logs.some((l) => l.startsWith("Installing dependencies: npm install"))).toBe(true);
    expect(other.r.logs).toContain("other-cache-unreachable");
    expect(other.r.logs).not.toContain("REACHED-OTHER-CACHE");

    // the same account restores; writing into a restored file fails, replacing it stays local
    const poison = `(echo 'export const value = "poisoned-in-place";' > node_modules/dep/index.js) 2>/dev/null && echo WROTE-IN-PLACE || echo in-place-refused; rm node_modules/dep/index.js && echo 'export const value = "replaced-locally";' > node_modules/dep/index.js`;
    const second = await buildAs("acc_one", poison);
    expect(second.r.logs).toContain(RESTORED_LINE);
    if (sandbox.owner) {
      expect(second.r.logs).toContain("in-place-refused");
      expect(second.bundle).toContain("replaced-locally");
    }
    const third = await buildAs("acc_one");
    expect(third.r.logs).toContain(RESTORED_LINE);
    expect(third.bundle).toContain("dep-value-1");
    expect(third.bundle).not.toContain("poisoned");
    expect(third.bundle).not.toContain("replaced-locally");
  });
});
