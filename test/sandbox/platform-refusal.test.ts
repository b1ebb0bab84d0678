import { mkdtemp, readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, removeHome, runFerryProcess, startPlatformProcess } from "../helpers/platform-process.ts";

// A host without bubblewrap: the PATH the platform searches holds no bwrap.
const NO_BWRAP = { PATH: "/nonexistent" };

describe.runIf(process.platform === "linux")("the platform on a host that cannot sandbox", () => {
  it("refuses to start, naming what is missing and the way out", async () => {
    const home = await mkdtemp(join(tmpdir(), "ferry-home-"));
    try {
      const proc = spawn(process.execPath, ["--import", "tsx", join(ROOT, "server/main.ts")], {
        cwd: ROOT,
        env: { ...process.env, ...NO_BWRAP, FERRY_HOME: home, FERRY_API_PORT: "0", FERRY_ROUTER_PORT: "0", FERRY_UNSANDBOXED: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      proc.stdout.on("data", (d) => (out += d));
      proc.stderr.on("data", (d) => (out += d));
      const code = await new Promise((r) => proc.once("exit", r));
      expect(code).toBe(1);
      expect(out).toMatch(/could not start: cannot sandbox tenant code on this host: bubblewrap \(bwrap\) is not installed/);
      expect(out).toContain("FERRY_UNSANDBOXED=1");
      // nothing was started: no server.json, no token
      await expect(readFile(join(home, "server.json"))).rejects.toThrow();
    } finally {
      await removeHome(home);
    }
  });

  it("runs unsandboxed only when the operator says so, and says it everywhere", async () => {
    const platform = await startPlatformProcess({ env: { ...NO_BWRAP, FERRY_UNSANDBOXED: "1" } });
    try {
      expect(platform.output()).toMatch(/Sandbox: NONE/);
      const info = JSON.parse(await readFile(join(platform.home, "server.json"), "utf8"));
      expect(info.sandbox).toMatchObject({ mode: "none" });
      expect(info.sandbox.warnings[0]).toMatch(/UNSANDBOXED/);
      const who = await runFerryProcess(["whoami"], { env: { FERRY_HOME: platform.home } });
      expect(who.code, who.stderr).toBe(0);
      expect(who.stdout).toMatch(/Sandbox: NONE/);
      expect(who.stderr).toMatch(/Warning: tenant code runs UNSANDBOXED/);
      const json = JSON.parse((await runFerryProcess(["whoami", "--json"], { env: { FERRY_HOME: platform.home } })).stdout);
      expect(json.sandbox.mode).toBe("none");
    } finally {
      await platform.stop();
      await removeHome(platform.home);
    }
  });

  it("reports the sandbox on a host that has one", async () => {
    const platform = await startPlatformProcess();
    try {
      const who = JSON.parse((await runFerryProcess(["whoami", "--json"], { env: { FERRY_HOME: platform.home } })).stdout);
      expect(who.sandbox).toMatchObject({ mode: "bwrap", warnings: [] });
      expect(platform.output()).toMatch(/Sandbox: bwrap, tenant code runs as/);
    } finally {
      await platform.stop();
      await removeHome(platform.home);
    }
  });
});
