# Reads `rotate --json status RUN` (a Run, or an object with a `run` field) and prints the names of
# the stages still to run, in order. Fails, rather than guess, when the run is over or the output
# has no stage list: the rotation workflow decides from this which stages a job may run.
(.run // .) as $run
| if ($run.stages | type) != "array" then
    error("`rotate --json status` printed no stages array; cannot tell where the run is")
  elif ($run.status | IN("completed", "rolled-back", "cancelled")) then
    error("run \($run.id) is \($run.status): there is nothing left to run")
  else
    $run.stages[] | select(.status | IN("done", "skipped") | not) | .name
  end
