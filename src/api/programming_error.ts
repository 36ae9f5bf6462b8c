/**
 * Programming errors (a TypeError and its kin) are lv's bugs: what users see says so and how to learn
 * more; the error's own words and its stack go only where debugging output goes (LV_DEBUG).
 */

/** Whether `error` is a programming error rather than a failure of the world lv works on. */
export function isProgrammingError(error: unknown): error is Error {
  return error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError ||
    error instanceof SyntaxError;
}

/** What users are told of a programming error while lv was doing `what`. */
export function programmingErrorMessage(what: string): string {
  return `lv failed unexpectedly while ${what}: a bug in lv (run with LV_DEBUG=1 to see where, and report it)`;
}
