import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export const FAKE_CREDENTIALS = { accessKeyId: "AKIAFERRYTEST0000000", secretAccessKey: "ferry-test-secret" };
export const REGION = "us-east-1";

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });

/** moto's server on loopback: a local AWS control plane for Lambda, IAM, KMS, S3, DynamoDB. */
export async function startMoto(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const endpoint = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr.slice(-500)}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/data.json`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > until) throw new Error(`moto_server did not start: ${stderr.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** moto_server is a python tool preinstalled on some machines only. */
export async function hasMoto(): Promise<boolean> {
  return new Promise((ok) => {
    const c = spawn("moto_server", ["--help"], { stdio: "ignore" });
    c.once("error", () => ok(false));
    c.once("exit", (code) => ok(code === 0));
  });
}
