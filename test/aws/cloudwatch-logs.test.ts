// `ferry logs` on AWS: the CloudWatch log store reading moto's CloudWatch Logs, filled as Lambda
// fills it (one group per function, one stream per sandbox named by date and version, the
// platform's START/END/REPORT lines around the Node runtime's console lines).
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import type { BlobStore } from "../../core/blobs/port.ts";
import { createCloudWatchLogStore, entriesOfEvent } from "../../core/logs/cloudwatch.ts";
import type { LogEntry, LogStore } from "../../core/logs/port.ts";
import { manifestKey, type LambdaManifest } from "../../runtime/lambda/host.ts";
import { FAKE_CREDENTIALS, hasMoto, REGION, startMoto } from "./helpers/moto.ts";

describe("Lambda's log lines as entries", () => {
  const at = Date.parse("2026-01-02T03:04:05.678Z");
  const of = (message: string) => entriesOfEvent(message, at + 5, "dpl_x", "api/hi");

  it("drops the platform's lines", () => {
    for (const line of [
      "START RequestId: 8f5a Version: 3\n",
      "END RequestId: 8f5a\n",
      "REPORT RequestId: 8f5a\tDuration: 2.10 ms\tBilled Duration: 3 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB\t\n",
      "INIT_START Runtime Version: nodejs:22.v40\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:abc\n",
    ])
      expect(of(line)).toEqual([]);
  });

  it("console lines: time and request id into the entry, ERROR and WARN on stderr, one entry per line", () => {
    expect(of("2026-01-02T03:04:05.678Z\t8f5a\tINFO\thello\n")).toEqual([{ ts: at, deploymentId: "dpl_x", function: "api/hi", requestId: "8f5a", stream: "stdout", text: "hello" }]);
    expect(of("2026-01-02T03:04:05.678Z\t8f5a\tWARN\tcareful\n")[0]).toMatchObject({ stream: "stderr", text: "careful" });
    expect(of("2026-01-02T03:04:05.678Z\t8f5a\tERROR\tError: boom\n    at f (/var/task/index.mjs:1:1)\n").map((e) => [e.stream, e.text])).toEqual([
      ["stderr", "Error: boom"],
      ["stderr", "    at f (/var/task/index.mjs:1:1)"],
    ]);
    // logged while the module loads: no invocation yet
    expect(of("2026-01-02T03:04:05.678Z\tundefined\tINFO\tstarting\n")[0]).not.toHaveProperty("requestId");
  });

  it("a timeout is on stderr; a raw write is stdout at the event's time", () => {
    expect(of("2026-01-02T03:04:05.678Z 8f5a Task timed out after 20.02 seconds\n")).toEqual([
      { ts: at, deploymentId: "dpl_x", function: "api/hi", requestId: "8f5a", stream: "stderr", text: "Task timed out after 20.02 seconds" },
    ]);
    expect(of("plain write\n")).toEqual([{ ts: at + 5, deploymentId: "dpl_x", function: "api/hi", stream: "stdout", text: "plain write" }]);
  });
});

const available = await hasMoto();

describe.skipIf(!available)("CloudWatch log store against moto's CloudWatch Logs", () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let dir: string;
  let blobs: BlobStore;
  let cw: CloudWatchLogsClient;
  let store: LogStore;

  const fnName = "ferry-todo-a1b2c3";
  const group = `/aws/lambda/${fnName}`;
  const d1 = "dpl_aaaaaaaaaaaaaaaa";
  const d2 = "dpl_bbbbbbbbbbbbbbbb";
  const t0 = Date.now() - 10 * 60_000;
  const day = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, "/");
  // a sandbox of version 1 from a day before, one of today, one of version 2, one of version 11
  const v1old = `${day(t0 - 86_400_000)}/[1]0a1b2c3d`;
  const v1 = `${day(t0)}/[1]4e5f6a7b`;
  const v2 = `${day(t0)}/[2]8c9d0e1f`;
  const v11 = `${day(t0)}/[11]2a3b4c5d`;

  const put = (stream: string, events: [number, string][]) =>
    cw.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: events.map(([timestamp, message]) => ({ timestamp, message })) }));
  const line = (t: number, req: string, level: string, msg: string) => `${new Date(t).toISOString()}\t${req}\t${level}\t${msg}\n`;
  /** one invocation as Lambda writes it */
  const invocation = (t: number, req: string, version: string, lines: [string, string][]): [number, string][] => [
    [t, `START RequestId: ${req} Version: ${version}\n`],
    ...lines.map(([level, msg], i): [number, string] => [t + 1 + i, line(t + 1 + i, req, level, msg)]),
    [t + 20, `END RequestId: ${req}\n`],
    [t + 20, `REPORT RequestId: ${req}\tDuration: 18.00 ms\tBilled Duration: 18 ms\tMemory Size: 512 MB\tMax Memory Used: 80 MB\t\n`],
  ];

  beforeAll(async () => {
    moto = await startMoto();
    dir = await mkdtemp(join(tmpdir(), "ferry-cw-logs-"));
    blobs = createFsBlobStore(join(dir, "blobs"));
    cw = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    const manifest = (id: string, version: string): LambdaManifest => ({
      deploymentId: id,
      // the second function never logged: Lambda has not created its group
      functions: { "api/hi": { functionName: fnName, alias: id, version }, "api/quiet": { functionName: "ferry-todo-d4e5f6", alias: id, version } },
    });
    await blobs.put(manifestKey(d1), JSON.stringify(manifest(d1, "1")));
    await blobs.put(manifestKey(d2), JSON.stringify(manifest(d2, "2")));
    await cw.send(new CreateLogGroupCommand({ logGroupName: group }));
    for (const s of [v1old, v1, v2, v11]) await cw.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: s }));
    await put(v1old, invocation(t0 - 1000, "r0", "1", [["INFO", "yesterday's sandbox"]]));
    await put(v1, [...invocation(t0, "r1", "1", [["INFO", "hello"], ["ERROR", "Error: boom\n    at handler (/var/task/index.mjs:2:9)"]]), ...invocation(t0 + 200, "r3", "1", [["WARN", "slow"]])]);
    await put(v2, invocation(t0 + 100, "r2", "2", [["INFO", "from version 2"]]));
    await put(v11, invocation(t0 + 150, "r9", "11", [["INFO", "from version 11"]]));
    store = createCloudWatchLogStore({ logs: cw, blobs, pollMs: 100 });
  }, 30_000);
  afterAll(async () => {
    await store?.close();
    cw?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const brief = (es: LogEntry[]) => es.map((e) => [e.stream, e.requestId, e.text]);

  it("query: only the deployment's version, across its streams and days, in time order, without the platform's lines", async () => {
    const got = await store.query(d1);
    expect(brief(got)).toEqual([
      ["stdout", "r0", "yesterday's sandbox"],
      ["stdout", "r1", "hello"],
      ["stderr", "r1", "Error: boom"],
      ["stderr", "r1", "    at handler (/var/task/index.mjs:2:9)"],
      ["stderr", "r3", "slow"],
    ]);
    expect(got.every((e) => e.deploymentId === d1 && e.function === "api/hi")).toBe(true);
    expect(got[1]!.ts).toBe(t0 + 1);
    expect(got.map((e) => e.ts)).toEqual([...got.map((e) => e.ts)].sort((a, b) => a - b));
    expect(brief(await store.query(d2))).toEqual([["stdout", "r2", "from version 2"]]);
  });

  it("query: since and limit", async () => {
    expect(brief(await store.query(d1, { since: t0 + 2 }))).toEqual([
      ["stderr", "r1", "Error: boom"],
      ["stderr", "r1", "    at handler (/var/task/index.mjs:2:9)"],
      ["stderr", "r3", "slow"],
    ]);
    expect(brief(await store.query(d1, { limit: 2 }))).toEqual([
      ["stderr", "r1", "    at handler (/var/task/index.mjs:2:9)"],
      ["stderr", "r3", "slow"],
    ]);
  });

  it("a deployment without a manifest, or whose functions never logged, has no entries", async () => {
    expect(await store.query("dpl_cccccccccccccccc")).toEqual([]);
    await blobs.put(manifestKey("dpl_dddddddddddddddd"), JSON.stringify({ deploymentId: "dpl_dddddddddddddddd", functions: { x: { functionName: "ferry-none-000000", alias: "dpl_dddddddddddddddd", version: "1" } } }));
    expect(await store.query("dpl_dddddddddddddddd")).toEqual([]);
  });

  it("follow: delivers the version's lines written after subscribing, once each, until unsubscribed", async () => {
    const got: LogEntry[] = [];
    const off = store.follow(d1, (e) => got.push(e));
    // the first look happens at once and delivers nothing that was there before
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    const t = Date.now();
    await put(v1, invocation(t, "r4", "1", [["INFO", "live"], ["ERROR", "live error"]]));
    await put(v2, invocation(t, "r5", "2", [["INFO", "not this deployment"]]));
    const until = Date.now() + 5000;
    while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    // several more polls see the same events again: none is delivered twice
    await new Promise((r) => setTimeout(r, 400));
    expect(brief(got)).toEqual([
      ["stdout", "r4", "live"],
      ["stderr", "r4", "live error"],
    ]);
    off();
    await put(v1, invocation(Date.now(), "r6", "1", [["INFO", "after unsubscribing"]]));
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toHaveLength(2);
  });
});
