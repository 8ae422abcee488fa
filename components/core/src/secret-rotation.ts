import { annotations as keys } from "./conventions";

/**
 * The pod annotation that restarts a pod when generated credentials it uses rotate: the highest rotation
 * among its Secret references. None at rotation 0, so a stack that never rotated renders as before. The
 * value is a generation number, never a secret.
 */
export function secretRotationAnnotation(refs: { rotation?: number }[]): Record<string, string> {
  const rotation = Math.max(0, ...refs.map((r) => r.rotation ?? 0));
  return rotation > 0 ? { [keys.secretRotation]: String(rotation) } : {};
}
