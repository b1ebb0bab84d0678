import { EventEmitter } from "node:events";
import { blobKeys, type BlobStore } from "../../core/blobs/port.ts";
import type { DeploymentState } from "../../core/types.ts";

export type BuildEvent = { type: "log"; ts: number; text: string } | { type: "state"; ts: number; state: DeploymentState; message?: string };

/**
 * Build logs: kept in memory while a build runs (so followers see lines as they happen) and
 * flushed to the blob store as NDJSON, so they survive restarts and can be replayed later.
 */
export type BuildLogs = ReturnType<typeof createBuildLogs>;

export function createBuildLogs(blobs: BlobStore, flushMs = 500) {
  const live = new Map<string, { events: BuildEvent[]; timer?: NodeJS.Timeout }>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  /** told of every state change of every deployment (outgoing webhooks) */
  const stateListeners: ((id: string, state: DeploymentState) => void)[] = [];

  const flush = async (id: string) => {
    const l = live.get(id);
    if (!l) return;
    if (l.timer) clearTimeout(l.timer);
    l.timer = undefined;
    await blobs.put(blobKeys.buildLog(id), l.events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  };

  const push = (id: string, e: BuildEvent) => {
    let l = live.get(id);
    if (!l) live.set(id, (l = { events: [] }));
    l.events.push(e);
    bus.emit(id, e);
    l.timer ??= setTimeout(() => void flush(id).catch(() => {}), flushMs);
  };

  return {
    log(id: string, text: string) {
      for (const line of text.split(/\r?\n/)) if (line.length) push(id, { type: "log", ts: Date.now(), text: line });
    },
    /** Records a state change; a final state ends the live stream and persists the log. */
    async state(id: string, state: DeploymentState, message?: string) {
      push(id, { type: "state", ts: Date.now(), state, ...(message ? { message } : {}) });
      for (const fn of stateListeners) fn(id, state);
      if (state === "READY" || state === "ERROR" || state === "CANCELED") {
        await flush(id);
        live.delete(id);
      }
    },
    isLive: (id: string) => live.has(id),
    onState: (fn: (id: string, state: DeploymentState) => void) => void stateListeners.push(fn),
    async read(id: string): Promise<BuildEvent[]> {
      const l = live.get(id);
      if (l) return [...l.events];
      const raw = await blobs.get(blobKeys.buildLog(id));
      if (!raw) return [];
      return raw.toString("utf8").split("\n").filter(Boolean).map((s) => JSON.parse(s) as BuildEvent);
    },
    subscribe(id: string, fn: (e: BuildEvent) => void) {
      bus.on(id, fn);
      return () => bus.off(id, fn);
    },
    async close() {
      await Promise.all([...live.keys()].map((id) => flush(id).catch(() => {})));
    },
  };
}
