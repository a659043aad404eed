/**
 * How an operator names a run, everywhere a command takes RUN: the full id, a unique prefix of it,
 * `latest` (the newest run of any key ring) or `latest:KEYRING`. One resolver for every command,
 * one wording for "run not found", always with the closest ids.
 */
import { KeyrotorError } from '../errors';
import type { Run, StateStore } from '../state/types';
import { closestNames } from './closest';

/** How to name a run, for help texts and errors. */
export const RUN_REF_FORMS = 'a run id, a unique prefix of one, `latest` or `latest:KEYRING`';

const LIST_EVERY_RUN = '`rotate runs --all` lists every run';

/** The one "run not found" error: names what was typed, where it looked, and the closest ids. */
export class RunNotFoundError extends KeyrotorError {
  constructor(
    readonly ref: string,
    where: string,
    /** The closest ids; when none is close, the newest ones (every "not found" names some). */
    readonly closest: readonly string[],
  ) {
    super(`run not found: no run matches "${ref}" in the ${where}${closest.length > 0 ? ` (closest: ${closest.join(', ')})` : ' (it has no runs)'}`, {
      fault: 'operator',
      nextStep: closest.length > 0 ? `did you mean \`rotate status ${closest[0]}\`? ${LIST_EVERY_RUN}` : `${LIST_EVERY_RUN} (RUN is ${RUN_REF_FORMS})`,
    });
  }
}

/** The "run not found" error for `ref`, with the closest ids among the store's runs (when it can list them). */
export async function runNotFound(store: Partial<Pick<StateStore, 'listRuns' | 'description'>>, ref: string): Promise<RunNotFoundError> {
  const runs = store.listRuns ? await store.listRuns().catch(() => [] as Run[]) : [];
  return new RunNotFoundError(ref, store.description ?? 'state store', suggestions(ref, runs));
}

/** The ids nearest to what was typed, else the three newest: a not-found always offers a way on. */
function suggestions(typed: string, runs: readonly Run[]): string[] {
  const ids = runs.map((r) => r.id);
  const close = closestNames(typed, ids);
  return close.length > 0 ? close : ids.slice(-3).reverse();
}

/**
 * The run `ref` names. An exact id is one read; a prefix or `latest` lists the runs (every run
 * record of the store: cheap for the file store's directory, one query for DynamoDB).
 */
export async function resolveRun(store: StateStore, ref: string): Promise<Run> {
  const typed = ref.trim();
  if (typed === '') {
    throw new KeyrotorError('no run given', { fault: 'operator', nextStep: `name one: RUN is ${RUN_REF_FORMS}; ${LIST_EVERY_RUN}` });
  }
  const latest = /^latest(?::(.+))?$/.exec(typed);
  if (latest) return latestRun(store, latest[1]);
  // Ids are plain names; anything else (a path, a colon) can only be a typo, never a file to read.
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(typed)) {
    const exact = await store.getRun(typed);
    if (exact) return exact;
  }
  const runs = await store.listRuns();
  const matches = runs.filter((r) => r.id.startsWith(typed));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    const shown = matches.slice(-5).map((r) => r.id);
    throw new KeyrotorError(`run prefix "${typed}" matches ${matches.length} runs: ${shown.join(', ')}${matches.length > shown.length ? ', …' : ''}`, {
      fault: 'operator',
      nextStep: `type more of the id (or \`latest:${matches[0]!.keyring}\` for the newest of a key ring); ${LIST_EVERY_RUN}`,
    });
  }
  throw new RunNotFoundError(typed, store.description, suggestions(typed, runs));
}

async function latestRun(store: StateStore, keyring: string | undefined): Promise<Run> {
  const runs = await store.listRuns(keyring === undefined ? undefined : { keyring });
  // listRuns sorts by creation time, then id.
  const newest = runs[runs.length - 1];
  if (newest) return newest;
  if (keyring === undefined) {
    throw new KeyrotorError(`run not found: there is no run yet in the ${store.description}`, {
      fault: 'operator',
      nextStep: 'start one with `rotate start KEYRING` (`rotate plan KEYRING` shows what it would do)',
    });
  }
  const keyrings = [...new Set((await store.listRuns()).map((r) => r.keyring))];
  const closest = closestNames(keyring, keyrings);
  throw new KeyrotorError(`run not found: key ring "${keyring}" has no run in the ${store.description}${closest.length > 0 ? ` (key rings with runs, closest first: ${closest.join(', ')})` : ''}`, {
    fault: 'operator',
    nextStep: closest.length > 0 ? `did you mean \`latest:${closest[0]}\`? ${LIST_EVERY_RUN}` : `check the key ring's name (\`rotate status\` lists the config's key rings); if ${keyring} is one, start a run with \`rotate start ${keyring}\`; ${LIST_EVERY_RUN}`,
  });
}
