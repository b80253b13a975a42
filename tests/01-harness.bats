#!/usr/bin/env bats
# The test harness itself: what a test prints reaches meson as TAP
# comments only (run-bats), and every suite in tests/ is registered.

load helpers

@test "run-bats: stray output becomes # comments, bats's status is kept" {
	run -1 "$BATS_TEST_DIRNAME/run-bats" "$FIXTURES/tap/leaky.bats"
	# Only the plan, the three results in order, and comments.
	is "$(grep -v '^#' <<< "$output")" $'1..3\nok 1 prints to the TAP stream without a # prefix\nnot ok 2 fails, with output of every shape\nok 3 passes'
	is "$(sed -n '2,5p;7,8p' <<< "$output")" '# stray line
#   indented
# ok 99 not a real test
# a CR\rok 98 inside a line
# multi
# line'
	like "$output" "*#   indented on stderr*"
	run -0 "$BATS_TEST_DIRNAME/run-bats" -f passes "$FIXTURES/tap/leaky.bats"
	is "$output" $'1..1\nok 1 passes'
}

@test "plain bats lets the same output through as unknown TAP lines" {
	# What run-bats is for: without it, meson sees lines it cannot parse.
	run -1 bats --tap "$FIXTURES/tap/leaky.bats"
	like "$output" "*
stray line
*"
}

@test "check-suites: a suite missing from the configured list fails" {
	dir="$BATS_TEST_TMPDIR/t"
	mkdir "$dir"
	touch "$dir/00-a.bats" "$dir/10-b.bats"
	run -0 --separate-stderr "$BATS_TEST_DIRNAME/check-suites" "$dir" "$dir/stamp" 00-a 10-b
	[[ -f "$dir/stamp" ]]
	touch "$dir/80-new.bats"
	run -1 --separate-stderr "$BATS_TEST_DIRNAME/check-suites" "$dir" "$dir/stamp2" 00-a 10-b
	like "$stderr" "*80-new.bats is not registered*meson setup --reconfigure*"
	[[ ! -e "$dir/stamp2" ]]
	rm "$dir/10-b.bats"
	run -1 --separate-stderr "$BATS_TEST_DIRNAME/check-suites" "$dir" "$dir/stamp2" 00-a 10-b 80-new
	like "$stderr" "*10-b.bats is registered but missing*"
}
