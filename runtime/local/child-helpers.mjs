// Shared by the function bootstrap and the server-app preload; runs inside the child process.

/** Exit when the platform goes away (the IPC channel closes), so no instance outlives its host.
 * The channel is unref'd: watching it must not keep an otherwise finished program alive. */
export function watchParent() {
  if (!process.send) return;
  process.on("disconnect", () => process.exit(0));
  process.channel?.unref();
}

/** The small response helpers Node handlers written for Now/Vercel expect:
 * res.status(code), res.json(value), res.send(body), res.redirect([status,] url).
 * Installed once on the prototype, so requests pay nothing for them. */
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
