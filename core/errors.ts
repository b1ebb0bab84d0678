// One error class with a stable `code`: the API maps it to an HTTP status and JSON body,
// the CLI prints its message without a stack.
export class FerryError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, status = 400, details?: Record<string, unknown>) {
    super(message);
    this.name = "FerryError";
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export const isFerryError = (e: unknown): e is FerryError => e instanceof FerryError;
