// Baseline: a minimal reverse proxy (node:http in, undici Pool out) in front of UPSTREAM, or of
// the Unix socket UPSTREAM_SOCKET.
import http from "node:http";
import { Pool } from "undici";

const socketPath = process.env.UPSTREAM_SOCKET || undefined;
const pool = new Pool(socketPath ? "http://localhost" : process.env.UPSTREAM, { connections: 64, pipelining: 1, socketPath });
const server = http.createServer((req, res) => {
  pool.request({ method: req.method, path: req.url, headers: req.headers, body: req.method === "GET" || req.method === "HEAD" ? null : req }).then(
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.body.pipe(res);
    },
    () => {
      res.writeHead(502);
      res.end();
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
