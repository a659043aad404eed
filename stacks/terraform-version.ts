/**
 * The Terraform and OpenTofu versions the synthesized stacks need, emitted as
 * `terraform { required_version = … }` in every stack, so an older binary refuses at `init`
 * instead of misreading the configuration.
 *
 * Why 1.10, for both (their version numbers coincide here):
 *  - `removed` blocks (pending-deletion generations leave state without a destroy): Terraform 1.7;
 *    OpenTofu 1.7, but `lifecycle { destroy = false }` inside `removed` only from OpenTofu 1.10.
 *  - S3 native lockfile locking (`use_lockfile`, the documented default backend): Terraform 1.10,
 *    OpenTofu 1.10.
 *  - `import` blocks (1.5) and `terraform_data` (1.4) are older than both.
 * Below 2.0: a new major version may change the plan JSON the plan guard reads (format 1.x).
 */
export const REQUIRED_TERRAFORM_VERSION = '>= 1.10.0, < 2.0.0';
