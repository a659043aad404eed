/**
 * Monitoring in the Regions a stack's multi-Region key rings replicate to. CloudTrail records a
 * replica's calls in the replica's Region and EventBridge rules see only their own Region's events,
 * so each replica Region gets the stack's monitoring (KeyEventMonitoring: topic, rules on
 * ScheduleKeyDeletion / DisableKey / PutKeyPolicy and on use of a key pending deletion — every key
 * of the account in that Region, by ARN prefix — and the AWS Config rules) through that Region's
 * provider. A Region with a key stack of its own is left out: that stack already watches it.
 *
 * Names carry the stack's own Region (`<topic>-replicas-<primary Region>`): two stacks replicating
 * into one Region must never declare one AWS object twice.
 */
import type { MonitoringConfig } from '../pipeline/config/types';
import { Construct, TerraformResource } from './cdktf';
import { KeyEventMonitoring } from './monitoring';
import type { RegionalProviders } from './regional-providers';

export interface ReplicaMonitoringProps {
  readonly config: MonitoringConfig;
  readonly account: string;
  /** The stack's (primary) Region, used in the names. */
  readonly stackRegion: string;
  /** The replica Regions to watch. */
  readonly regions: readonly string[];
  readonly providers: RegionalProviders;
}

/** The name suffix of monitoring objects in a replica Region. */
export function replicaMonitoringSuffix(stackRegion: string): string {
  return `replicas-${stackRegion}`;
}

export class ReplicaMonitoring extends Construct {
  /** The monitoring declared in each replica Region. */
  readonly regions: ReadonlyMap<string, KeyEventMonitoring>;

  constructor(scope: Construct, id: string, props: ReplicaMonitoringProps) {
    super(scope, id);
    const suffix = replicaMonitoringSuffix(props.stackRegion);
    const regions = new Map<string, KeyEventMonitoring>();
    for (const region of [...props.regions].sort()) {
      const provider = props.providers.for(region);
      if (!provider) continue;
      const monitoring = new KeyEventMonitoring(this, region, {
        config: { ...props.config, snsTopicName: `${props.config.snsTopicName}-${suffix}` },
        account: props.account,
        region,
      });
      for (const rule of monitoring.configRules) rule.name = `${rule.nameInput}-${suffix}`;
      // Everything the monitoring declared belongs to the replica Region.
      for (const node of monitoring.node.findAll()) if (node instanceof TerraformResource) node.provider = provider;
      regions.set(region, monitoring);
    }
    this.regions = regions;
  }
}
