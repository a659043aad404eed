/**
 * Preflight holds the caller against the key policy's lockout rules: only the key ring's
 * pipelineRole and its key administrators (with MFA) may create, disable or schedule the deletion
 * of its keys, so any other caller — one real KMS would refuse at CreateKey — is refused before the
 * run changes anything. (The emulator does not model the lockout check; preflight must.)
 */
import { createAwsClients, type AwsClients } from '../../pipeline/aws';
import { unlimitedRateLimiter } from '../../pipeline/aws/rate-limiter';
import { StageError } from '../../pipeline/errors';
import { createHarness, migrateToCmk, type Harness } from './harness';

let h: Harness;
let other: AwsClients | undefined;
afterEach(async () => {
  other?.destroy();
  other = undefined;
  await h?.close();
});

function clientsAs(accessKeyId: string, arn: string): AwsClients {
  h.emulator.addPrincipal(accessKeyId, arn);
  other = createAwsClients({ region: h.keyring.region, endpoint: h.emulator.endpoint, env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'x' }, rateLimiter: unlimitedRateLimiter });
  return other;
}

describe('preflight and the key policy\'s lockout rules', () => {
  it('GIVEN a caller that is neither the pipelineRole nor a key administrator WHEN a rotation starts THEN preflight refuses it, naming who may act, and nothing changes', async () => {
    h = await createHarness({ quotas: false });
    await migrateToCmk(h);
    const account = h.keyring.account;
    const stranger = `arn:aws:sts::${account}:assumed-role/PowerUser/dave`;
    const engine = h.engine({ clientsFor: () => clientsAs('AKIASTRANGERPOWER01', stranger) });
    const before = h.emulator.callLog().length;
    const run = await engine.start(h.keyring.name, 'rotate');
    const refused = await engine.advance(run.id).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(StageError);
    const e = refused as StageError;
    expect(e.fault).toBe('operator');
    expect(e.message).toContain(`the caller ${stranger} is not allowed by key ring identity-center's key policy to manage its keys`);
    expect(e.message).toContain(`its pipelineRole arn:aws:iam::${account}:role/keyrotor-pipeline`);
    expect(e.message).toContain('KMS would refuse this run\'s CreateKey (policy lockout safety check)');
    expect(e.nextStep).toContain(`run as arn:aws:iam::${account}:role/keyrotor-pipeline`);
    expect((await h.store.getRun(run.id))!.status).toBe('cancelled');
    expect(h.emulator.callLog().slice(before).filter((c) => c.mutating)).toEqual([]);
  });

  it('GIVEN a key administrator\'s session WHEN a rotation starts THEN preflight lets it act and says it needs MFA', async () => {
    h = await createHarness({ quotas: false });
    await migrateToCmk(h);
    const account = h.keyring.account;
    const admin = `arn:aws:sts::${account}:assumed-role/KeyAdministrator/carol`;
    const engine = h.engine({ clientsFor: () => clientsAs('AKIAKEYADMINCAROL01', admin) });
    const run = await engine.start(h.keyring.name, 'rotate');
    const after = await engine.advance(run.id, { stageLimit: 1 });
    const preflight = after.stages.find((s) => s.name === 'preflight')!;
    expect(preflight.status).toBe('done');
    expect(preflight.summary).toContain(`acting as key administrator arn:aws:iam::${account}:role/KeyAdministrator: the key policy lets it create, disable and schedule deletion only with MFA`);
  });

  it('GIVEN the pipeline role WHEN a rotation starts THEN preflight names it', async () => {
    h = await createHarness({ quotas: false });
    await migrateToCmk(h);
    const run = await h.engine().start(h.keyring.name, 'rotate');
    const after = await h.engine().advance(run.id, { stageLimit: 1 });
    expect(after.stages[0]!.summary).toContain(`acting as the key ring's pipelineRole arn:aws:iam::${h.keyring.account}:role/keyrotor-pipeline`);
  });
});
