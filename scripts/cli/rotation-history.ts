/**
 * `rotate status`'s view of each key ring's active key: its rotation history and remaining
 * on-demand budget, read live with ListKeyRotations (in the key ring's Region: a multi-Region set
 * rotates as one, so the primary's list is every replica's). A key that cannot be read shows why,
 * never a guess.
 */
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import type { Ledger } from '../../pipeline/ledger/types';
import type { AwsClients } from '../../pipeline/aws';
import { describeBudget, type RotationBudget } from '../../pipeline/material-rotation/budget';

export type KeyRotations =
  | { readonly keyring: string; readonly keyArn: string; readonly budget: RotationBudget }
  | { readonly keyring: string; readonly keyArn: string; readonly unavailable: string };

/** Rotation history lines shown per key (the most recent). */
const SHOWN = 8;

export async function readKeyRotations(config: Config, ledgers: readonly Ledger[], clientsFor: (keyring: KeyRingConfig) => AwsClients): Promise<KeyRotations[]> {
  const { readRotationBudget } = await import('../../pipeline/material-rotation/read');
  const out: KeyRotations[] = [];
  for (const keyring of config.keyrings) {
    const active = ledgers.find((l) => l.keyring === keyring.name)?.generations.find((g) => g.state === 'active');
    if (!active) continue;
    try {
      out.push({ keyring: keyring.name, keyArn: active.keyArn, budget: await readRotationBudget(clientsFor(keyring).kms, active.keyArn) });
    } catch (error) {
      out.push({ keyring: keyring.name, keyArn: active.keyArn, unavailable: error instanceof Error ? error.message : String(error) });
    }
  }
  return out;
}

export function renderKeyRotations(rotations: readonly KeyRotations[]): string[] {
  if (rotations.length === 0) return [];
  const lines = ['key rotations (ListKeyRotations of each active key; 25 on-demand rotations per key for its lifetime):'];
  for (const r of rotations) {
    if ('unavailable' in r) {
      lines.push(`  ${r.keyring.padEnd(24)} ${r.keyArn}: unknown (${r.unavailable})`);
      continue;
    }
    lines.push(`  ${r.keyring.padEnd(24)} ${r.keyArn}: ${describeBudget(r.budget)}`);
    const history = r.budget.history;
    if (history.length > SHOWN) lines.push(`      … ${history.length - SHOWN} earlier`);
    for (const h of history.slice(-SHOWN)) lines.push(`      ${h.date ?? 'unknown date'}  ${(h.type ?? 'initial').padEnd(9)}  material ${h.keyMaterialId ?? '?'}${h.current ? ' (current)' : ''}`);
  }
  return lines;
}
