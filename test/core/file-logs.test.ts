import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFileLogStore } from "../../core/logs/file.ts";
import type { LogEntry } from "../../core/logs/port.ts";

// Runtime logs are batched as bytes between flushes; what comes back must be what went in.
describe("file log store", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const store = async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-logs-"));
    dirs.push(dir);
    return { dir, logs: createFileLogStore(dir, 50) };
  };

  it("keeps every line exactly, multi-byte text and batches larger than the first buffer included", async () => {
    const { dir, logs } = await store();
    const entries: LogEntry[] = [
      { ts: 1, deploymentId: "dpl_a", stream: "stdout", text: "héllo wörld ✓ 日本語 🚢" },
      { ts: 2, deploymentId: "dpl_a", stream: "stderr", text: "x".repeat(100_000) },
      ...Array.from({ length: 500 }, (_, i): LogEntry => ({ ts: 3 + i, deploymentId: "dpl_a", stream: "request", text: `GET /${i} 200`, status: 200 })),
      { ts: 9999, deploymentId: "dpl_b", stream: "stdout", text: "other deployment" },
    ];
    for (const e of entries) logs.append(e);
    expect(await logs.query("dpl_a")).toEqual(entries.filter((e) => e.deploymentId === "dpl_a"));
    await logs.close();

    // and from disk, by a store that starts afresh
    const again = createFileLogStore(dir, 50);
    expect(await again.query("dpl_b")).toEqual([entries.at(-1)]);
    expect((await again.query("dpl_a", { since: 500 })).map((e) => e.ts)).toEqual([500, 501, 502]);
    await again.close();
  });
});
