#!/usr/bin/env bash
# Applies exactly the saved plan that passed the plan guard: the plan and the provider lock file
# from the plan job go into the stack directory, init installs exactly those providers, and apply
# takes the state lock and refuses the plan if the state moved since (Terraform's stale-plan check).
# Usage: apply-plan.sh STACK_DIR PLAN_ARTIFACT_DIR
set -euo pipefail
stack_dir=$1
plan_dir=$2
for file in plan.out .terraform.lock.hcl; do
  if [ ! -f "$plan_dir/$file" ]; then
    echo "::error::$plan_dir/$file is missing: the plan job did not upload it" >&2
    exit 1
  fi
  cp "$plan_dir/$file" "$stack_dir/"
done
terraform -chdir="$stack_dir" init -input=false -lockfile=readonly
terraform -chdir="$stack_dir" apply -input=false plan.out
