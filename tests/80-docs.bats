#!/usr/bin/env bats
# Docs are tests: every example of README.md and of the man pages that
# shows what it prints is run and compared byte for byte
# (tests/doc-examples extracts them from the files themselves, so a
# changed doc is a changed test). Man page examples run in a scratch
# directory holding tests/fixtures/docs/PAGE/, the files they cat and
# read; README examples in one where tests/ is the checkout's. Examples
# that show no output are not run, but their options are checked against
# each program's --help (tests/doc-options).

load helpers

# run_doc FILE: runs FILE's examples, failing with FILE:LINE and a diff
# for each that differs; examples it skips are listed on fd 3.
run_doc() {
	local page="${1##*/}"
	local top="$BATS_TEST_TMPDIR/top" work="$BATS_TEST_TMPDIR/top/ecs"
	mkdir -p "$work" "$BATS_TEST_TMPDIR/out" "$top/shared"
	ln -s "$(cd "$BATS_TEST_DIRNAME" && pwd)" "$work/tests"
	local data="${ECS_SHARED_DATA:-$BATS_TEST_DIRNAME/../../shared/data}"
	[[ -d "$data" ]] && ln -s "$(cd "$data" && pwd)" "$top/shared/data"
	if [[ -d "$FIXTURES/docs/$page" ]]; then
		cp -R "$FIXTURES/docs/$page/." "$work/"
	fi
	(cd "$BATS_TEST_DIRNAME/.." && tests/doc-examples "$1") \
	    > "$BATS_TEST_TMPDIR/run.sh"
	# Every example is counted: a page whose examples vanished fails.
	grep -q '^check ' "$BATS_TEST_TMPDIR/run.sh"
	run --separate-stderr env DOC_OUT="$BATS_TEST_TMPDIR/out" \
	    bash -c 'cd "$1" && exec timeout 600 bash "$2"' doc "$work" \
	    "$BATS_TEST_TMPDIR/run.sh"
	grep ': skipped: ' <<< "$output" | sed 's/^/# /' >&3 || true
	if [[ "$status" -ne 0 ]]; then
		printf '%s\n' "$output" | grep -v ': skipped: ' >&2
		printf 'stderr of the examples script: %s\n' "$stderr" >&2
		return 1
	fi
}

@test "README.md examples print what they show" { run_doc README.md; }
@test "ecs-filter(1) examples print what they show" { run_doc man/ecs-filter.1; }
@test "ecs-stock(1) examples print what they show" { run_doc man/ecs-stock.1; }
@test "ecs-sales(1) examples print what they show" { run_doc man/ecs-sales.1; }
@test "ecs-recommend(1) examples print what they show" { run_doc man/ecs-recommend.1; }
@test "ecs-gen(1) examples print what they show" { run_doc man/ecs-gen.1; }
@test "ecs-replay(1) examples print what they show" { run_doc man/ecs-replay.1; }
@test "ecs-top(1) examples print what they show" { run_doc man/ecs-top.1; }
@test "ecs-session(1) examples print what they show" { run_doc man/ecs-session.1; }
@test "ecs(7) examples print what they show" { run_doc man/ecs.7; }
@test "ecs-funnel(1) examples print what they show" { run_doc man/ecs-funnel.1; }
@test "ecs-join(1) examples print what they show" { run_doc man/ecs-join.1; }

@test "every option an example gives an ecs program is one of its --help" {
	cd "$BATS_TEST_DIRNAME/.."
	tests/doc-options README.md man/*.1 man/ecs.7 > "$BATS_TEST_TMPDIR/opts"
	[[ $(wc -l < "$BATS_TEST_TMPDIR/opts") -gt 100 ]]
	bad=0
	while read -r where prog opt; do
		help=$("$prog" --help)
		if [[ "$opt" == --* ]]; then
			grep -qE -- "(^|[ ,])$opt([ =,]|\$)" <<< "$help"
		else
			grep -qE -- "(^| )$opt," <<< "$help"
		fi || { echo "# $where: $prog has no option $opt" >&2; bad=1; }
	done < <(sort -u -k 2 "$BATS_TEST_TMPDIR/opts")
	[[ $bad -eq 0 ]]
}
