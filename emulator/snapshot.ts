/**
 * Copies of the emulator's state, for tests that start many scenarios from one prepared state
 * (the crash suite restores the same organization before each of its scenarios). The copy keeps
 * each object's class and the sharing between objects (a multi-Region key set's members share
 * one key material), so a restored emulator behaves exactly like the one that was copied.
 */

/** A deep copy of `value` that keeps prototypes and shared references; functions are shared, not copied. */
export function cloneState<T>(value: T, seen: Map<unknown, unknown> = new Map()): T {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (value instanceof Map) {
    const copy = new Map();
    seen.set(value, copy);
    for (const [k, v] of value) copy.set(cloneState(k, seen), cloneState(v, seen));
    return copy as T;
  }
  if (value instanceof Set) {
    const copy = new Set();
    seen.set(value, copy);
    for (const v of value) copy.add(cloneState(v, seen));
    return copy as T;
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const v of value) copy.push(cloneState(v, seen));
    return copy as T;
  }
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  seen.set(value, copy);
  for (const key of Object.keys(value)) copy[key] = cloneState((value as Record<string, unknown>)[key], seen);
  return copy as T;
}
