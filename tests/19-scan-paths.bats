#!/usr/bin/env bats
# The validating scan's paths (portable, sse2, avx2; ECS_SCAN forces one):
# the same output from a program whichever runs, and a clear refusal of a
# path that does not exist or that this CPU cannot run. unit-scan (meson
# test unit-scan) compares the paths line by line with json-c.

load helpers


@test "every scan path gives ecs-filter and ecs-sales the same output" {
	local p f="$BATS_TEST_TMPDIR/in.ndjson" want_f want_s
	# Real lines and bad ones: each bad line makes the exit status 1.
	cat "$FIXTURES/real/taobao-2000.ndjson" "$FIXTURES"/bad/*.ndjson >"$f"
	run -1 --separate-stderr env ECS_SCAN=portable ecs-filter -q 'action == "purchase" or exists(category_id)' "$f"
	want_f=$output
	run -1 --separate-stderr env ECS_SCAN=portable ecs-sales -q -w 1h -b action -m n='count()' "$f"
	want_s=$output
	[[ -n $want_f && -n $want_s ]]
	for p in $(scan_paths); do
		run -1 --separate-stderr env ECS_SCAN="$p" ecs-filter -q 'action == "purchase" or exists(category_id)' "$f"
		is "$output" "$want_f" "ecs-filter, scan path $p"
		run -1 --separate-stderr env ECS_SCAN="$p" ecs-sales -q -w 1h -b action -m n='count()' "$f"
		is "$output" "$want_s" "ecs-sales, scan path $p"
	done
}

@test "ECS_SCAN naming no path is a usage error" {
	run -2 --separate-stderr env ECS_SCAN=neon ecs-sales -m n='count()' <<<'{"a":1}'
	is "${stderr%% (*}" "ecs-sales: ECS_SCAN: unknown scan path 'neon'"
	is "$output" ""
}
