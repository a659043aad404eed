/**
 * The key a command acts on when it is not the active one (`cancel-deletion`, `--kind retire-key`):
 * named by `--key ARN` or by `--generation N` from the key ring's ledger.
 */
import type { KeyRingConfig } from '../../pipeline/config/types';
import type { Ledger } from '../../pipeline/ledger/types';
import { KeyrotorError } from '../../pipeline/errors';

export interface TargetKeyOptions {
  readonly key?: string;
  readonly generation?: string;
}

export function resolveTargetKey(keyring: KeyRingConfig, ledger: Ledger | undefined, options: TargetKeyOptions, usage: string): string {
  if (options.generation !== undefined) {
    const found = ledger?.generations.find((g) => String(g.generation) === options.generation);
    if (!found) {
      throw new KeyrotorError(`key ring ${keyring.name} has no generation ${options.generation} in its ledger`, {
        fault: 'operator',
        nextStep: 'list generations with `rotate status`',
      });
    }
    return found.keyArn;
  }
  if (options.key) return options.key;
  const example = usage === 'cancel-deletion' ? `rotate cancel-deletion ${keyring.name}` : `rotate start ${keyring.name} --kind retire-key`;
  throw new KeyrotorError(`${usage} needs --generation N or --key ARN`, {
    fault: 'operator',
    nextStep: `e.g. \`${example} --generation 1\``,
  });
}
