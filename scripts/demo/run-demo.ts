/**
 * The demo, end to end against the local emulator: an organization whose Identity Center uses an
 * AWS owned key is migrated to a customer managed key, then that key is rotated through every
 * stage, two ephemeral approvers sign, and the synthesized stack shows what Terraform now declares.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type CallLogEntry } from '../../emulator';
import { loadConfig } from '../../pipeline/config/load';
import { openStateStore } from '../../pipeline/state/open';
import { createAwsClients } from '../../pipeline/aws';
import { Engine, type ProgressEvent } from '../../pipeline/engine/engine';
import type { Run } from '../../pipeline/state/types';
import { approveToFile } from '../../pipeline/approvals/approve';
import { createDemoWorkspace, operatorSignsStarts } from './workspace';
import { renderRun } from '../cli/run-view';

export interface DemoOptions {
  readonly out: (line: string) => void;
  /** Keep the workspace here instead of a temp dir that is removed afterwards. */
  readonly keepDir?: string;
}

export interface DemoResult {
  readonly migration: Run;
  readonly rotation: Run;
  /** Emulator calls made by the rotation run alone, by operation. */
  readonly rotationCalls: Readonly<Record<string, number>>;
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
  const dir = options.keepDir ? path.resolve(options.keepDir) : await mkdtemp(path.join(os.tmpdir(), 'keyrotor-demo-'));
  const emulator = await startEmulator({ port: 0, updateDelayMs: 150 });
  try {
    out(`emulator (a local test double of KMS, SSO Admin, Identity Store, STS) on ${emulator.endpoint}`);
    const ws = await createDemoWorkspace(dir);
    out(`workspace ${dir}: config ${path.basename(ws.configPath)}, state in ${path.relative(dir, ws.stateDir)}/, operator ${ws.operator} (signs each start), approvers ${ws.approvers.map((a) => a.identity).join(', ')}`);
    const config = loadConfig(ws.configPath);
    const store = await openStateStore(config.state);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIADEMOOPERATOR', AWS_SECRET_ACCESS_KEY: 'demo' };
    const clients = createAwsClients({ region: config.keyrings[0]!.region, endpoint: emulator.endpoint, env });
    const progress = (event: ProgressEvent): void => {
      if (event.type === 'stage-end') out(`  ${event.status === 'done' ? '✔' : event.status === 'waiting' ? '⏸' : event.status === 'skipped' ? '–' : '✖'} ${event.stage}: ${event.summary}`);
      else if (event.type === 'message') out(`      ${event.message}`);
    };
    const engine = new Engine({
      config,
      store,
      clientsFor: () => clients,
      actor: ws.operator,
      // The operator signs each start with their key, so the gate knows who must not approve.
      identifyInitiator: operatorSignsStarts(ws, config),
      progress,
      options: { poll: { initialMs: 100, maxMs: 1000 } },
    });
    try {
      out('\n== 1. migrate Identity Center from its AWS owned key to a customer managed key');
      let migration = await engine.start(ws.keyringName, 'migrate-to-cmk');
      migration = await engine.advance(migration.id);
      out(`  run ${migration.id}: ${migration.status}`);

      out('\n== 2. rotate the customer managed key through every stage');
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
      const rotationCalls = countCalls(emulator.callLog());
      out(`\n${renderRun(rotation)}`);

      out('\n== 3. what the stacks declare now (synthesized from the ledger)');
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

      out('\n== AWS calls made by the rotation run (emulator call log)');
      for (const [op, n] of Object.entries(rotationCalls)) out(`  ${op.padEnd(34)} ${n}`);
      out(`  ${'total'.padEnd(34)} ${Object.values(rotationCalls).reduce((a, b) => a + b, 0)}`);
      return { migration, rotation, rotationCalls, stackSummary };
    } finally {
      await store.close();
    }
  } finally {
    await emulator.stop();
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  }
}
