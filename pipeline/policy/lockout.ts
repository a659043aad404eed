/**
 * Who the key policy lets manage a key ring's keys — the same rule as the policy builder's
 * guardrails (builder.ts): DisableKey, PutKeyPolicy and ScheduleKeyDeletion are denied to every
 * principal but the key administrators and the pipeline role, and to the administrators without
 * MFA. KMS's lockout safety check refuses a CreateKey whose policy would deny its caller
 * PutKeyPolicy, so the same principals are the only ones that can create a generation.
 *
 * Preflight holds the caller against this before a run changes anything: a caller AWS would
 * refuse at CreateKey (or, worse, at the soak's DisableKey after the switch) is refused up front.
 */
import type { KeyRingConfig } from '../config/types';
import { sameRole } from '../config/access';

export type LockoutVerdict =
  | { readonly allowed: true; readonly as: 'pipeline-role' | 'key-administrator'; readonly role: string; readonly note: string }
  | { readonly allowed: false; readonly reason: string; readonly nextStep: string };

/** `arn:aws:sts::<a>:assumed-role/<name>/<session>` → `{ account, name }`; undefined for users, root, federated users. */
function assumedRole(callerArn: string): { account: string; name: string } | undefined {
  const match = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn);
  return match ? { account: match[1]!, name: match[2]! } : undefined;
}

/** The principal ARN the key policy's `aws:PrincipalArn` sees for a caller, for role sessions (path-less). */
function roleOfSession(callerArn: string): string | undefined {
  const role = assumedRole(callerArn);
  return role ? `arn:aws:iam::${role.account}:role/${role.name}` : undefined;
}

export function lockoutVerdict(keyring: Pick<KeyRingConfig, 'name' | 'account' | 'pipelineRole' | 'keyAdministrators'>, callerArn: string): LockoutVerdict {
  const role = roleOfSession(callerArn);
  if (role && keyring.pipelineRole && sameRole(keyring.pipelineRole, role)) {
    return { allowed: true, as: 'pipeline-role', role: keyring.pipelineRole, note: `acting as the key ring's pipelineRole ${keyring.pipelineRole}` };
  }
  const admin = role ? keyring.keyAdministrators.find((a) => sameRole(a, role)) : undefined;
  if (admin) {
    return {
      allowed: true,
      as: 'key-administrator',
      role: admin,
      note: `acting as key administrator ${admin}: the key policy lets it create, disable and schedule deletion only with MFA`,
    };
  }
  const allowed = [...(keyring.pipelineRole ? [`its pipelineRole ${keyring.pipelineRole}`] : []), `its key administrators (${keyring.keyAdministrators.join(', ')}, with MFA)`];
  return {
    allowed: false,
    reason:
      `the caller ${callerArn} is not allowed by key ring ${keyring.name}'s key policy to manage its keys: only ${allowed.join(' and ')} may call ` +
      `PutKeyPolicy, DisableKey and ScheduleKeyDeletion, so KMS would refuse this run's CreateKey (policy lockout safety check) or its later steps`,
    nextStep: keyring.pipelineRole
      ? `run as ${keyring.pipelineRole} (declare it under access.accounts["${keyring.account}"].pipelineRole so \`rotate\` assumes it), or as a key administrator with MFA`
      : `set the key ring's pipelineRole (or access.accounts["${keyring.account}"].pipelineRole) and run as that role, or run as a key administrator with MFA`,
  };
}
