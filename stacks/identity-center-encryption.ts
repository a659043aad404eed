import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IdentityCenterTarget } from '../pipeline/ledger/types';
import { Construct, DataResource } from './cdktf';

/** Desired Identity Center encryption (the ledger's type); here `kmsKeyArn` may be a Terraform reference. */
export type IdentityCenterEncryptionTarget = IdentityCenterTarget;

export interface IdentityCenterEncryptionProps {
  /** `arn:aws:sso:::instance/ssoins-…`. !! REPLACEMENT: a change re-runs the helper against the new instance. */
  readonly instanceArn: string;
  /** Region of the instance (the key ring's Region). */
  readonly region: string;
  /** What the instance should encrypt with. A change re-runs the helper (that is the point). */
  readonly target: IdentityCenterEncryptionTarget;
  /**
   * argv prefix of the helper. Default: `node <project>/dist/scripts/identity-center-helper.js`
   * (absolute, because Terraform runs in `cdktf.out/stacks/<stack>`; a provisioner's command is
   * not part of the resource's state, so the path never shows as a diff).
   */
  readonly helperCommand?: readonly string[];
}

/**
 * IAM Identity Center's encryption setting. No Terraform AWS resource manages it (open upstream
 * requests), so the desired `{KeyType, KmsKeyArn}` is declared as a `terraform_data` whose
 * `triggers_replace` is that target: when it changes, the resource is replaced and its create-time
 * `local-exec` runs the project's helper (UpdateInstance, then wait for ENABLED). The helper is
 * idempotent, so a re-created resource with an unchanged target makes no AWS call.
 */
export class IdentityCenterEncryption extends Construct {
  readonly resource: DataResource;
  readonly argv: readonly string[];

  constructor(scope: Construct, id: string, props: IdentityCenterEncryptionProps) {
    super(scope, id);
    const desired: Record<string, string> = {
      instance_arn: props.instanceArn,
      region: props.region,
      key_type: props.target.keyType,
      ...(props.target.keyType === 'CUSTOMER_MANAGED_KEY' ? { kms_key_arn: props.target.kmsKeyArn } : {}),
    };
    this.argv = [
      ...(props.helperCommand ?? defaultHelperCommand()),
      '--instance-arn', props.instanceArn,
      '--key-type', props.target.keyType,
      ...(props.target.keyType === 'CUSTOMER_MANAGED_KEY' ? ['--kms-key-arn', props.target.kmsKeyArn] : []),
      '--region', props.region,
    ];
    this.resource = new DataResource(this, 'desired', {
      input: desired,
      triggersReplace: desired,
      provisioners: [{ type: 'local-exec', command: this.argv.map(shellQuote).join(' ') }],
    });
  }
}

/** POSIX single-quoting; Terraform interpolates `${…}` references before the shell sees them. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function defaultHelperCommand(): string[] {
  return ['node', path.join(projectRoot(), 'dist', 'scripts', 'identity-center-helper.js')];
}

/** Nearest directory above this module holding package.json (works from stacks/ and dist/stacks/). */
function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}
