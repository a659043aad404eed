import { TerraformElement, type Construct } from './cdktf';

/**
 * A Terraform `removed` block (Terraform >= 1.7): forget `from` in state without destroying the
 * real object. cdktf 0.21 has no construct for it, and a stack-level `addOverride("removed", …)`
 * would let the last key ring overwrite the others' blocks; as an element, each block is emitted
 * in its own fragment and the stack's merge concatenates the `removed` arrays.
 */
export class RemovedBlock extends TerraformElement {
  constructor(scope: Construct, id: string, readonly from: string) {
    super(scope, id);
  }

  override toTerraform(): Record<string, unknown> {
    return { removed: [{ from: this.from, lifecycle: { destroy: false } }] };
  }

  override toMetadata(): Record<string, unknown> {
    return { removed: [this.from] };
  }
}
