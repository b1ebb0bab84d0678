import { createSandbox, UNSANDBOXED_VAR } from "./create.ts";
import type { Sandbox } from "./port.ts";

let shared: Sandbox | null = null;

/**
 * The platform's one sandbox factory, made on first use. Tenant code is always sandboxed unless
 * the operator set FERRY_UNSANDBOXED=1 (then never, loudly); on a host that cannot sandbox this
 * throws instead.
 */
export function defaultSandbox(): Sandbox {
  if (shared) return shared;
  shared = createSandbox({
    disable: process.env[UNSANDBOXED_VAR] === "1",
    uid: intVar("FERRY_SANDBOX_UID"),
    gid: intVar("FERRY_SANDBOX_GID") ?? intVar("FERRY_SANDBOX_UID"),
  });
  // shared by every platform and host in this process, so its cgroups go when the process does
  const s = shared;
  process.once("exit", () => s.close());
  return s;
}

function intVar(name: string): number | undefined {
  const v = process.env[name];
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 0xfffffffe) throw new Error(`${name} must be a positive whole number (a uid), got ${JSON.stringify(v)}`);
  return n;
}
