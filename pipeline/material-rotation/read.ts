/** Reading a key's rotations from KMS (every ListKeyRotations page) into its budget. */
import { GetKeyRotationStatusCommand, ListKeyRotationsCommand, type KMSClient, type ListKeyRotationsCommandOutput } from '@aws-sdk/client-kms';
import { callAws } from '../aws/call';
import { rotationBudget, type RotationBudget } from './budget';

export async function readRotationBudget(kms: Pick<KMSClient, 'send'>, keyId: string): Promise<RotationBudget> {
  const pages: ListKeyRotationsCommandOutput[] = [];
  let marker: string | undefined;
  do {
    const page = await callAws('kms:ListKeyRotations', { target: keyId }, () => kms.send(new ListKeyRotationsCommand({ KeyId: keyId, Marker: marker, Limit: 1000 })));
    pages.push(page);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return rotationBudget(pages);
}

/** When an on-demand rotation KMS is still performing started (GetKeyRotationStatus), if one is. */
export async function onDemandRotationInProgress(kms: Pick<KMSClient, 'send'>, keyId: string): Promise<Date | undefined> {
  const status = await callAws('kms:GetKeyRotationStatus', { target: keyId }, () => kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })));
  return status.OnDemandRotationStartDate;
}
