#!/usr/bin/env bats
# No silent wrong answers (issue 12, items 7, 10, 13, 17): events without a
# time, what is not JSON, numbers without exponents, outputs that are
# inputs, state files in use, and the smaller diagnostics.

load helpers

# bounded CMD...: CMD with files limited to 1 MB, so that a program that
# reads its own output (as before the check) dies instead of filling the disk.
bounded() { bash -c 'ulimit -f 1024; exec "$@"' bounded "$@"; }

teardown() {
	# Processes a failed test left behind.
	[[ -z "${writer:-}" ]] || kill "$writer" 2>/dev/null || true
	[[ -z "${first:-}" ]] || kill "$first" 2>/dev/null || true
}

# Item 7: an event without a time is at the stream's latest event time.

@test "ecs-sales: an event without ts joins the latest window and makes nothing late" {
	ev '{"amount":10,"ts":"2010-12-01T08:00:00Z"}' \
	   '{"amount":5.00}' \
	   '{"amount":2,"ts":"2010-12-01T09:00:00Z"}' \
	   '{"amount":1,"ts":"2010-12-02T08:00:00Z"}'
	run -0 --separate-stderr ecs-sales -w 1d -m 'revenue=sum(amount)' -m 'n=count()' "$IN"
	is "$output" '{"window_start":"2010-12-01T00:00:00Z","window_end":"2010-12-02T00:00:00Z","revenue":17.00,"n":3}
{"window_start":"2010-12-02T00:00:00Z","window_end":"2010-12-03T00:00:00Z","revenue":1,"n":1}'
	is "$stderr" "ecs-sales: 1 event without a time, at the latest event time before it"
}

@test "ecs-sales: an event without ts before any time moves no watermark" {
	ev '{"amount":5}' \
	   '{"amount":10,"ts":"2010-12-01T08:00:00Z"}' \
	   '{"amount":2,"ts":"2010-12-01T09:00:00Z"}'
	run -0 --separate-stderr ecs-sales -w 1d -m 'revenue=sum(amount)' "$IN"
	# The first event is at the clock's time (today), the others are not late.
	like "$output" '{"window_start":"2010-12-01T00:00:00Z","window_end":"2010-12-02T00:00:00Z","revenue":12}
{"window_start":"20[2-9]?-*,"revenue":5}'
	is "$stderr" "ecs-sales: 1 event without a time, at the latest event time before it (1 before any time: at the clock's)"
}

@test "ecs-sales: one event without ts in the UCI orders, against DuckDB" {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	zcat "$data" | head -3000 > "$BATS_TEST_TMPDIR/orders"
	(head -1000 "$BATS_TEST_TMPDIR/orders"; echo '{"amount":5.00}'
	 sed -n 1001,3000p "$BATS_TEST_TMPDIR/orders") > "$IN"
	run -0 --separate-stderr ecs-sales -w 1d -m 'revenue=sum(amount)' "$IN"
	want=$(duckdb_sql "SELECT CAST(sum(amount) + 5.00 AS DECIMAL(18,2)) AS revenue
	    FROM read_json('$BATS_TEST_TMPDIR/orders', format='newline_delimited')
	    WHERE ts < '2010-12-02'" | jq -r .revenue)
	is "$output" "{\"window_start\":\"2010-12-01T00:00:00Z\",\"window_end\":\"2010-12-02T00:00:00Z\",\"revenue\":$want}"
	is "$stderr" "ecs-sales: 1 event without a time, at the latest event time before it"
}

@test "ecs-stock: an event without ts counts as at the latest time, velocity kept" {
	ev '{"product_id":7,"quantity":100,"ts":"2010-12-01T08:00:00Z"}' \
	   '{"action":"purchase","product_id":7,"quantity":10,"ts":"2010-12-01T09:00:00Z"}' \
	   '{"action":"purchase","product_id":7,"quantity":5}' \
	   '{"action":"purchase","product_id":7,"quantity":10,"ts":"2010-12-01T09:30:00Z"}'
	run -0 --separate-stderr ecs-stock --report "$IN"
	untimed=$output
	is "$stderr" "ecs-stock: 1 event without a time, at the latest event time before it"
	sed -i '3s/}$/,"ts":"2010-12-01T09:00:00Z"}/' "$IN"
	run -0 --separate-stderr ecs-stock --report "$IN"
	is "$untimed" "$output"
	like "$output" '*"velocity_per_hour":0.716,*'
	is "$stderr" ""
}

@test "ecs-stock: the UCI purchases' velocity is not cut by one event without ts" {
	shared_data uci-online-retail/orders.ndjson.gz
	zcat "$data" | head -3000 | jq -c 'select(.quantity > 0) | {action:"purchase",product_id,quantity,ts}' > "$BATS_TEST_TMPDIR/p"
	(head -1000 "$BATS_TEST_TMPDIR/p"; echo '{"action":"purchase","product_id":"nothing","quantity":1}'
	 sed -n 1001,3000p "$BATS_TEST_TMPDIR/p") > "$IN"
	run -0 --separate-stderr ecs-stock --report "$IN"
	with=$(grep -v '"nothing"' <<< "$output")
	run -0 --separate-stderr ecs-stock --report "$BATS_TEST_TMPDIR/p"
	is "$with" "$output"
	like "$output" '*"product_id":"85123A",*"velocity_per_hour":*'
}

@test "ecs-recommend: an event without ts is at the stream's latest time" {
	ev '{"user_id":1,"product_id":10,"action":"browse","ts":"2010-12-01T08:00:00Z"}' \
	   '{"user_id":1,"product_id":11,"action":"browse"}'
	run -0 --separate-stderr ecs-recommend "$IN"
	like "${lines[1]}" '{"seq":2,"user_id":1,"ts":"2010-12-01T08:00:00Z",*'
	is "$stderr" "ecs-recommend: 1 event without a time, at the latest event time before it"
}

# Item 13: outputs that are inputs, state files.

@test "--reject, --late or stdout naming an input is a usage error" {
	ev '{"a":1}' 'bad'
	run -2 --separate-stderr bounded ecs-filter --reject "$IN" true "$IN"
	is "$stderr" "ecs-filter: --reject: $IN is also an input (it would read what it writes)"
	run -2 --separate-stderr bounded ecs-stock --reject "$IN" < "$IN"
	is "$stderr" "ecs-stock: --reject: <stdin> is also an input (it would read what it writes)"
	run -2 --separate-stderr bounded ecs-sales --late "$IN" -w 1h "$IN"
	is "$stderr" "ecs-sales: --late: $IN is also an input (it would read what it writes)"
	run -2 --separate-stderr bash -c "ulimit -f 1024; ecs-filter true '$IN' >> '$IN'"
	is "$stderr" "ecs-filter: <stdout>: $IN is also an input (it would read what it writes)"
	is "$(cat "$IN")" '{"a":1}
bad'
	ln "$IN" "$BATS_TEST_TMPDIR/hard"
	run -2 --separate-stderr bounded ecs-recommend --reject "$BATS_TEST_TMPDIR/hard" "$IN"
	like "$stderr" "*--reject: $IN is also an input*"
	run -0 --separate-stderr ecs-filter true "$IN" --reject /dev/null
	is "$output" '{"a":1}'
}

@test "--state in a missing or read-only directory fails at startup" {
	ev '{"amount":1,"ts":"2010-12-01T08:00:00Z"}'
	for prog in ecs-stock ecs-sales ecs-recommend; do
		run -2 --separate-stderr $prog --state "$BATS_TEST_TMPDIR/no/s" "$IN"
		is "$output" "" "$prog prints nothing"
		is "$stderr" "$prog: --state $BATS_TEST_TMPDIR/no/s: directory $BATS_TEST_TMPDIR/no does not exist"
	done
	# Root writes into a mode 555 directory: give it a read-only filesystem.
	mkdir "$BATS_TEST_TMPDIR/ro"; chmod 555 "$BATS_TEST_TMPDIR/ro"
	if [[ $(id -u) == 0 ]]; then
		mount -t tmpfs -o size=64k,ro tmpfs "$BATS_TEST_TMPDIR/ro" ||
		    skip "cannot mount a read-only tmpfs here"
	fi
	run --separate-stderr ecs-sales --state "$BATS_TEST_TMPDIR/ro/s" "$IN"
	[[ $(id -u) != 0 ]] || umount "$BATS_TEST_TMPDIR/ro"
	is "$status" 2 "exit status"
	is "$stderr" "ecs-sales: --state $BATS_TEST_TMPDIR/ro/s: directory $BATS_TEST_TMPDIR/ro is not writable"
}

# holds_lock FILE: a process holds an flock on FILE. Read from
# /proc/locks, not probed with flock -n: a probe takes the lock for a
# moment, and a program that tries it then is refused (seen once under
# load: the first ecs-recommend said its own state was in use).
holds_lock() {
	[[ -e "$1" ]] && grep -q "[0-9a-f]:$(stat -c %i "$1") " /proc/locks
}

@test "a state file in use by another process is refused, then free again" {
	st=$BATS_TEST_TMPDIR/s
	fifo=$BATS_TEST_TMPDIR/fifo
	for prog in ecs-stock ecs-sales ecs-recommend; do
		mkfifo "$fifo"
		$prog --state "$st.$prog" < "$fifo" > /dev/null 3>&- &
		first=$!
		sleep 600 > "$fifo" 3>&- &
		writer=$!
		wait_until holds_lock "$st.$prog.lock"
		run -2 --separate-stderr $prog --state "$st.$prog" /dev/null
		is "$stderr" "$prog: state file $st.$prog is in use by another process (it holds $st.$prog.lock)"
		kill "$writer"
		wait "$first"
		run -0 --separate-stderr $prog --state "$st.$prog" /dev/null
		rm "$fifo"
	done
}

@test "a 0-byte state file is an empty state" {
	ev '{"product_id":7,"quantity":5,"ts":"2010-12-01T08:00:00Z"}'
	: > "$BATS_TEST_TMPDIR/s"
	run -0 --separate-stderr ecs-stock --report --state "$BATS_TEST_TMPDIR/s" "$IN"
	is "${lines[1]}" '{"product_id":7,"quantity":5,"status":"low","threshold":10,"velocity_per_hour":0}'
	like "$(head -1 "$BATS_TEST_TMPDIR/s")" '{"ecs_state":"ecs-stock",*'
	: > "$BATS_TEST_TMPDIR/s2"
	run -0 --separate-stderr ecs-sales -m 'n=count()' --state "$BATS_TEST_TMPDIR/s2" "$IN"
	is "$output" '{"n":1}'
}

# Item 10: what is not JSON, numbers without exponents.

@test "NaN, Infinity, single quotes and raw control characters are bad lines in every program" {
	f=$FIXTURES/bad/not-rfc.ndjson
	for cmd in "ecs-filter true" ecs-stock ecs-sales ecs-recommend ecs-replay; do
		prog=${cmd%% *}
		run -1 --separate-stderr $cmd "$f"
		like "$stderr" "*$prog: $f:2: invalid JSON at column 2: single quotes are not JSON (RFC 8259)
$prog: $f:3: invalid JSON at column 6: NaN is not a number (RFC 8259)
*$prog: $f:7: invalid JSON at column 6: Infinity is not a number (RFC 8259)
$prog: $f:8: invalid JSON at column 6: Infinity is not a number (RFC 8259)
$prog: $f:9: invalid JSON at column 8: unescaped control character U+0009 in a string (RFC 8259)
*" "$prog"
	done
	run -1 --separate-stderr ecs-sales -m 'n=count()' "$f"
	is "$output" '{"n":3}'
	# What passes is JSON to a strict parser (JavaScript's JSON.parse).
	command -v node >/dev/null || skip "needs node"
	run -1 --separate-stderr ecs-filter -q true "$f"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	run -0 node -e 'require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").forEach(l => JSON.parse(l)); console.log("ok")' "$BATS_TEST_TMPDIR/out"
	is "$output" ok
}

@test "ecs-stock: the velocity of huge quantities has no exponent (was 2.66381e+17)" {
	q=2305843009213693951
	ev "{\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"restock\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"purchase\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"purchase\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"restock\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"restock\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"purchase\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}" \
	   "{\"action\":\"purchase\",\"product_id\":7,\"quantity\":$q,\"ts\":\"2010-12-01T08:00:00Z\"}"
	run -0 --separate-stderr ecs-stock --report "$IN"
	is "${lines[3]}" '{"product_id":7,"quantity":0,"status":"out","threshold":10,"velocity_per_hour":266381430108388640}'
	# jq's own arithmetic: 4 sales of q units, a steady rate over 24 h.
	run -0 jq -n --argjson out "${lines[3]}" \
	    "(\$out.velocity_per_hour - 4 * $q * (2|log) / 24) | fabs < 1e3"
	is "$output" true
}

@test "sums, extremes and keys of tiny and huge numbers have no exponent" {
	ev '{"a":0.0000000000000000001}' '{"a":0.0000000000000000003}' '{"a":18446744073709551615}'
	run -0 --separate-stderr ecs-sales -m 't=top(a*2,3)' "$IN"
	is "$output" '{"t":[{"value":0.0000000000000000002,"count":1},{"value":0.0000000000000000006,"count":1},{"value":36893488147419103230,"count":1}]}'
	# Past 18 decimals a sum would no longer be exact: a bad line, not an
	# exponent and not a rounded sum.
	run -1 --separate-stderr ecs-sales -m 's=sum(a)' -m 'm=min(a)' <(head -2 "$IN")
	is "$output" ''
	like "$stderr" "*:1: metric 's': the value is not an exact decimal*"
	# A quantile holds values that occurred, exactly: the same.
	run -1 --separate-stderr ecs-sales -m 'q=quantile(a,0.5)' "$IN"
	is "$output" '{"q":18446744073709551615}'
	like "$stderr" "*:1: metric 'q': the value is not an exact decimal*"
	# A double the program computes is written plainly.
	run -0 --separate-stderr ecs-sales -m 's=sum(a)' <(echo '{"a":1}'; echo '{"a":0.000000000000000001}')
	is "$output" '{"s":1.000000000000000001}'
}

# Item 17: values in messages, gzip input, writes interrupted by signals.

@test "a bad field's message shows the value: 40 bytes at most, escaped" {
	long='yesterday at \"noon\", or so they said \u0001 éé and more'
	ev "{\"product_id\":1,\"quantity\":2,\"ts\":\"$long\"}" \
	   '{"product_id":{"a":[1,2]},"quantity":2}' '{"product_id":1,"quantity":"many"}'
	run -1 --separate-stderr ecs-stock "$IN"
	is "$stderr" "ecs-stock: $IN:1: field 'ts' is not a time: \"yesterday at \\\"noon\\\", or so they said \\u0001 \"...
ecs-stock: $IN:2: field 'product_id' is not a number or string: {\"a\":[1,2]}
ecs-stock: $IN:3: field 'quantity' is not a whole number of units (>= 0): \"many\"
ecs-stock: 3 bad lines of 3 skipped"
	run -1 --separate-stderr ecs-sales "$IN"
	like "$stderr" "ecs-sales: $IN:1: field 'ts' is not a time: \"yesterday at *\"...
*"
	ev '{"user_id":1,"action":"browse","product_id":1,"ts":false}' '{"user_id":[],"action":"browse","product_id":1}'
	run -1 --separate-stderr ecs-recommend "$IN"
	is "$stderr" "ecs-recommend: $IN:1: field 'ts' is not a time: false
ecs-recommend: $IN:2: field 'user_id' is missing or not a number or string: []
ecs-recommend: 2 bad lines of 2 skipped"
	ev '{"ts":"soon"}' '{"n":1}'
	run -1 --separate-stderr ecs-replay "$IN"
	is "$stderr" "ecs-replay: $IN:1: field 'ts' is not a time: \"soon\"
ecs-replay: $IN:2: field 'ts' is missing
ecs-replay: 2 bad lines of 2 skipped"
}

@test "gzip input is read as its text: the same output and diagnostics" {
	ev '{"a":1}'
	gzip -c "$FIXTURES/bad/not-rfc.ndjson" > "$BATS_TEST_TMPDIR/in.gz"
	run -1 --separate-stderr ecs-filter true "$FIXTURES/bad/not-rfc.ndjson" "$IN"
	want_out=$output want_err=${stderr//"$FIXTURES/bad/not-rfc.ndjson"/"$BATS_TEST_TMPDIR/in.gz"}
	[[ -n "$want_out" && -n "$want_err" ]]
	run -1 --separate-stderr ecs-filter true "$BATS_TEST_TMPDIR/in.gz" "$IN"
	is "$output" "$want_out"
	is "$stderr" "$want_err"
	run -1 --separate-stderr ecs-sales -m 'n=count()' < "$FIXTURES/bad/not-rfc.ndjson"
	want_out=$output want_err=$stderr
	run -1 --separate-stderr ecs-sales -m 'n=count()' < "$BATS_TEST_TMPDIR/in.gz"
	is "$output" "$want_out"
	is "$stderr" "$want_err"
	shared_data uci-online-retail/orders.ndjson.gz
	run -0 --separate-stderr ecs-stock -q --reject "$BATS_TEST_TMPDIR/rej" "$data"
	zcat "$data" | ecs-stock -q --reject "$BATS_TEST_TMPDIR/rej2" > "$BATS_TEST_TMPDIR/out2" 2>/dev/null
	is "$output" "$(cat "$BATS_TEST_TMPDIR/out2")"
	[[ -s "$BATS_TEST_TMPDIR/rej" ]]
	cmp "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/rej2"
}

@test "SIGTERM while a --late write waits: the write is finished, exit 0" {
	[[ -r /proc/self/wchan ]] || skip "needs /proc/PID/wchan"
	# One event at noon, then 2000 late ones: 90 kB, more than a pipe
	# holds and less than the reader's first read, so that no line is
	# left half read when the signal stops the input.
	{ echo '{"ts":"2010-12-01T12:00:00Z","amount":1}'
	  for i in $(seq 10001 12000); do echo "{\"ts\":\"2010-12-01T08:00:00Z\",\"amount\":$i}"; done
	} > "$IN"
	fifo=$BATS_TEST_TMPDIR/late
	mkfifo "$fifo"
	ecs-sales -w 1h -m 'n=count()' --late "$fifo" "$IN" \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" 3>&- &
	first=$!
	exec 5< "$fifo"
	# Wait until it blocks in a write to the full pipe.
	wait_until grep -qs pipe_write "/proc/$first/wchan"
	like "$(cat /proc/$first/wchan)" '*pipe_write*' "blocked writing --late"
	kill -TERM "$first"
	cat <&5 > "$BATS_TEST_TMPDIR/late.ndjson"
	exec 5<&-
	status=0
	wait "$first" || status=$?
	first=
	is "$status" 0 "exit status; stderr: $(cat "$BATS_TEST_TMPDIR/err")"
	# Every late line was written, whole: all but the first two (the first
	# at 08:00 opens its window, which closes at once behind noon).
	is "$(wc -l < "$BATS_TEST_TMPDIR/late.ndjson")" 1999
	is "$(cksum < "$BATS_TEST_TMPDIR/late.ndjson")" "$(tail -n +3 "$IN" | cksum)"
}

@test "ecs-recommend: the latest event time survives in --state for events without one" {
	ev '{"user_id":1,"product_id":10,"action":"browse","ts":"2010-12-01T08:00:00Z"}'
	run -0 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/s" "$IN"
	ev '{"user_id":1,"product_id":11,"action":"browse"}'
	run -0 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/s" "$IN"
	like "$output" '{"seq":2,"user_id":1,"ts":"2010-12-01T08:00:00Z",*'
	is "$stderr" "ecs-recommend: 1 event without a time, at the latest event time before it"
}
