import { fork, type ChildProcess } from "node:child_process";

/** Forks a target script that reports `{ port }` (or, listening on a Unix socket, `{ type: "ready" }`)
 * over IPC once it listens. */
export async function startTarget(script: string, args: string[] = [], env: Record<string, string> = {}, execArgv: string[] = []): Promise<{ port: number; proc: ChildProcess; stop: () => void }> {
  const proc = fork(script, args, { env: { ...process.env, ...env }, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once("message", (m: { port?: number; type?: string }) => (m.port || m.type === "ready" ? resolve(m.port ?? 0) : reject(new Error(`target said ${JSON.stringify(m)}`))));
    proc.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { port, proc, stop: () => proc.kill("SIGKILL") };
}
