#!/usr/bin/env bats
# ecs-replay: the command line, byte-for-byte passthrough, pacing at
# --speed and --rate (total durations with bounds that hold on a slow
# machine), --from/--to, out-of-order events, --retime, bad lines, signals
# and FIFOs.

load helpers

# timed ARGS...: `run ARGS...`, with the wall-clock seconds taken in $secs.
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	run "$@"
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# between X LO HI [WHAT]: LO <= X < HI, for durations in seconds.
between() {
	if ! awk -v x="$1" -v lo="$2" -v hi="$3" \
	    'BEGIN { exit !(x >= lo && x < hi) }'; then
		printf '# %s: %s not in [%s, %s)\n' "${4:-duration}" "$1" \
		    "$2" "$3" >&2
		return 1
	fi
}

# epoch TS: an ISO-8601 time as epoch seconds with a fraction.
epoch() { date -u -d "$1" +%s.%N; }

@test "--help prints usage and options on stdout, exit 0" {
	run -0 --separate-stderr ecs-replay --help
	is "${lines[0]}" "usage: ecs-replay [-hqV] [-i format] [-o format] [-r rate | -s speed]"
	like "$output" "*--speed X*"
	like "$output" "*--rate N*"
	like "$output" "*--retime*"
	like "$output" "*--reject FILE*"
	is "$stderr" ""
	run -0 ecs-replay -h
	like "${lines[0]}" "usage: ecs-replay *"
}

@test "--version prints name and version" {
	run -0 ecs-replay --version
	like "$output" "ecs-replay [0-9]*.[0-9]*.[0-9]*"
}

@test "usage errors exit 2 and name the problem" {
	run -2 --separate-stderr ecs-replay --no-such-option
	is "$output" ""
	like "$stderr" "*unrecognized option*usage: ecs-replay*"
	run -2 --separate-stderr ecs-replay --speed 10 --rate 5 </dev/null
	like "$stderr" "ecs-replay: --speed and --rate cannot be used together*usage: ecs-replay*"
	run -2 --separate-stderr ecs-replay -r 5 -s 0 </dev/null
	like "$stderr" "*cannot be used together*"
	for bad in x -1 1e3 '' 1.2.3 0x10 ' 1' inf; do
		run -2 --separate-stderr ecs-replay --speed "$bad" </dev/null
		is "$stderr" "ecs-replay: --speed '$bad': not a decimal number"
	done
	run -2 --separate-stderr ecs-replay --speed "1$(printf '%0400d' 0)" </dev/null
	like "$stderr" "ecs-replay: --speed '1000*': out of range"
	run -2 --separate-stderr ecs-replay --rate 0 </dev/null
	like "$stderr" "ecs-replay: --rate '0': must be more than 0*"
	run -2 --separate-stderr ecs-replay --rate fast </dev/null
	is "$stderr" "ecs-replay: --rate 'fast': not a decimal number"
	run -2 --separate-stderr ecs-replay --from yesterday </dev/null
	like "$stderr" "ecs-replay: --from 'yesterday': not a time*"
	run -2 --separate-stderr ecs-replay --to 2026-02-29 </dev/null
	like "$stderr" "ecs-replay: --to '2026-02-29': not a time*"
	run -2 --separate-stderr ecs-replay --from 2026-11-02 --to 2026-11-01 </dev/null
	is "$stderr" "ecs-replay: --from '2026-11-02' is not before --to '2026-11-01'"
}

@test "decimal speeds and rates are accepted" {
	ev '{"ts":1}'
	for v in 1 3600 0.5 .25 2. 0 000; do
		run -0 --separate-stderr ecs-replay --speed "$v" "$IN"
		is "$output" '{"ts":1}' "--speed $v"
	done
	run -0 ecs-replay --rate 0.5 "$IN"
	is "$output" '{"ts":1}'
}

@test "--speed 0 passes lines byte for byte, in order, without pauses" {
	ev '{ "ts" : "2026-11-01T10:00:00Z", "id" : 12345678901234567890 }' \
	   '{"ts":"2026-11-01T11:00:00Z","price":12.30,"s":"a\/b\u00e9","x":1e999}' \
	   $'{"ts":"2026-11-01T12:00:00+01:00",\t"q":-0}\r'
	timed -0 --separate-stderr ecs-replay --speed 0 "$IN"
	is "${lines[0]}" '{ "ts" : "2026-11-01T10:00:00Z", "id" : 12345678901234567890 }'
	is "${lines[1]}" '{"ts":"2026-11-01T11:00:00Z","price":12.30,"s":"a\/b\u00e9","x":1e999}'
	is "${lines[2]}" $'{"ts":"2026-11-01T12:00:00+01:00",\t"q":-0}' "CR dropped"
	is "${#lines[@]}" 3
	is "$stderr" ""
	between "$secs" 0 3 "two hours of events at --speed 0"
}

@test "file operands in order, - is stdin, the schedule runs across them" {
	printf '%s\n' '{"ts":1,"f":"a"}' > "$BATS_TEST_TMPDIR/a"
	printf '%s\n' '{"ts":3,"f":"c"}' > "$BATS_TEST_TMPDIR/c"
	run -0 --separate-stderr bash -c "echo '{\"ts\":2,\"f\":\"b\"}' |
	    ecs-replay --speed 100 '$BATS_TEST_TMPDIR/a' - '$BATS_TEST_TMPDIR/c'"
	is "$output" $'{"ts":1,"f":"a"}\n{"ts":2,"f":"b"}\n{"ts":3,"f":"c"}'
	is "$stderr" ""
}

@test "empty input: no output, exit 0" {
	run -0 --separate-stderr ecs-replay < /dev/null
	is "$output" ""
	is "$stderr" ""
}

@test "--speed 1 keeps the gaps: 2 s of events take 2 s" {
	ev '{"ts":"2026-11-01T10:00:00Z","n":1}' \
	   '{"ts":"2026-11-01T10:00:00.500Z","n":2}' \
	   '{"ts":"2026-11-01T10:00:01.500Z","n":3}' \
	   '{"ts":"2026-11-01T10:00:02Z","n":4}'
	timed -0 --separate-stderr ecs-replay "$IN"
	is "${#lines[@]}" 4
	is "${lines[3]}" '{"ts":"2026-11-01T10:00:02Z","n":4}'
	is "$stderr" ""
	between "$secs" 1.9 6 "2 s of events at the default speed"
}

@test "--speed 10 plays a 10 s span in 1 s; epoch ms times, --map ts=" {
	for i in 0 1 2 3 4 5 6 7 8 9 10; do
		echo "{\"timestamp\":$((1762000000000 + i * 1000)),\"n\":$i}"
	done > "$IN"
	timed -0 --separate-stderr ecs-replay --map ts=timestamp -s 10 "$IN"
	is "${#lines[@]}" 11
	is "${lines[10]}" '{"timestamp":1762000010000,"n":10}'
	between "$secs" 0.9 5 "10 s of events at --speed 10"
}

@test "--speed 3600 plays two hours in 2 s" {
	ev '{"ts":"2026-11-01T10:00:00Z"}' '{"ts":"2026-11-01T11:00:00Z"}' \
	   '{"ts":"2026-11-01T12:00:00Z"}'
	timed -0 ecs-replay --speed 3600 "$IN"
	is "${#lines[@]}" 3
	between "$secs" 1.9 6 "2 h of events at --speed 3600"
}

@test "--rate 20 writes 21 lines in 1 s, whatever their times" {
	for i in $(seq 0 20); do
		echo "{\"ts\":$((1762000000 + (i % 3) * 3600)),\"n\":$i}"
	done > "$IN"
	timed -0 --separate-stderr ecs-replay --rate 20 "$IN"
	is "${#lines[@]}" 21
	is "${lines[20]}" '{"ts":1762007200,"n":20}'
	between "$secs" 0.9 5 "21 lines at --rate 20"
	like "$stderr" "ecs-replay: 21 lines replayed, 12 out of order (played in file order)"
}

@test "--from/--to keep from <= t < to, the schedule starts at the first kept" {
	ev '{"ts":"2026-11-01T09:00:00Z","n":1}' \
	   '{"ts":"2026-11-01T10:00:00Z","n":2}' \
	   '{"ts":"2026-11-01T10:00:01Z","n":3}' \
	   '{"ts":"2026-11-01T11:00:00Z","n":4}' \
	   '{"ts":"2026-11-01T09:30:00Z","n":5}' \
	   '{"ts":"2026-11-01T10:30:00Z","n":6}'
	timed -0 --separate-stderr ecs-replay --from 2026-11-01T10:00:00Z \
	    --to 2026-11-01T11:00:00Z --speed 1800 "$IN"
	is "$output" $'{"ts":"2026-11-01T10:00:00Z","n":2}\n{"ts":"2026-11-01T10:00:01Z","n":3}\n{"ts":"2026-11-01T10:30:00Z","n":6}'
	is "$stderr" "ecs-replay: 3 lines replayed, 3 outside --from/--to"
	between "$secs" 0.9 5 "30 min from the first kept event at --speed 1800"

	run -0 --separate-stderr ecs-replay -q --speed 0 --from 2026-11-01T10:30+00:00 "$IN"
	is "$output" $'{"ts":"2026-11-01T11:00:00Z","n":4}\n{"ts":"2026-11-01T10:30:00Z","n":6}'
	is "$stderr" "" "-q: no summary"

	run -0 --separate-stderr ecs-replay --speed 0 --to 1793527200 "$IN"
	is "$output" $'{"ts":"2026-11-01T09:00:00Z","n":1}\n{"ts":"2026-11-01T09:30:00Z","n":5}'
	is "$stderr" "ecs-replay: 2 lines replayed, 4 outside --from/--to" "--to in epoch seconds"
}

@test "out-of-order events are played at once, in file order, and counted" {
	ev '{"ts":"2026-11-01T10:00:00Z","n":1}' \
	   '{"ts":"2026-11-01T10:00:01Z","n":2}' \
	   '{"ts":"2026-11-01T09:00:00Z","n":3}' \
	   '{"ts":"2026-11-01T10:00:00.500Z","n":4}' \
	   '{"ts":"2026-11-01T10:00:01Z","n":5}' \
	   '{"ts":"2026-11-01T10:00:02Z","n":6}'
	timed -0 --separate-stderr ecs-replay "$IN"
	is "$(printf '%s\n' "${lines[@]}" | sed 's/.*"n":\([0-9]\).*/\1/' | tr -d '\n')" 123456
	is "$stderr" "ecs-replay: 6 lines replayed, 2 out of order (played at once in file order)"
	between "$secs" 1.9 6 "late events add no time to the schedule"
}

@test "--retime sets ISO times to now and keeps the gaps" {
	ev '{"user_id":1,"ts":"2026-11-01T10:00:00Z","price":12.30}' \
	   '{"user_id":2,"ts":"2026-11-01T10:00:01.250Z","price":1}'
	now=$(date -u +%s)
	timed -0 --separate-stderr ecs-replay --retime "$IN"
	is "$stderr" ""
	matches "${lines[0]}" '^\{"user_id":1,"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z","price":12.30\}$'
	matches "${lines[1]}" '^\{"user_id":2,"ts":"[^"]*Z","price":1\}$'
	is "$(printf '%s\n' "$output" |
	    ecs-filter -c "time(ts) >= $((now - 60)) and time(ts) <= $((now + 60))")" 2 \
	    "retimed to within 60 s of now"
	t1=$(printf '%s\n' "${lines[0]}" | ecs-filter -t '{ts}' true)
	t2=$(printf '%s\n' "${lines[1]}" | ecs-filter -t '{ts}' true)
	is "$(awk -v a="$(epoch "$t1")" -v b="$(epoch "$t2")" \
	    'BEGIN { printf "%.3f", b - a }')" 1.250 "the gap is kept"
	between "$secs" 1.2 6
}

@test "--retime at --speed 2 halves the gaps; numbers stay numbers" {
	ev '{"ts":1762000000,"n":1}' '{"ts":1762000001,"n":2}' '{"ts":1762000000.5,"n":3}'
	now=$(date -u +%s)
	run -0 --separate-stderr ecs-replay --retime --speed 2 "$IN"
	matches "${lines[0]}" '^\{"ts":[0-9]{10}(\.[0-9]{3})?,"n":1\}$'
	matches "${lines[1]}" '^\{"ts":[0-9]{10}(\.[0-9]{3})?,"n":2\}$'
	matches "${lines[2]}" '^\{"ts":[0-9]{10}(\.[0-9]{3})?,"n":3\}$'
	a=$(printf '%s\n' "${lines[0]}" | sed 's/{"ts":\([0-9.]*\),.*/\1/')
	b=$(printf '%s\n' "${lines[1]}" | sed 's/{"ts":\([0-9.]*\),.*/\1/')
	c=$(printf '%s\n' "${lines[2]}" | sed 's/{"ts":\([0-9.]*\),.*/\1/')
	between "$a" $((now - 60)) $((now + 60)) "first retimed ts"
	is "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }')" 0.500 "1 s at --speed 2"
	is "$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.3f", c - a }')" 0.250 \
	    "an out-of-order event keeps its offset"
	is "$stderr" "ecs-replay: 3 lines replayed, 1 out of order (played at once in file order)"
}

@test "--retime keeps the kind of each time; nested paths through --map" {
	ev '{"ts":1762000000,"k":"s"}' '{"ts":1762000000123,"k":"ms"}' \
	   '{"ts":"1762000001","k":"str"}' '{"ts":"2026-11-01","k":"date"}' \
	   '{"ts":"2026-11-01T12:00:00+01:00","k":"iso"}'
	now=$(date -u +%s)
	run -0 --separate-stderr ecs-replay --retime --speed 0 "$IN"
	is "$stderr" ""
	matches "${lines[0]}" '^\{"ts":[0-9]{10}(\.[0-9]{3})?,"k":"s"\}$'
	matches "${lines[1]}" '^\{"ts":[0-9]{13},"k":"ms"\}$'
	matches "${lines[2]}" '^\{"ts":"[0-9]{10}(\.[0-9]{3})?","k":"str"\}$'
	matches "${lines[3]}" '^\{"ts":"[0-9-]{10}T[0-9:]{8}(\.[0-9]{3})?Z","k":"date"\}$'
	matches "${lines[4]}" '^\{"ts":"[0-9-]{10}T[0-9:]{8}(\.[0-9]{3})?Z","k":"iso"\}$'
	is "$(printf '%s\n' "$output" |
	    ecs-filter -c "time(ts) >= $((now - 60)) and time(ts) <= $((now + 60))")" 5

	ev '{"id":7,"meta":{"at":1762000000123,"src":"x"}}' '{"id":8,"meta":{"at":[0,1762000000]}}'
	run -1 --separate-stderr ecs-replay --retime --speed 0 --map ts=meta.at "$IN"
	matches "${lines[0]}" '^\{"id":7,"meta":\{"at":[0-9]{13},"src":"x"\}\}$'
	is "${#lines[@]}" 1 "an array is not a time"
	like "$stderr" "*in.ndjson:2: field 'ts' is not a time: \[0,1762000000\]*"
	run -1 --separate-stderr ecs-replay --retime --speed 0 --map ts=meta.at.1 "$IN"
	like "$stderr" "*in.ndjson:1: field 'ts' is missing*"
	matches "${output}" '^\{"id":8,"meta":\{"at":\[0,[0-9]{10}(\.[0-9]{3})?\]\}\}$'
}

@test "--retime with --rate: each line gets the time it is written" {
	ev '{"ts":"2020-01-01T00:00:00Z"}' '{"ts":"2020-01-01T00:00:00Z"}' \
	   '{"ts":"2020-01-01T00:00:00Z"}'
	run -0 ecs-replay --retime --rate 2 "$IN"
	t1=$(printf '%s\n' "${lines[0]}" | ecs-filter -t '{ts}' true)
	t3=$(printf '%s\n' "${lines[2]}" | ecs-filter -t '{ts}' true)
	between "$(awk -v a="$(epoch "$t1")" -v b="$(epoch "$t3")" \
	    'BEGIN { print b - a }')" 0.95 4 "two lines at --rate 2"
}

@test "bad lines: diagnostics, the good lines played, exit 1" {
	ev '{"ts":"2026-11-01T10:00:00Z","n":1}' 'not json' '{"n":2}' \
	   '{"ts":"yesterday","n":3}' '{"ts":null}' '[1]' \
	   '{"ts":"2026-11-01T10:00:00.100Z","n":4}'
	run -1 --separate-stderr ecs-replay "$IN"
	is "$output" $'{"ts":"2026-11-01T10:00:00Z","n":1}\n{"ts":"2026-11-01T10:00:00.100Z","n":4}'
	is "$stderr" "ecs-replay: $IN:2: invalid JSON at column 2: null expected
ecs-replay: $IN:3: field 'ts' is missing
ecs-replay: $IN:4: field 'ts' is not a time: \"yesterday\"
ecs-replay: $IN:5: field 'ts' is not a time: null
ecs-replay: $IN:6: not a JSON object (found an array)
ecs-replay: 5 bad lines of 7 skipped"
}

@test "--reject takes the bad lines verbatim, exit 0; --strict stops" {
	ev '{"ts":1,"n":1}' '{"n":2}' '  {"ts":"soon"}  ' '{"ts":2,"n":3}'
	rej="$BATS_TEST_TMPDIR/rej"
	run -0 --separate-stderr ecs-replay -q --speed 0 --reject "$rej" "$IN"
	is "$output" $'{"ts":1,"n":1}\n{"ts":2,"n":3}'
	is "$(cat "$rej")" $'{"n":2}\n  {"ts":"soon"}  '
	is "$stderr" "ecs-replay: 2 bad lines of 4 written to $rej"

	run -1 --separate-stderr ecs-replay --strict --speed 0 "$IN"
	is "$output" '{"ts":1,"n":1}'
	is "$stderr" "ecs-replay: $IN:2: field 'ts' is missing
ecs-replay: stopped at the first bad line (--strict)"
}

@test "SIGTERM during a long pause ends at once, exit 0, output flushed" {
	ev '{"ts":"2026-11-01T10:00:00Z","n":1}' '{"ts":"2026-11-01T11:00:00Z","n":2}'
	out="$BATS_TEST_TMPDIR/out"
	ecs-replay "$IN" > "$out" 2> "$out.err" 3>&- &
	pid=$!
	wait_for "$out" '"n":1'		# flushed before the hour's pause
	sleep 0.2
	t0=$(date +%s.%N)
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	t1=$(date +%s.%N)
	is "$status" 0
	is "$(cat "$out")" '{"ts":"2026-11-01T10:00:00Z","n":1}'
	is "$(cat "$out.err")" ""
	between "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" 0 3 \
	    "time to stop"
}

@test "a FIFO: lines come out as they arrive, late ones at once" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-replay "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"		# the writer stays open: no EOF
	echo '{"ts":"2026-11-01T10:00:00Z","n":1}' >&5
	wait_for "$out" '"n":1'
	sleep 1.2		# the next event is due 1 s after the first
	t0=$(date +%s.%N)
	echo '{"ts":"2026-11-01T10:00:01Z","n":2}' >&5
	wait_for "$out" '"n":2'
	t1=$(date +%s.%N)
	kill -0 "$pid"		# still running, still reading
	exec 5>&-
	wait "$pid"
	is "$(cat "$out")" $'{"ts":"2026-11-01T10:00:00Z","n":1}\n{"ts":"2026-11-01T10:00:01Z","n":2}'
	between "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" 0 0.9 \
	    "an event already due is not delayed"
}

@test "| head -1 ends quietly with status 0" {
	run -0 --separate-stderr bash -c 'yes "{\"ts\":1}" | head -n 200000 |
	    ecs-replay --speed 0 | head -1; exit ${PIPESTATUS[2]}'
	is "$output" '{"ts":1}'
	is "$stderr" ""
}
