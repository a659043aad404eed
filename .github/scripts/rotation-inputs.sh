#!/usr/bin/env bash
# Checks a rotation dispatch's inputs before anything runs and prints (for $GITHUB_OUTPUT):
#   session=<role session name naming the dispatcher, for CloudTrail>
#   lock=<concurrency group shared with deploy.yml for the key ring's stack>
# Inputs come only through the environment (never spliced into script text): ACTION, KEYRING,
# RUN_ID, KIND, GENERATION, plus GITHUB_REF, GITHUB_ACTOR, GITHUB_RUN_ID.
set -euo pipefail
here=$(dirname "$0")
fail() { echo "::error title=Bad input::$1" >&2; exit 2; }

# A dispatch from another branch would run that branch's copy of the workflow.
[ "${GITHUB_REF:-}" = refs/heads/main ] || fail "dispatch from main (got ${GITHUB_REF:-nothing})"
KEYRING=${KEYRING:-} RUN_ID=${RUN_ID:-} KIND=${KIND:-} GENERATION=${GENERATION:-}
case "${ACTION:-}" in
  status) ;;
  start)
    [ -n "$KEYRING" ] || fail "start needs keyring"
    [ "$KIND" != retire-key ] || [ -n "$GENERATION" ] || fail "start --kind retire-key needs generation" ;;
  cancel-deletion)
    if [ -z "$KEYRING" ] || [ -z "$GENERATION" ]; then fail "cancel-deletion needs keyring and generation"; fi ;;
  advance|rollback|approve-gate-and-delete)
    [ -n "$RUN_ID" ] || fail "$ACTION needs run_id" ;;
  *) fail "unknown action ${ACTION:-(none)}" ;;
esac
[ -z "$KEYRING" ] || [[ "$KEYRING" =~ ^[a-z0-9-]{1,40}$ ]] || fail "keyring: lowercase letters, digits and - (1-40)"
[ -z "$GENERATION" ] || [[ "$GENERATION" =~ ^[1-9][0-9]*$ ]] || fail "generation: a positive integer"
[ -z "$RUN_ID" ] || [[ "$RUN_ID" =~ ^[a-z0-9-]{1,40}-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$ ]] || fail "run_id: a run id as \`rotate start\` prints it"

actor=$(printf '%s' "${GITHUB_ACTOR:-unknown}" | tr -c 'A-Za-z0-9+=,.@-' '-' | cut -c1-40)
echo "session=gh-$actor-${GITHUB_RUN_ID:-0}"
if [ -n "$RUN_ID" ]; then
  node "$here/lock-group.js" --run "$RUN_ID"
elif [ -n "$KEYRING" ]; then
  node "$here/lock-group.js" --keyring "$KEYRING"
else
  # `status` of every run reads only; it needs no key ring's lock.
  echo "lock=keyrotor-status-${GITHUB_RUN_ID:-0}"
fi
