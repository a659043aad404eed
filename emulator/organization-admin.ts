/**
 * What an organization's administrator does outside keyrotor, for the demo and the tests: replicate
 * Identity Center to another Region (AddRegion, then DescribeRegion until ACTIVE). It lives with
 * the emulator, not in keyrotor's sources: the pipeline never adds Regions (its role may not).
 */
import { AddRegionCommand, DescribeRegionCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';

export async function replicateIdentityCenter(ssoAdmin: Pick<SSOAdminClient, 'send'>, instanceArn: string, region: string, pollMs = 5): Promise<void> {
  await ssoAdmin.send(new AddRegionCommand({ InstanceArn: instanceArn, RegionName: region }));
  // The emulator moves ADDING → ACTIVE after its regionDelayMs of real time (AWS takes minutes).
  while ((await ssoAdmin.send(new DescribeRegionCommand({ InstanceArn: instanceArn, RegionName: region }))).Status !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
