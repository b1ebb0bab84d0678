import type { FerryError } from "../../core/errors.ts";
import type { Instance } from "./instance.ts";

interface Waiter {
  resolve: (inst: Instance) => void;
  reject: (err: unknown) => void;
}

/**
 * The instances of one function and the requests waiting for a slot on one of them.
 * Each instance takes up to `concurrency` requests at once; when all are full the request
 * queues, and a new instance starts while fewer than `maxInstances` exist. Requests go to the
 * oldest instance with room, so under light load the extra ones go idle and are reaped.
 */
export class FunctionPool {
  readonly instances: Instance[] = [];
  private queue: Waiter[] = [];
  /** instances being prepared (bundle written, port picked) but not yet spawned */
  private preparing = 0;

  constructor(
    private readonly create: () => Promise<Instance>,
    readonly concurrency: number,
    readonly maxInstances: number,
    /** the host's say on one more instance (deployment and machine caps): an error refuses it */
    private readonly room: () => FerryError | null = () => null,
  ) {}

  /** A slot on a ready instance, or null: the warm path, with no promise allocated. */
  tryAcquire(): Instance | null {
    const list = this.instances;
    for (let i = 0; i < list.length; i++) {
      const inst = list[i]!;
      if (inst.state === "ready" && inst.inflight < this.concurrency) {
        inst.inflight++;
        return inst;
      }
    }
    return null;
  }

  /** Waits for a slot, starting an instance when the ones starting cannot absorb the queue. */
  acquire(): Promise<Instance> {
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.scale();
    });
  }

  release(inst: Instance): void {
    inst.inflight--;
    inst.lastUsed = Date.now();
    if (inst.state === "ready") this.drainOnto(inst);
    else this.scale();
  }

  /** Live instances (starting or ready). */
  get size(): number {
    return this.instances.length + this.preparing;
  }

  get idle(): boolean {
    return this.size === 0 && this.queue.length === 0;
  }

  /** Stops instances idle for at least `idleMs`; returns how many were stopped. */
  reap(now: number, idleMs: number): number {
    let n = 0;
    for (const inst of [...this.instances]) {
      if (inst.state === "ready" && inst.inflight === 0 && now - inst.lastUsed >= idleMs) {
        inst.kill("idle");
        this.remove(inst);
        n++;
      }
    }
    return n;
  }

  /** Stops everything and fails waiting requests with `err`. */
  stop(err: FerryError): void {
    for (const inst of [...this.instances]) inst.kill("stopped");
    this.instances.length = 0;
    const q = this.queue;
    this.queue = [];
    for (const w of q) w.reject(err);
  }

  private drainOnto(inst: Instance) {
    while (this.queue.length && inst.state === "ready" && inst.inflight < this.concurrency) {
      inst.inflight++;
      this.queue.shift()!.resolve(inst);
    }
  }

  private scale() {
    if (!this.queue.length) return;
    const starting = this.preparing + this.instances.filter((i) => i.state === "starting").length;
    if (this.queue.length <= starting * this.concurrency || this.size >= this.maxInstances) return;
    const refused = this.room();
    if (refused) {
      // with instances of its own the queue waits for their slots; with none it would wait forever
      if (!this.size) for (const w of this.queue.splice(0)) w.reject(refused);
      return;
    }
    this.preparing++;
    this.create().then(
      (inst) => {
        this.preparing--;
        this.instances.push(inst);
        inst.ready.then(
          () => {
            this.drainOnto(inst);
            inst.exited.then(() => {
              this.remove(inst);
              this.scale();
            });
          },
          (err) => {
            this.remove(inst);
            this.startFailed(err);
          },
        );
      },
      (err) => {
        this.preparing--;
        this.startFailed(err);
      },
    );
  }

  /**
   * A start failed (timeout, crash on boot, bundle that cannot load, bundle not written). The
   * requests it was meant for get its error now instead of waiting for a replacement, and nothing
   * is respawned from here: when starts keep failing (a broken bundle, or a start timeout on a
   * starved machine) a replacement would fail the same way, and instances starting side by side
   * would keep replacing each other forever while the queue waited. The next request starts a
   * new instance.
   *
   * With a ready instance the queue keeps waiting for its free slots. Otherwise the failed start's
   * share (one instance's worth, the oldest waiters) is failed when the instances still starting
   * cannot take everyone, and once nothing is starting every waiter is, since nothing else would
   * ever serve them.
   */
  private startFailed(err: unknown) {
    if (!this.queue.length || this.instances.some((i) => i.state === "ready")) return;
    const starting = this.preparing + this.instances.filter((i) => i.state === "starting").length;
    const excess = this.queue.length - starting * this.concurrency;
    const n = starting === 0 ? this.queue.length : Math.min(excess, this.concurrency);
    for (const w of this.queue.splice(0, Math.max(n, 0))) w.reject(err);
  }

  remove(inst: Instance) {
    const i = this.instances.indexOf(inst);
    if (i >= 0) this.instances.splice(i, 1);
  }
}
