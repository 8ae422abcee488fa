/** An invalid argument or config value, named by its field path so the fix is obvious. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "ValidationError";
  }
}

/** Throws one error listing every problem when `problems` is not empty. */
export function throwIfInvalid(problems: ValidationError[]): void {
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    const err = new ValidationError(problems[0].field, problems.map((p) => p.message).join("; "));
    err.message = problems.map((p) => p.message).join("\n");
    throw err;
  }
}
