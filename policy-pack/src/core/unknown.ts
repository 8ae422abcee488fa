import type { K8sObject } from "./k8s";
import type { Violation } from "./rule";

/**
 * At `pulumi preview` the engine hands policies proxies that throw `UnknownValueError` when a rule reads a
 * value that is only known after the update (an output of another resource). These helpers recognise that
 * error without depending on the class identity, so tests can simulate it with throwing getters.
 *
 * Unknown values are handled per part: a rule checks each container, list element or map entry on its own
 * (`guarded`, `perElement`, `perEntry`), so an unknown value in one part becomes one advisory naming that
 * value while the definite violations found in the other parts are still reported.
 */

export interface UnknownValueLike {
  message: string;
  /** Property path of the unknown value, e.g. ["spec", "template", "spec", "containers"]. */
  props?: unknown[];
}

/** What a resource rule returns: a message about the object, or a violation with details. */
export type Outcome = string | Violation;

const UNKNOWN_MESSAGE = /can't be known during preview/;

export function isUnknownValueError(err: unknown): err is UnknownValueLike {
  if (!(err instanceof Error)) {
    return false;
  }
  return (
    err.name === "UnknownValueError" ||
    err.constructor?.name === "UnknownValueError" ||
    UNKNOWN_MESSAGE.test(err.message)
  );
}

/** The dotted path of the value that was unknown, or the error message when the path is not attached. */
export function unknownField(err: UnknownValueLike): string {
  if (Array.isArray(err.props) && err.props.length > 0) {
    return err.props.map((p) => String(p)).join(".");
  }
  const match = /value at \.?(\S+) can't be known/.exec(err.message);
  return match?.[1] ?? err.message;
}

export const CANNOT_CHECK = "cannot check during preview: ";

export function cannotCheckMessage(err: UnknownValueLike): string {
  return `${CANNOT_CHECK}${unknownField(err)} is unknown until the update runs`;
}

/** The advisory a rule reports for a part it could not read. */
export function unknownPart(err: UnknownValueLike, subject?: K8sObject): Violation {
  return subject
    ? { message: cannotCheckMessage(err), subject, advisoryOnly: true }
    : { message: cannotCheckMessage(err), advisoryOnly: true };
}

/** Runs `read`, returning `fallback` when it touches a value unknown at preview. Other errors propagate. */
export function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (err) {
    if (isUnknownValueError(err)) {
      return fallback;
    }
    throw err;
  }
}

/** Runs `check`; when it reads a value unknown at preview, returns the one advisory about that value instead. */
export function guarded<T extends Outcome>(check: () => T[]): Array<T | Violation> {
  try {
    return check();
  } catch (err) {
    if (!isUnknownValueError(err)) {
      throw err;
    }
    return [unknownPart(err)];
  }
}

/**
 * Checks the elements of the list `read` returns one at a time. An unknown list is one advisory; an unknown
 * value met while checking one element is one advisory, and the other elements are still checked.
 */
export function perElement<E, T extends Outcome = Outcome>(
  read: () => unknown,
  check: (element: E, index: number) => T[],
): Array<T | Violation> {
  let list: unknown;
  try {
    list = read();
  } catch (err) {
    if (!isUnknownValueError(err)) {
      throw err;
    }
    return [unknownPart(err)];
  }
  if (!Array.isArray(list)) {
    return [];
  }
  const outcomes: Array<T | Violation> = [];
  for (let i = 0; i < list.length; i++) {
    outcomes.push(...guarded(() => check(list[i] as E, i)));
  }
  return outcomes;
}

/** Like `perElement` for the entries of a map (ConfigMap data, annotations): one entry at a time. */
export function perEntry<E, T extends Outcome = Outcome>(
  read: () => unknown,
  check: (key: string, value: E) => T[],
): Array<T | Violation> {
  let map: unknown;
  try {
    map = read();
  } catch (err) {
    if (!isUnknownValueError(err)) {
      throw err;
    }
    return [unknownPart(err)];
  }
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    return [];
  }
  const outcomes: Array<T | Violation> = [];
  for (const key of Object.keys(map)) {
    outcomes.push(...guarded(() => check(key, (map as Record<string, unknown>)[key] as E)));
  }
  return outcomes;
}

/** Sets `subject` on the outcomes of a stack rule that were produced without one. */
export function about(outcomes: readonly Outcome[], subject: K8sObject): Violation[] {
  return outcomes.map((o) =>
    typeof o === "string" ? { message: o, subject } : { ...o, subject: o.subject ?? subject },
  );
}

type ViolationSink = Violation[];

/**
 * For stack rules: runs `check` for one item at a time; a value unknown at preview becomes one advisory
 * violation about that item (its `subjectOf` object) and the rule goes on with the others.
 */
export function checkEach(
  items: readonly K8sObject[],
  out: ViolationSink,
  check: (item: K8sObject) => void,
): void;
export function checkEach<T>(
  items: readonly T[],
  out: ViolationSink,
  check: (item: T) => void,
  subjectOf: (item: T) => K8sObject | undefined,
): void;
export function checkEach<T>(
  items: readonly T[],
  out: ViolationSink,
  check: (item: T) => void,
  subjectOf?: (item: T) => K8sObject | undefined,
): void {
  for (const item of items) {
    try {
      check(item);
    } catch (err) {
      if (!isUnknownValueError(err)) {
        throw err;
      }
      const subject = subjectOf ? subjectOf(item) : (item as unknown as K8sObject);
      out.push(unknownPart(err, subject));
    }
  }
}

/**
 * Three-valued `some`: true when a readable item satisfies `test`; otherwise the first unknown-value error
 * met (the answer depends on a value unknown at preview), else false.
 */
export function someKnown<T>(items: readonly T[], test: (item: T) => boolean): boolean | UnknownValueLike {
  let unknown: UnknownValueLike | undefined;
  for (const item of items) {
    try {
      if (test(item)) {
        return true;
      }
    } catch (err) {
      if (!isUnknownValueError(err)) {
        throw err;
      }
      unknown = unknown ?? err;
    }
  }
  return unknown ?? false;
}
