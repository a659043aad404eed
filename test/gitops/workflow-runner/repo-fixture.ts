/**
 * A repository snapshot for the workflow tests: the project's .github/, .ci/, bin/, package files
 * and compiled dist/ (copied: the Identity Center helper is found relative to the project root,
 * which must be the snapshot), node_modules linked, and a demo key-ring config whose Identity
 * Center key ring has been migrated to a customer managed key against the emulator.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Emulator } from '../../../emulator';
import { main } from '../../../scripts/cli/main';
import type { CliIo } from '../../../scripts/cli/context';
import { createDemoWorkspace, type DemoWorkspaceOptions } from '../../../scripts/demo/workspace';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * The workflows run the compiled CLI (bin/rotate → dist/). `npm test` builds dist/ first (and CI's
 * `npm ci` through `prepare`); running this file alone after a code change needs `npm run build`.
 * (An mtime comparison cannot tell: the incremental build leaves unchanged outputs untouched.)
 */
export function assertDistFresh(): void {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'scripts', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm ci runs it through `prepare`)');
}

export async function cli(repo: string, emulator: Emulator, ...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (out += `${t}\n`), interactive: false, readLine: async () => undefined };
  const env = { KEYROTOR_OPERATOR: 'operator@example.com', AWS_ACCESS_KEY_ID: 'AKIAWORKFLOWTEST', AWS_SECRET_ACCESS_KEY: 'x' };
  const code = await main(['node', 'rotate', '--config', path.join(repo, 'keyrings.json'), '--endpoint', emulator.endpoint, ...args], { io, env, cwd: repo });
  return { code, out };
}

export function runIdIn(text: string): string {
  const id = /identity-center-\d{8}T\d{6}Z-[0-9a-f]{6}/.exec(text)?.[0];
  if (!id) throw new Error(`no run id in: ${text}`);
  return id;
}

/** The GitHub login the workflow tests dispatch as, and the run id the runner gives them. */
export const DISPATCHER = 'octo-operator';
export const WORKFLOW_RUN_ID = '4242';

/**
 * A fresh snapshot with the Identity Center key ring migrated to a CMK (generation 1 active). The
 * config maps the dispatcher's GitHub login to the operator (`people`), and the emulator answers
 * the workflow's credentials as the pipeline role's session `gh-<login>-<run id>`, which is how a
 * run started from CI is tied to the person who dispatched it.
 */
export async function migratedRepo(emulator: Emulator, options: DemoWorkspaceOptions = {}): Promise<string> {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-repo-'));
  for (const p of ['.github', '.ci', 'bin', 'dist', 'package.json', 'package-lock.json']) fs.cpSync(path.join(REPO_ROOT, p), path.join(repo, p), { recursive: true });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(repo, 'node_modules'));
  const ws = await createDemoWorkspace(repo, options);
  const config = JSON.parse(fs.readFileSync(ws.configPath, 'utf8'));
  config.people = [{ name: 'operator', signers: [ws.operator], aws: [], github: [DISPATCHER] }];
  fs.writeFileSync(ws.configPath, `${JSON.stringify(config, null, 2)}\n`);
  emulator.addPrincipal('AKIAWORKFLOWTEST', `arn:aws:sts::${config.keyrings[0].account}:assumed-role/keyrotor-pipeline/gh-${DISPATCHER}-${WORKFLOW_RUN_ID}`);
  const started = await cli(repo, emulator, 'start', 'identity-center', '--kind', 'migrate-to-cmk');
  const advanced = await cli(repo, emulator, 'advance', runIdIn(started.out));
  if (advanced.code !== 0) throw new Error(`migrate-to-cmk failed: ${advanced.out}`);
  return repo;
}

/** A copy of a snapshot (e.g. to make "the latest main" differ from the commit being deployed). */
export function copyRepo(repo: string): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-repo-'));
  fs.cpSync(repo, copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}
