#!/usr/bin/env bash
# Keeps one GitHub issue (label keyrotor-drift) in step with the scheduled `rotate drift`:
#   exit 1 (drift)        open the issue with the report, or update the open one and comment;
#   exit 0 (no drift)     close the open issue, if any, with a comment;
#   anything else         the check could not run: fail (the report says why).
# Needs GH_TOKEN (issues: write) and GITHUB_REPOSITORY; RUN_URL links the workflow run.
# Usage: drift-issue.sh REPORT_FILE DRIFT_EXIT_CODE
set -euo pipefail
report=$1
code=$2
label=keyrotor-drift
title='keyrotor: live AWS drifted from the ledger'
open=$(gh issue list --repo "$GITHUB_REPOSITORY" --state open --label "$label" --json number --jq '.[0].number // empty')
body=$(mktemp)
{
  echo "\`rotate drift\` found drift (${RUN_URL:-this workflow run}). Until it is resolved, deploys stop"
  echo "before planning (\`rotate drift --deploy-gate\`) when it touches what the pipeline owns."
  echo
  echo '```'
  cat "$report"
  echo '```'
} > "$body"
case "$code" in
  1)
    if [ -n "$open" ]; then
      gh issue edit "$open" --repo "$GITHUB_REPOSITORY" --body-file "$body"
      gh issue comment "$open" --repo "$GITHUB_REPOSITORY" --body "Still drifting as of ${RUN_URL:-this run}; the description holds the latest report."
      echo "updated issue #$open"
    else
      gh label create "$label" --repo "$GITHUB_REPOSITORY" --color D93F0B --description 'rotate drift found drift' --force >/dev/null
      gh issue create --repo "$GITHUB_REPOSITORY" --title "$title" --label "$label" --body-file "$body"
    fi ;;
  0)
    if [ -n "$open" ]; then
      gh issue close "$open" --repo "$GITHUB_REPOSITORY" --comment "No drift as of ${RUN_URL:-this run}."
      echo "closed issue #$open"
    else
      echo "no drift, no open drift issue"
    fi ;;
  *)
    echo "::error::rotate drift could not check everything (exit $code):" >&2
    cat "$report" >&2
    exit "$code" ;;
esac
