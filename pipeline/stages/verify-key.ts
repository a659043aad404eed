/**
 * verify-key — before anything points at the new key, read it back: the right kind of key, in the
 * key ring's account and Region, a policy that lets Identity Center use it, and a working
 * Encrypt/Decrypt round trip bound to an encryption context.
 */
import { DecryptCommand, EncryptCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { callAws } from '../aws/call';
import { StageError } from '../errors';
import { missingIdentityCenterStatements } from '../policy/identity-center';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeKey } from './aws-reads';
import { newKeyOf } from './shared';
import { verifyReplicas } from './multi-region/replica-checks';
import { runReplicaRegions } from './multi-region/regions';

const NAME = 'verify-key';

export async function roundTrip(ctx: StageContext, keyId: string, expectKeyArn: string, stage: string): Promise<void> {
  const context = { 'keyrotor:run-id': ctx.run().id, 'keyrotor:stage': stage };
  const plaintext = Buffer.from(`keyrotor round trip ${ctx.run().id}`);
  const { kms } = ctx.clients;
  const encrypted = await callAws('kms:Encrypt', { target: keyId }, () => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context })));
  const decrypted = await callAws('kms:Decrypt', { target: keyId }, () => kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context })));
  if (decrypted.KeyId !== expectKeyArn || Buffer.compare(Buffer.from(decrypted.Plaintext ?? []), plaintext) !== 0) {
    throw new StageError(stage, `round trip through ${keyId} came back from ${decrypted.KeyId} (expected ${expectKeyArn}) or with different plaintext`, {
      fault: 'aws',
      nextStep: `inspect the key and alias, then \`rotate rollback ${ctx.run().id}\``,
    });
  }
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const { keyring } = ctx;
  const keyArn = newKeyOf(ctx, NAME);
  const key = await describeKey(ctx, keyArn);
  const problems: string[] = [];
  if (key.KeyState !== 'Enabled') problems.push(`state is ${key.KeyState}, expected Enabled`);
  if (key.KeySpec !== 'SYMMETRIC_DEFAULT') problems.push(`key spec is ${key.KeySpec}, Identity Center needs SYMMETRIC_DEFAULT`);
  if (key.KeyUsage !== 'ENCRYPT_DECRYPT') problems.push(`key usage is ${key.KeyUsage}, expected ENCRYPT_DECRYPT`);
  if (key.KeyManager !== 'CUSTOMER') problems.push(`key manager is ${key.KeyManager}, expected CUSTOMER`);
  const [, , , region, account] = keyArn.split(':');
  if (account !== keyring.account || region !== keyring.region) problems.push(`key is in ${account}/${region}, the key ring (and its Identity Center instance) is in ${keyring.account}/${keyring.region}`);
  // Multi-Region key rings: a PRIMARY whose every replica is checked below against its policy.
  const regions = runReplicaRegions(ctx);
  if (regions.length > 0 && key.MultiRegionConfiguration?.MultiRegionKeyType !== 'PRIMARY') problems.push(`key is ${key.MultiRegion ? key.MultiRegionConfiguration?.MultiRegionKeyType : 'single-Region'}, the key ring needs a multi-Region primary`);
  let policyText = '{}';
  if (keyring.identityCenter || regions.length > 0) {
    const policy = await callAws('kms:GetKeyPolicy', { target: keyArn }, () => ctx.clients.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })));
    policyText = policy.Policy ?? '{}';
  }
  if (keyring.identityCenter) {
    const missing = missingIdentityCenterStatements(policyText, { account: keyring.account, includeOrganizationStatements: true });
    if (missing.length > 0) problems.push(`key policy lacks the Identity Center statements: ${missing.join('; ')}`);
  }
  if (problems.length > 0) {
    throw new StageError(NAME, `new key ${keyArn} is not fit for key ring ${keyring.name}: ${problems.join('; ')}`, {
      fault: 'operator',
      nextStep: `fix the key (or the policy builder input) and run \`rotate advance ${ctx.run().id}\`, or \`rotate rollback ${ctx.run().id}\``,
    });
  }
  await roundTrip(ctx, keyArn, keyArn, NAME);
  const replicas = await verifyReplicas(ctx, NAME, keyArn, policyText, regions);
  return { status: 'done', summary: `${keyArn}: Enabled SYMMETRIC_DEFAULT CUSTOMER key in ${account}/${region}${keyring.identityCenter ? ', Identity Center statements present' : ''}, round trip ok${replicas.map((r) => `; ${r}`).join('')}` };
}

export const verifyKey: StageDefinition = {
  name: NAME,
  run,
  verify: async () => undefined, // run is itself the read-back
};
