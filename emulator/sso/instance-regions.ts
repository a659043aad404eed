export type RegionStatus = 'ADDING' | 'ACTIVE' | 'REMOVING';

/** An additional Region of an Identity Center instance (RegionMetadata in the SSO Admin API reference). */
export interface InstanceRegion {
  readonly name: string;
  status: RegionStatus;
  readonly addedDate: Date;
  /** When (real ms) an ADDING or REMOVING workflow completes. */
  dueAtMs?: number;
}

/**
 * The additional Regions of one instance and their asynchronous workflows (AddRegion: ADDING, then
 * ACTIVE; RemoveRegion: REMOVING, then the record is deleted). Workflows complete `delayMs` (real
 * time) after they start, settled lazily whenever the instance is read.
 */
export class InstanceRegions {
  private readonly regions = new Map<string, InstanceRegion>();

  constructor(private readonly delayMs: number) {}

  settle(realNowMs: number): void {
    for (const [name, region] of this.regions) {
      if (region.dueAtMs === undefined || region.dueAtMs > realNowMs) continue;
      if (region.status === 'REMOVING') this.regions.delete(name);
      else {
        region.status = 'ACTIVE';
        region.dueAtMs = undefined;
      }
    }
  }

  get(name: string): InstanceRegion | undefined {
    return this.regions.get(name);
  }

  /** Additional Regions in the order they were added. */
  list(): InstanceRegion[] {
    return [...this.regions.values()];
  }

  /** The Region workflow in progress, if any: Identity Center runs one at a time. */
  inProgress(): InstanceRegion | undefined {
    return this.list().find((r) => r.status !== 'ACTIVE');
  }

  add(name: string, now: Date): void {
    this.regions.set(name, { name, status: 'ADDING', addedDate: now, dueAtMs: Date.now() + this.delayMs });
  }

  remove(name: string): void {
    const region = this.regions.get(name)!;
    region.status = 'REMOVING';
    region.dueAtMs = Date.now() + this.delayMs;
  }
}
