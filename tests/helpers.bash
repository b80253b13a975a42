# Loaded by every suite: small helpers instead of bats-assert, so the suite
# needs nothing beyond bats itself.
bats_require_minimum_version 1.5.0

FIXTURES="$BATS_TEST_DIRNAME/fixtures"

fixture() { cat "$FIXTURES/$1"; }

# IN is the test's input file; ev LINE...: writes it, one argument a line.
IN="$BATS_TEST_TMPDIR/in.ndjson"
ev() { printf '%s\n' "$@" > "$IN"; }

# is ACTUAL EXPECTED [WHAT]: fails showing both values when they differ.
is() {
	if [[ "$1" != "$2" ]]; then
		printf '# %s\n#   expected: %q\n#   actual:   %q\n' \
		    "${3:-value}" "$2" "$1" >&2
		return 1
	fi
}

# like ACTUAL GLOB [WHAT]: the value matches a shell pattern.
like() {
	# shellcheck disable=SC2053 # the pattern is meant to glob
	if [[ "$1" != $2 ]]; then
		printf '# %s\n#   expected like: %s\n#   actual: %q\n' \
		    "${3:-value}" "$2" "$1" >&2
		return 1
	fi
}

# matches ACTUAL REGEX [WHAT]: the value matches an extended regex; the
# groups are left in BASH_REMATCH.
matches() {
	if ! [[ "$1" =~ $2 ]]; then
		printf '# %s\n#   expected to match: %s\n#   actual: %q\n' \
		    "${3:-value}" "$2" "$1" >&2
		return 1
	fi
}

# scan_agrees MIN: $output of scan-check says it checked at least MIN lines
# (with the mutations, many more) and found no disagreement.
scan_agrees() {
	matches "${lines[-1]}" '^([0-9]+) lines checked, 0 disagreements$' "scan-check" &&
	    (( BASH_REMATCH[1] >= $1 )) ||
	    { echo "# scan-check: ${BASH_REMATCH[1]:-no} lines checked, expected $1 or more" >&2; return 1; }
}

# shared_data REL: sets $data to ../shared/data/REL, or skips the test
# visibly when the shared data sets are not beside the checkout.
shared_data() {
	data="${ECS_SHARED_DATA:-$BATS_TEST_DIRNAME/../../shared/data}/$1"
	[[ -r "$data" ]] || skip "needs ../shared/data/$1 (not present)"
}

# wait_until CMD...: up to 20 s for CMD to succeed, tried every 0.1 s; on
# a timeout says what it waited for and fails. Polling only waits for an
# event: it never measures time.
wait_until() {
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	echo "# timed out waiting for: $*" >&2
	return 1
}

# wait_for FILE TEXT: up to 20 s for FILE to contain TEXT.
wait_for() {
	wait_until grep -qsF -- "$2" "$1" && return 0
	echo "# $1 holds: $(cat "$1" 2>/dev/null)" >&2
	return 1
}

# need_duckdb: skips the test visibly when DuckDB (npm @duckdb/node-api,
# installed by scripts/bootstrap into the cache) cannot be loaded.
need_duckdb() {
	command -v node >/dev/null || skip "needs node for DuckDB (scripts/bootstrap installs it)"
	node "$BATS_TEST_DIRNAME/peers/duckdb.js" --version >/dev/null 2>&1 ||
	    skip "needs DuckDB: @duckdb/node-api did not load (scripts/bootstrap installs it)"
}

# duckdb_sql SQL: DuckDB's result rows as NDJSON, one object a row.
duckdb_sql() {
	node "$BATS_TEST_DIRNAME/peers/duckdb.js" "$1"
}
