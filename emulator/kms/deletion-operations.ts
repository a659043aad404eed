import { member, type OperationTable } from '../operation';
import { AwsServiceError, constraintError, optionalInteger } from '../service-error';
import { keyById } from './inputs';
import type { KeyStore } from './key-store';
import { assertNotInTransition, assertNotPendingDeletion, epochSeconds } from './rules';

const DAY_MS = 86_400_000;

/** ScheduleKeyDeletion and CancelKeyDeletion, multi-Region primaries included. */
export function deletionOperations(store: KeyStore): OperationTable {
  return {
    // ScheduleKeyDeletion API reference: PendingWindowInDays 7–30 (default 30) → PendingDeletion
    // with a DeletionDate; KMSInvalidStateException when the key is already pending deletion. A
    // multi-Region primary that still has replicas goes to PendingReplicaDeletion instead, with no
    // DeletionDate: its waiting period begins when the last replica is deleted (KeyStore.settle).
    ScheduleKeyDeletion: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = keyById(store, input, ctx, 'ScheduleKeyDeletion');
        const days = optionalInteger(input, 'PendingWindowInDays') ?? 30;
        if (days < 7) throw constraintError('pendingWindowInDays', days, 'Member must have value greater than or equal to 7');
        if (days > 30) throw constraintError('pendingWindowInDays', days, 'Member must have value less than or equal to 30');
        assertNotPendingDeletion(key);
        assertNotInTransition(key);
        key.pendingWindowInDays = days;
        if (key.set?.typeOf(key) === 'PRIMARY' && key.set.replicas().length > 0) {
          key.state = 'PendingReplicaDeletion';
          return { KeyId: key.arn, KeyState: key.state, PendingWindowInDays: days };
        }
        key.state = 'PendingDeletion';
        key.deletionDate = new Date(ctx.now().getTime() + days * DAY_MS);
        return { KeyId: key.arn, DeletionDate: epochSeconds(key.deletionDate), KeyState: key.state, PendingWindowInDays: days };
      },
    },

    // CancelKeyDeletion API reference: only from PendingDeletion (or PendingReplicaDeletion); the
    // key comes back Disabled.
    CancelKeyDeletion: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = keyById(store, input, ctx, 'CancelKeyDeletion');
        if (key.state !== 'PendingDeletion' && key.state !== 'PendingReplicaDeletion') {
          throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
        }
        key.state = 'Disabled';
        key.deletionDate = undefined;
        key.pendingWindowInDays = undefined;
        return { KeyId: key.arn };
      },
    },
  };
}
