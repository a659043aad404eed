#!/usr/bin/env bash
# Read-only: is `rotate advance RUN` pointless right now? Prints `waiting=true|false` (for
# $GITHUB_OUTPUT) and says why on stderr. True when the next stage is a soak whose recorded end is
# still ahead, the approval gate without a quorum yet (`rotate gate`, read-only, counts the same
# approval files as the engine), or the deletion, which only `rotate delete` runs (dispatch
# approve-gate-and-delete). An advance that could only wait still records an attempt, and the state
# PR that follows would be churn: one PR per poll instead of one per stage that changed something.
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
    gate=0
    rotate gate "$run_id" > /dev/null 2>&1 || gate=$?
    case "$gate" in
      0) echo "run $run_id: the approvals meet the quorum; advance passes the gate" >&2 ;;
      1) echo "run $run_id waits for approvals: approvers sign (rotate approve $run_id) and commit the file through a PR" >&2
         echo "waiting=true"
         exit 0 ;;
      *) echo "::error::rotate gate $run_id failed (exit $gate)" >&2
         rotate gate "$run_id" >&2 || true
         exit "$gate" ;;
    esac ;;
  schedule-deletion)
    echo "run $run_id waits for its deletion: dispatch approve-gate-and-delete (only that job runs rotate delete)" >&2
    echo "waiting=true"
    exit 0 ;;
esac
echo "run $run_id: next stage ${next:-(none)}" >&2
echo "waiting=false"
