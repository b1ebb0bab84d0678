import { CliError } from "./io.ts";
import type { Target } from "./config.ts";

export interface ApiErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

/** An HTTP error from the API, keeping its stable code and extra fields (e.g. `missing`). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.error.message, body.error.code);
  }
}

export type Client = ReturnType<typeof createClient>;

export function createClient(target: Target) {
  const request = async (method: string, path: string, init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${target.token}`, ...init.headers };
    if (init.json !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(target.apiUrl + path, {
        method,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
        ...(init.body && typeof init.body !== "string" ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (e) {
      throw new CliError(`cannot reach the Ferry API at ${target.apiUrl} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is it running?`, "api_unreachable");
    }
    if (!res.ok) {
      const text = await res.text();
      let body: ApiErrorBody;
      try {
        body = JSON.parse(text) as ApiErrorBody;
        if (!body?.error?.code) throw new Error();
      } catch {
        body = { error: { code: `http_${res.status}`, message: `${method} ${path} failed with HTTP ${res.status}: ${text.slice(0, 200)}` } };
      }
      throw new ApiError(res.status, body);
    }
    return res;
  };
  return {
    target,
    request,
    json: async <T>(method: string, path: string, json?: unknown): Promise<T> => (await request(method, path, { json })).json() as Promise<T>,
  };
}
