import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, removeHome, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/**
 * `npm start` (or the node command it runs) with its own FERRY_HOME on free ports; `group` gives
 * it a process group of its own, as a terminal's foreground job has.
 */
function start(home: string, how: "npm" | "node", group = false) {
  const [cmd, args] = how === "npm" ? ["npm", ["start", "--silent"]] : [process.execPath, ["--import", "tsx", "server/main.ts"]];
  const proc = spawn(cmd as string, args as string[], {
    cwd: ROOT,
    detached: group,
    env: { ...process.env, FERRY_HOME: home, FERRY_API_PORT: "0", FERRY_ROUTER_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  started.push({ proc, group, exited, home });
  return { proc, exited, output: () => out };
}
const started: { proc: ChildProcess; group: boolean; exited: Promise<unknown>; home: string }[] = [];
const platforms: RunningPlatform[] = [];
const homes: string[] = [];
const newHome = async () => {
  const h = await mkdtemp(join(tmpdir(), "ferry-home-"));
  homes.push(h);
  return h;
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const serverPid = (home: string) =>
  until("server.json", async () => {
    const raw = await readFile(join(home, "server.json"), "utf8").catch(() => null);
    return raw ? (JSON.parse(raw) as { pid: number }).pid : undefined;
  });

afterEach(async () => {
  for (const p of platforms.splice(0)) await p.stop();
  // a test that failed half-way leaves what it started: stop it the polite way, then for sure
  for (const { proc, group, exited, home } of started.splice(0)) {
    const platformPid = await readFile(join(home, "server.json"), "utf8").then((t) => (JSON.parse(t) as { pid: number }).pid, () => undefined);
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(group ? -proc.pid! : proc.pid!, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
    if (platformPid && alive(platformPid)) process.kill(platformPid, "SIGKILL");
  }
  for (const h of homes.splice(0)) await removeHome(h);
});

describe("one platform per FERRY_HOME", { timeout: 150_000 }, () => {
  it("refuses a second start with who is running, and leaves the first alone", async () => {
    const first = await startPlatformProcess({ home: await newHome() });
    platforms.push(first);
    const second = start(first.home, "node");
    expect(await second.exited).toBe(1);
    expect(second.output()).toBe(`Ferry is already running for ${first.home} (pid ${first.proc.pid}); stop it first (kill ${first.proc.pid}, or Ctrl-C in its terminal)\n`);
    const health = await fetch(`${first.apiUrl}/v1/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(await readFile(join(first.home, "server.json"), "utf8")).pid).toBe(first.proc.pid);
  });

  it("lets exactly one of two racing starts win", async () => {
    const home = await newHome();
    const a = start(home, "node");
    const b = start(home, "node");
    const pid = await serverPid(home);
    const [winner, loser] = pid === a.proc.pid ? [a, b] : [b, a];
    expect(await loser.exited).toBe(1);
    expect(loser.output()).toContain(`Ferry is already running for ${home} (pid ${winner.proc.pid})`);
    expect(winner.proc.exitCode).toBe(null);
    winner.proc.kill("SIGTERM");
    expect(await winner.exited).toBe(0);
  });

  it("takes over a lock and a server.json left by a platform that died", async () => {
    const home = await newHome();
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.once("exit", r));
    await writeFile(join(home, "server.lock"), `${dead.pid}\n`);
    await writeFile(join(home, "server.json"), JSON.stringify({ apiUrl: "http://127.0.0.1:9", routerUrl: "http://127.0.0.1:9", domain: "localhost", pid: dead.pid }));
    const s = start(home, "node");
    await until("a fresh server.json", async () => ((await serverPid(home)) === s.proc.pid ? true : undefined));
    expect((await readFile(join(home, "server.lock"), "utf8")).trim()).toBe(String(s.proc.pid));
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(existsSync(join(home, "server.lock"))).toBe(false);
  });
});

describe("stopping `npm start`", { timeout: 150_000 }, () => {
  const stopsEverything = async (send: (npm: ChildProcess) => void, group: boolean) => {
    const home = await newHome();
    const npm = start(home, "npm", group);
    const pid = await serverPid(home);
    expect(pid).not.toBe(npm.proc.pid);
    send(npm.proc);
    await until("the platform process to exit", () => (alive(pid) ? undefined : true), 8_000);
    expect(existsSync(join(home, "server.json"))).toBe(false);
    expect(existsSync(join(home, "server.lock"))).toBe(false);
    await npm.exited;
  };

  // npm runs the script through `sh -c`, which does not pass a SIGTERM on
  it("SIGTERM to the npm process alone stops the platform process too", () => stopsEverything((npm) => npm.kill("SIGTERM"), false));

  // nothing can be passed on from a SIGKILL: the platform notices npm is gone
  it("SIGKILL to the npm process stops the platform process too", () => stopsEverything((npm) => npm.kill("SIGKILL"), false));

  // what Ctrl-C in a terminal does: SIGINT to every process of the foreground job
  it("Ctrl-C (SIGINT to the job's process group) stops it", () => stopsEverything((npm) => process.kill(-npm.pid!, "SIGINT"), true));
});
