import { KeyrotorError } from '../errors';
import { mapAwsError, type AwsCallContext } from './map-error';

/**
 * Sends one AWS call and maps its failure, so a stage reads as a list of calls:
 *   const key = await callAws('DescribeKey', { target: alias, service: 'kms' }, () => kms.send(new DescribeKeyCommand(...)));
 * Errors keyrotor raised itself (a KeyrotorError) pass through unchanged.
 */
export async function callAws<T>(operation: string, context: Omit<AwsCallContext, 'operation'>, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof KeyrotorError) throw error;
    throw mapAwsError(error, { ...context, operation });
  }
}
