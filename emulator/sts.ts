import { roleIdOf, userIdOf, type PrincipalRegistry } from './callers';
import { member, type Caller, type OperationTable } from './operation';
import type { RoleRegistry } from './roles';
import { AwsServiceError } from './service-error';

// AssumeRole API reference: RoleSessionName 2–64 characters of [\w+=,.@-]; DurationSeconds 900–43200.
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ROLE_CHAINING_MAX_SECONDS = 3600;

/** STS answers parameter errors with ValidationError (not ValidationException). */
const validationError = (message: string) => new AwsServiceError('ValidationError', message);

function durationSeconds(input: Record<string, unknown>): number {
  const raw = input.DurationSeconds;
  if (raw === undefined) return 3600;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 900 || value > 43_200) {
    throw validationError(`1 validation error detected: Value '${String(raw)}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
  }
  return value;
}

const isRoleSession = (caller: Caller): boolean => caller.arn.startsWith(`arn:aws:sts::${caller.account}:assumed-role/`);

/**
 * STS (query protocol): GetCallerIdentity, and AssumeRole for roles registered with the emulator
 * (seed `roles`, `addRole`): the caller must be trusted by the role's trust policy, or the answer
 * is AccessDenied worded as STS words it. The temporary credentials it returns act as
 * `arn:aws:sts::<role account>:assumed-role/<role name>/<session>` until they expire.
 */
export function stsOperations(roles: RoleRegistry, principals: PrincipalRegistry): OperationTable {
  return {
    GetCallerIdentity: {
      mutating: false,
      handle: (_input, ctx) => ({ UserId: userIdOf(ctx.caller.arn), Account: ctx.caller.account, Arn: ctx.caller.arn }),
    },

    // AssumeRole API reference: RoleArn, RoleSessionName, DurationSeconds (default 3600, at most the
    // role's MaxSessionDuration, and at most one hour when a role session assumes another role).
    // Not counted as mutating: it changes no resource (the call log's `mutating` counts changes to keys and instances).
    AssumeRole: {
      mutating: false,
      target: member('RoleArn'),
      handle: (input, ctx) => {
        const roleArn = typeof input.RoleArn === 'string' ? input.RoleArn : '';
        if (roleArn.length < 20) throw validationError(`1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`);
        const sessionName = typeof input.RoleSessionName === 'string' ? input.RoleSessionName : '';
        if (!SESSION_NAME.test(sessionName)) {
          throw validationError(`1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`);
        }
        const duration = durationSeconds(input);
        const role = roles.get(roleArn);
        if (!role || !roles.trusts(role, ctx.caller)) {
          throw new AwsServiceError('AccessDenied', `User: ${ctx.caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
        }
        if (isRoleSession(ctx.caller) && duration > ROLE_CHAINING_MAX_SECONDS) {
          throw validationError('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
        }
        if (duration > role.maxSessionDurationSeconds!) throw validationError('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
        const arn = `arn:aws:sts::${role.account}:assumed-role/${role.name}/${sessionName}`;
        const credentials = principals.issueSession(arn, new Date(ctx.now().getTime() + duration * 1000));
        return {
          Credentials: {
            AccessKeyId: credentials.accessKeyId,
            SecretAccessKey: credentials.secretAccessKey,
            SessionToken: credentials.sessionToken,
            Expiration: credentials.expiration,
          },
          AssumedRoleUser: { AssumedRoleId: `${roleIdOf(role.account, role.name)}:${sessionName}`, Arn: arn },
        };
      },
    },
  };
}
