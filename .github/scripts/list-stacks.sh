#!/usr/bin/env bash
# Prints `stacks=<JSON array>` (for $GITHUB_OUTPUT) of the stack directories under a synth output,
# sorted. Fails when there is none: a deploy that plans nothing must not look green.
# Usage: list-stacks.sh [SYNTH_DIR]   (default cdktf.out)
set -euo pipefail
dir=${1:-cdktf.out}
if [ ! -d "$dir/stacks" ]; then
  echo "::error::$dir/stacks does not exist: run \`rotate synth\` first" >&2
  exit 1
fi
stacks=$(find "$dir/stacks" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | jq -R . | jq -cs .)
if [ "$stacks" = "[]" ]; then
  echo "::error::rotate synth wrote no stack under $dir/stacks" >&2
  exit 1
fi
echo "stacks=$stacks"
echo "stacks: $stacks" >&2
