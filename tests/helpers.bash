# Loaded by every suite: small helpers instead of bats-assert, so the suite
# needs nothing beyond bats itself.
bats_require_minimum_version 1.5.0

FIXTURES="$BATS_TEST_DIRNAME/fixtures"

fixture() { cat "$FIXTURES/$1"; }

# sanitized: the programs under test were built with sanitizers (meson's
# b_sanitize, which tests/meson.build passes on; outside meson test, a
# gcc build's libasan): valgrind cannot run them, AddressSanitizer's
# quarantine grows their RSS and its shadow memory needs more address
# space than ulimit -v leaves. clang links ASan in, so ldd alone misses it.
sanitized() {
	[ "${ECS_SANITIZE:-none}" != none ] ||
	    ldd "$(command -v ecs-filter)" 2>/dev/null | grep -q libasan
}

# IN is the test's input file; ev LINE...: writes it, one argument a line.
IN="$BATS_TEST_TMPDIR/in.ndjson"
ev() { printf '%s\n' "$@" > "$IN"; }

# The validating scan's paths this CPU runs (ECS_SCAN=PATH forces one).
scan_paths() {
	echo portable
	if [[ $(uname -m) == x86_64 ]]; then
		echo sse2
		grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo avx2
	fi
	return 0
}

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

# wait_until CMD...: up to 60 s for CMD to succeed, tried every 0.1 s; on
# a timeout says what it waited for and fails. Polling only waits for an
# event: it never measures time. (20 s was once too short for a program
# under ASan to start while every suite ran in parallel on two cores.)
wait_until() {
	for _ in $(seq 600); do
		"$@" && return 0
		sleep 0.1
	done
	echo "# timed out waiting for: $*" >&2
	return 1
}

# wait_for FILE TEXT: up to 60 s for FILE to contain TEXT.
wait_for() {
	wait_until grep -qsF -- "$2" "$1" && return 0
	echo "# $1 holds: $(cat "$1" 2>/dev/null)" >&2
	return 1
}

# crash_and_resume TOOL ARGS...: over $BATS_TEST_TMPDIR/g, the output of a
# run never interrupted (whole), of a live run that checkpoints every second
# killed with -9 after its first checkpoint (first), and of the restart from
# the line count in its state (second), for the test to compare.
crash_and_resume() {
	local g="$BATS_TEST_TMPDIR/g" st="$BATS_TEST_TMPDIR/crash.state" lines
	rm -f "$st"
	"$@" "$g" > "$BATS_TEST_TMPDIR/whole"
	ecs-replay --rate 4000 "$g" | "$@" --state "$st" --checkpoint 1 \
	    > "$BATS_TEST_TMPDIR/first" 3>&- &
	pid=$!			# the program, the last of the pipeline
	wait_until test -s "$st"	# saved by rename: whole when there
	kill -9 "$pid"
	status=0
	wait "$pid" || status=$?
	is "$status" 137 "$1 ended by the kill, not on its own"
	wait			# ecs-replay, at its broken pipe
	[[ -s "$st" ]]
	lines=$(head -1 "$st" | ecs-filter -t '{lines}' true)
	echo "# $1 killed; its last checkpoint was at line $lines" >&3
	(( lines > 0 && lines < $(wc -l < "$g") ))
	tail -n +"$((lines + 1))" "$g" | "$@" --state "$st" > "$BATS_TEST_TMPDIR/second"
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

# need_chdb: skips the test visibly when chDB (npm chdb, ClickHouse in the
# process, installed by scripts/bootstrap into the cache) cannot be loaded.
need_chdb() {
	command -v node >/dev/null || skip "needs node for chDB (scripts/bootstrap installs it)"
	node "$BATS_TEST_DIRNAME/peers/chdb.js" --version >/dev/null 2>&1 ||
	    skip "needs chDB: npm chdb did not load (scripts/bootstrap installs it)"
}

# chdb_sql SQL: ClickHouse's result rows (JSONEachRow), one object a row.
# ClickHouse's own warnings go to stderr (in a chroot without cgroups it
# says it cannot read them), which bats' run would mix into the rows: they
# are shown only when the query fails.
chdb_sql() {
	local err="$BATS_TEST_TMPDIR/chdb.stderr"
	node "$BATS_TEST_DIRNAME/peers/chdb.js" "$1" 2> "$err" || {
		cat "$err" >&2
		return 1
	}
}
