/**
 * The CLI side of issue 12: `rotate plan` says when to choose `rotate-material` and when `rotate`,
 * `rotate start --kind rotate-material` runs end to end, and `rotate status` shows each active
 * key's rotation history and remaining on-demand budget.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { invokeRotate, type CliResult } from './invoke';
import { startEmulator, type Emulator } from '../../emulator';
import { actAsPipelineRole, createDemoWorkspace, type DemoWorkspace } from '../../scripts/demo/workspace';

let emulator: Emulator;
let ws: DemoWorkspace;
let dir: string;

function rotate(...args: string[]): Promise<CliResult> {
  return invokeRotate(ws, emulator, dir, args);
}

const runId = (text: string): string => /run (identity-center-[0-9A-Za-z-]+)/.exec(text)![1]!;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-kinds-'));
  emulator = await startEmulator({ port: 0, updateDelayMs: 5, rotationDelayMs: 5, quotas: false });
  ws = await createDemoWorkspace(dir, { checks: [] });
  actAsPipelineRole(emulator, 'AKIATESTOPERATOR'); // the key policy's lockout rules: act as the pipeline role
  const migration = await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
  expect((await rotate('advance', runId(migration.out + migration.err))).code).toBe(0);
}, 30_000);
afterAll(async () => {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('rotate plan', () => {
  it('GIVEN --kind rotate THEN it says a new key is for when one is warranted, and points to rotate-material for routine rotation', async () => {
    const result = await rotate('--wide', 'plan', 'identity-center');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/when: choose when a new key is warranted: the key may be compromised, its policy or ownership must change/);
    expect(result.out).toMatch(/instead, --kind rotate-material: choose for routine rotation \(the default, AWS's guidance for Identity Center's key\)/);
  });

  it('GIVEN --kind rotate-material THEN it names the key, the reserve, three stages without an approval gate, and the alternative', async () => {
    const result = await rotate('--wide', 'plan', 'identity-center', '--kind', 'rotate-material');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/rotates the material of: arn:aws:kms:us-east-1:111111111111:key\/\S+ \(keeps at least 5 of its 25 on-demand rotations\)/);
    expect(result.out).toMatch(/1\. preflight[\s\S]*2\. rotate-key-material[\s\S]*3\. integration-checks/);
    expect(result.out).not.toContain('approval-gate');
    expect(result.out).toMatch(/instead, --kind rotate: choose when a new key is warranted/);
    const json = JSON.parse((await rotate('--json', 'plan', 'identity-center', '--kind', 'rotate-material')).out);
    expect(Object.keys(json.guidance)).toEqual(['rotate-material', 'rotate']);
  });
});

describe('rotate start --kind rotate-material, then rotate status', () => {
  it('THEN the run completes in one advance and status --rotations shows the rotation and the budget left, live; plain status reads nothing', async () => {
    const started = await rotate('start', 'identity-center', '--kind', 'rotate-material');
    expect(started.code).toBe(0);
    const advanced = await rotate('advance', runId(started.out + started.err));
    expect(advanced.code).toBe(0);
    expect(advanced.out).toContain('status: completed');

    const status = await rotate('--wide', 'status', '--rotations');
    expect(status.out).toMatch(/key rotations \(ListKeyRotations of each active key; 25 on-demand rotations per key for its lifetime\):/);
    expect(status.out).toMatch(/identity-center\s+arn:aws:kms:\S+: 24 of 25 on-demand rotations left \(1 used, 0 automatic\); last rotation ON_DEMAND on \d{4}-\d\d-\d\d/);
    expect(status.out).toMatch(/\d{4}-\d\d-\d\dT\S+\s+ON_DEMAND\s+material \S+ \(current\)/);

    const json = JSON.parse((await rotate('--json', 'status', '--rotations')).out);
    expect(json.rotations).toEqual([expect.objectContaining({ keyring: 'identity-center', budget: expect.objectContaining({ onDemandUsed: 1, remaining: 24 }) })]);

    // Without --rotations, status reads the state store only: no AWS call.
    emulator.clearCallLog();
    const stateOnly = await rotate('status');
    expect(stateOnly.out).not.toContain('key rotations');
    expect(emulator.callLog()).toEqual([]);
  });
});
