#!/usr/bin/env bash
# Read-only: is `rotate advance RUN` pointless right now? Prints `waiting=true|false` (for
# $GITHUB_OUTPUT) and says why on stderr. True when the next stage is a soak whose recorded end is
# still ahead, or the approval gate (the operator job counts no approval files; the deletion job
# does). An advance that would only wait still records an attempt, and the state PR that follows
# would be churn: one PR per poll instead of one per stage that changed something.
# Usage: run-waits.sh RUN_ID   (NOW=<ISO time> overrides the clock, for tests)
set -euo pipefail
here=$(dirname "$0")
run_id=$1
status=$(rotate --json status "$run_id")
next=$(jq -r -f "$here/pending-stages.jq" <<<"$status" | head -n 1)
now=${NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
case "$next" in
  soak)
    soak_end=$(jq -r '(.run // .).stages[] | select(.name == "soak") | .outputs.soakUntil // empty' <<<"$status")
    if [ -n "$soak_end" ] && [ "$(jq -rn --arg a "$soak_end" --arg b "$now" '($a | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) > ($b | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601)')" = true ]; then
      echo "run $run_id soaks until $soak_end: nothing to do before then (no state written, no state PR)" >&2
      echo "waiting=true"
      exit 0
    fi ;;
  approval-gate)
    echo "run $run_id waits at the approval gate: approvers sign (rotate approve $run_id --out approvals/…), then dispatch approve-gate-and-delete" >&2
    echo "waiting=true"
    exit 0 ;;
esac
echo "run $run_id: next stage ${next:-(none)}" >&2
echo "waiting=false"
