#!/usr/bin/env bash
# Fails while a rotation state PR is still open. The file state store lives in git: a job checks
# out main, so it would run on a ledger without that PR's changes (a lease, a new key, a moved
# alias) and its own PR would fork the state. Merge or close the open one first.
# Needs GH_TOKEN with pull-requests: read.
set -euo pipefail
open=$(gh pr list --repo "$GITHUB_REPOSITORY" --state open --label keyrotor-state --json number,url --jq '.[] | "#\(.number) \(.url)"')
if [ -n "$open" ]; then
  echo "::error title=Unmerged rotation state::merge or close the open state PR first: $open"
  exit 1
fi
echo "no open rotation state PR"
