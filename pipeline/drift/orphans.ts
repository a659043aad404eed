/**
 * Keys tagged by keyrotor that no ledger knows — typically the key of a run interrupted between
 * CreateKey and its ledger write, which nothing else would ever find again (it costs money, and
 * an enabled key nobody tracks is a key nobody rotates or retires).
 */
import type { AwsClients } from '../aws/clients';
import { GENERATION_TAG, KEYRING_TAG, KEYROTOR_PROVIDER_DEFAULT_TAGS, RUN_ID_TAG } from '../key-tags';
import type { Ledger } from '../ledger/types';
import { finding } from './check-keyring';
import { describeKeyIfExists, listKeysWithTags } from './live-reads';
import type { DriftFinding } from './types';

const MANAGED_BY_TAG = Object.keys(KEYROTOR_PROVIDER_DEFAULT_TAGS)[0]!;

export interface OrphanScan {
  readonly orphans: readonly DriftFinding[];
  readonly notes: readonly string[];
}

/**
 * Scans the credentials' account in the clients' Region. `ledgers` are all ledgers of the state
 * store (a key known to any of them is not an orphan); `keyrings` limits the report to keys whose
 * keyrotor:keyring tag names one of them (undefined: every keyrotor key).
 */
export async function findOrphans(
  clients: AwsClients,
  scope: { account: string; region: string },
  ledgers: readonly Ledger[],
  keyrings: ReadonlySet<string> | undefined,
): Promise<OrphanScan> {
  const known = new Set(ledgers.flatMap((l) => l.generations.map((g) => g.keyArn)));
  const withGenerations = new Set(ledgers.filter((l) => l.generations.length > 0).map((l) => l.keyring));
  const listing = await listKeysWithTags(clients);
  const orphans: DriftFinding[] = [];
  const notes: string[] = listing.unreadable.length > 0 ? [`${listing.unreadable.length} key(s) in ${scope.account}/${scope.region} whose tags these credentials may not read were not checked for orphans`] : [];
  for (const { keyArn, tags } of listing.keys) {
    const ours = KEYRING_TAG in tags || RUN_ID_TAG in tags || MANAGED_BY_TAG in tags;
    if (!ours || known.has(keyArn)) continue;
    const keyring = tags[KEYRING_TAG];
    if (keyrings && (keyring === undefined || !keyrings.has(keyring))) continue;
    // Generation 1 of a greenfield key ring is Terraform's: tagged by the stacks, never by a run,
    // and no ledger records it until `adopt`.
    if (keyring !== undefined && !(RUN_ID_TAG in tags) && !withGenerations.has(keyring)) {
      notes.push(`${keyArn} (key ring ${keyring}, generation ${tags[GENERATION_TAG] ?? '?'}) is Terraform's greenfield key; \`rotate start ${keyring} --kind adopt\` records it`);
      continue;
    }
    const key = await describeKeyIfExists(clients, keyArn);
    if (!key) continue;
    const run = tags[RUN_ID_TAG];
    orphans.push(
      finding('orphan-key', {
        ...(keyring ? { keyring } : {}),
        subject: keyArn,
        expected: 'in a ledger',
        actual: `${key.KeyState}${run ? `, created by run ${run}` : ''}`,
        message: `${keyArn} (${key.KeyState}) is tagged by keyrotor${keyring ? ` for key ring ${keyring}` : ''}${run ? ` by run ${run}` : ''} but no ledger knows it${run ? ': the run was interrupted between CreateKey and its ledger write' : ''}`,
        nextStep: run
          ? `resume the run (\`rotate advance ${run}\` finds its key by the run tag) or roll it back (\`rotate rollback ${run}\`); if the run is gone, review the key and schedule its deletion by hand with the approvers' agreement`
          : 'find out who created it (CloudTrail CreateKey); adopt it through a reviewed change or schedule its deletion with the approvers\' agreement',
      }),
    );
  }
  return { orphans, notes };
}
