import { AwsCallError, ExitCode, exitCodeFor, KeyrotorError, StateError } from '../../pipeline/errors';
import { callAws, mapAwsError, type AwsCallContext } from '../../pipeline/aws';

/** An error shaped like the SDK's deserialized ServiceException. */
function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'r-1' } });
}

const keyArn = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const where: Omit<AwsCallContext, 'operation'> = { account: '111111111111', region: 'us-east-1', service: 'kms' };

describe('mapAwsError', () => {
  test('NotFoundException on DescribeKey names the key, account and Region and points at the ledger', () => {
    const error = mapAwsError(awsError('NotFoundException', `Key '${keyArn}' does not exist`), { operation: 'DescribeKey', target: keyArn, ...where });
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error.message).toBe(`DescribeKey: ${keyArn} does not exist in account 111111111111 Region us-east-1 (NotFoundException: Key '${keyArn}' does not exist) [AWS request id r-1]`);
    expect(error.nextStep).toBe('check the ledger (`rotate status`) and the alias in the config: the key ARN or alias may be wrong or the key deleted');
    expect(error.requestId).toBe('r-1');
    expect(error).toMatchObject({ fault: 'operator', retryable: false, awsCode: 'NotFoundException', operation: 'DescribeKey' });
    expect(exitCodeFor(error)).toBe(ExitCode.operatorError);
  });

  test('ResourceNotFoundException on DescribeInstance points at the Identity Center config', () => {
    const error = mapAwsError(awsError('ResourceNotFoundException', 'Instance not found', 404), {
      operation: 'DescribeInstance',
      target: 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
      service: 'sso-admin',
    });
    expect(error.message).toContain('DescribeInstance: arn:aws:sso:::instance/ssoins-1234567890abcdef does not exist (ResourceNotFoundException: Instance not found)');
    expect(error.nextStep).toMatch(/identityCenter\.instanceArn/);
  });

  test('KMSInvalidStateException for a key pending deletion names the state and `rotate cancel-deletion`', () => {
    const error = mapAwsError(awsError('KMSInvalidStateException', `${keyArn} is pending deletion.`), { operation: 'Encrypt', target: keyArn, ...where });
    expect(error.message).toMatch(new RegExp(`^Encrypt: ${keyArn} in account 111111111111 Region us-east-1 is pending deletion \\(KMSInvalidStateException: `));
    expect(error.nextStep).toContain('`rotate cancel-deletion`');
    expect(error.nextStep).toContain(`aws kms enable-key --key-id ${keyArn}`);
    expect(error).toMatchObject({ fault: 'operator', retryable: false });
  });

  test('DisabledException (KMS answer for a disabled key) says disabled and how to enable it', () => {
    const error = mapAwsError(awsError('DisabledException', `${keyArn} is disabled.`), { operation: 'Decrypt', target: keyArn, ...where });
    expect(error.message).toContain(`Decrypt: ${keyArn} in account 111111111111 Region us-east-1 is disabled`);
    expect(error.nextStep).toMatch(/EnableKey/);
    expect(error.nextStep).toMatch(/rotate rollback/);
  });

  test('KMSInvalidStateException in an unrecognised state still says how to inspect the key', () => {
    const error = mapAwsError(awsError('KMSInvalidStateException', 'state is wrong'), { operation: 'UpdateAlias', target: 'alias/identity-center' });
    expect(error.message).toContain('UpdateAlias: alias/identity-center is in a state that does not allow this operation');
    expect(error.nextStep).toContain('aws kms describe-key --key-id alias/identity-center');
  });

  test('AccessDenied names the principal and the IAM action from the AWS message', () => {
    const message = 'User: arn:aws:sts::111111111111:assumed-role/ops/alice is not authorized to perform: kms:ScheduleKeyDeletion on resource: ' + keyArn;
    const error = mapAwsError(awsError('AccessDeniedException', message), {
      operation: 'ScheduleKeyDeletion',
      target: keyArn,
      principal: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
      ...where,
    });
    expect(error.message).toContain(`ScheduleKeyDeletion on ${keyArn} in account 111111111111 Region us-east-1 was denied: arn:aws:sts::111111111111:assumed-role/ops/alice lacks kms:ScheduleKeyDeletion`);
    expect(error.nextStep).toContain('grant kms:ScheduleKeyDeletion');
    expect(error).toMatchObject({ fault: 'operator', retryable: false });
  });

  test('AccessDenied without the action in the message derives it from the service prefix', () => {
    const error = mapAwsError(awsError('AccessDeniedException', 'denied'), { operation: 'UpdateInstance', service: 'sso-admin' });
    expect(error.message).toContain('the caller lacks sso:UpdateInstance');
  });

  test('ThrottlingException after retries is an AWS-side, retryable fault: run the same command again', () => {
    const error = mapAwsError(awsError('ThrottlingException', 'Rate exceeded'), { operation: 'CreateKey', target: 'alias/identity-center', ...where });
    expect(error.message).toContain('CreateKey on alias/identity-center in account 111111111111 Region us-east-1 was still throttled by AWS after retries with backoff (ThrottlingException: Rate exceeded)');
    expect(error.nextStep).toContain('run the same command again');
    expect(error).toMatchObject({ fault: 'aws', retryable: true });
    expect(exitCodeFor(error)).toBe(ExitCode.awsError);
  });

  test('ConflictException after retries is retryable and says to wait for the change in progress', () => {
    const error = mapAwsError(awsError('ConflictException', 'instance is UPDATING', 409), { operation: 'UpdateInstance', target: 'ssoins-1', service: 'sso-admin' });
    expect(error.message).toContain('conflicts with a change still in progress');
    expect(error).toMatchObject({ fault: 'aws', retryable: true, awsCode: 'ConflictException' });
  });

  test('a 5xx is an AWS fault, retryable, with the HTTP status', () => {
    const error = mapAwsError(awsError('KMSInternalException', 'internal', 500), { operation: 'CreateKey', ...where });
    expect(error.message).toContain('AWS failed CreateKey on the requested resource in account 111111111111 Region us-east-1 (KMSInternalException: internal, HTTP 500), retries exhausted');
    expect(error).toMatchObject({ fault: 'aws', retryable: true });
  });

  test('ValidationException is the operator’s fault and not retryable', () => {
    const error = mapAwsError(awsError('ValidationException', 'PendingWindowInDays must be between 7 and 30'), { operation: 'ScheduleKeyDeletion', target: keyArn });
    expect(error.message).toContain(`ScheduleKeyDeletion on ${keyArn} was rejected as invalid (ValidationException: PendingWindowInDays must be between 7 and 30)`);
    expect(error).toMatchObject({ fault: 'operator', retryable: false });
  });

  test('LimitExceededException is a resource quota, not throttling', () => {
    const error = mapAwsError(awsError('LimitExceededException', 'too many keys'), { operation: 'CreateKey' });
    expect(error.message).toContain('exceeds a resource quota');
    expect(error).toMatchObject({ fault: 'operator', retryable: false });
  });

  test('AlreadyExistsException on CreateAlias suggests adopting', () => {
    const error = mapAwsError(awsError('AlreadyExistsException', 'alias exists'), { operation: 'CreateAlias', target: 'alias/identity-center' });
    expect(error.message).toContain('CreateAlias: alias/identity-center already exists');
    expect(error.nextStep).toMatch(/adopt/);
  });

  test('expired or invalid credentials say to refresh them', () => {
    const error = mapAwsError(awsError('UnrecognizedClientException', 'The security token included in the request is invalid.'), { operation: 'DescribeKey' });
    expect(error.message).toContain('the AWS credentials are missing, invalid or expired');
    expect(error).toMatchObject({ fault: 'operator', retryable: false });
  });

  test('an unreachable endpoint is retryable and names the endpoint settings', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED' });
    const error = mapAwsError(refused, { operation: 'DescribeKey', target: 'alias/x' });
    expect(error.message).toContain('could not reach the AWS endpoint (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4599)');
    expect(error.nextStep).toContain('AWS_ENDPOINT_URL');
    expect(error).toMatchObject({ fault: 'aws', retryable: true });
  });

  test('an endpoint the URL parser refuses (one keyrotor did not resolve, e.g. a profile\'s endpoint_url) is the operator\'s to fix, not a keyrotor bug', () => {
    const invalid = Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' });
    const error = mapAwsError(invalid, { operation: 'GetCallerIdentity', target: 'the configured credentials' });
    expect(error.message).toBe('GetCallerIdentity on the configured credentials was not sent: its endpoint is not a valid URL (TypeError: Invalid URL)');
    expect(error).toMatchObject({ fault: 'operator', retryable: false, nextStep: expect.stringContaining('http:// or https:// URL') });
    expect(exitCodeFor(error)).toBe(ExitCode.operatorError);
  });

  test('a non-AWS failure (a bug before any answer) is internal', () => {
    const error = mapAwsError(new TypeError('cannot read properties of undefined'), { operation: 'CreateKey' });
    expect(error).toMatchObject({ fault: 'internal', retryable: false });
    expect(exitCodeFor(error)).toBe(ExitCode.internalError);
  });

  test('the caller’s hint replaces the generic next step, and the cause is kept', () => {
    const original = awsError('NotFoundException', 'gone');
    const error = mapAwsError(original, { operation: 'DescribeKey', target: 'alias/identity-center', hint: 'run `rotate start --kind adopt` first' });
    expect(error.nextStep).toBe('run `rotate start --kind adopt` first');
    expect(error.message).not.toContain('rotate start');
    expect(error.cause).toBe(original);
  });

  test('an AwsCallError passes through unchanged', () => {
    const first = mapAwsError(awsError('NotFoundException', 'gone'), { operation: 'DescribeKey' });
    expect(mapAwsError(first, { operation: 'Other' })).toBe(first);
  });
});

describe('callAws', () => {
  test('returns the result of a successful send', async () => {
    await expect(callAws('DescribeKey', {}, async () => 42)).resolves.toBe(42);
  });

  test('maps an SDK error with the operation and context', async () => {
    const failure = callAws('DescribeKey', { target: keyArn, ...where }, async () => {
      throw awsError('NotFoundException', 'gone');
    });
    await expect(failure).rejects.toBeInstanceOf(AwsCallError);
    await expect(failure).rejects.toMatchObject({ operation: 'DescribeKey', awsCode: 'NotFoundException' });
  });

  test('lets keyrotor’s own errors through untouched', async () => {
    const own = new StateError('lock held by run r-1', { fault: 'operator' });
    const failure = callAws('DescribeKey', {}, async () => {
      throw own;
    });
    await expect(failure).rejects.toBe(own);
    await expect(failure).rejects.toBeInstanceOf(KeyrotorError);
  });
});
