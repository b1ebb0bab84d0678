import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { FerryError } from "../../core/errors.ts";
import { forward } from "../../runtime/local/proxy.ts";
import { sleep } from "./helpers.ts";

// forward() turns an instance's answer into a streaming Web Response with backpressure: when the
// reader falls behind, the HTTP parser is paused, and each read resumes it.
describe("proxy: streamed bodies", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** An upstream that sends `pieces` of 1 KB a few ms apart, then stays silent until released. */
  async function upstream(pieces: number, rest: number) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const server: Server = createServer(async (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String((pieces + rest) * 1024) });
      for (let i = 0; i < pieces; i++) {
        res.write(Buffer.alloc(1024, 97));
        await sleep(2);
      }
      await released;
      res.end(Buffer.alloc(rest * 1024, 98));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(() => new Promise((r) => server.close(r)), () => pool.destroy(), async () => release());
    return { pool, release };
  }

  it("a paused body resumed with nothing buffered waits for data instead of yielding empty chunks", async () => {
    const pieces = 64;
    const { pool, release } = await upstream(pieces, 32);
    const ex = forward(pool, { method: "GET", path: "/", headers: [], body: null }, (e) => e as FerryError, () => {});
    const res = await ex.response;
    // let the pieces arrive unread: the stream fills up and the parser pauses
    await sleep(300);
    const reader = res.body!.getReader();
    cleanups.push(() => reader.cancel().catch(() => {}));

    let bytes = 0;
    let reads = 0;
    // bounded: without care, every read resumes the parser for one more empty chunk, forever
    while (bytes < pieces * 1024 && reads < 1_000) {
      const r = await reader.read();
      reads++;
      if (r.done) break;
      bytes += r.value.length;
    }
    expect(bytes).toBe(pieces * 1024);
    expect(reads).toBeLessThanOrEqual(pieces);

    // the upstream is silent: the next read waits for it
    const next = reader.read();
    expect(await Promise.race([next.then(() => "answered"), sleep(200).then(() => "waiting")])).toBe("waiting");
    release();
    let r = await next;
    while (!r.done) {
      expect(r.value.length).toBeGreaterThan(0);
      bytes += r.value.length;
      r = await reader.read();
    }
    expect(bytes).toBe((pieces + 32) * 1024);
  });
});
