import { DescribeInstanceCommand, UpdateInstanceCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { ensureIdentityCenterEncryption } from '../../pipeline/identity-center/ensure-encryption';
import { IDENTITY_CENTER_POLL_SCHEDULE, predictDetection, promisedOvershootMs } from '../../pipeline/identity-center/poll-schedule';
import { JITTER_SOURCES } from './seeded-random';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51';
const KEY = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * An Identity Center on a model clock: the switch UpdateInstance starts ends `switchMs` later;
 * each DescribeInstance takes `roundTripMs` and answers with the state at the moment it was sent.
 */
function modelInstance(switchMs: number, roundTripMs: number) {
  const clock = { ms: 0 };
  let switchEndsAt: number | undefined;
  const send = async (command: unknown) => {
    if (command instanceof UpdateInstanceCommand) {
      switchEndsAt = clock.ms + switchMs;
      return {};
    }
    if (command instanceof DescribeInstanceCommand) {
      const sentAt = clock.ms;
      clock.ms += roundTripMs;
      if (switchEndsAt === undefined) return { EncryptionConfigurationDetails: { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' } };
      if (sentAt < switchEndsAt) return { EncryptionConfigurationDetails: { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'UPDATING' } };
      return { EncryptionConfigurationDetails: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' } };
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  return { client: { send } as unknown as Pick<SSOAdminClient, 'send'>, clock };
}

// The driver itself (the code the stage and the Terraform helper run), on an injected clock and
// sleep: no real waiting. For switches from 1 s to 60 s it must do exactly what the schedule
// predicts, and so keep the promise.
describe.each(JITTER_SOURCES)('GIVEN the shared driver with its default schedule, %s', (_name, makeRandom) => {
  test.each([0, 150])('WHEN switches of 1 s to 60 s (every 100 ms) are waited for with %i ms per DescribeInstance THEN each is seen when the schedule predicts, within max(0.2 T, 2 s)', async (roundTripMs) => {
    const misses: unknown[] = [];
    for (let T = 1_000; T <= 60_000; T += 100) {
      const instance = modelInstance(T, roundTripMs);
      const result = await ensureIdentityCenterEncryption({ ssoAdmin: instance.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, {
        now: () => instance.clock.ms,
        sleep: async (ms) => {
          instance.clock.ms += ms;
        },
        random: makeRandom(),
      });
      const predicted = predictDetection(T, IDENTITY_CENTER_POLL_SCHEDULE, { roundTripMs, random: makeRandom() });
      // polls counts the read before UpdateInstance too; the prediction starts at the update's answer.
      const seen = { waitedMs: result.waitedMs, polls: result.polls - 1 };
      if (seen.waitedMs !== predicted.detectedAtMs || seen.polls !== predicted.polls || seen.waitedMs - T > promisedOvershootMs(T)) {
        misses.push({ T, seen, predicted, promisedMs: promisedOvershootMs(T) });
      }
    }
    expect(misses.slice(0, 5)).toEqual([]);
  });
});
