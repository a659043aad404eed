/**
 * KMS is eventually consistent: right after CreateKey or ReplicateKey, other operations on the new
 * key may answer NotFoundException (or KMSInvalidStateException) for a few seconds, in some cases
 * minutes (AWS KMS Developer Guide, "Eventual consistency": it recommends retrying after a short
 * wait). The client's retry policy never retries those codes — for any other key they mean what
 * they say — so the calls a stage makes on a key it has just created go through here instead.
 */

/** SDK error names that mean "not visible yet" on a key created moments ago. */
const NOT_YET_VISIBLE = new Set(['NotFoundException', 'KMSInvalidStateException']);

export interface NewKeyRetry {
  readonly sleep: (ms: number) => Promise<void>;
  /** Tries in all (the first included). Default 6: waits of 0.5, 1, 2, 4, 8 s, about 15 s in all. */
  readonly attempts?: number;
  readonly firstDelayMs?: number;
}

/** The SDK's error, or keyrotor's mapped AwsCallError (its `awsCode`). */
export function isNotYetVisible(error: unknown): boolean {
  const { name, awsCode } = (error ?? {}) as { name?: unknown; awsCode?: unknown };
  return [name, awsCode].some((code) => typeof code === 'string' && NOT_YET_VISIBLE.has(code));
}

/** `call` on a key created moments ago, retried while KMS does not show the key yet; any other error, or the last, is thrown. */
export async function onNewKey<T>(retry: NewKeyRetry, call: () => Promise<T>): Promise<T> {
  const attempts = retry.attempts ?? 6;
  let delayMs = retry.firstDelayMs ?? 500;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isNotYetVisible(error)) throw error;
      await retry.sleep(delayMs);
      delayMs *= 2;
    }
  }
}
