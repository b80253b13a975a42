#!/usr/bin/env bats
# What a run tells the person watching it and the cron job after it:
# SIGUSR1 prints the counters (as dd does) without touching the output,
# --stats FILE writes them as one JSON object, --progress draws lines/s,
# percent and ETA, in place on a terminal. Shared by every program.

load helpers

TOOLS="ecs-filter ecs-stock ecs-sales ecs-recommend ecs-replay"

# reading PID FIFO: PID has FIFO open, so it is past its setup and ready for
# a signal (it opens its operands after installing the handler).
reading() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[[ "$(readlink "$fd")" == "$2" ]] && return 0
	done
	return 1
}

# Conditions for wait_until, read again at each try (a "$(...)" in its
# arguments is read once, before the wait).
# matching_lines FILE TEXT N: N lines of FILE, or more, hold TEXT.
matching_lines() { (( $(grep -c -F -- "$2" "$1") >= $3 )); }
# more_lines FILE N: FILE has more than N lines.
more_lines() { (( $(wc -l < "$1") > $2 )); }

# open_fifo FIFO PID: opens FIFO for writing on fd 5 without blocking (it
# stays open: no EOF), then waits until PID reads it; fails, rather than
# hangs, when PID ended instead (a usage error, say).
open_fifo() {
	exec 5<> "$1"
	wait_until reading "$2" "$1"
}

@test "SIGUSR1: a program reading a FIFO prints its counters on stderr and goes on" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-filter 'n > 1' "$fifo" > "$out" 2> "$out.err" 3>&- &
	pid=$!
	open_fifo "$fifo" "$pid"
	printf '%s\n' '{"n":1}' '{"n":2}' 'oops' '{"n":3}' >&5
	wait_for "$out" '{"n":3}'
	kill -USR1 "$pid"
	wait_for "$out.err" "lines in"
	# While blocked in its read: 4 lines in, 2 kept, 1 bad.
	matches "$(grep 'lines in' "$out.err")" \
	    '^ecs-filter: 4 lines in, 2 kept, 1 rejected, [0-9.]+ MiB resident, [0-9.]+ s$'
	kill -0 "$pid"		# still running, still reading
	echo '{"n":4}' >&5
	wait_for "$out" '{"n":4}'
	kill -USR1 "$pid"
	wait_until matching_lines "$out.err" 'lines in' 2
	matches "$(grep 'lines in' "$out.err" | tail -1)" '^ecs-filter: 5 lines in, 3 kept, 1 rejected, '
	exec 5>&-
	status=0
	wait "$pid" || status=$?
	is "$status" 1 "a bad line"
	is "$(cat "$out")" $'{"n":2}\n{"n":3}\n{"n":4}' "the output is only the records"
}

@test "SIGUSR1 while --idle waits: answered, and the idle ticks go on" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-sales -w 10s --idle 1s -m 'n=count()' "$fifo" > "$out" 2> "$out.err" 3>&- &
	pid=$!
	open_fifo "$fifo" "$pid"
	echo '{"ts":"2026-11-01T10:00:00Z"}' >&5
	# Signalled until the report shows the line read.
	wait_until bash -c "kill -USR1 $pid; grep -q '^ecs-sales: 1 lines in' '$out.err'"
	matches "$(grep 'lines in' "$out.err" | tail -1)" \
	    '^ecs-sales: 1 lines in, 1 kept, 0 rejected, 0 late, [01] windows open, '
	# Event time goes on with the clock while input is quiet (ten idle
	# seconds): the window closes without another event.
	wait_for "$out" '"n":1'
	exec 5>&-
	wait "$pid"
}

@test "--stats FILE: the counters as one JSON object, checked against jq on real events" {
	shared_data uci-online-retail/orders.ndjson.gz
	in="$BATS_TEST_TMPDIR/orders.ndjson"
	zcat "$data" | head -n 20000 > "$in"
	printf '%s\n' 'not json' '{"amount":' >> "$in"
	run -1 --separate-stderr ecs-filter -q --stats "$BATS_TEST_TMPDIR/st.json" \
	    -c 'amount > 100' "$in"
	kept=$(head -n 20000 "$in" | jq -s 'map(select(.amount > 100)) | length')
	is "$output" "$kept"
	st="$BATS_TEST_TMPDIR/st.json"
	is "$(jq -c '{program, lines, kept, rejected}' "$st")" \
	    "{\"program\":\"ecs-filter\",\"lines\":20002,\"kept\":$kept,\"rejected\":2}"
	is "$(jq -r '[.resident_bytes > 0, .seconds >= 0] | all' "$st")" true
	is "$(wc -l < "$st")" 1 "one object, one line"
}

@test "--stats: ecs-sales counts late events and the windows still open" {
	ev '{"ts":"2026-11-01T10:00:00Z"}' '{"ts":"2026-11-01T10:05:00Z"}' \
	    '{"ts":"2026-11-01T10:00:30Z"}' '{"ts":"2026-11-01T10:06:00Z"}' \
	    '{"ts":"soon"}'
	st="$BATS_TEST_TMPDIR/st.json"
	run -1 --separate-stderr ecs-sales -q --stats "$st" --state "$BATS_TEST_TMPDIR/s" \
	    -w 1m -m 'n=count()' "$IN"
	# 10:00:30 is after 10:00's window was written, and so is 10:05's at
	# 10:06; 10:06's stays open in the state.
	is "$(jq -c '{lines, kept, rejected, late, windows}' "$st")" \
	    '{"lines":5,"kept":3,"rejected":1,"late":1,"windows":1}'
}

@test "--stats: the program's own counters (keys held, lines played)" {
	ev '{"product_id":1,"action":"restock","quantity":5}' \
	    '{"product_id":2,"action":"restock","quantity":5}' \
	    '{"product_id":1,"action":"purchase","quantity":1}'
	st="$BATS_TEST_TMPDIR/st.json"
	run -0 ecs-stock --stats "$st" "$IN"
	is "$(jq -c '{lines, rejected, keys}' "$st")" '{"lines":3,"rejected":0,"keys":2}'
	ev '{"ts":"2026-11-01T10:00:00Z"}' '{"ts":"2026-11-01T09:00:00Z"}'
	run -0 ecs-replay --speed 0 --stats "$st" "$IN"
	is "$(jq -c '{lines, kept, late}' "$st")" '{"lines":2,"kept":2,"late":1}'
}

@test "--stats: ecs-join counts the events, not the table; ecs-session its open sessions" {
	st="$BATS_TEST_TMPDIR/st.json" cat="$BATS_TEST_TMPDIR/cat.csv"
	printf 'product_id,c\n1,x\n2,y\n3,z\n' > "$cat"
	ev '{"product_id":1}' '{"product_id":9}'
	run -0 ecs-join -q --inner --stats "$st" "$cat" "$IN"
	is "$(jq -c '{lines, kept, keys}' "$st")" '{"lines":2,"kept":1,"keys":3}'
	# A quiet FIFO keeps both sessions open while SIGUSR1 asks.
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-session "$fifo" > "$out" 2> "$out.err" 3>&- &
	pid=$!
	open_fifo "$fifo" "$pid"
	echo '{"user_id":1,"ts":"2026-11-01T10:00:00Z","action":"browse"}' >&5
	echo '{"user_id":2,"ts":"2026-11-01T10:01:00Z","action":"browse"}' >&5
	wait_until sh -c "kill -USR1 $pid; sleep 0.1; grep -q '2 lines in' '$out.err'"
	exec 5>&-
	wait "$pid"
	like "$(grep '2 lines in' "$out.err" | head -1)" "*2 keys held*2 sessions open*"
}

@test "--stats: a run that stops early leaves no stale counters" {
	st="$BATS_TEST_TMPDIR/st.json"
	echo '{"stale":true}' > "$st"
	ev '{"a":1}' 'bad'
	run -1 --separate-stderr ecs-filter --strict --stats "$st" true "$IN"
	is "$(cat "$st")" "" "emptied at the start, never written"
	run -2 --separate-stderr ecs-filter --stats "$IN" true "$IN"
	is "$stderr" "ecs-filter: --stats: $IN is also an input (it would read what it writes)"
}

@test "ecs-gen, which has no input: SIGUSR1 counts the lines written, and it goes on" {
	out="$BATS_TEST_TMPDIR/out" st="$BATS_TEST_TMPDIR/st.json"
	ecs-gen -n 0 --rate 500 --stats "$st" > "$out" 2> "$out.err" &
	pid=$!
	wait_until test -s "$out"
	kill -USR1 "$pid"
	wait_for "$out.err" "lines written"
	matches "$(cat "$out.err")" \
	    '^ecs-gen: [0-9]+ lines written, [0-9.]+ MiB resident, [0-9.]+ s$'
	kill -0 "$pid"		# the signal did not end it
	n=$(wc -l < "$out")
	wait_until more_lines "$out" "$n"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	is "$status" 0 "SIGTERM ends the stream cleanly"
	is "$(jq -c 'del(.resident_bytes, .seconds)' "$st")" \
	    "{\"program\":\"ecs-gen\",\"written\":$(wc -l < "$out")}" \
	    "--stats counts every line written"
}

@test "ecs-gen --progress: percent of -n, stdout byte-identical to a run without it" {
	run -0 --separate-stderr ecs-gen -n 3000 --progress
	matches "${stderr_lines[-1]}" '^ecs-gen: 3000 lines, [0-9]+ lines/s, 100%$'
	is "$(printf '%s\n' "$output" | md5sum)" "$(ecs-gen -n 3000 | md5sum)"
}

@test "every program takes --progress and --stats" {
	for t in $TOOLS ecs-gen; do
		run -0 "$t" --help
		like "$output" "*--progress*" "$t --help"
		like "$output" "*--stats FILE*" "$t --help"
	done
}

@test "--progress on a file: lines/s and 100% on stderr at the end, stdout untouched" {
	seq 1 3000 | sed 's/.*/{"n":&}/' > "$IN"
	run -0 --separate-stderr ecs-filter --progress -c 'n % 3 == 0' "$IN"
	is "$output" 1000
	# (A slow machine may have drawn a line every 5 s before it.)
	matches "${stderr_lines[-1]}" '^ecs-filter: 3000 lines, [0-9]+ lines/s, 100%$'
}

@test "--progress on a terminal: drawn again in place with CR, then a newline" {
	command -v script >/dev/null || skip "needs script(1) (util-linux)"
	fifo="$BATS_TEST_TMPDIR/fifo" ts="$BATS_TEST_TMPDIR/ts"
	mkfifo "$fifo"
	# script gives ecs-filter a terminal; -f writes what it shows at once.
	script -qfc "ecs-filter --progress -c true '$fifo'" "$ts" \
	    < /dev/null > /dev/null 3>&- &
	pid=$!
	exec 5<> "$fifo"	# no wait: a usage error would leave no reader
	# A line every 0.1 s until a progress line is drawn (every 0.5 s at
	# most): polling for the event, no time is asserted.
	for _ in $(seq 200); do
		echo '{"a":1}' >&5
		grep -q 'lines/s' "$ts" && break
		sleep 0.1
	done
	echo '{"a":1}' >&5
	exec 5>&-
	wait "$pid"
	raw=$(cat -v "$ts")
	# Each drawing starts with a CR and clears the rest of the line; the
	# last one, after the count, ends with a newline.
	matches "$raw" '\^Mecs-filter: [0-9]+ lines, [0-9]+ lines/s\^\[\[K'
	matches "$(tr '\r' '\n' < "$ts" | grep 'lines/s' | tail -1)" \
	    '^ecs-filter: [0-9]+ lines, [0-9]+ lines/s.\[K$'
	(( $(grep -o $'\r' "$ts" | wc -l) >= 2 ))
}
