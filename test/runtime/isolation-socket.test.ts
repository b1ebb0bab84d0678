import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { ctx, fixtureFunction, hostPidsWith, request, scratch, targetOf } from "./helpers.ts";

/** The sockets a process holds, by inode. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: "utf8" }) ?? "");
    if (m) out.add(m[1]!);
  }
  return out;
}

// A function instance must be reachable through the router only: it listens on a Unix socket in
// a folder private to the platform's user, never on a TCP port another local process could call
// with forged x-ferry-* headers.
describe.runIf(process.platform === "linux")("local host: how instances are reached", () => {
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir });
  });
  afterAll(async () => {
    await host.close();
    await s.cleanup();
  });

  it("clears the socket folders of platforms that were killed", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const stale = join(tmpdir(), `ferry-sockets-${dead}-test`);
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, "1.sock"), "");
    const other = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir });
    try {
      const fn = await fixtureFunction(s.blobs, "dpl_sweep", "web-hello.mjs");
      expect((await other.invoke(targetOf("dpl_sweep", fn), request("/web-hello"), ctx())).status).toBe(200);
      expect(existsSync(stale)).toBe(false);
    } finally {
      await other.close();
    }
  });

  it("listens on a private Unix socket, not on TCP, and the socket goes away with the host", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_sock", "web-hello.mjs");
    const marker = `MARKER=sock${Date.now()}`;
    await (await host.invoke(targetOf("dpl_sock", fn, { MARKER: marker.slice(7) }), request("/web-hello"), ctx())).arrayBuffer();
    // the instance's processes as the host sees them (bwrap and node inside its pid namespace)
    const pids = hostPidsWith(marker);
    expect(pids.length).toBeGreaterThan(0);
    const inodes = new Set(pids.flatMap((p) => [...socketInodes(p)]));

    const tcpListening = ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((f) =>
      readFileSync(f, "utf8").trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/)).filter((c) => c[3] === "0A" && inodes.has(c[9]!)),
    );
    expect(tcpListening).toEqual([]);

    const unixPaths = readFileSync("/proc/net/unix", "utf8").trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/)).filter((c) => inodes.has(c[6]!) && c[7]).map((c) => c[7]!);
    // the listening socket (named as the sandbox sees it), and the accepted connections that carry its name
    expect([...new Set(unixPaths)]).toEqual(["/run/ferry/http.sock"]);
    // on the host it lives in the instance's own folder, inside one only the platform's user may enter
    const roots = readdirSync(tmpdir()).filter((n) => n.startsWith(`ferry-sockets-${process.pid}-`)).map((n) => join(tmpdir(), n));
    const dir = roots.find((r) => readdirSync(r).some((i) => existsSync(join(r, i, "http.sock"))))!;
    expect(dir).toBeDefined();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await host.close();
    expect(() => statSync(dir)).toThrow();
  });
});
