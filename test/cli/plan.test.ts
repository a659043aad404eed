/**
 * `rotate plan` shows the AWS calls a run will make, with their values, and is held to them: the
 * mutations it lists are exactly the mutations the emulator then sees the run make, the policy
 * digest and tags are those of the key that gets created, and `rollback --dry-run` lists the
 * calls the rollback then makes.
 */
import { createHash } from 'node:crypto';
import { worldPerTest, type CliWorld } from './harness';

interface PlanJson {
  live: { source: string; identityCenter?: { kmsKeyArn?: string } };
  soakEndsNoEarlierThan?: string;
  unrecoverableNoEarlierThan?: string;
  approvals?: { quorum: number };
  stages: Array<{ name: string; calls: Array<{ sign: string; operation: string; target: string; values: Record<string, string> }>; notes: string[]; confirmation?: string }>;
  mutations: string[];
}

describe('rotate plan and rollback --dry-run, held to what the run then does', () => {
  const world = worldPerTest({ minimumSoakHours: 6 });
  let w: CliWorld;
  beforeEach(() => {
    w = world();
  });

  async function plan(...args: string[]): Promise<PlanJson> {
    const result = await w.rotate('--json', 'plan', 'identity-center', ...args);
    expect(result.code).toBe(0);
    return JSON.parse(result.out) as PlanJson;
  }

  it('GIVEN a migration THEN its planned mutations are exactly the calls the run makes', async () => {
    const planned = await plan('--kind', 'migrate-to-cmk');
    expect(planned.mutations).toEqual(['kms:CreateKey', 'kms:EnableKeyRotation', 'kms:CreateAlias', 'sso:UpdateInstance']);
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    await w.rotate('advance', 'latest', '--yes');
    expect(w.mutatingCalls()).toEqual(planned.mutations);
  });

  it('GIVEN a rotation THEN the plan names the policy digest and tags of the key CreateKey makes, the alias move, Identity Center now → new, the soak end, the approvers and the deletion date — and the run makes exactly its calls', async () => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    await w.rotate('advance', 'latest', '--yes');
    const oldKey = JSON.parse((await w.rotate('--json', 'status', 'latest')).out).run.plan.newKeyArn as string;
    const before = w.mutatingCalls().length;
    const planned = await plan();
    const stage = (name: string) => planned.stages.find((s) => s.name === name)!;

    const create = stage('create-key').calls[0]!;
    expect(create).toMatchObject({ sign: '+', operation: 'kms:CreateKey', target: 'alias/identity-center generation 2' });
    expect(stage('promote-alias').calls[0]).toEqual({ sign: '~', operation: 'kms:UpdateAlias', target: 'alias/identity-center', values: { from: oldKey, to: '(the new key)' } });
    expect(planned.live).toMatchObject({ source: 'live', identityCenter: { kmsKeyArn: oldKey } });
    expect(stage('switch-identity-center').calls[0]).toMatchObject({ sign: '~', operation: 'sso:UpdateInstance', values: { from: oldKey, to: '(the new key)' } });
    expect(stage('switch-identity-center').confirmation).toContain('asks for confirmation (or --yes)');
    expect(stage('soak').calls[0]).toMatchObject({ sign: '-', operation: 'kms:DisableKey', target: oldKey });
    expect(stage('soak').notes[0]).toMatch(/^soak 6 h counted from the switch: ends no earlier than \d{4}-/);
    expect(Date.parse(planned.soakEndsNoEarlierThan!) - Date.now()).toBeGreaterThan(5.9 * 3600_000);
    expect(stage('approval-gate').notes).toEqual([
      '2 approvals from distinct people, never the initiator, each valid up to 24 h',
      expect.stringMatching(/^who may approve \(approvers\/allowed_signers, sha256 [0-9a-f]{64}\): approver1@example\.com, approver2@example\.com, operator@example\.com$/),
    ]);
    const deletion = stage('schedule-deletion').calls[0]!;
    expect(deletion).toMatchObject({ sign: '-', operation: 'kms:ScheduleKeyDeletion', target: oldKey, values: { 'pending window': '30 days' } });
    expect(Date.parse(planned.unrecoverableNoEarlierThan!)).toBe(Date.parse(planned.soakEndsNoEarlierThan!) + 30 * 86_400_000);

    // The run, to its end: the calls are the plan's, and the key is the plan's.
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    await w.rotate('advance', 'latest', '--yes');
    w.clock.offsetMs = 7 * 3600_000;
    await w.rotate('advance', 'latest');
    for (const approver of w.ws.approvers) await w.rotate('approve', 'latest', '--signing-key', approver.privateKeyPath, '--yes');
    await w.rotate('advance', 'latest');
    expect((await w.rotate('delete', 'latest', '--yes')).code).toBe(0);
    expect(w.mutatingCalls().slice(before)).toEqual(planned.mutations);
    const newKey = JSON.parse((await w.rotate('--json', 'status', 'latest')).out).run.plan.newKeyArn as string;
    const created = w.emulator.describeKeyState(newKey)!;
    expect(createHash('sha256').update(created.policy).digest('hex')).toBe(create.values['policy sha256']);
    const tags = Object.entries(created.tags).filter(([k]) => k !== 'keyrotor:run-id').sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    expect(create.values.tags).toBe([...tags, 'keyrotor:run-id=<run id>'].sort().join(', '));
  });

  it('GIVEN --offline, or no credentials and no endpoint THEN the live values are unknown, with the reason, and nothing is called', async () => {
    const offline = await w.rotate('--wide', 'plan', 'identity-center', '--kind', 'migrate-to-cmk', '--offline');
    expect(offline.out).toContain('live state: --offline: not read');
    expect(offline.out).toContain('from: unknown (--offline: not read)');
    const bare = await w.rotateWith({ noEndpoint: true, env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } }, '--wide', 'plan', 'identity-center', '--kind', 'migrate-to-cmk');
    expect(bare.out).toContain('live state: no AWS credentials or endpoint in the environment; not read');
    expect(bare.err).not.toContain('aws: ');
    expect(w.emulator.callLog()).toEqual([]);
  });

  it('GIVEN plan as text THEN it reads terraform-style within 100 columns and ends with the counts and the start command', async () => {
    const text = (await w.rotate('plan', 'identity-center', '--kind', 'migrate-to-cmk')).out;
    expect(text).toMatch(/^ {7}\+ {2}kms:CreateKey {2}alias\/identity-center generation 1$/m);
    expect(text).toMatch(/^ {7}~ {2}sso:UpdateInstance {2}instance\/ssoins-\S+$/m); // its ARN was whole at its first mention
    expect(text).toMatch(/^ {7}<= sts:GetCallerIdentity/m);
    expect(text).toContain('Plan: 2 to create, 2 to change, 0 to disable or delete');
    expect(text).toContain('next: `rotate start identity-center --kind migrate-to-cmk`');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('GIVEN a rotation at its gate THEN rollback --dry-run lists the calls, and the rollback makes exactly them', async () => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    await w.rotate('advance', 'latest', '--yes');
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    await w.rotate('advance', 'latest', '--yes');
    const dry = JSON.parse((await w.rotate('--json', 'rollback', 'latest', '--dry-run')).out) as { steps: Array<{ stage: string; undoes: boolean; calls: Array<{ sign: string; operation: string }> }> };
    expect(dry.steps.map((s) => s.stage)).toEqual(['soak', 'integration-checks', 'switch-identity-center', 'promote-alias', 'verify-key', 'create-key', 'preflight']);
    const plannedMutations = dry.steps.flatMap((s) => s.calls.filter((c) => c.sign !== '<=').map((c) => c.operation));
    expect(plannedMutations).toEqual(['kms:EnableKey', 'sso:UpdateInstance', 'kms:UpdateAlias', 'kms:DisableKey']);
    const before = w.mutatingCalls().length;
    expect((await w.rotate('rollback', 'latest', '--yes')).code).toBe(0);
    expect(w.mutatingCalls().slice(before)).toEqual(plannedMutations);
  });
});
