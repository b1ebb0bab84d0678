import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { removeHome, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/** The TCP ports a process listens on, read from /proc: its socket inodes matched against the kernel's tables. */
async function listeningTcpPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    const text = await readFile(`/proc/${pid}/net/${table}`, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A") continue; // 0A = LISTEN
      if (inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(":")[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Unix socket paths a process listens on (from /proc/net/unix). */
async function unixSocketPaths(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ""));
    if (m) inodes.add(m[1]!);
  }
  const text = await readFile(`/proc/${pid}/net/unix`, "utf8");
  return text
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 8 && inodes.has(c[6]!))
    .map((c) => c[7]!);
}

describe.runIf(process.platform === "linux")("the embedded platform's listeners", () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("listens on TCP only for the API, the router and the store gateway: metadata and the emulators are Unix sockets in 0700 folders", async () => {
    const pid = platform.proc.pid!;
    const saved = JSON.parse(await readFile(join(platform.home, "appdata", "ports.json"), "utf8")) as { dynamodb: number; s3: number };
    const expected = [Number(new URL(platform.apiUrl).port), Number(new URL(platform.routerUrl).port), saved.dynamodb, saved.s3].sort((a, b) => a - b);
    expect(await listeningTcpPorts(pid)).toEqual(expected);

    const metadataSocket = join(platform.home, "run", "metadata.sock");
    expect((await stat(metadataSocket)).isSocket()).toBe(true);
    expect((await stat(join(platform.home, "run"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(platform.home, "appdata", "run"))).mode & 0o777).toBe(0o700);
    const unix = await unixSocketPaths(pid);
    expect(unix).toEqual(expect.arrayContaining([metadataSocket, join(platform.home, "appdata", "run", "dynamodb.sock"), join(platform.home, "appdata", "run", "s3.sock")]));

    // and the API, which reads metadata, still works
    const r = await fetch(`${platform.apiUrl}/v1/deployments`, { headers: { authorization: `Bearer ${platform.token}` } });
    expect(r.status).toBe(200);
  });
});
