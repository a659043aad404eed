/**
 * What an advance that reaches the Identity Center switch will change, in words for its
 * confirmation: the alias move (when promote-alias is in reach) and Identity Center's key, from
 * the live value to the new one.
 */
import type { AwsClients } from '../../../pipeline/aws/clients';
import type { KeyRingConfig } from '../../../pipeline/config/types';
import type { Run } from '../../../pipeline/state/types';
import { identityCenterKeyWords, readLiveFacts } from './live-facts';

export async function switchChanges(clients: AwsClients, keyring: KeyRingConfig, run: Run, inReach: readonly string[]): Promise<string[]> {
  const live = await readLiveFacts(clients, keyring);
  const toAwsOwned = run.kind === 'migrate-to-aws-owned';
  const newKey = run.plan.newKeyArn ?? 'the key this advance creates (create-key)';
  const changes: string[] = [];
  if (inReach.includes('create-key') && !run.plan.newKeyArn) changes.push(`create a new key for ${keyring.alias} (kms:CreateKey; \`rotate plan ${keyring.name}\` shows its policy and tags)`);
  if (inReach.includes('promote-alias')) {
    const aliasNow = live.source === 'live' ? (live.aliasTarget ?? 'nothing') : 'unknown';
    changes.push(`move alias ${keyring.alias} from ${aliasNow} to ${newKey} (kms:UpdateAlias)`);
  }
  changes.push(`switch Identity Center ${keyring.identityCenter?.instanceArn ?? ''} from ${identityCenterKeyWords(live)} to ${toAwsOwned ? 'an AWS owned key' : newKey} (sso:UpdateInstance, then wait for ENABLED); \`rotate rollback ${run.id}\` switches it back`);
  return changes;
}
