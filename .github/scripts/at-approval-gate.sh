#!/usr/bin/env bash
# The deletion job's precondition: every stage before the approval gate (the switch, the checks,
# the soak) is done by an earlier operator job, so the switch and the deletion never share a job.
# Usage: at-approval-gate.sh RUN_ID
set -euo pipefail
here=$(dirname "$0")
run_id=$1
pending=$(rotate --json status "$run_id" | jq -r -f "$here/pending-stages.jq")
next=${pending%%$'\n'*}
case "$next" in
  approval-gate|schedule-deletion) echo "run $run_id is at $next" ;;
  '') echo "::error::run $run_id has no stage left" >&2; exit 1 ;;
  *) echo "::error::run $run_id is at $next: dispatch advance until it waits at approval-gate" >&2; exit 1 ;;
esac
