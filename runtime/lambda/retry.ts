/** Errors the Lambda control plane answers while it is busy, not because the call is wrong. */
export function isRetryable(e: unknown): boolean {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (!err) return false;
  if (err.name === "TooManyRequestsException" || err.name === "ThrottlingException" || err.name === "Throttling") return true;
  // "An update is in progress for resource": another update of the same function is not done.
  // The same name also means "already exists", which no retry changes.
  if (err.name === "ResourceConflictException") return !/already exist/i.test(err.message ?? "");
  if (err.name === "ServiceException" || err.$metadata?.httpStatusCode === 503) return true;
  // a role created a moment ago is not yet assumable by Lambda (IAM is eventually consistent)
  if (err.name === "InvalidParameterValueException" && /cannot be assumed|role defined for the function/i.test(err.message ?? "")) return true;
  return false;
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Retries `op` with capped exponential backoff and full jitter on retryable errors only. */
export async function withRetry<T>(op: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 10_000;
  const sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (e) {
      if (i >= attempts || !isRetryable(e)) throw e;
      await sleep(Math.random() * Math.min(max, base * 2 ** (i - 1)));
    }
  }
}
