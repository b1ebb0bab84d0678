import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSandbox } from "../../sandbox/create.ts";
import type { Sandbox, SandboxSpec } from "../../sandbox/port.ts";

/** Host pids whose command line is exactly `argv` (not the sandbox's wrappers that name it). */
function hostPidsRunning(...argv: string[]): number[] {
  const want = argv.join("\0") + "\0";
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8") === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs a node script in a sandbox and returns its exit, output and what limit it hit. */
function run(sb: Sandbox, script: string, spec: Partial<SandboxSpec> = {}) {
  return new Promise<{ code: number | null; out: string; err: string; limit: string | null }>((resolve) => {
    const s = sb.spawn({ name: "test", command: process.execPath, args: ["-e", script], cwd: "/", env: { PATH: "/usr/bin:/bin" }, mounts: [], limits: {}, stdio: ["ignore", "pipe", "pipe"], ...spec });
    let out = "";
    let err = "";
    s.proc.stdout!.on("data", (d) => (out += d));
    s.proc.stderr!.on("data", (d) => (err += d));
    s.proc.on("close", (code) => {
      const limit = s.limitHit()?.message ?? null;
      s.dispose();
      resolve({ code, out, err, limit });
    });
  });
}

describe.runIf(process.platform === "linux")("sandbox", () => {
  const sb = createSandbox({ cgroupPrefix: "ferry-test" });
  const dir = mkdtempSync(join(tmpdir(), "ferry-sb-"));
  const secret = join(dir, "secret.txt");
  writeFileSync(secret, "the platform's secret");
  const bundle = join(dir, "bundle");
  mkdirSync(bundle);
  writeFileSync(join(bundle, "index.js"), "module.exports = 1");
  afterAll(() => {
    sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is available here, and says how it contains code", () => {
    expect(sb.status.mode).toBe("bwrap");
    expect(sb.status.warnings).toEqual([]);
  });

  it("shows only its mounts and the system's files; the bundle is read-only, /tmp private", async () => {
    const r = await run(
      sb,
      `const fs = require("fs");
       const tryIt = (f) => { try { return f(); } catch (e) { return e.code; } };
       console.log(JSON.stringify({
         secret: tryIt(() => fs.readFileSync(${JSON.stringify(secret)}, "utf8")),
         home: tryIt(() => fs.readdirSync(require("os").homedir())),
         root: fs.readdirSync("/").sort(),
         bundle: fs.readFileSync("/var/task/index.js", "utf8"),
         writeBundle: tryIt(() => fs.writeFileSync("/var/task/index.js", "x")),
         writeUsr: tryIt(() => fs.writeFileSync("/usr/x", "x")),
         tmp: tryIt(() => (fs.writeFileSync("/tmp/x", "ok"), fs.readFileSync("/tmp/x", "utf8"))),
         uid: process.getuid(),
         pids: fs.readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).length,
         parent: tryIt(() => process.kill(${process.pid}, 0)),
         init: fs.readFileSync("/proc/1/cmdline", "utf8"),
       }));`,
      { mounts: [{ source: bundle, target: "/var/task" }], cwd: "/var/task" },
    );
    const seen = JSON.parse(r.out);
    expect(seen.secret).toBe("ENOENT");
    expect(seen.root).not.toContain("root");
    expect(seen.root).not.toContain("home");
    expect(seen.bundle).toBe("module.exports = 1");
    expect(seen.writeBundle).toBe("EROFS");
    expect(seen.writeUsr).toBe("EROFS");
    expect(seen.tmp).toBe("ok");
    if (process.getuid?.() === 0) expect(seen.uid).toBe(65534);
    // bwrap's init and the program: nothing of the host's processes
    expect(seen.pids).toBeLessThanOrEqual(2);
    expect(seen.parent).toBe("ESRCH");
    // bwrap is pid 1 in there: its command line names no host path
    expect(seen.init).not.toContain("--ro-bind");
    expect(seen.init).not.toContain(bundle);
  });

  it("ends every process it started when it is killed, even one in a new session", async () => {
    const marker = `600.${Date.now()}`;
    const s = sb.spawn({ name: "test", command: "/bin/sh", args: ["-c", `setsid sleep ${marker} & sleep 30`], cwd: "/", env: { PATH: "/usr/bin:/bin" }, mounts: [], limits: { pids: 32 }, stdio: "ignore" });
    const exited = new Promise((r) => s.proc.once("exit", r));
    for (let i = 0; i < 50 && !hostPidsRunning("sleep", marker).length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(hostPidsRunning("sleep", marker)).toHaveLength(1);
    const [pid] = hostPidsRunning("sleep", marker);
    // as the host sees it, the tenant is not root
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]).not.toBe("0");
    s.kill();
    await exited;
    for (let i = 0; i < 50 && hostPidsRunning("sleep", marker).length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(hostPidsRunning("sleep", marker)).toEqual([]);
    s.dispose();
  });

  it.runIf(sb.status.limits.memory)("caps memory of the whole process, Buffers included", async () => {
    const r = await run(sb, `const k = []; for (let i = 0; i < 150; i++) k.push(Buffer.alloc(10 * 1024 * 1024, 1)); console.log("survived")`, { limits: { memoryMb: 96 } });
    expect(r.out).not.toContain("survived");
    expect(r.limit).toBe("memory limit 96 MB");
  });

  it.runIf(sb.status.limits.pids)("caps processes: a fork loop fails instead of filling the machine", async () => {
    const r = await run(
      sb,
      `const { spawn } = require("child_process"); let ok = 0, failed = 0;
       for (let i = 0; i < 200; i++) { try { const c = spawn("sleep", ["5"]); c.on("error", () => failed++); ok++; } catch { failed++; } }
       setTimeout(() => { console.log(JSON.stringify({ ok, failed })); process.exit(0); }, 500);`,
      { limits: { pids: 40 } },
    );
    const seen = JSON.parse(r.out || '{"failed":1}');
    expect(seen.failed).toBeGreaterThan(0);
    expect(r.limit).toBe("process limit 40");
  });

  it.runIf(sb.status.limits.cpuShares)("shares the CPU per group: many processes of one app get no more than one of another", async () => {
    // busy loops over the same 1.5 s of wall time (starting once all are up), printing their CPU time
    const t0 = Date.now() + 2_000;
    const spin = `setTimeout(() => { const c = process.cpuUsage(); while (Date.now() < ${t0 + 1_500}); console.log(process.cpuUsage(c).user) }, ${t0} - Date.now())`;
    // all on one core, so the shares decide alone, whatever else the machine is doing
    const cpuOf = (group: string) => run(sb, spin, { group, command: "/usr/bin/taskset", args: ["-c", "0", process.execPath, "-e", spin] }).then((r) => Number(r.out.trim()));
    const [greedy, modest] = await Promise.all([Promise.all([1, 2, 3, 4].map(() => cpuOf("greedy"))), cpuOf("modest")]);
    const greedyEach = greedy.reduce((a, b) => a + b, 0) / greedy.length;
    // per process, five loops on two cores would get equal time; per group, the lone loop gets far more
    expect(modest / greedyEach).toBeGreaterThan(2);
  });

  it("caps open files", async () => {
    const r = await run(sb, `const fs = require("fs"); let n = 0; try { for (;;) { fs.openSync("/dev/null", "r"); n++; } } catch (e) { console.log(e.code, n); }`, { limits: { openFiles: 64 } });
    expect(r.out).toMatch(/^EMFILE \d+/);
    expect(Number(r.out.split(" ")[1])).toBeLessThan(64);
  });

  it("refuses to run where it cannot sandbox, unless the operator opts out", () => {
    const noBwrap = spawnSync(process.execPath, ["--import", "tsx", "-e", `import("./sandbox/create.ts").then(({ createSandbox }) => { try { createSandbox(); console.log("made"); } catch (e) { console.log(e.code, e.message); } const s = createSandbox({ allowUnsandboxed: true }); console.log(JSON.stringify(s.status)); s.close(); })`], {
      cwd: join(import.meta.dirname, "../.."),
      env: { ...process.env, PATH: "/nonexistent" },
      encoding: "utf8",
    });
    const [refusal, status] = noBwrap.stdout.trim().split("\n");
    expect(refusal).toMatch(/^sandbox_unavailable .*bubblewrap.*FERRY_UNSANDBOXED=1/);
    const st = JSON.parse(status!);
    expect(st.mode).toBe("none");
    expect(st.warnings[0]).toMatch(/UNSANDBOXED/);
  });
});
