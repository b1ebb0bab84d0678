import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeHome, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/** A build interrupted by a platform crash or stop ends in ERROR on the next start, never stuck. */
describe("end to end: builds interrupted by the platform", () => {
  let platform: RunningPlatform;
  let app = "";
  const env = () => ({ FERRY_HOME: platform.home });
  const marker = `ferry-slow-build-${process.pid}`;

  beforeAll(async () => {
    platform = await startPlatformProcess();
    app = await mkdtemp(join(tmpdir(), "ferry-slow-"));
    await mkdir(join(app, "public"));
    await writeFile(join(app, "public/index.html"), "slow");
    // the marker names the build command's process so the test can look for leftovers
    await writeFile(join(app, "ferry.json"), JSON.stringify({ name: "slow", buildCommand: `sh -c 'sleep 60; echo ${marker}'` }));
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  const waitForBuilding = async () => {
    for (let i = 0; i < 150; i++) {
      const ls = JSON.parse((await runFerryProcess(["ls", "slow", "--json"], { env: env() })).stdout);
      const d = ls.deployments?.find((x: { state: string }) => x.state === "BUILDING");
      if (d) return d.id as string;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("no build started");
  };
  const buildProcesses = () => {
    try {
      return execFileSync("pgrep", ["-f", marker]).toString().trim().split("\n").filter(Boolean).length;
    } catch {
      return 0;
    }
  };

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`ends the build in ERROR after a ${signal} of the platform, and leaves no build processes`, async () => {
      const deploying = runFerryProcess([app, "--json"], { env: env() });
      const id = await waitForBuilding();
      for (let i = 0; i < 100 && buildProcesses() === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(buildProcesses()).toBeGreaterThan(0);
      await platform.stop(signal);
      await deploying.catch(() => null);
      for (let i = 0; i < 50 && buildProcesses() > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(buildProcesses()).toBe(0);

      platform = await startPlatformProcess({ home: platform.home });
      const r = await runFerryProcess(["inspect", id, "--json"], { env: env() });
      const d = JSON.parse(r.stdout);
      expect(d.state).toBe("ERROR");
      expect(d.errorCode).toBe("build_interrupted");
      expect(d.errorMessage).toMatch(/deploy again/);
    });
  }
});
