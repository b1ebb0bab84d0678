// Shared by the function bootstrap and the server-app preload; runs inside the child process.

import net from "node:net";

let control = null;

/**
 * The instance's control channel to the platform: fd 3, one end of a socket pair (not Node's IPC,
 * whose messages the platform would have to parse whatever their size). The instance writes one
 * line, `{"type":"ready"}` or `{"type":"error","message"}`; it exits when the platform's end
 * closes, so no instance outlives its host. Unref'd: watching it must not keep a finished program
 * alive. Without fd 3 (run by hand) there is no platform to tell.
 */
export function watchParent() {
  if (control || process.env.FERRY_CONTROL_FD !== "3") return;
  delete process.env.FERRY_CONTROL_FD;
  try {
    control = new net.Socket({ fd: 3, readable: true, writable: true });
  } catch {
    return;
  }
  control.on("end", () => process.exit(0));
  control.on("error", () => process.exit(0));
  control.resume();
  control.unref();
}

/** Tells the platform something (ready, or why the bundle cannot load); `then` runs once it is sent. */
export function tellParent(message, then) {
  if (control) control.write(JSON.stringify(message) + "\n", then);
  else then?.();
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** Picks the calling convention from the module's exports (the same on the local host and on
 * Lambda, whose zip carries this file). */
export function resolveHandler(mod) {
  let def = mod.default;
  // CommonJS bundled as ESM: `exports.default = fn` arrives as { default: fn }
  if (def && typeof def === "object" && typeof def.fetch !== "function" && def.default) def = def.default;
  if (typeof def === "function") {
    return def.length >= 2 ? { kind: "node", fn: def } : { kind: "web", fn: def };
  }
  if (def && typeof def.fetch === "function") {
    return { kind: "web", fn: (req, ctx) => def.fetch(req, ctx) };
  }
  const methods = {};
  for (const m of METHODS) if (typeof mod[m] === "function") methods[m] = mod[m];
  if (!methods.HEAD && methods.GET) methods.HEAD = methods.GET;
  const allow = Object.keys(methods).join(", ");
  if (allow) {
    return {
      kind: "web",
      fn: (req, ctx) => {
        const h = methods[req.method];
        return h ? h(req, ctx) : new Response("Method Not Allowed", { status: 405, headers: { allow } });
      },
    };
  }
  throw new Error("the module exports no handler: export default a function, an object with fetch(), or GET/POST/... functions");
}

/** Route params as the host sends them in `x-ferry-params` (visitors cannot set the header). */
export function parseParams(raw) {
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    return {};
  }
}
