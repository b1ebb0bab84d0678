import { describe, expect, it } from "vitest";
import type { Instance } from "../../runtime/local/instance.ts";
import { FunctionPool } from "../../runtime/local/pool.ts";

/** Stands in for an Instance whose start the test decides: `start()` makes it ready, `fail()`
 * rejects its readiness (and, like a real instance, a failed start leaves it dead). */
function fakeInstance() {
  let ok!: () => void;
  let fail!: (err: unknown) => void;
  let exit!: () => void;
  const inst = {
    state: "starting" as "starting" | "ready" | "dead",
    inflight: 0,
    lastUsed: Date.now(),
    ready: new Promise<void>((res, rej) => {
      ok = res;
      fail = rej;
    }),
    exited: new Promise<void>((r) => (exit = r)),
    kill() {
      inst.state = "dead";
      exit();
    },
  };
  inst.ready.catch(() => inst.kill());
  return {
    inst: inst as unknown as Instance,
    start() {
      inst.state = "ready";
      ok();
    },
    fail: (err: unknown) => fail(err),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(concurrency: number, maxInstances: number) {
  const made: ReturnType<typeof fakeInstance>[] = [];
  const pool = new FunctionPool(
    async () => {
      const f = fakeInstance();
      made.push(f);
      return f.inst;
    },
    concurrency,
    maxInstances,
  );
  const outcomes: ("served" | "failed")[] = [];
  const acquire = (n: number) => {
    for (let i = 0; i < n; i++) pool.acquire().then(() => outcomes.push("served"), () => outcomes.push("failed"));
  };
  const count = (o: "served" | "failed") => outcomes.filter((x) => x === o).length;
  return { pool, made, acquire, count };
}

// Starting an instance can fail (start timeout on a starved machine, crash on boot). The requests
// waiting for it must get that error, and the pool must not respawn in a loop.
describe("function pool: failed starts", () => {
  it("fails every waiter when no instance can start, without respawning", async () => {
    const { made, acquire, count } = setup(2, 3);
    acquire(8);
    await flush();
    expect(made).toHaveLength(3);
    const err = new Error("did not start");
    made[0]!.fail(err);
    await flush();
    // two instances are still starting (room for 4 of the 8): the failed one's share gets the error
    expect(count("failed")).toBe(2);
    made[1]!.fail(err);
    await flush();
    expect(count("failed")).toBe(4);
    made[2]!.fail(err);
    await flush();
    // nothing is starting any more: nobody would ever serve the rest
    expect(count("failed")).toBe(8);
    await new Promise((r) => setTimeout(r, 50));
    expect(made).toHaveLength(3);
  });

  it("keeps waiters for an instance that did start, and the next request starts a new one", async () => {
    const { pool, made, acquire, count } = setup(2, 3);
    acquire(8);
    await flush();
    made[0]!.fail(new Error("did not start"));
    await flush();
    made[1]!.start();
    await flush();
    expect(count("failed")).toBe(2);
    expect(count("served")).toBe(2);
    made[2]!.fail(new Error("did not start"));
    await flush();
    // a ready instance will take them as its slots free up
    expect(count("failed")).toBe(2);
    expect(made).toHaveLength(3);
    pool.release(made[1]!.inst);
    pool.release(made[1]!.inst);
    await flush();
    expect(count("served")).toBe(4);
    acquire(1);
    await flush();
    expect(made).toHaveLength(4);
  });

  it("fails waiters when the instance cannot even be prepared", async () => {
    let calls = 0;
    const pool = new FunctionPool(
      async () => {
        calls++;
        throw new Error("bundle missing");
      },
      1,
      4,
    );
    const results = await Promise.allSettled([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    await flush();
    expect(calls).toBe(3);
    expect(pool.idle).toBe(true);
  });
});
