/**
 * "Is the ledger this stack was synthesized from still the latest?" A deploy asks before it plans
 * and again before it applies: the ledger in git lags AWS by a pull request, and a plan made from
 * an older ledger would undo what the pipeline did since.
 */
import type { SynthManifest } from '../gitops/synth-manifest';
import { ledgerDigest } from '../gitops/synth-manifest';
import type { Ledger } from '../ledger/types';
import { finding } from './check-keyring';
import type { DriftFinding } from './types';

export function staleSynthFindings(manifests: readonly SynthManifest[], latest: ReadonlyMap<string, Ledger | undefined>, configured: ReadonlySet<string>): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const manifest of manifests) {
    for (const entry of manifest.keyrings) {
      const subject = `${manifest.stack} (${entry.name})`;
      const used = entry.ledger ? `ledger version ${entry.ledger.version} (${entry.ledger.digest.slice(0, 12)})` : 'no ledger';
      if (!configured.has(entry.name)) {
        findings.push(finding('stale-synth', { keyring: entry.name, subject, expected: 'a key ring of the current config', actual: 'not in the config', message: `stack ${manifest.stack} was synthesized with key ring ${entry.name}, which the current config no longer has`, nextStep: 'synthesize again from the current config (`rotate synth`) and plan that' }));
        continue;
      }
      const ledger = latest.get(entry.name);
      const now = ledger ? { version: ledger.version, digest: ledgerDigest(ledger) } : null;
      if (now?.digest === entry.ledger?.digest) continue;
      findings.push(
        finding('stale-synth', {
          keyring: entry.name,
          subject,
          expected: now ? `ledger version ${now.version} (${now.digest.slice(0, 12)})` : 'no ledger',
          actual: used,
          message: `stack ${manifest.stack} was synthesized from ${used} of ${entry.name}, but the state store's latest is ${now ? `version ${now.version}` : 'no ledger at all'}: a plan from it would act on an outdated ledger`,
          nextStep: 'merge any open rotation state PR, then run the deploy again from the latest main (it synthesizes from the latest ledger)',
        }),
      );
    }
  }
  return findings;
}
