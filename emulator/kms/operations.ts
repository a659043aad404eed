import type { OperationDefinition, OperationTable } from '../operation';
import { aliasOperations } from './alias-operations';
import { cryptoOperations } from './crypto-operations';
import { deletionOperations } from './deletion-operations';
import { keyOperations } from './key-operations';
import type { KeyStore } from './key-store';
import { multiRegionOperations } from './multi-region-operations';
import { policyCheck } from './policy-check';
import { rotationOperations } from './rotation-operations';

export interface KmsOptions {
  /** How long a new replica stays Creating, and keys stay Updating after UpdatePrimaryRegion (real ms). */
  readonly replicaDelayMs: number;
  /** How long after RotateKeyOnDemand the rotation completes (real ms). */
  readonly rotationDelayMs: number;
  readonly log: (message: string) => void;
}

/**
 * Every modelled KMS operation. A mutating one may create something due sooner (a deletion date,
 * a rotation, a transient state), so the key store's cached next-due time is dropped after it.
 */
export function kmsOperations(store: KeyStore, options: KmsOptions): OperationTable {
  const policies = policyCheck(options.log);
  const table: OperationTable = {
    ...keyOperations(store, policies),
    ...deletionOperations(store),
    ...rotationOperations(store, options.rotationDelayMs),
    ...multiRegionOperations(store, policies, options.replicaDelayMs),
    ...aliasOperations(store),
    ...cryptoOperations(store),
  };
  const invalidating = (definition: OperationDefinition): OperationDefinition => ({
    ...definition,
    handle: (input, ctx) => {
      try {
        return definition.handle(input, ctx);
      } finally {
        store.invalidate();
      }
    },
  });
  return Object.fromEntries(Object.entries(table).map(([name, d]) => [name, d.mutating ? invalidating(d) : d]));
}
