#!/usr/bin/env bats
# common/: the fast JSON scan and the literal pre-check checked against
# json-c and full evaluation; time parsing edge cases through time().

load helpers

@test "the fast scan never accepts what json-c rejects (bad corpus, mutated)" {
	run -0 bash -c "cat '$FIXTURES'/bad/*.ndjson | scan-check"
	scan_agrees "$(cat "$FIXTURES"/bad/*.ndjson | wc -l)"
}

@test "fast scan and pre-check agree with json-c on a mutated real excerpt" {
	run -0 bash -c "head -500 '$FIXTURES/real/taobao-2000.ndjson' | scan-check 'action == \"add_to_cart\" and exists(ts)'"
	scan_agrees 500
}

@test "hand-written edge cases for the fast scan" {
	run -0 bash -c "printf '%s\n' \
	    '{}' ' { } ' '{\"a\":[]}' '{\"a\":{}}' '{\"a\":-0.0e+1}' '{\"a\":\"\"}' \
	    '{\"a\":\"\\u0000\"}' '{\"a\":\"é€𝄞\"}' '{\"a\":1}  ' '{\"a\" :1 , \"b\": [ 1 , { } ] }' \
	    '{\"a\":1.}' '{\"a\":.1}' '{\"a\":+1}' '{\"a\":tru}' '{\"a\":nul}' '{\"a\"}' '{,}' \
	    '{\"a\":1,,\"b\":2}' '{\"a\":[1,]}' '{\"a\":\"x' | scan-check 'a == \"x\"'"
	scan_agrees 20
}

@test "integers past 64 bits: the fast scan and json-c see the same text" {
	run -0 bash -c "printf '%s\n' \
	    '{\"a\":123456789012345678901234567890,\"b\":[-99999999999999999999,18446744073709551616]}' \
	    '{\"a\":9223372036854775808,\"b\":{\"c\":\"12345678901234567890123\"}}' \
	    '{\"product_id\":-9223372036854775809,\"a\":1e400,\"b\":\"x\"}' | scan-check 'a == 1'"
	like "${lines[-1]}" "* lines checked, 0 disagreements"
}

@test "the fast scan agrees with json-c on the full shared datasets" {
	shared_data yoochoose-100k/train.ndjson
	run -0 bash -c "scan-check 'action == \"browse\"' < '$data'"
	scan_agrees "$(wc -l < "$data")"
	shared_data taobao-user-behavior-sample/events.ndjson
	run -0 bash -c "scan-check 'action in [\"purchase\", \"add_to_cart\"]' < '$data'"
	scan_agrees "$(wc -l < "$data")"
}

@test "time(): offsets, fractions, dates, epoch seconds and milliseconds" {
	f="$BATS_TEST_TMPDIR/t.ndjson"
	printf '%s\n' \
	    '{"t":"1970-01-01T00:00:00Z","want":0}' \
	    '{"t":"1969-12-31T23:59:59Z","want":-1}' \
	    '{"t":"2000-02-29T12:00:00-05:30","want":951845400}' \
	    '{"t":"2026-11-01 10:00:00","want":1793527200}' \
	    '{"t":"2026-11-01T10:00:00.999999Z","want":1793527200.999}' \
	    '{"t":"2026-11-01T10:00:00+0100","want":1793523600}' \
	    '{"t":"2026-11-01T10:00Z","want":1793527200}' \
	    '{"t":"9999-12-31T23:59:59Z","want":253402300799}' \
	    '{"t":1793527200,"want":1793527200}' \
	    '{"t":1793527200123,"want":1793527200.123}' \
	    '{"t":"1793527200","want":1793527200}' \
	    '{"t":1793527200.5,"want":1793527200.5}' > "$f"
	run -0 ecs-filter -v -t 'wrong: {t}' 'time(t) == want' "$f"
	is "$output" ""
	run -0 ecs-filter -c 'time(t) == want' "$f"
	is "$output" 12 "every line compared"
}

@test "time(): malformed times have no value" {
	f="$BATS_TEST_TMPDIR/t.ndjson"
	printf '%s\n' '{"t":"2026-11-01T10:00:00Q"}' '{"t":"2026-11-01T10"}' \
	    '{"t":"26-11-01"}' '{"t":"2026-11-31"}' '{"t":"2026-11-01T10:60:00Z"}' \
	    '{"t":"2026-11-01T10:00:00+25:00"}' '{"t":""}' '{"t":true}' '{"t":[1]}' \
	    '{"t":"2026-11-01T10:00:00."}' '{"t":"2026-11-01T10:00:00Z","good":1}' > "$f"
	run -0 ecs-filter 'time(t) > 0 or time(t) <= 0' "$f"
	is "$output" '{"t":"2026-11-01T10:00:00Z","good":1}' "only the well-formed time has a value"
}
