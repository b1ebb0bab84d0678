import { fork, spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

const START_TIMEOUT_MS = 30_000;

/** `ready`, or a rejection naming the target once it exits or stays silent too long (a target that
 * no longer speaks the protocol expected here must fail the benchmark, not hang it). */
function started<T>(what: string, proc: ChildProcess, ready: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => (proc.kill("SIGKILL"), reject(new Error(`${what} did not report readiness within ${START_TIMEOUT_MS} ms`))), START_TIMEOUT_MS);
    proc.once("exit", (code) => reject(new Error(`${what} exited with ${code}`)));
  });
  return Promise.race([ready, failed]).finally(() => clearTimeout(timer));
}

export interface Target {
  port: number;
  proc: ChildProcess;
  stop: () => void;
}

/** Forks a target script that reports `{ port }` (or, listening on a Unix socket, `{ type: "ready" }`)
 * over IPC once it listens. */
export async function startTarget(script: string, args: string[] = [], env: Record<string, string> = {}, execArgv: string[] = []): Promise<Target> {
  const proc = fork(script, args, { env: { ...process.env, ...env }, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await started(
    script,
    proc,
    new Promise<number>((resolve, reject) => {
      proc.once("message", (m: { port?: number; type?: string }) => (m.port || m.type === "ready" ? resolve(m.port ?? 0) : reject(new Error(`target said ${JSON.stringify(m)}`))));
    }),
  );
  return { port, proc, stop: () => proc.kill("SIGKILL") };
}

/**
 * Starts Ferry's function bootstrap the way the platform does, minus the sandbox: its control
 * channel is fd 3 (a socket pair), on which it writes one line, `{"type":"ready"[,"port"]}`, and it
 * exits when that channel closes.
 */
export async function startBootstrap(bootstrap: string, args: string[], execArgv: string[] = []): Promise<Target> {
  const proc = spawn(process.execPath, [...execArgv, bootstrap, ...args], { env: { ...process.env, FERRY_CONTROL_FD: "3" }, stdio: ["ignore", "inherit", "inherit", "pipe"] });
  const control = proc.stdio[3] as Readable;
  const port = await started(
    bootstrap,
    proc,
    new Promise<number>((resolve, reject) => {
      let buf = "";
      const onData = (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        const nl = buf.indexOf("\n");
        if (nl < 0) return;
        control.off("data", onData);
        let m: { type?: string; port?: number } = {};
        try {
          m = JSON.parse(buf.slice(0, nl)) as typeof m;
        } catch {
          /* refused below */
        }
        if (m.type === "ready") resolve(m.port ?? 0);
        else reject(new Error(`${bootstrap} said ${buf.slice(0, nl)}`));
      };
      control.on("data", onData);
    }),
  );
  // the channel stays open (and drained) for the instance's life: it exits when it closes
  control.resume();
  return { port, proc, stop: () => proc.kill("SIGKILL") };
}
