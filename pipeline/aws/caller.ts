import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { AwsCallError } from '../errors';
import { callAws } from './call';

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** Who the credentials belong to (STS GetCallerIdentity; needs no permission, STS API Reference). */
export async function describeCaller(clients: { readonly sts: STSClient }): Promise<CallerIdentity> {
  const output = await callAws('GetCallerIdentity', { target: 'the configured credentials', service: 'sts' }, () =>
    clients.sts.send(new GetCallerIdentityCommand({})),
  );
  if (!output.Account || !output.Arn || !output.UserId) {
    throw new AwsCallError(
      `GetCallerIdentity answered without Account, Arn or UserId (${JSON.stringify(output)}): the STS endpoint is not behaving like STS`,
      'GetCallerIdentity',
      undefined,
      { fault: 'aws', retryable: true, nextStep: 'check the STS endpoint (AWS_ENDPOINT_URL_STS / --endpoint) and run the command again' },
    );
  }
  return { account: output.Account, arn: output.Arn, userId: output.UserId };
}
