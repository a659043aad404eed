/** Run kinds as typed on the command line. */
import { KeyrotorError } from '../../pipeline/errors';
import type { StartableKind } from '../../pipeline/engine/stage-lists';

/** Kinds `rotate start` and `rotate plan` accept (cancel-deletion has its own command). */
export const START_KINDS = ['rotate', 'migrate-to-cmk', 'migrate-to-aws-owned', 'adopt', 'retire-key', 'rotate-material'] as const;

export function parseKind(kind: string | undefined): StartableKind {
  const value = kind ?? 'rotate';
  if ((START_KINDS as readonly string[]).includes(value)) return value as StartableKind;
  throw new KeyrotorError(`--kind ${value} is not a run kind (one of: ${START_KINDS.join(', ')})`, { fault: 'operator', nextStep: '`rotate plan KEYRING --kind KIND` shows what a kind does' });
}
