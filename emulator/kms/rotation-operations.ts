import { member, type OperationContext, type OperationTable } from '../operation';
import { AwsServiceError, constraintError, optionalInteger, optionalString } from '../service-error';
import { keyById, paginate } from './inputs';
import { ON_DEMAND_ROTATION_LIMIT, type MaterialVersion } from './key-material';
import type { KeyStore, KmsKey } from './key-store';
import { assertNotInTransition, assertUsable, epochSeconds } from './rules';

/** RotateKeyOnDemand API reference: ConflictException when automatic rotation is due within 20 minutes. */
const AUTOMATIC_ROTATION_GUARD_MS = 20 * 60_000;

/** Rotation is for symmetric encryption keys only (EnableKeyRotation / RotateKeyOnDemand API references). */
function assertRotatable(key: KmsKey, operation: string): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new AwsServiceError('UnsupportedOperationException', `${key.arn} has KeySpec ${key.keySpec}; ${operation} needs a symmetric encryption KMS key.`);
  }
  // "To enable or disable automatic rotation of a set of related multi-Region keys, set the property
  // on the primary key"; "invoke the on-demand rotation on the primary key" (KMS developer guide).
  if (key.set?.typeOf(key) === 'REPLICA') {
    throw new AwsServiceError(
      'UnsupportedOperationException',
      `${key.arn} is a multi-Region replica key; call ${operation} on its primary key in ${key.set.primaryRegion}, whose rotation every replica shares.`,
    );
  }
}

function rotationEntry(key: KmsKey, version: MaterialVersion, current: MaterialVersion): Record<string, unknown> {
  return {
    KeyId: key.keyId,
    KeyMaterialId: version.id,
    KeyMaterialState: version === current ? 'CURRENT' : 'NON_CURRENT',
    RotationDate: version.rotationDate ? epochSeconds(version.rotationDate) : undefined,
    RotationType: version.rotationType,
  };
}

/**
 * EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations.
 * An on-demand rotation runs in the background as KMS's does: it shows in ListKeyRotations (and
 * leaves GetKeyRotationStatus's OnDemandRotationStartDate) `rotationDelayMs` after the call.
 */
export function rotationOperations(store: KeyStore, rotationDelayMs: number): OperationTable {
  const byId = (operation: string) => (input: Record<string, unknown>, ctx: OperationContext) => keyById(store, input, ctx, operation);
  return {
    // EnableKeyRotation API reference: RotationPeriodInDays 90–2560 (default 365); symmetric
    // encryption keys only; DisabledException on a Disabled key. A new period keeps the schedule.
    EnableKeyRotation: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('EnableKeyRotation')(input, ctx);
        const period = optionalInteger(input, 'RotationPeriodInDays') ?? 365;
        if (period < 90) throw constraintError('rotationPeriodInDays', period, 'Member must have value greater than or equal to 90');
        if (period > 2560) throw constraintError('rotationPeriodInDays', period, 'Member must have value less than or equal to 2560');
        assertUsable(key);
        assertRotatable(key, 'EnableKeyRotation');
        key.material.enableAutomatic(period, ctx.now());
        return {};
      },
    },
    DisableKeyRotation: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('DisableKeyRotation')(input, ctx);
        assertUsable(key);
        assertRotatable(key, 'DisableKeyRotation');
        key.material.disableAutomatic();
        return {};
      },
    },

    // GetKeyRotationStatus API reference: KeyRotationEnabled, RotationPeriodInDays, NextRotationDate,
    // and OnDemandRotationStartDate while an on-demand rotation is in progress. Replicas report the
    // shared status.
    GetKeyRotationStatus: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('GetKeyRotationStatus')(input, ctx);
        const { automatic, onDemand } = key.material;
        const next = key.material.nextAutomaticRotation();
        return {
          KeyId: key.arn,
          KeyRotationEnabled: automatic !== undefined,
          RotationPeriodInDays: automatic?.periodInDays,
          NextRotationDate: next ? epochSeconds(next) : undefined,
          OnDemandRotationStartDate: onDemand ? epochSeconds(onDemand.startedAt) : undefined,
        };
      },
    },

    // RotateKeyOnDemand API reference and "Perform on-demand key rotation": symmetric customer
    // managed keys; at most 25 on-demand rotations per key for its lifetime (LimitExceededException);
    // DisabledException / KMSInvalidStateException by key state; ConflictException while a rotation
    // is in progress or an automatic one is due within 20 minutes; for multi-Region keys, only on
    // the primary.
    RotateKeyOnDemand: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('RotateKeyOnDemand')(input, ctx);
        assertRotatable(key, 'RotateKeyOnDemand');
        assertUsable(key);
        assertNotInTransition(key);
        const now = ctx.now();
        const next = key.material.nextAutomaticRotation();
        if (key.material.onDemand || (next && next.getTime() - now.getTime() <= AUTOMATIC_ROTATION_GUARD_MS)) {
          throw new AwsServiceError('ConflictException', `A rotation of ${key.arn} is in progress or scheduled to begin within the next 20 minutes.`);
        }
        const used = key.material.onDemandRotationsUsed();
        if (used >= ON_DEMAND_ROTATION_LIMIT) {
          throw new AwsServiceError(
            'LimitExceededException',
            `${key.arn} has used all ${ON_DEMAND_ROTATION_LIMIT} on-demand rotations a KMS key may have; the quota cannot be raised. Create a new key to replace this one.`,
          );
        }
        key.material.startOnDemand(now, Date.now() + rotationDelayMs);
        return { KeyId: key.keyId };
      },
    },

    // ListKeyRotations API reference: completed rotations, oldest first, with KeyMaterialId,
    // KeyMaterialState, RotationDate and RotationType; IncludeKeyMaterial ALL_KEY_MATERIAL adds the
    // first key material; Limit/Marker paging.
    ListKeyRotations: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('ListKeyRotations')(input, ctx);
        if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
          throw new AwsServiceError('UnsupportedOperationException', `${key.arn} has KeySpec ${key.keySpec}; it has no key rotations.`);
        }
        const include = optionalString(input, 'IncludeKeyMaterial') ?? 'ROTATIONS_ONLY';
        if (include !== 'ROTATIONS_ONLY' && include !== 'ALL_KEY_MATERIAL') {
          throw constraintError('includeKeyMaterial', include, 'Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]');
        }
        const current = key.material.current;
        const versions = key.material.all().filter((v) => include === 'ALL_KEY_MATERIAL' || v.rotationType !== undefined);
        const page = paginate(versions, input);
        return { Rotations: page.items.map((v) => rotationEntry(key, v, current)), ...page.next };
      },
    },
  };
}
