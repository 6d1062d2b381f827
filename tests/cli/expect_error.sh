#!/usr/bin/env bash
# expect_error.sh SUBSTRING CMD...: CMD must exit 2, print exactly one line on
# stderr that starts with "error: " and contains SUBSTRING, and print nothing on stdout.
set -u
want=$1; shift
out=$(mktemp); err=$(mktemp)
"$@" >"$out" 2>"$err"; rc=$?
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; rm -f "$out" "$err"; exit 1; }
[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2"
[ "$(wc -l <"$err")" -eq 1 ] || fail "expected one line on stderr"
grep -q '^error: ' "$err" || fail "stderr does not start with 'error: '"
grep -qF -- "$want" "$err" || fail "stderr lacks '$want'"
[ ! -s "$out" ] || fail "unexpected stdout"
echo "ok: $(cat "$err")"
rm -f "$out" "$err"
