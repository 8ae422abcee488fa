import type { K8sObject } from "./k8s";

/**
 * At `pulumi preview` the engine hands policies proxies that throw `UnknownValueError` when a rule reads a
 * value that is only known after the update (an output of another resource). These helpers recognise that
 * error without depending on the class identity, so tests can simulate it with throwing getters.
 */

export interface UnknownValueLike {
    message: string;
    /** Property path of the unknown value, e.g. ["spec", "template", "spec", "containers"]. */
    props?: unknown[];
}

const UNKNOWN_MESSAGE = /can't be known during preview/;

export function isUnknownValueError(err: unknown): err is UnknownValueLike {
    if (!(err instanceof Error)) {
        return false;
    }
    return err.name === "UnknownValueError" || err.constructor?.name === "UnknownValueError" || UNKNOWN_MESSAGE.test(err.message);
}

/** The dotted path of the value that was unknown, or the error message when the path is not attached. */
export function unknownField(err: UnknownValueLike): string {
    if (Array.isArray(err.props) && err.props.length > 0) {
        return err.props.map(p => String(p)).join(".");
    }
    const match = /value at \.?(\S+) can't be known/.exec(err.message);
    return match?.[1] ?? err.message;
}

export function cannotCheckMessage(err: UnknownValueLike): string {
    return `cannot check during preview: ${unknownField(err)} is unknown until the update runs`;
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

type ViolationSink = Array<{ message: string; subject?: K8sObject; advisoryOnly?: boolean }>;

/**
 * For stack rules: runs `check` for one item at a time; a value unknown at preview becomes one advisory
 * violation about that item (its `subjectOf` object) and the rule goes on with the others.
 */
export function checkEach(items: readonly K8sObject[], out: ViolationSink, check: (item: K8sObject) => void): void;
export function checkEach<T>(items: readonly T[], out: ViolationSink, check: (item: T) => void, subjectOf: (item: T) => K8sObject | undefined): void;
export function checkEach<T>(items: readonly T[], out: ViolationSink, check: (item: T) => void, subjectOf?: (item: T) => K8sObject | undefined): void {
    for (const item of items) {
        try {
            check(item);
        } catch (err) {
            if (!isUnknownValueError(err)) {
                throw err;
            }
            const subject = subjectOf ? subjectOf(item) : (item as unknown as K8sObject);
            out.push({ message: cannotCheckMessage(err), subject, advisoryOnly: true });
        }
    }
}
