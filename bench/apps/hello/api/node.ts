// The benchmark's hello-world Node `(req, res)` handler: the same bytes as hello.ts.
import type { IncomingMessage, ServerResponse } from "node:http";

export default (_req: IncomingMessage, res: ServerResponse) => {
  res.setHeader("content-type", "text/plain;charset=UTF-8");
  res.end("hello world");
};
