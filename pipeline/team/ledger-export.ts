/**
 * Team mode's ledger export: the ledgers of the DynamoDB store, written into the repository in the
 * file store's layout (`<exportDir>/ledgers/<keyring>.json`, byte for byte what the file store
 * would write). Synth reads ledgers from there, so the deploy's synth job needs no AWS access; the
 * rotation workflow commits the export through its state pull request, and the deploy's drift
 * check compares it with the table before every plan and apply.
 *
 * Every command that opens the store in team mode refreshes the export when it closes (a file is
 * rewritten only when its ledger changed), so `rotate status` is enough to refresh it by hand.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/types';
import { KeyrotorError } from '../errors';
import { assertOneKeyringPerKey } from '../ledger/one-key-one-keyring';
import type { Ledger } from '../ledger/types';
import { FileStateStore } from '../state/file-store';
import { prettySortedJson, writeFileAtomic } from '../state/json-files';
import type { StateStore } from '../state/types';

/** The export directory of a team-mode config; undefined for the file store (it is its own export). */
export function ledgerExportDir(config: Pick<Config, 'state' | 'baseDir'>): string | undefined {
  if (config.state.type !== 'dynamodb') return undefined;
  return config.state.exportDir ?? path.join(config.baseDir, 'state');
}

function exportFile(dir: string, keyring: string): string {
  return path.join(dir, 'ledgers', `${keyring}.json`);
}

/** Writes the store's ledgers of the config's key rings into `dir`; returns the key rings whose file changed. */
export async function exportLedgers(store: Pick<StateStore, 'getLedger'>, config: Pick<Config, 'keyrings'>, dir: string): Promise<string[]> {
  const changed: string[] = [];
  const ledgers = await Promise.all(config.keyrings.map(async (k) => [k.name, await store.getLedger(k.name)] as const));
  for (const [name, ledger] of ledgers) {
    if (!ledger) continue;
    const file = exportFile(dir, name);
    const text = prettySortedJson(ledger);
    const current = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (current === text) continue;
    await writeFileAtomic(file, text);
    changed.push(name);
  }
  return changed;
}

/** Creates an empty export (bootstrap): synth then declares every key ring as greenfield until the pipeline records one. */
export async function createLedgerExport(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'ledgers'), { recursive: true });
}

/**
 * The ledgers synth builds from, with no AWS access: from the export in team mode, else from the
 * file store. A missing export directory is an error (a typo must not make every key ring look new).
 */
export async function readLedgersForSynth(config: Config, stateDirOverride?: string): Promise<Map<string, Ledger>> {
  const exportDir = stateDirOverride === undefined ? ledgerExportDir(config) : undefined;
  const dir = exportDir ?? (stateDirOverride !== undefined ? path.resolve(stateDirOverride) : config.state.type === 'file' ? config.state.dir : undefined)!;
  if (exportDir !== undefined) {
    const exists = await fs.stat(exportDir).then((s) => s.isDirectory(), () => false);
    if (!exists) {
      throw new KeyrotorError(`the ledger export ${exportDir} (state.exportDir) does not exist, so synth cannot tell which keys the pipeline recorded`, {
        fault: 'operator',
        nextStep: 'create it with `rotate bootstrap` on a new organization; otherwise restore it from git, or refresh it from the table with `rotate status` (needs the state role)',
      });
    }
  }
  const store = new FileStateStore(dir);
  const ledgers = new Map<string, Ledger>();
  for (const keyring of config.keyrings) {
    const ledger = await store.getLedger(keyring.name);
    if (ledger) ledgers.set(keyring.name, ledger);
  }
  assertOneKeyringPerKey(ledgers.values(), `the ledgers in ${dir}`);
  return ledgers;
}
