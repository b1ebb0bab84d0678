// Baseline ceiling: a bare node:http server answering hello world (or a file's bytes from memory).
import http from "node:http";
import { readFileSync } from "node:fs";

const body = process.env.FILE ? readFileSync(process.env.FILE) : Buffer.from("hello world");
const type = process.env.FILE ? "text/html; charset=utf-8" : "text/plain;charset=UTF-8";
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": type, "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
