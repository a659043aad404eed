import { PolicyLintError } from '../pipeline/errors';
import { lintKeyPolicy, type LintFinding } from '../pipeline/policy/lint';
import { TerraformStack, type IAspect, type IConstruct } from './cdktf';
import { ManagedKey } from './managed-key';

/**
 * Runs the key policy lint on every ManagedKey at synth and fails the synth on any finding.
 *
 * It throws rather than adding error annotations: annotations stop synth only when the
 * CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS variable is unset (the cdktf CLI sets it), and
 * `Testing.synth` ignores them; a throw fails every path. Identity Center never re-validates a key
 * policy after the switch, so a bad policy must not reach an apply.
 */
export class PolicyLintAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof ManagedKey)) return;
    const findings = lintKeyPolicy(node.policyDocument, { keyring: node.keyring });
    if (findings.length === 0) return;
    const stack = TerraformStack.of(node).node.id;
    const resources = node.keyAddresses.join(', ') || `key ring ${node.keyring.name}`;
    throw new PolicyLintError(findings.map((f) => describeFinding(stack, resources, f)));
  }
}

function describeFinding(stack: string, resources: string, finding: LintFinding): string {
  return `stack ${stack}, ${resources}: statement "${finding.sid}" breaks rule ${finding.rule}: ${finding.message}`;
}
