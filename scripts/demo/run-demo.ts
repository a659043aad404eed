/**
 * The demo, end to end against the local emulator, on a two-Region organization: Identity Center
 * on an AWS owned key is migrated to a multi-Region customer managed key (primary in us-east-1, a
 * replica in eu-west-1), the organization's administrator replicates Identity Center to eu-west-1,
 * the key's material is rotated in place (the routine path), then the key is rotated to a new key
 * through every stage in both Regions with two ephemeral approvers signing, and the synthesized
 * stack shows what Terraform now declares. The rotation's AWS calls are counted per Region against
 * the minimum a correct rotation needs.
 */
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type CallLogEntry } from '../../emulator';
import { replicateIdentityCenter } from '../../emulator/organization-admin';
import { loadConfig } from '../../pipeline/config/load';
import { openStateStore } from '../../pipeline/state/open';
import { createAwsClients, type AwsClients } from '../../pipeline/aws';
import { Engine, type ProgressEvent } from '../../pipeline/engine/engine';
import { KeyrotorError } from '../../pipeline/errors';
import type { Run } from '../../pipeline/state/types';
import { approveToFile } from '../../pipeline/approvals/approve';
import { actAsPipelineRole, createDemoWorkspace, operatorSignsStarts } from './workspace';
import { renderRun } from '../cli/run-view';
import { callBudgetByRegion, renderCallBudget, type RegionCallBudget } from './call-budget';

export const DEMO_PRIMARY_REGION = 'us-east-1';
export const DEMO_REPLICA_REGION = 'eu-west-1';

export interface DemoOptions {
  readonly out: (line: string) => void;
  /** Keep the workspace here instead of a temp dir that is removed afterwards. */
  readonly keepDir?: string;
}

export interface DemoResult {
  readonly migration: Run;
  readonly materialRotation: Run;
  readonly rotation: Run;
  /** Emulator calls made by the rotation run alone, by operation. */
  readonly rotationCalls: Readonly<Record<string, number>>;
  /** The rotation run's calls per Region against the minimum a correct rotation needs. */
  readonly callBudget: readonly RegionCallBudget[];
  readonly stackSummary: string;
}

export function countCalls(log: readonly CallLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of log) {
    const key = `${entry.service}:${entry.operation}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { out } = options;
  const dir = options.keepDir ? await usableKeepDir(path.resolve(options.keepDir)) : await mkdtemp(path.join(os.tmpdir(), 'keyrotor-demo-'));
  const emulator = await startEmulator({ port: 0, updateDelayMs: 150, regionDelayMs: 150 });
  const regional = new Map<string, AwsClients>();
  try {
    out(`emulator (a local test double of KMS, SSO Admin, Identity Store, STS) on ${emulator.endpoint}`);
    const ws = await createDemoWorkspace(dir, { replicaRegions: [DEMO_REPLICA_REGION], identityCenterRegions: [DEMO_REPLICA_REGION] });
    out(`workspace ${dir}: config ${path.basename(ws.configPath)} (key ring ${ws.keyringName}: multi-Region, primary ${DEMO_PRIMARY_REGION}, replica ${DEMO_REPLICA_REGION}), state in ${path.relative(dir, ws.stateDir)}/, operator ${ws.operator} (signs each start), approvers ${ws.approvers.map((a) => a.identity).join(', ')}`);
    const config = loadConfig(ws.configPath);
    const store = await openStateStore(config.state);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIADEMOOPERATOR', AWS_SECRET_ACCESS_KEY: 'demo' };
    actAsPipelineRole(emulator, env.AWS_ACCESS_KEY_ID);
    const clientsIn = (region: string): AwsClients => {
      let clients = regional.get(region);
      if (!clients) regional.set(region, (clients = createAwsClients({ region, endpoint: emulator.endpoint, env })));
      return clients;
    };
    const clients = clientsIn(DEMO_PRIMARY_REGION);
    const progress = (event: ProgressEvent): void => {
      if (event.type === 'stage-end') out(`  ${event.status === 'done' ? '✔' : event.status === 'waiting' ? '⏸' : event.status === 'skipped' ? '–' : '✖'} ${event.stage}: ${event.summary}`);
      else if (event.type === 'message') out(`      ${event.message}`);
    };
    const engine = new Engine({
      config,
      store,
      clientsFor: () => clients,
      clientsForRegion: (_keyring, region) => clientsIn(region),
      actor: ws.operator,
      // The operator signs each start with their key, so the gate knows who must not approve.
      identifyInitiator: operatorSignsStarts(ws, config),
      progress,
      options: { poll: { initialMs: 100, maxMs: 1000 } },
    });
    try {
      out('\n== 1. migrate Identity Center from its AWS owned key to a multi-Region customer managed key');
      let migration = await engine.start(ws.keyringName, 'migrate-to-cmk');
      migration = await engine.advance(migration.id);
      out(`  run ${migration.id}: ${migration.status}`);

      out(`\n== 2. the organization's administrator replicates Identity Center to ${DEMO_REPLICA_REGION} (AddRegion; it needs the key's replica there, which step 1 made)`);
      await replicateIdentityCenter(clients.ssoAdmin, config.keyrings[0]!.identityCenter!.instanceArn, DEMO_REPLICA_REGION, 50);
      out(`  ✔ Identity Center now serves ${DEMO_REPLICA_REGION} too (ACTIVE)`);

      out('\n== 3. routine rotation: new key material in the same key (rotate-material; no switch, no deletion, no approval)');
      let materialRotation = await engine.start(ws.keyringName, 'rotate-material');
      materialRotation = await engine.advance(materialRotation.id);
      out(`  run ${materialRotation.id}: ${materialRotation.status}`);

      out(`\n== 4. a new key when warranted: rotate through every stage, in ${DEMO_PRIMARY_REGION} and ${DEMO_REPLICA_REGION}`);
      emulator.clearCallLog();
      let rotation = await engine.start(ws.keyringName, 'rotate');
      rotation = await engine.advance(rotation.id);
      out(`  run ${rotation.id} is ${rotation.status} at the approval gate`);
      for (const approver of ws.approvers) {
        // What `rotate approve` does on each approver's machine: sign, and write an approval file.
        const { file } = await approveToFile({ store, runId: rotation.id, signingKeyPath: approver.privateKeyPath, approvalsDir: ws.approvalsDir, now: new Date() });
        out(`  ✍ ${approver.identity} signed the deletion of ${rotation.plan.oldKeyArn} (plan ${rotation.planDigest.slice(0, 12)}…, evidence ${rotation.evidenceDigest?.slice(0, 12)}…) → ${path.relative(dir, file)}`);
      }
      rotation = await engine.advance(rotation.id);
      out(`  run ${rotation.id} waits for the deletion to be asked for by name`);
      // What `rotate delete RUN --yes` does: the only way a routine advance goes on into the deletion.
      out(`  $ rotate delete ${rotation.id} --yes`);
      rotation = await engine.advance(rotation.id, { allowDeletion: true });
      const log = emulator.callLog();
      const rotationCalls = countCalls(log);
      out(`\n${renderRun(rotation)}`);

      out('\n== 5. what the stacks declare now (synthesized from the ledger)');
      const { synthesizeStacks } = await import('../../stacks/synthesize');
      const { HELPER_SCRIPT, projectRoot } = await import('../../stacks/identity-center-encryption');
      // The demo's stack is only shown, never applied elsewhere, and lives outside the project: an
      // absolute helper path is fine here (real synth output reaches the helper by a relative one).
      const synth = await synthesizeStacks(config, {
        outdir: path.join(dir, 'cdktf.out'),
        identityCenterHelperCommand: ['node', path.join(projectRoot(), ...HELPER_SCRIPT)],
      });
      const { summarizeSynthesizedStack } = await import('./stack-summary');
      const stackSummary = await summarizeSynthesizedStack(synth.outdir, synth.stacks[0]!);
      out(stackSummary);

      out('\n== AWS calls made by the rotation run, per Region (emulator call log), against the minimum a correct rotation needs');
      const callBudget = callBudgetByRegion(log, { primary: DEMO_PRIMARY_REGION, replicas: [DEMO_REPLICA_REGION] });
      for (const line of renderCallBudget(callBudget)) out(line);
      return { migration, materialRotation, rotation, rotationCalls, callBudget, stackSummary };
    } finally {
      await store.close();
    }
  } finally {
    for (const c of regional.values()) c.destroy();
    await emulator.stop();
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  }
}

/** The --keep directory, made if missing; refused up front (an operator error naming --keep) when it cannot hold the workspace. */
async function usableKeepDir(dir: string): Promise<string> {
  try {
    await makeDirectories(dir);
    await access(dir, constants.W_OK);
    return dir;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'it, or a directory above it, is a file' : (error as Error).message;
    throw new KeyrotorError(`--keep ${dir} cannot hold the demo's workspace: ${why}`, {
      fault: 'operator',
      nextStep: 'pass --keep a directory you can write to (it is created if missing), or leave --keep out to use a temporary one',
    });
  }
}

/**
 * mkdir -p one level at a time. Node's recursive mkdir never returns for some paths on special file
 * systems (measured: `/proc/x` on Linux, Node 20), where a plain mkdir fails at once.
 */
async function makeDirectories(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!(await stat(dir)).isDirectory()) throw error;
      return;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir || (await exists(parent))) throw error;
    await makeDirectories(parent);
    await mkdir(dir);
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
