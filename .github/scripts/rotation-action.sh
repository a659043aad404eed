#!/usr/bin/env bash
# Runs the dispatched `rotate` command of the operator job, built from the environment (ACTION,
# KEYRING, RUN_ID, KIND, GENERATION, ENABLE, DRY_RUN). Exits as `rotate` does: 0 done or waiting for
# time/people, 1 not satisfied, 2 operator error, 3 AWS/transient, 4 bug (README).
set -euo pipefail
dry=()
[ "${DRY_RUN:-false}" != true ] || dry=(--dry-run)
case "${ACTION:-}" in
  status)
    if [ -n "${RUN_ID:-}" ]; then args=(status "$RUN_ID"); else args=(status); fi ;;
  start)
    args=(start "$KEYRING" --kind "${KIND:-rotate}" "${dry[@]}")
    [ "${KIND:-rotate}" != retire-key ] || args+=(--generation "$GENERATION") ;;
  advance|rollback)
    args=("$ACTION" "$RUN_ID" "${dry[@]}") ;;
  cancel-deletion)
    args=(cancel-deletion "$KEYRING" --generation "$GENERATION" "${dry[@]}")
    [ "${ENABLE:-false}" != true ] || args+=(--enable) ;;
  *)
    echo "::error::unknown action ${ACTION:-(none)}" >&2; exit 2 ;;
esac
echo "rotate ${args[*]}" >&2
exec rotate "${args[@]}"
