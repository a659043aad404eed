import type { KmsKey } from './key-store';

/** What tests and child processes may read of a key without calling KMS (`describeKeyState`, `GET /_emulator/keys/<id>`). */
export interface KeyStateView {
  keyArn: string;
  region: string;
  keyState: string;
  deletionDate?: string;
  /** Set while a multi-Region primary is PendingReplicaDeletion (or a key PendingDeletion). */
  pendingWindowInDays?: number;
  tags: Record<string, string>;
  policy: string;
  /** Multi-Region keys: this key's role and its related keys' ARNs. */
  multiRegion?: { type: 'PRIMARY' | 'REPLICA'; primaryArn?: string; replicaArns: string[] };
  /** Completed rotations, oldest first, and whether an on-demand rotation is in progress. */
  rotations: { type: 'AUTOMATIC' | 'ON_DEMAND'; date: string }[];
  onDemandRotationInProgress: boolean;
}

export function keyStateView(key: KmsKey): KeyStateView {
  return {
    keyArn: key.arn,
    region: key.region,
    keyState: key.state,
    deletionDate: key.deletionDate?.toISOString(),
    pendingWindowInDays: key.pendingWindowInDays,
    tags: Object.fromEntries(key.tags),
    policy: key.policy,
    multiRegion: key.set && {
      type: key.set.typeOf(key),
      primaryArn: key.set.primary()?.arn,
      replicaArns: key.set.replicas().map((r) => r.arn),
    },
    rotations: key.material
      .all()
      .filter((v) => v.rotationType && v.rotationDate)
      .map((v) => ({ type: v.rotationType!, date: v.rotationDate!.toISOString() })),
    onDemandRotationInProgress: key.material.onDemand !== undefined,
  };
}
