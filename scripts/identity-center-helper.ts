/**
 * `node dist/scripts/identity-center-helper.js --instance-arn A --key-type T [--kms-key-arn K] --region R`
 *
 * Run by the IdentityCenterEncryption construct's `local-exec` when the desired encryption of an
 * Identity Center instance changes. Idempotent: an instance already ENABLED on the desired key gets
 * no UpdateInstance. Honours AWS_ENDPOINT_URL_SSO_ADMIN / AWS_ENDPOINT_URL (the local emulator).
 * Exit codes follow the `rotate` CLI's (pipeline/errors.ts ExitCode).
 */
import { Command } from 'commander';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { chooseCredentials } from '../pipeline/aws/credentials';
import { isLoopbackEndpoint, resolveEndpoint } from '../pipeline/aws/endpoints';
import { describeError, exitCodeFor, ExitCode } from '../pipeline/errors';
import { parseDesiredEncryption } from './ic-helper/desired';
import { DEFAULT_SWITCH_TIMEOUT_MS, ensureIdentityCenterEncryption } from '../pipeline/identity-center/ensure-encryption';
import { parseTimeoutSeconds } from './ic-helper/timeout';

export async function runHelper(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command('identity-center-helper')
    .description('bring an IAM Identity Center instance to the desired encryption key (idempotent)')
    .requiredOption('--instance-arn <arn>', 'arn:aws:sso:::instance/ssoins-…')
    .requiredOption('--key-type <type>', 'AWS_OWNED_KMS_KEY or CUSTOMER_MANAGED_KEY')
    .option('--kms-key-arn <arn>', 'key ARN (not an alias ARN); required for CUSTOMER_MANAGED_KEY')
    .requiredOption('--region <region>', 'Region of the instance')
    .option('--timeout-seconds <n>', 'give up waiting for ENABLED after this long', String(DEFAULT_SWITCH_TIMEOUT_MS / 1000))
    .exitOverride();
  try {
    program.parse(argv as string[]);
  } catch {
    return ExitCode.operatorError; // commander already printed what is missing
  }
  const opts = program.opts<{ instanceArn: string; keyType: string; kmsKeyArn?: string; region: string; timeoutSeconds: string }>();
  try {
    const desired = parseDesiredEncryption(opts.instanceArn, opts.keyType, opts.kmsKeyArn, opts.region);
    const timeoutMs = parseTimeoutSeconds(opts.instanceArn, opts.timeoutSeconds) * 1000;
    const endpoint = resolveEndpoint('sso-admin', undefined, env).url;
    // Credentials from the given environment (Terraform passes its own to local-exec); dummy keys
    // for the loopback emulator; otherwise the SDK's default chain.
    const credentials = chooseCredentials(undefined, env, isLoopbackEndpoint(endpoint));
    const ssoAdmin = new SSOAdminClient({ region: opts.region, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) });
    const result = await ensureIdentityCenterEncryption({ ssoAdmin }, opts.instanceArn, desired, {
      timeoutMs,
      // No schedule here: the driver's (pipeline/identity-center/poll-schedule.ts) is the stage's too.
      log: (line) => process.stderr.write(`identity-center-helper: ${line}\n`),
    });
    process.stdout.write(`${JSON.stringify({ instanceArn: opts.instanceArn, ...desired, changed: result.changed })}\n`);
    return ExitCode.ok;
  } catch (error) {
    process.stderr.write(`${describeError(error).join('\n')}\n`);
    return exitCodeFor(error);
  }
}

if (require.main === module) {
  runHelper(process.argv).then((code) => {
    process.exitCode = code;
  });
}
