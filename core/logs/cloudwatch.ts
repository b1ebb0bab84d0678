import { type CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import { manifestKey, type LambdaManifest } from "../../runtime/lambda/host.ts";
import type { BlobStore } from "../blobs/port.ts";
import type { LogEntry, LogStore } from "./port.ts";

export interface CloudWatchLogStoreOptions {
  logs: CloudWatchLogsClient;
  /** where the deployments' Lambda manifests are (runtime/lambda/host.ts) */
  blobs: BlobStore;
  /** how often `follow` asks CloudWatch for new events; default 2 s */
  pollMs?: number;
  /** how far before the newest event seen `follow` looks again, for events ingested late (other
   * sandboxes, other streams); default 10 s */
  lagMs?: number;
  /** a query without `limit` returns at most this many of the newest entries; default 10,000 */
  maxEntries?: number;
  onError?: (e: unknown) => void;
}

/** Lambda's own lines around each invocation (text log format, the default): not the app's output. */
const PLATFORM = /^(?:(?:START|END|REPORT) RequestId: |(?:INIT_START|INIT_REPORT|RESTORE_START|RESTORE_REPORT) |(?:EXTENSION|TELEMETRY)\tName: )/;
/** The Node runtime's console lines: `<ISO time>\t<request id>\t<LEVEL>\t<message>`. */
const CONSOLE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]*)\t(INFO|WARN|ERROR|DEBUG|TRACE|FATAL)\t([\s\S]*)$/;
const TIMEOUT = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (Task timed out after [\d.]+ seconds)$/;

/**
 * One CloudWatch event of a function as log entries (one per line, as the local host writes
 * them), or none for Lambda's START/END/REPORT lines. Raw writes to stdout or stderr carry no
 * prefix and cannot be told apart: they are stdout.
 */
export function entriesOfEvent(message: string, at: number, deploymentId: string, fn: string): LogEntry[] {
  const body = message.endsWith("\n") ? message.slice(0, -1) : message;
  if (PLATFORM.test(body)) return [];
  let ts = at;
  let requestId: string | undefined;
  let stream: LogEntry["stream"] = "stdout";
  let text = body;
  const m = CONSOLE.exec(body) ?? TIMEOUT.exec(body);
  if (m) {
    ts = Date.parse(m[1]!) || at;
    // console calls outside an invocation (module init) have the id `undefined`
    if (m[2] && m[2] !== "undefined") requestId = m[2];
    if (m.length === 5) {
      stream = m[3] === "ERROR" || m[3] === "WARN" || m[3] === "FATAL" ? "stderr" : "stdout";
      text = m[4]!.endsWith("\n") ? m[4]!.slice(0, -1) : m[4]!;
    } else {
      stream = "stderr";
      text = m[3]!;
    }
  }
  return text.split("\n").map((line) => ({ ts, deploymentId, function: fn, ...(requestId ? { requestId } : {}), stream, text: line }));
}

/**
 * Runtime logs on AWS: what Lambda writes to CloudWatch Logs. Each function of a deployment is a
 * version of one Lambda shared by the project's deployments, logging to `/aws/lambda/<name>` in
 * streams named `YYYY/MM/DD/[<version>]<id>`; the deployment's entries are the events of its
 * versions' streams. Lambda writes them, so `append` does nothing.
 */
export function createCloudWatchLogStore(opts: CloudWatchLogStoreOptions): LogStore {
  const pollMs = opts.pollMs ?? 2000;
  const lagMs = opts.lagMs ?? 10_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const onError = opts.onError ?? ((e: unknown) => console.error("[logs] CloudWatch:", e));
  // manifests never change once written (host.ts): kept once found
  const manifests = new Map<string, LambdaManifest>();
  const pollers = new Map<string, Poller>();

  async function manifest(deploymentId: string): Promise<LambdaManifest | null> {
    const known = manifests.get(deploymentId);
    if (known) return known;
    const raw = await opts.blobs.get(manifestKey(deploymentId));
    if (!raw) return null;
    const m = JSON.parse(raw.toString("utf8")) as LambdaManifest;
    manifests.set(deploymentId, m);
    if (manifests.size > 1000) manifests.delete(manifests.keys().next().value!);
    return m;
  }

  /** The events of one version in [start, end] (ms, inclusive, as FilterLogEvents takes them). */
  async function versionEvents(functionName: string, version: string, start?: number, end?: number): Promise<FilteredLogEvent[]> {
    const tag = `[${version}]`;
    const out: FilteredLogEvent[] = [];
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await opts.logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${functionName}`, startTime: start, endTime: end, nextToken }));
      } catch (e) {
        // Lambda creates the group on the function's first line
        if (e instanceof ResourceNotFoundException) return out;
        throw e;
      }
      // stream names start with the date, so no one prefix selects a version across days
      for (const ev of page.events ?? []) if (ev.logStreamName?.includes(tag)) out.push(ev);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /** The deployment's entries in [start, end], in time order. */
  async function window(deploymentId: string, m: LambdaManifest, start?: number, end?: number): Promise<LogEntry[]> {
    const perFn = await Promise.all(
      Object.entries(m.functions).map(async ([fn, f]) => {
        const events = await versionEvents(f.functionName, f.version, start, end);
        events.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
        return events.flatMap((ev) => entriesOfEvent(ev.message ?? "", ev.timestamp ?? 0, deploymentId, fn));
      }),
    );
    return perFn.flat().sort((a, b) => a.ts - b.ts);
  }

  function poll(deploymentId: string): Poller {
    const p: Poller = { listeners: new Set(), seen: new Map(), cursor: Date.now(), stopped: false };
    const since = p.cursor;
    let first = true;
    const tick = async () => {
      const startedAt = Date.now();
      try {
        const m = await manifest(deploymentId);
        if (m) {
          const fresh: { t: number; entries: LogEntry[] }[] = [];
          await Promise.all(
            Object.entries(m.functions).map(async ([fn, f]) => {
              for (const ev of await versionEvents(f.functionName, f.version, p.cursor - lagMs)) {
                const id = ev.eventId ?? `${ev.logStreamName}/${ev.timestamp}/${ev.message}`;
                if (p.seen.has(id)) continue;
                const t = ev.timestamp ?? 0;
                p.seen.set(id, t);
                // the first look only learns what was there before the subscription
                if (first && t < since) continue;
                fresh.push({ t, entries: entriesOfEvent(ev.message ?? "", t, deploymentId, fn) });
              }
            }),
          );
          first = false;
          fresh.sort((a, b) => a.t - b.t);
          // on from the newest event, or from this look: a quiet version's window does not grow
          // over the other versions' events it has to skip
          p.cursor = fresh.reduce((c, f) => Math.max(c, f.t), Math.max(p.cursor, startedAt));
          for (const [id, t] of p.seen) if (t < p.cursor - lagMs) p.seen.delete(id);
          for (const { entries } of fresh) for (const e of entries) for (const fn of [...p.listeners]) fn(e);
        }
      } catch (e) {
        onError(e);
      }
      if (!p.stopped) p.timer = setTimeout(tick, pollMs).unref();
    };
    void tick();
    return p;
  }

  return {
    append() {},

    async query(deploymentId, q = {}) {
      const m = await manifest(deploymentId);
      if (!m) return [];
      const limit = q.limit ?? maxEntries;
      // the newest `limit` entries: windows back from now, each four times the last, until enough
      let out: LogEntry[] = [];
      let end = Date.now() + 60_000;
      let span = 15 * 60_000;
      for (;;) {
        const start = Math.max(q.since ?? 0, end - span);
        const older = (await window(deploymentId, m, start, end - 1)).filter((e) => q.since === undefined || e.ts >= q.since);
        out = older.concat(out).slice(-limit);
        if (out.length >= limit || start <= (q.since ?? 0)) break;
        end = start;
        span *= 4;
      }
      return out;
    },

    follow(deploymentId, fn) {
      let p = pollers.get(deploymentId);
      if (!p) pollers.set(deploymentId, (p = poll(deploymentId)));
      const poller = p;
      poller.listeners.add(fn);
      return () => {
        poller.listeners.delete(fn);
        if (poller.listeners.size || pollers.get(deploymentId) !== poller) return;
        stop(poller);
        pollers.delete(deploymentId);
      };
    },

    async close() {
      for (const p of pollers.values()) stop(p);
      pollers.clear();
    },
  };
}

interface Poller {
  listeners: Set<(e: LogEntry) => void>;
  /** event ids already delivered (or there before the subscription), by event time */
  seen: Map<string, number>;
  /** where the next look starts, less the lag: the newest event seen or the last look */
  cursor: number;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

function stop(p: Poller) {
  p.stopped = true;
  if (p.timer) clearTimeout(p.timer);
  p.listeners.clear();
}
