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

/** The small response helpers Node handlers written for Now/Vercel expect:
 * res.status(code), res.json(value), res.send(body), res.redirect([status,] url).
 * Installed once on the prototype, so requests pay nothing for them. Only the Lambda bootstrap
 * still uses these (its zip carries this one file); the local host serves Node handlers with
 * vercel-helpers.mjs, which has @vercel/node's full semantics and the request helpers. */
export function ferryNodeHelpers(http) {
  const proto = http.ServerResponse.prototype;
  if (proto.status) return;
  proto.status = function (code) {
    this.statusCode = code;
    return this;
  };
  proto.json = function (value) {
    if (!this.getHeader("content-type")) this.setHeader("content-type", "application/json; charset=utf-8");
    this.end(JSON.stringify(value));
    return this;
  };
  proto.send = function (body) {
    if (body === undefined || body === null) return this.end(), this;
    if (typeof body === "object" && !Buffer.isBuffer(body) && !(body instanceof Uint8Array)) return this.json(body);
    if (!this.getHeader("content-type")) {
      this.setHeader("content-type", typeof body === "string" ? "text/html; charset=utf-8" : "application/octet-stream");
    }
    this.end(body);
    return this;
  };
  proto.redirect = function (a, b) {
    const [code, url] = typeof a === "number" ? [a, b] : [307, a];
    this.writeHead(code, { location: url });
    this.end();
    return this;
  };
}
