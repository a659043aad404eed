import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PolicyLintError } from '../../pipeline/errors';
import { buildKeyPolicy } from '../../pipeline/policy/builder';
import type { KeyPolicyDocument } from '../../pipeline/policy/builder';
import { ManagedKey } from '../../stacks/managed-key';
import { PolicyLintAspect } from '../../stacks/policy-lint-aspect';
import { App, Aspects, AwsProvider, TerraformStack, Testing } from '../../stacks/cdktf';
import { config, IDENTITY_CENTER, keyring, ledgerFixture, synthAll } from './helpers';

const ic = keyring({ name: 'identity-center', identityCenter: IDENTITY_CENTER, keyUsers: [] });
/** Generation 1 on record, so the stack declares a key (an attached key ring without one declares none). */
const ledger = ledgerFixture('identity-center-three-generations');

/** A stack holding one ManagedKey with the given policy document, linted like the real stacks. */
function stackWithPolicy(policyDocument: KeyPolicyDocument): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'keys-111111111111-us-east-1');
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  new ManagedKey(stack, ic.name, { keyring: ic, ledger, policyDocument });
  Aspects.of(stack).add(new PolicyLintAspect());
  return stack;
}

describe('PolicyLintAspect', () => {
  test('GIVEN the builder\'s policy THEN synth succeeds', () => {
    expect(() => Testing.synth(stackWithPolicy(buildKeyPolicy(ic)))).not.toThrow();
  });

  test('GIVEN a wildcard principal without conditions WHEN synthesized THEN synth fails naming stack, resource, Sid and rule', () => {
    const good = buildKeyPolicy(ic);
    const bad: KeyPolicyDocument = {
      ...good,
      Statement: [...good.Statement, { Sid: 'OpenToEveryone', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' }],
    };
    const synth = () => Testing.synth(stackWithPolicy(bad));
    expect(synth).toThrow(PolicyLintError);
    expect(synth).toThrow(/stack keys-111111111111-us-east-1, aws_kms_key\.identity_center_key_gen2, aws_kms_key\.identity_center_key_gen3: statement "OpenToEveryone" breaks rule wildcard-principal-without-conditions/);
  });

  test('GIVEN an attached key ring whose policy lacks the Identity Center statements THEN synth fails naming the missing Sid', () => {
    const good = buildKeyPolicy(ic);
    const bad: KeyPolicyDocument = { ...good, Statement: good.Statement.filter((s) => !String(s.Sid).startsWith('AllowIdentityCenterAndIdentityStoreToUseKey')) };
    expect(() => Testing.synth(stackWithPolicy(bad))).toThrow(/statement "AllowIdentityCenterAndIdentityStoreToUseKey" breaks rule identity-center-statement-missing/);
  });

  test('GIVEN a real app WHEN the app synthesizes to disk THEN the lint runs there too (App.synth, not only Testing)', () => {
    const good = buildKeyPolicy(ic);
    const bad: KeyPolicyDocument = { ...good, Statement: [...good.Statement, { Sid: 'UsersGetEverything', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:role/app' }, Action: 'kms:*', Resource: '*' }] };
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-lint-')) });
    const stack = new TerraformStack(app, 'keys-111111111111-us-east-1');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    new ManagedKey(stack, ic.name, { keyring: ic, policyDocument: bad });
    Aspects.of(stack).add(new PolicyLintAspect());
    expect(() => app.synth()).toThrow(/statement "UsersGetEverything" breaks rule kms-star-for-non-admin/);
  });

  test('GIVEN the stacks built by buildApp THEN every stack carries the aspect (a clean config synthesizes)', () => {
    expect(() => synthAll(config([ic]))).not.toThrow();
  });
});
