#!/bin/sh
# What the policy must go on allowing (exit 0) and refusing (exit 1): run it
# in CI on every change to the policy, from the repository's root, with
# sessionbot on PATH. Each expect line is `sessionbot policy can` offline.
set -eu
export POLICY_FILE=deploy/kubernetes/policy/policy.yaml
sessionbot policy check

expect() { # expect EXIT ARGS...: `sessionbot policy can ARGS...` must exit EXIT
  want=$1; shift; code=0
  sessionbot policy can "$@" || code=$?
  [ "$code" = "$want" ] || { echo "policy can $*: exit $code, want $want" >&2; exit 1; }
}
expect 0 --user U0123ABCD --channel C0789IJKL scraper-eu-1 scraper-eu-2
expect 1 --user U0123ABCD --channel C0789IJKL qa-1
expect 1 --user U0123ABCD --channel C0QA45678 scraper-eu-1
expect 0 --user U0NEWHIRE --groups S0QA45678 --channel C0QA45678 qa-7
expect 0 --user U0ONCALL1 --groups S0SRE5678 billing-1 01HQ5K3P97DY8EX9Y90YT1K6XB
