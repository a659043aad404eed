#!/usr/bin/env bash
# Writes a stack's saved plan, as text, to the job summary (stdout; append it to
# $GITHUB_STEP_SUMMARY), cut to 60000 bytes (GitHub caps a step summary at 1 MiB).
# The plan is written to a file first and cut from there: `terraform show | head -c` would end
# `terraform show` with SIGPIPE on a big plan, which fails the step under `bash -eo pipefail`.
# Usage: plan-summary.sh STACK_DIR STACK
set -euo pipefail
stack_dir=$1
stack=$2
[ -f "$stack_dir/plan.out" ] || exit 0
text="$stack_dir/plan.txt"
terraform -chdir="$stack_dir" show -no-color plan.out > "$text"
size=$(wc -c < "$text")
echo "### Plan: $stack"
echo '<details><summary>terraform show</summary>'
echo
echo '```'
head -c 60000 "$text"
echo
echo '```'
if [ "$size" -gt 60000 ]; then
  echo "(cut at 60000 of $size bytes; the plan artifact holds all of it)"
fi
echo '</details>'
