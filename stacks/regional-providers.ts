import { AwsProvider, type AwsProviderConfig, type Construct } from './cdktf';

/**
 * One aliased AWS provider per extra Region of a stack (the Regions its multi-Region key rings
 * replicate to), each a copy of the stack's default provider configuration — account pinning,
 * default tags, and anything later added there (e.g. assume_role) — with only `region` and `alias`
 * changed, so a replica is managed with exactly the credentials and guards of its primary.
 * Created on first use: a stack without replicas declares no extra provider.
 */
export class RegionalProviders {
  private readonly providers = new Map<string, AwsProvider>();

  constructor(
    private readonly stack: Construct,
    /** The stack's default provider configuration (its `region` is the stack's Region). */
    private readonly base: AwsProviderConfig,
  ) {}

  /** The provider for `region`: the default provider (undefined) in the stack's own Region. */
  for(region: string): AwsProvider | undefined {
    if (region === this.base.region) return undefined;
    let provider = this.providers.get(region);
    if (!provider) {
      provider = new AwsProvider(this.stack, `aws_${region}`, { ...this.base, region, alias: region });
      this.providers.set(region, provider);
    }
    return provider;
  }

  /** The extra Regions a provider was declared for, in declaration order. */
  get regions(): string[] {
    return [...this.providers.keys()];
  }
}
