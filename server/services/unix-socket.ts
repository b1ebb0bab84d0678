import { Agent, type AgentOptions } from "node:http";
import { connect } from "node:net";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** sun_path is 108 bytes on Linux and 104 on macOS, NUL included: stay well below both. */
export const MAX_SOCKET_PATH = 100;

export interface PrivateSocket {
  /** the socket's path; nothing listens on it yet */
  path: string;
  /** removes what `privateSocket` created for this socket (the temp folder, if one was needed) */
  dispose(): Promise<void>;
}

/**
 * A path for a Unix socket in a folder only this user can enter (0700): `<dir>/<name>`, or, when
 * that path is too long for a socket address (a deep FERRY_HOME), a fresh mkdtemp folder under
 * the system temp dir. A socket left by a process that died is removed; one that still answers
 * means another process serves it, and that is an error rather than something to take over.
 */
export async function privateSocket(dir: string, name: string): Promise<PrivateSocket> {
  let folder = dir;
  let temp = false;
  if (Buffer.byteLength(join(dir, name)) > MAX_SOCKET_PATH) {
    folder = await mkdtemp(join(tmpdir(), "ferry-run-"));
    temp = true;
  } else {
    await mkdir(folder, { recursive: true, mode: 0o700 });
  }
  await chmod(folder, 0o700);
  const path = join(folder, name);
  if (await answers(path)) throw new Error(`${path} is in use by another process (is another Ferry running on this home?)`);
  await rm(path, { force: true });
  return { path, dispose: () => (temp ? rm(folder, { recursive: true, force: true }) : rm(path, { force: true })) };
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** An http.Agent whose connections all go to one Unix socket, whatever host a URL names. */
export function unixSocketAgent(socketPath: string, opts: AgentOptions = {}): Agent {
  const agent = new Agent({ keepAlive: true, ...opts });
  // the agent uses a socket returned synchronously; errors reach the request as usual
  agent.createConnection = () => connect(socketPath);
  return agent;
}

/**
 * AWS SDK v3 client settings for an emulator (dynalite, s3rver) listening on a Unix socket: the
 * endpoint's host only fills the Host header (`localhost`, which s3rver reads as path-style),
 * the connection itself goes to the socket. The emulators' own fixed key pair authorizes nothing;
 * only the platform, which can enter the socket's folder, talks to them this way.
 */
export function unixSocketAwsConfig(socketPath: string) {
  return {
    endpoint: "http://localhost",
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestHandler: new NodeHttpHandler({ httpAgent: unixSocketAgent(socketPath) }),
  };
}
