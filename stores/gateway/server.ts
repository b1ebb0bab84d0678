import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dynamodbHandler } from "./dynamodb.ts";
import { grantCache, type Authorize } from "./grants.ts";
import { s3Handler } from "./s3.ts";
import { unixUpstream } from "./upstream.ts";

export interface StoreGatewayOptions {
  /** dynalite's and s3rver's Unix sockets */
  dynamodbSocket: string;
  s3Socket: string;
  /** access key id -> secret and resources; looked up per key, kept `grantTtlMs` (default 5 s) */
  authorize: Authorize;
  grantTtlMs?: number;
  /**
   * Ports to try for each service, in order; a taken one is skipped, and when all are taken (or
   * none is given) any free port is used. 0 means any free port.
   */
  dynamodbPorts?: number[];
  s3Ports?: number[];
  /** loopback by default */
  host?: string;
  /** the clock the signatures are checked against (tests) */
  now?: () => number;
}

export interface StoreGateway {
  dynamodbEndpoint: string;
  s3Endpoint: string;
  /** drops a key's cached grant (its deployment was removed), or every grant */
  forget(accessKeyId?: string): void;
  close(): Promise<void>;
}

/**
 * The store gateway: what apps on the embedded platform reach instead of the emulators. One
 * loopback port per service (the port says which API a request speaks, before anything else is
 * read), each verifying AWS Signature V4 against the access key's secret, allowing only the
 * tables and buckets granted to that key, and passing what is allowed to dynalite or s3rver
 * over their Unix sockets.
 */
export async function startStoreGateway(opts: StoreGatewayOptions): Promise<StoreGateway> {
  const grants = grantCache(opts.authorize, { ttlMs: opts.grantTtlMs });
  const dynamodbUp = unixUpstream(opts.dynamodbSocket);
  const s3Up = unixUpstream(opts.s3Socket);
  const dynamodb = dynamodbHandler({ upstream: dynamodbUp, grants, now: opts.now });
  const s3 = s3Handler({ upstream: s3Up, grants, now: opts.now });
  const host = opts.host ?? "127.0.0.1";

  const dynamodbServer = createServer((req, res) => void dynamodb(req, res));
  const s3Server = createServer((req, res) => void s3(req, res));
  // answer `Expect: 100-continue` only once the upload is allowed
  s3Server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => void s3(req, res, true));

  const servers: Server[] = [];
  try {
    servers.push(await listenOn(dynamodbServer, opts.dynamodbPorts ?? [], host));
    servers.push(await listenOn(s3Server, opts.s3Ports ?? [], host));
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    dynamodbUp.close();
    s3Up.close();
    throw e;
  }
  const urlOf = (s: Server) => `http://${host}:${(s.address() as AddressInfo).port}`;
  let closed = false;
  return {
    dynamodbEndpoint: urlOf(dynamodbServer),
    s3Endpoint: urlOf(s3Server),
    forget: (key) => grants.forget(key),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([closeServer(dynamodbServer), closeServer(s3Server)]);
      dynamodbUp.close();
      s3Up.close();
    },
  };
}

async function listenOn(server: Server, ports: number[], host: string): Promise<Server> {
  for (const port of [...ports.filter((p) => p > 0), 0]) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      return server;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0) throw e;
    }
  }
  throw new Error("unreachable");
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
