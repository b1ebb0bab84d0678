// Loaded with `node --import` in front of a server app (one that listens on process.env.PORT):
// ties the app's lifetime to the platform's, and turns its listen on PORT into a listen on the
// instance's private Unix socket, as hosting platforms that proxy to apps do. Apps keep writing
// `app.listen(process.env.PORT)`; no TCP port exists that another tenant could squat or reach.
import net from "node:net";
import { tellParent, watchParent } from "./child-helpers.mjs";

watchParent();

const socket = process.env.FERRY_LISTEN_SOCKET;
const port = Number(process.env.PORT);
delete process.env.FERRY_LISTEN_SOCKET;

if (socket && port) {
  const listen = net.Server.prototype.listen;
  let taken = false;
  /** the port a listen() call asks for, in any of its forms: (port, ...), ("port"), ({ port }) */
  const portOf = (args) => {
    const a = args[0];
    if (a !== null && typeof a === "object" && !Array.isArray(a)) return a.path === undefined ? Number(a.port) : NaN;
    return typeof a === "number" || (typeof a === "string" && /^\d+$/.test(a)) ? Number(a) : NaN;
  };
  net.Server.prototype.listen = function (...args) {
    if (taken || portOf(args) !== port) return listen.apply(this, args);
    taken = true;
    const cb = args.find((a) => typeof a === "function");
    const opts = typeof args[0] === "object" && args[0] !== null ? args[0] : {};
    const host = typeof opts.host === "string" ? opts.host : typeof args[1] === "string" ? args[1] : "127.0.0.1";
    // what the app asked for, for apps that log server.address().port
    const shown = { address: host === "0.0.0.0" || host === "::" ? host : "127.0.0.1", family: host.includes(":") ? "IPv6" : "IPv4", port };
    this.address = () => shown;
    this.once("listening", () => tellParent({ type: "ready" }));
    return listen.call(this, { path: socket, backlog: opts.backlog }, cb);
  };
}
