/**
 * When to choose which run kind, in one place: `rotate plan` prints it. The two ways to rotate
 * follow AWS's guidance for Identity Center's key — routine rotation is in place (new material,
 * same key); a new key is for when the key itself must change.
 */
import type { StartableKind } from './stage-lists';

export const KIND_GUIDANCE: Readonly<Record<StartableKind, string>> = {
  'rotate-material':
    'choose for routine rotation (the default, AWS\'s guidance for Identity Center\'s key): new key material in the same key — nothing is switched or deleted, no soak and no approval, old ciphertext still decrypts. It spends 1 of the key\'s 25 lifetime on-demand rotations and is refused below the reserve (rotation.onDemandRotationReserve)',
  rotate:
    'choose when a new key is warranted: the key may be compromised, its policy or ownership must change, the key ring becomes multi-Region (a single-Region key cannot become multi-Region), or its on-demand rotations are used up. Creates, verifies and switches to a new key, soaks, and deletes the old one behind the approval gate',
  'migrate-to-cmk': 'choose to move Identity Center from an AWS owned key to a customer managed key (create or reuse one, verify, switch, check)',
  'migrate-to-aws-owned': 'choose to move Identity Center back to an AWS owned key and retire the customer managed key through the approval gate (not for an instance in several Regions)',
  adopt: 'choose once, for a key and alias that exist outside keyrotor: records the key as generation 1 so the stacks import it',
  'cancel-deletion': 'the safe direction (no approval): cancel a pending deletion, in every Region of a multi-Region key',
  'retire-key': 'choose to delete, through the approval gate, a generation nothing uses any more (abandoned by a rollback, or retiring)',
};

/** The kind to weigh against `kind`, when there is one. */
export function alternativeTo(kind: StartableKind): StartableKind | undefined {
  if (kind === 'rotate') return 'rotate-material';
  if (kind === 'rotate-material') return 'rotate';
  return undefined;
}
