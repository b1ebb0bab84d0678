import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { codeFunction } from "../router/helpers.ts";
import { ctx, hostPidsWith, request, scratch, targetOf } from "./helpers.ts";

/** A server app that listens the way `listen` is called in `how`. */
const serverApp = (how: string) => `
import http from "node:http";
const server = http.createServer((req, res) => res.end(JSON.stringify({ url: req.url, address: server.address() })));
${how}
`;

/** The sockets the processes hold, by inode. */
function socketInodes(pids: number[]): Set<string> {
  const out = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: "utf8" }) ?? "");
      if (m) out.add(m[1]!);
    }
  }
  return out;
}

/** Local ports the processes listen on over TCP (IPv4 or IPv6), read from each one's own view
 * of the network (/proc/<pid>/net), so a network namespace could not hide one. */
function tcpListening(pids: number[]): number[] {
  const inodes = socketInodes(pids);
  const ports = new Set<number>();
  for (const pid of pids) {
    for (const file of ["tcp", "tcp6"]) {
      for (const line of readFileSync(`/proc/${pid}/net/${file}`, "utf8").trim().split("\n").slice(1)) {
        const c = line.trim().split(/\s+/);
        // st 0A is LISTEN; the inode says whose socket it is
        if (c[3] === "0A" && inodes.has(c[9]!)) ports.add(parseInt(c[1]!.split(":")[1]!, 16));
      }
    }
  }
  return [...ports];
}

// A server app's listen on PORT becomes a listen on the instance's private Unix socket, whatever
// interface it names: no TCP port is opened that another tenant or local user could reach.
describe.runIf(process.platform === "linux")("local host: server apps listening on PORT", () => {
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

  /** Starts a server app, calls it through the host, and returns what it answered and the TCP
   * ports its processes listen on. */
  async function run(name: string, how: string) {
    const dep = `dpl_listen_${name}`;
    const fn = await codeFunction(s.blobs, dep, name, serverApp(how), { handler: "server", route: "/*path" });
    const marker = `MARKER=listen-${name}-${Date.now()}`;
    const res = await host.invoke(targetOf(dep, fn, { MARKER: marker.slice("MARKER=".length) }), request("/hello?x=1"), ctx());
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; address: { port: number } };
    const pids = hostPidsWith(marker);
    expect(pids.length).toBeGreaterThan(0);
    return { body, ports: tcpListening(pids) };
  }

  it("app.listen(process.env.PORT) opens no TCP listening socket and is reached through the host", async () => {
    const { body, ports } = await run("plain", "server.listen(process.env.PORT);");
    expect(body.url).toBe("/hello?x=1");
    expect(body.address.port).toBe(3000); // what the app asked for, as apps that log it expect
    expect(ports).toEqual([]);
  });

  it("listen(PORT, \"0.0.0.0\") and listen({ port, host: \"::\" }) open none either", async () => {
    for (const [name, how] of [
      ["any4", 'server.listen(Number(process.env.PORT), "0.0.0.0");'],
      ["any6", 'server.listen({ port: process.env.PORT, host: "::" });'],
    ]) {
      const { body, ports } = await run(name!, how!);
      expect(body.url, name).toBe("/hello?x=1");
      expect(ports, name).toEqual([]);
    }
  });

  it("(the check sees a TCP listener when there is one)", async () => {
    const how = `server.listen(process.env.PORT);
const other = http.createServer(() => {}).listen(0, "127.0.0.1", () => console.log("other on", other.address().port));`;
    const { ports } = await run("control", how);
    expect(ports).toHaveLength(1);
  });
});
