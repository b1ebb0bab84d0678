import { randomBytes, createHash } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";

export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

export interface HookCall {
  updates: RefUpdate[];
  /** git's quarantine folder of this push (GIT_QUARANTINE_PATH), checked before use */
  quarantine: string | null;
}

/** What one push does with its ref updates; `say` becomes a `remote:` line. True accepts them all. */
export type HookHandler = (call: HookCall, say: (line: string) => void) => Promise<boolean>;

const MAX_HOOK_BODY = 4 * 1024 * 1024;
const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The platform's end of the pre-receive hook: an HTTP server on a Unix socket in a private
 * folder. Each push gets a capability (a random token) valid for one hook call, and only while
 * its request runs; the hook is given it through the environment of that push's git alone.
 */
export async function startHookServer(opts: { socketPath: string; hooksDir: string; log?: (line: string) => void }) {
  const pushes = new Map<string, HookHandler>();
  await writeHooks(opts.hooksDir);

  const server: Server = createServer((req, res) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const key = digest(token).toString("hex");
    const handler = req.method === "POST" && req.url === "/pre-receive" ? pushes.get(key) : undefined;
    // looked up by the token's sha256, so how long a lookup takes says nothing about the token
    if (!handler) {
      res.writeHead(403).end();
      req.resume();
      return;
    }
    pushes.delete(key); // one call per push
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_HOOK_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      let call: HookCall;
      try {
        const raw = JSON.parse(Buffer.concat(chunks).toString("utf8")) as HookCall;
        call = { updates: raw.updates.map((u) => ({ oldSha: String(u.oldSha), newSha: String(u.newSha), ref: String(u.ref) })), quarantine: raw.quarantine ? String(raw.quarantine) : null };
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const say = (line: string) => {
        for (const l of line.split("\n")) if (!res.writableEnded) res.write(JSON.stringify({ line: l }) + "\n");
      };
      handler(call, say)
        .catch((e: Error) => {
          opts.log?.(`[git] push failed unexpectedly: ${e.stack ?? e.message}`);
          say("The push failed on the platform (see its log); nothing was deployed.");
          return false;
        })
        .then((ok) => res.end(JSON.stringify({ ok }) + "\n"));
    });
  });
  server.requestTimeout = 0; // a push waits for its builds
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.socketPath, () => resolve());
  });
  await chmod(opts.socketPath, 0o600);

  return {
    socketPath: opts.socketPath,
    hooksDir: opts.hooksDir,
    /** A capability for one push; `revoke` when its request ends, used or not. */
    register(handler: HookHandler) {
      const token = randomBytes(32).toString("base64url");
      const key = digest(token).toString("hex");
      pushes.set(key, handler);
      return { token, revoke: () => void pushes.delete(key) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
export type HookServer = Awaited<ReturnType<typeof startHookServer>>;

/** The hooks folder every repository uses (`core.hooksPath`): the same script for all. */
async function writeHooks(dir: string) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const script = join(import.meta.dirname, "hook.mjs");
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(join(dir, "pre-receive"), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(script)}\n`, { mode: 0o700 });
  await chmod(join(dir, "pre-receive"), 0o700);
}
