#!/usr/bin/env bash
# The deletion job's last step: `rotate advance` runs the approval-gate stage (counting the same
# approval files as `rotate gate`, through KEYROTOR_APPROVALS_DIR) and stops where the run waits for
# its deletion; `rotate delete --yes` then runs schedule-deletion, which re-checks that the old key
# is not the alias target, the instance's key or the ledger's active key, and that it was not used
# after the evidence the approvers signed. Fails unless the run completed.
# Usage: finish-run.sh RUN_ID
set -euo pipefail
run_id=$1
rotate advance "$run_id"
rotate delete "$run_id" --yes
status=$(rotate --json status "$run_id" | jq -r '(.run // .).status')
if [ "$status" != completed ]; then
  echo "::error::the gate passed but run $run_id is $status; see the output above" >&2
  exit 1
fi
