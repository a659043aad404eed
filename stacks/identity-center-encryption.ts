import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../pipeline/errors';
import type { IdentityCenterTarget } from '../pipeline/ledger/types';
import { App, Construct, DataResource, TerraformStack } from './cdktf';

/** Desired Identity Center encryption (the ledger's type); here `kmsKeyArn` may be a Terraform reference. */
export type IdentityCenterEncryptionTarget = IdentityCenterTarget;

/** The compiled helper, relative to the project root (`npm ci` builds it through `prepare`). */
export const HELPER_SCRIPT = ['dist', 'scripts', 'identity-center-helper.js'] as const;

export interface IdentityCenterEncryptionProps {
  /** Name of the key ring whose setting this is (the synth manifest and messages name it). */
  readonly keyring: string;
  /** `arn:aws:sso:::instance/ssoins-…`. !! REPLACEMENT: a change re-runs the helper against the new instance. */
  readonly instanceArn: string;
  /** Region of the instance (the key ring's Region). */
  readonly region: string;
  /**
   * What the instance should encrypt with: only ever the ledger's recorded target, i.e. a key the
   * pipeline verified and switched to (or found in place at `adopt`). A change re-runs the helper.
   */
  readonly target: IdentityCenterEncryptionTarget;
  /**
   * argv prefix of the helper. Default: `node ${path.module}/<stack dir → project>/dist/scripts/identity-center-helper.js`,
   * see portableHelperCommand. (A provisioner's command is not part of the resource's state, so
   * the command text never shows as a diff.)
   */
  readonly helperCommand?: readonly string[];
}

/**
 * IAM Identity Center's encryption setting. No Terraform AWS resource manages it (open upstream
 * requests), so the desired `{KeyType, KmsKeyArn}` is declared as a `terraform_data` whose
 * `triggers_replace` is that target: when it changes, the resource is replaced and its create-time
 * `local-exec` runs the project's helper (UpdateInstance, then wait for ENABLED). The helper is
 * idempotent, so a re-created resource with an unchanged target makes no AWS call — and since the
 * target is only ever what the pipeline already set, in the normal flow it never does.
 */
export class IdentityCenterEncryption extends Construct {
  readonly resource: DataResource;
  readonly argv: readonly string[];
  readonly target: IdentityCenterEncryptionTarget;
  readonly keyring: string;

  constructor(scope: Construct, id: string, props: IdentityCenterEncryptionProps) {
    super(scope, id);
    this.target = props.target;
    this.keyring = props.keyring;
    const desired: Record<string, string> = {
      instance_arn: props.instanceArn,
      region: props.region,
      key_type: props.target.keyType,
      ...(props.target.keyType === 'CUSTOMER_MANAGED_KEY' ? { kms_key_arn: props.target.kmsKeyArn } : {}),
    };
    this.argv = [
      ...(props.helperCommand ?? portableHelperCommand(stackDirectoryOf(this))),
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

/**
 * `node ${path.module}/../../../dist/scripts/identity-center-helper.js` for the default layout
 * (`<project>/cdktf.out/stacks/<stack>`): a path relative to the stack's directory, never an
 * absolute path of the synth machine. Terraform runs provisioners in the root module's directory,
 * so the command works wherever the checkout lives — a plan made on one runner and applied on
 * another (Atlantis, Spacelift, the deploy workflow's separate jobs) finds the helper as long as
 * the synth output stays inside the project and `npm ci` has built dist/.
 *
 * A stack directory outside the project has no such path: the absolute path is used, which is
 * only fit for output that is never applied elsewhere (an in-memory synth, the demo). Output for
 * Terraform goes through synthesizeStacks, which refuses it (assertPortableOutput).
 */
export function portableHelperCommand(stackDir: string, root: string = projectRoot()): string[] {
  if (!isInside(root, stackDir)) return ['node', path.join(root, ...HELPER_SCRIPT)];
  const toRoot = path.relative(stackDir, root).split(path.sep).join('/');
  return ['node', `\${path.module}/${toRoot}/${HELPER_SCRIPT.join('/')}`];
}

function isInside(root: string, dir: string): boolean {
  const fromRoot = path.relative(root, dir);
  return fromRoot !== '' && !fromRoot.startsWith('..') && !path.isAbsolute(fromRoot);
}

/**
 * Refuses synth output for Terraform that would carry a path of this machine: an Identity Center
 * setting's helper command in a stack written outside the project (see portableHelperCommand).
 */
export function assertPortableOutput(outdir: string, stacksWithHelper: readonly string[], root: string = projectRoot()): void {
  const outside = stacksWithHelper.map((stack) => path.join(path.resolve(outdir), 'stacks', stack)).filter((dir) => !isInside(root, dir));
  if (outside.length === 0) return;
  throw new ConfigError(outside[0]!, [
    `the synth output ${outside[0]} is outside the project ${root}: the Identity Center helper is run from the project's dist/ by a path relative to the stack, so the output must stay inside the project`,
  ], 'synthesize into the project (the default `cdktf.out`), e.g. `rotate synth` from the project root');
}

/** Where cdktf writes the stack holding `construct`: `<app outdir>/stacks/<stack>`. */
function stackDirectoryOf(construct: Construct): string {
  const stack = TerraformStack.of(construct);
  const app = stack.node.scope;
  const outdir = app instanceof App ? app.outdir : 'cdktf.out';
  return path.join(path.resolve(outdir), 'stacks', stack.node.id);
}

/** Nearest directory above this module holding package.json (works from stacks/ and dist/stacks/). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}
