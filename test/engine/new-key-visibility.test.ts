/**
 * KMS is eventually consistent: right after CreateKey, calls on the new key may answer
 * NotFoundException for a few seconds. The calls a stage makes on a key it has just created retry
 * that answer for a bounded time; everywhere else NotFoundException still means "not found".
 */
import { isNotYetVisible, onNewKey } from '../../pipeline/aws/eventual-consistency';
import { AwsCallError } from '../../pipeline/errors';
import { createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';

describe('onNewKey', () => {
  const sdkError = (name: string) => Object.assign(new Error(name), { name });

  it('GIVEN NotFoundException twice THEN it waits 0.5 s, then 1 s, and returns the third answer', async () => {
    const waits: number[] = [];
    let calls = 0;
    const out = await onNewKey({ sleep: async (ms) => void waits.push(ms) }, async () => {
      calls += 1;
      if (calls < 3) throw sdkError('NotFoundException');
      return 'visible';
    });
    expect([out, calls, waits]).toEqual(['visible', 3, [500, 1000]]);
  });

  it('GIVEN the key never shows THEN it gives up after the bounded attempts with the last error', async () => {
    const waits: number[] = [];
    await expect(onNewKey({ sleep: async (ms) => void waits.push(ms) }, async () => Promise.reject(sdkError('NotFoundException')))).rejects.toThrow('NotFoundException');
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('GIVEN any other error THEN it is thrown at once, never retried', async () => {
    let calls = 0;
    await expect(onNewKey({ sleep: async () => undefined }, async () => { calls += 1; throw sdkError('AccessDeniedException'); })).rejects.toThrow('AccessDeniedException');
    expect(calls).toBe(1);
  });

  it('recognises the SDK\'s error names and keyrotor\'s mapped codes', () => {
    expect(isNotYetVisible(sdkError('KMSInvalidStateException'))).toBe(true);
    expect(isNotYetVisible(new AwsCallError('kms:DescribeKey: not found', 'kms:DescribeKey', 'NotFoundException', { fault: 'aws' }))).toBe(true);
    expect(isNotYetVisible(sdkError('ThrottlingException'))).toBe(false);
  });
});

describe('a rotation whose new key KMS does not show at once', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('GIVEN EnableKeyRotation answering NotFoundException twice right after CreateKey THEN create-key waits and goes on: one intent, one outcome, the run reaches its gate', async () => {
    h = await createHarness({ quotas: false });
    await migrateToCmk(h);
    h.emulator.clearCallLog();
    h.emulator.failNext('kms:EnableKeyRotation', 2, { code: 'NotFoundException', message: 'Key not found' });
    const waits: number[] = [];
    const engine = h.engine({ sleep: async (ms) => void waits.push(ms) });
    const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
    expect(stageStatuses(run)['approval-gate']).toBe('waiting');
    expect(h.emulator.callLog().filter((c) => c.operation === 'EnableKeyRotation').map((c) => c.outcome)).toEqual(['NotFoundException', 'NotFoundException', 'ok']);
    const audit = (await h.store.readAudit()).filter((e) => e.runId === run.id && e.detail?.operation === 'kms:EnableKeyRotation');
    expect(audit.map((e) => e.action)).toEqual(['aws.intent', 'aws.ok']);
    expect(waits.slice(0, 2)).toEqual([500, 1000]);
  });
});
