#!/usr/bin/env bats
# ecs-session: sessions checked against DuckDB's gaps-and-islands over
# LAG(ts), abandoned carts against a small independent model, late
# bridging events, --max-open, a kill -9 restart from --state, bad lines.

load helpers

SHOP="$FIXTURES/session/shop.ndjson"

# sessions_sql FILE KEY GAP_MS LATENESS_MS: DuckDB's sessions of FILE
# (tests/peers/sessions.sql), with the fields of ecs-session's lines.
sessions_sql() {
	duckdb_sql "$(sed -e "s|@FILE@|$1|g" -e "s|@KEY@|$2|g" -e "s|@GAP@|$3|g" \
	    -e "s|@LATENESS@|$4|g" "$BATS_TEST_DIRNAME/peers/sessions.sql")"
}

# canon: session lines with every number and numeric string as its
# shortest text, keys sorted, lines sorted: how ecs and DuckDB are compared.
canon() {
	jq -c -S 'walk(if type == "number" then (. + 0 | tostring)
	    elif type == "string" and test("^-?[0-9]+(\\.[0-9]+)?$") then (tonumber + 0 | tostring)
	    else . end)' | LC_ALL=C sort
}

# same_as_duckdb FILE KEY LATENESS_MS [ECS-SESSION OPTIONS]: every session
# and field equal; at least $min sessions.
same_as_duckdb() {
	local file=$1 key=$2 lateness=$3
	shift 3
	ecs-session -q --key "$key" --max-duration 1000d \
	    --lateness "$( ((lateness)) && echo "${lateness}ms" || echo 0)" \
	    "$@" "$file" |
	    canon > "$BATS_TEST_TMPDIR/ecs"
	sessions_sql "$file" "$key" 1800000 "$lateness" |
	    canon > "$BATS_TEST_TMPDIR/duck"
	n=$(wc -l < "$BATS_TEST_TMPDIR/duck")
	echo "# $n sessions" >&3
	(( n >= min ))
	diff "$BATS_TEST_TMPDIR/duck" "$BATS_TEST_TMPDIR/ecs" | head -20 >&2
	cmp -s "$BATS_TEST_TMPDIR/duck" "$BATS_TEST_TMPDIR/ecs"
}

@test "session: the fixture's sessions, byte for byte" {
	run --separate-stderr ecs-session --lateness 1h "$SHOP"
	is "$status" 0
	is "${#lines[@]}" 6
	is "${lines[0]}" '{"session":"1@2026-11-01T10:00:00Z","user_id":1,"start":"2026-11-01T10:00:00Z","end":"2026-11-01T10:08:00Z","duration_s":480,"events":4,"browse":1,"add_to_cart":2,"remove_from_cart":1,"purchase":0,"other":0,"products":1,"landing_product":101,"exit_product":103,"depth":"cart","converted":false,"orders":0,"revenue":0,"cart_left":39.80,"bounced":false,"closed":"gap"}'
	is "${lines[1]}" '{"session":"3@2026-11-01T10:09:00Z","user_id":3,"start":"2026-11-01T10:09:00Z","end":"2026-11-01T10:20:00Z","duration_s":660,"events":3,"browse":0,"add_to_cart":0,"remove_from_cart":0,"purchase":2,"other":1,"products":0,"landing_product":104,"exit_product":104,"depth":"purchase","converted":true,"orders":1,"revenue":22.60,"cart_left":0,"bounced":false,"closed":"gap"}'
	# A gap of 29:59.999 keeps the session; a purchase without a price
	# makes the revenue unknown (null), not 19.90.
	like "${lines[2]}" '{"session":"u2@2026-11-01T10:06:00.250Z",*"end":"2026-11-01T10:36:00.249Z","duration_s":1799.999,"events":3,*"cart_left":12,*'
	like "${lines[4]}" '*"orders":2,"revenue":null,*'
	like "$stderr" "*shop.ndjson:11: action 'fav' is counted as other*"
}

@test "session: the fixture against DuckDB (LAG over each key's events)" {
	need_duckdb
	min=6
	same_as_duckdb "$SHOP" user_id 3600000
}

@test "session: a late event that bridges two sessions merges them (Flink)" {
	ev '{"user_id":4,"action":"browse","product_id":1,"ts":"2026-11-02T12:00:00Z"}' \
	   '{"user_id":4,"action":"browse","product_id":2,"ts":"2026-11-02T12:40:00Z"}' \
	   '{"user_id":4,"action":"browse","product_id":3,"ts":"2026-11-02T12:20:00Z"}'
	run -0 ecs-session --lateness 1h "$IN"
	is "${#lines[@]}" 1
	like "$output" '{"session":"4@2026-11-02T12:00:00Z",*"end":"2026-11-02T12:40:00Z","duration_s":2400,"events":3,*"landing_product":1,"exit_product":2,*'
	# Without the lateness the third is late: two sessions, one late line.
	run --separate-stderr ecs-session --late "$BATS_TEST_TMPDIR/late" "$IN"
	is "$status" 0
	is "${#lines[@]}" 2
	is "$(cat "$BATS_TEST_TMPDIR/late")" "$(sed -n 3p "$IN")"
	like "$stderr" "*1 late event (before the watermark), in *late*"
}

@test "session: the Taobao sample against DuckDB (out of order: lateness 1000d)" {
	need_duckdb
	shared_data taobao-user-behavior-sample/events.ndjson
	min=5000
	same_as_duckdb "$data" user_id 86400000000
}

@test "session: the UCI purchases against DuckDB (orders, exact revenue)" {
	need_duckdb
	shared_data uci-online-retail/events.ndjson.gz
	zcat "$data" > "$BATS_TEST_TMPDIR/uci.ndjson"
	min=15000
	same_as_duckdb "$BATS_TEST_TMPDIR/uci.ndjson" user_id 0
}

@test "session: 200k ecs-gen events against DuckDB" {
	need_duckdb
	ecs-gen -n 200000 -s 7 > "$BATS_TEST_TMPDIR/gen.ndjson"
	min=20000
	same_as_duckdb "$BATS_TEST_TMPDIR/gen.ndjson" user_id 0
}

@test "session: a revenue or cart value past 38 digits is null, not a rounded figure" {
	# 123456789012345.123456789012345678 * 10^12 has 39 digits: exactly
	# it does not fit, and a double's 1.2345678901234512e26 is not it.
	ev '{"user_id":1,"action":"add_to_cart","product_id":2,"price":"123456789012345.123456789012345678","quantity":1000000000000,"ts":"2026-11-01T10:00:00Z"}' \
	   '{"user_id":1,"action":"purchase","product_id":2,"price":"123456789012345.123456789012345678","quantity":1000000000000,"ts":"2026-11-01T10:01:00Z"}' \
	   '{"user_id":2,"action":"purchase","product_id":2,"price":"123456789012345.123456789012345678","quantity":1000,"ts":"2026-11-01T10:01:00Z"}'
	run -0 ecs-session "$IN"
	like "${lines[0]}" '*"user_id":1,*"revenue":null,"cart_left":0,*'
	like "${lines[1]}" '*"user_id":2,*"revenue":123456789012345123.456789012345678000,*'
}

@test "session: --key session_id keeps the input's own sessions apart" {
	need_duckdb
	ecs-gen -n 20000 -s 3 > "$BATS_TEST_TMPDIR/gen.ndjson"
	min=1000
	same_as_duckdb "$BATS_TEST_TMPDIR/gen.ndjson" session_id 0
}

# carts_same GEN-OPTIONS -- ECS-SESSION-OPTIONS: the alerts of ecs-session
# and of tests/peers/carts.pl on an ecs-gen stream, line for line; at
# least $min alerts and $rmin recoveries.
carts_same() {
	local g="$BATS_TEST_TMPDIR/gen.ndjson" after=$1 after_ms=$2
	shift 2
	ecs-gen "$@" > "$g"
	ecs-session -q --abandon "$after" "$g" | grep '^{"alert"' | canon \
	    > "$BATS_TEST_TMPDIR/ecs"
	perl "$BATS_TEST_DIRNAME/peers/carts.pl" "$after_ms" 604800000 1800000 \
	    < "$g" | canon > "$BATS_TEST_TMPDIR/model"
	echo "# $(grep -c abandoned "$BATS_TEST_TMPDIR/model") abandoned, $(grep -c recovered "$BATS_TEST_TMPDIR/model") recovered" >&3
	(( $(grep -c abandoned "$BATS_TEST_TMPDIR/model") >= min ))
	(( $(grep -c recovered "$BATS_TEST_TMPDIR/model") >= rmin ))
	diff "$BATS_TEST_TMPDIR/model" "$BATS_TEST_TMPDIR/ecs" | head -10 >&2
	cmp -s "$BATS_TEST_TMPDIR/model" "$BATS_TEST_TMPDIR/ecs"
}

@test "session: abandoned carts and recoveries equal an independent model" {
	min=100 rmin=0
	carts_same 1h 3600000 -n 20000 -s 5
	min=100 rmin=5
	carts_same 2m 120000 -n 20000 -s 9 --buy-rate 0.6
}

@test "session: remove_from_cart through --map-action, the alert byte for byte" {
	ev '{"user_id":7,"action":"cart","product_id":1,"ts":"2026-11-01T10:00:00Z","price":2.50,"quantity":3}' \
	   '{"user_id":7,"action":"cart","product_id":2,"ts":"2026-11-01T10:01:00Z","price":10}' \
	   '{"user_id":7,"action":"del","product_id":1,"ts":"2026-11-01T10:02:00Z","quantity":1}' \
	   '{"user_id":8,"action":"view","product_id":9,"ts":"2026-11-01T11:03:00Z"}' \
	   '{"user_id":7,"action":"buy","product_id":1,"ts":"2026-11-01T12:00:00Z","price":2.50,"quantity":5}'
	run -0 --separate-stderr ecs-session --abandon 1h --map-action cart=add_to_cart \
	    --map-action del=remove_from_cart --map-action buy=purchase \
	    --map-action view=browse "$IN"
	# The session closes at 10:32, the cart is due at 11:02.
	like "${lines[0]}" '{"session":"7@2026-11-01T10:00:00Z",*"add_to_cart":2,"remove_from_cart":1,*"cart_left":15.00,*'
	is "${lines[1]}" '{"alert":"abandoned_cart","user_id":7,"items":[{"product_id":1,"quantity":2,"price":2.50},{"product_id":2,"quantity":1,"price":10}],"value":15.00,"last_activity":"2026-11-01T10:02:00Z","session":"7@2026-11-01T10:00:00Z"}'
	# Two of the five bought were in the alert: recovered; the rest not.
	is "${lines[2]}" '{"alert":"cart_recovered","user_id":7,"items":[{"product_id":1,"quantity":2,"price":2.50}],"value":5.00,"ts":"2026-11-01T12:00:00Z","after_s":3480,"session":"7@2026-11-01T12:00:00Z"}'
	is "${#lines[@]}" 5
}

@test "session: a purchase exactly --recover after the alert recovers, whatever came first" {
	# The alert is at 11:00; the purchase at 13:00 is 2h after it. Another
	# key's event of 13:00 read before it must not end the watch.
	for other in '' '{"user_id":9,"action":"browse","ts":"2026-11-01T13:00:00Z"}'; do
		ev '{"user_id":7,"action":"add_to_cart","product_id":1,"price":2,"ts":"2026-11-01T10:00:00Z"}' \
		   '{"user_id":8,"action":"browse","ts":"2026-11-01T11:00:00Z"}' \
		   ${other:+"$other"} \
		   '{"user_id":7,"action":"purchase","product_id":1,"price":2,"ts":"2026-11-01T13:00:00Z"}'
		run -0 ecs-session --abandon 1h --recover 2h "$IN"
		like "$output" '*{"alert":"cart_recovered","user_id":7,*"after_s":7200,*' "with [$other] first"
	done
	# A millisecond later is past it.
	ev '{"user_id":7,"action":"add_to_cart","product_id":1,"price":2,"ts":"2026-11-01T10:00:00Z"}' \
	   '{"user_id":8,"action":"browse","ts":"2026-11-01T11:00:00Z"}' \
	   '{"user_id":7,"action":"purchase","product_id":1,"price":2,"ts":"2026-11-01T13:00:00.001Z"}'
	run -0 ecs-session --abandon 1h --recover 2h "$IN"
	like "$output" '*"abandoned_cart"*'
	[[ "$output" != *cart_recovered* ]]
}

@test "session: --emit update writes the session so far after each event" {
	run -0 --separate-stderr ecs-session --emit update --lateness 1h "$SHOP"
	is "$(grep -c '"closed":null' <<< "$output")" 17
	is "$(grep -vc '"closed":null' <<< "$output")" 6
	like "$(grep '"closed":null' <<< "$output" | tail -1)" '{"session":"4@2026-11-02T12:01:00Z",*"events":3,*'
}

@test "session: --max-duration cuts a session, --max-open closes the one due first early" {
	for i in $(seq 0 49); do
		printf '{"user_id":1,"action":"browse","product_id":%d,"ts":%d}\n' "$i" $((1793520000 + i * 1200))
	done > "$IN"
	run -0 ecs-session --max-duration 10h "$IN"
	is "${#lines[@]}" 2
	like "${lines[0]}" '*"duration_s":34800,"events":30,*"closed":"max_duration"}'
	like "${lines[1]}" '*"events":20,*"closed":"end"}'
	# A late 10:40 between 10:00-10:20 and 10:55-11:10 would bridge them
	# into 70 minutes: it joins the earlier only, as ecs-session(1) says.
	for t in 10:00 10:20 10:55 11:10 10:40; do
		echo "{\"user_id\":1,\"action\":\"browse\",\"ts\":\"2026-11-01T$t:00Z\"}"
	done > "$IN"
	run -0 ecs-session --max-duration 1h --lateness 2h "$IN"
	is "$(jq -c '[.start, .end, .events]' <<< "$output")" \
	    $'["2026-11-01T10:00:00Z","2026-11-01T10:40:00Z",3]\n["2026-11-01T10:55:00Z","2026-11-01T11:10:00Z",2]'
	ecs-gen -n 5000 -s 2 > "$IN"
	run -0 --separate-stderr ecs-session --max-open 10 "$IN"
	like "$stderr" '*ecs-session: * sessions closed early (--max-open 10)*'
	n=$(grep -c '"closed":"max_open"' <<< "$output")
	(( n > 0 ))
	# Every event is in exactly one session written.
	is "$(jq -s 'map(.events) | add' <<< "$output")" 5000
}

@test "session: bad lines are reported, counted, rejected; the rest is sessions" {
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	   '{"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	   '{"user_id":1,"action":"purchase","ts":"2026-11-01T10:01:00Z","price":"cheap"}' \
	   '{"user_id":1,"action":"add_to_cart","ts":"2026-11-01T10:01:00Z","quantity":-1}' \
	   '{"user_id":1,"action":7,"ts":"2026-11-01T10:01:00Z"}' \
	   '{"user_id":1,"action":"browse","ts":"soon"}' \
	   'not json' \
	   '{"user_id":{"a":1},"action":"browse","ts":"2026-11-01T10:00:00Z"}'
	run -1 --separate-stderr ecs-session "$IN"
	is "${#lines[@]}" 1
	like "${lines[0]}" '*"events":1,*'
	like "$stderr" "*in.ndjson:2: field 'user_id' is missing*"
	like "$stderr" "*in.ndjson:3: field 'price' is not an exact decimal*"
	like "$stderr" "*in.ndjson:4: field 'quantity' is not a whole number*"
	like "$stderr" "*in.ndjson:5: field 'action' is not a string*"
	like "$stderr" "*in.ndjson:6: field 'ts' is not a time: \"soon\"*"
	like "$stderr" "*in.ndjson:8: field 'user_id' is not a number or string*"
	run -0 ecs-session --reject "$BATS_TEST_TMPDIR/rej" "$IN"
	is "$(wc -l < "$BATS_TEST_TMPDIR/rej")" 7
}

@test "session: a bad line's time moves no watermark: the events after it are not late" {
	# Line 2's time is out of range, line 3 has no key: both refused.
	# Had their times moved event time on, the session had closed at
	# line 4 and line 5 been late.
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	   '{"user_id":1,"action":"browse","ts":8700000000000000}' \
	   '{"action":"browse","ts":"2030-01-01T00:00:00Z"}' \
	   '{"user_id":1,"action":"browse","ts":"2026-11-01T10:05:00Z"}' \
	   '{"user_id":1,"action":"browse","ts":"2026-11-01T10:06:00Z"}'
	run -1 --separate-stderr ecs-session "$IN"
	is "$(jq -c '{events, "end": .end, closed}' <<< "$output")" \
	    '{"events":3,"end":"2026-11-01T10:06:00Z","closed":"end"}'
	like "$stderr" "*in.ndjson:2: field 'ts' is out of range*"
	[[ "$stderr" != *late* ]]
}

@test "session: kill -9 and resume from --state: no session lost, repeats only as ecs(7) allows" {
	ecs-gen -n 20000 -s 4 > "$BATS_TEST_TMPDIR/g"
	crash_and_resume ecs-session -q --abandon 30m
	# whole: every session, those open at the end closed by "end"; the
	# killed run and its restart keep those in the state instead.
	grep -v '"closed":"end"' "$BATS_TEST_TMPDIR/whole" | LC_ALL=C sort \
	    > "$BATS_TEST_TMPDIR/want"
	cat "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | LC_ALL=C sort -u \
	    > "$BATS_TEST_TMPDIR/got"
	(( $(wc -l < "$BATS_TEST_TMPDIR/want") > 1000 ))
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got" | head >&2
	cmp -s "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# A state saved with another gap is refused, not continued.
	run -2 --separate-stderr ecs-session --gap 10m --state "$BATS_TEST_TMPDIR/crash.state" < /dev/null
	like "$stderr" '*saved with other options*'
}

@test "session: YOOCHOOSE's own sessions closed by the gap, against DuckDB" {
	need_duckdb
	shared_data yoochoose-100k/test.ndjson
	min=3400
	same_as_duckdb "$data" session_id 0
	# How often a session of the data set is one gap session (README).
	one=$(jq -r .session_id "$BATS_TEST_TMPDIR/ecs" | sort | uniq -c | awk '$1 == 1' | wc -l)
	echo "# $one of 3416 sessions are one gap session" >&3
}

@test "session: --idle closes the session and alerts on the cart of a quiet stream" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-session --idle 100ms --gap 1s --abandon 2s < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	echo '{"user_id":1,"action":"add_to_cart","product_id":5,"price":3,"ts":"2026-11-01T10:00:00Z"}' >&5
	# No more events, the writer still open: event time goes on with the clock.
	wait_for "$out" '"alert":"abandoned_cart"'
	like "$(head -1 "$out")" '{"session":"1@2026-11-01T10:00:00Z",*"cart_left":3,"bounced":true,"closed":"gap"}'
	is "$(sed -n 2p "$out")" '{"alert":"abandoned_cart","user_id":1,"items":[{"product_id":5,"quantity":1,"price":3}],"value":3,"last_activity":"2026-11-01T10:00:00Z","session":"1@2026-11-01T10:00:00Z"}'
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
}

@test "session: every kind of bad input is survived, reported and rejected whole" {
	for f in "$FIXTURES"/bad/*.ndjson; do
		rej="$BATS_TEST_TMPDIR/rej"
		rm -f "$rej"
		run --separate-stderr ecs-session -q --abandon 1h --lateness 1h "$f"
		(( status <= 1 )) || { echo "# $f: exit $status" >&2; return 1; }
		[[ "$stderr" != *"rror"* || "$stderr" == *"bad line"* ]] ||
		    { echo "# $f: $stderr" >&2; return 1; }
		n=$(tr -d '\r' < "$f" | grep -acv '^[[:space:]]*$' || true)
		run --separate-stderr ecs-session -q --reject "$rej" "$f"
		is "$status" 0 "$f: every bad line rejected"
		if [[ -s "$rej" ]]; then
			matches "$stderr" "^ecs-session: ([0-9]+) bad lines? of $n written to $rej\$" "$f: summary"
			is "$(wc -l < "$rej")" "${BASH_REMATCH[1]}" "$f: rejected lines"
		fi
	done
}

@test "session: a full disk is an error; SIGTERM saves the state; valgrind finds nothing" {
	ecs-gen --events 3000 --seed 2 > "$BATS_TEST_TMPDIR/g"
	if [[ -w /dev/full ]]; then
		run -1 --separate-stderr bash -c "ecs-session '$BATS_TEST_TMPDIR/g' > /dev/full"
		is "$stderr" "ecs-session: write error on <stdout>: No space left on device"
	fi
	fifo="$BATS_TEST_TMPDIR/fifo" st="$BATS_TEST_TMPDIR/state"
	mkfifo "$fifo"
	ecs-session --abandon 1h --state "$st" --checkpoint 0 < "$fifo" > "$BATS_TEST_TMPDIR/out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	head -2 "$SHOP" >&5
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid"
	exec 5>&-
	like "$(head -1 "$st")" '*"lines":2,*'
	is "$(grep -c '^{"session":{' "$st")" 1
	is "$(grep -c '^{"cart":{' "$st")" 1
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	if sanitized; then
		skip "valgrind runs on the build without sanitizers"
	fi
	cat "$FIXTURES"/bad/*.ndjson >> "$BATS_TEST_TMPDIR/g"
	run valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 ecs-session -q --abandon 10m --lateness 1h \
	    --max-open 50 --emit update --state "$BATS_TEST_TMPDIR/vg.state" \
	    "$BATS_TEST_TMPDIR/g"
	is "$status" 1 "exit under valgrind (99: valgrind found an error)"
	run valgrind -q --leak-check=full --error-exitcode=99 ecs-session -q \
	    --abandon 10m --lateness 1h --max-open 50 --state "$BATS_TEST_TMPDIR/vg.state" \
	    "$SHOP"
	is "$status" 0 "exit of the resumed run under valgrind"
}

@test "session: a state file with impossible values is refused, not trusted" {
	st="$BATS_TEST_TMPDIR/s.state"
	head -2 "$SHOP" | ecs-session -q --abandon 1h --state "$st"
	cp "$st" "$BATS_TEST_TMPDIR/good"
	sed -i '1s/"now":[0-9]*/"now":-9223372036854775807/' "$st"
	run -1 --separate-stderr ecs-session --abandon 1h --state "$st" < /dev/null
	like "$stderr" "*s.state:1: corrupt state: 'now' is not a time*"
	sed 's/"end":[0-9]*/"end":9223372036854775000/' "$BATS_TEST_TMPDIR/good" > "$st"
	run -1 --separate-stderr ecs-session --abandon 1h --state "$st" < /dev/null
	like "$stderr" "*s.state:2: corrupt state: 'end' is not a time*"
	sed 's/"landing":0/"landing":5/' "$BATS_TEST_TMPDIR/good" > "$st"
	run -1 --separate-stderr ecs-session --abandon 1h --state "$st" < /dev/null
	like "$stderr" "*s.state:2: corrupt state: impossible values*"
	# Values written out as they are: a number id that is no number made
	# lines that are not JSON, a count below 0 wrapped to 2^64 - 1.
	sed 's/"text":"1","string":false/"text":"1 2","string":false/' "$BATS_TEST_TMPDIR/good" > "$st"
	run -1 cmp -s "$st" "$BATS_TEST_TMPDIR/good"
	run -1 --separate-stderr ecs-session --abandon 1h --state "$st" < /dev/null
	like "$stderr" "*s.state:2: corrupt state: an id is not a number's text*"
	is "$output" ""
	sed 's/"count":\[\([0-9]*\),\([0-9]*\),/"count":[\1,-\2,/' "$BATS_TEST_TMPDIR/good" > "$st"
	run -1 cmp -s "$st" "$BATS_TEST_TMPDIR/good"
	run -1 --separate-stderr ecs-session --abandon 1h --state "$st" < /dev/null
	like "$stderr" "*s.state:2: corrupt state: 'count' has not 5 numbers from 0*"
	is "$output" ""
	# Two sessions of a key that overlap (two lines of one session id).
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	   '{"user_id":1,"action":"browse","ts":"2026-11-01T12:00:00Z"}'
	rm "$st"
	ecs-session --lateness 10h --state "$st" "$IN"
	sed '3s/"start":[0-9]*/"start":1793527200000/' "$st" > "$BATS_TEST_TMPDIR/bad"
	run -1 cmp -s "$st" "$BATS_TEST_TMPDIR/bad"
	mv "$BATS_TEST_TMPDIR/bad" "$st"
	run -1 --separate-stderr ecs-session --lateness 10h --state "$st" < /dev/null
	like "$stderr" "*s.state:3: corrupt state: a session that overlaps the one before*"
}

@test "units past 2^63 - 1 are not known: cart_left is null, not a wrapped sum" {
	ev '{"user_id":1,"action":"add_to_cart","product_id":7,"quantity":2,"price":1.5,"ts":"2026-11-01T10:00:00Z"}'
	st="$BATS_TEST_TMPDIR/st"
	ecs-session --state "$st" "$IN" > /dev/null
	# As if 9.2 million lines of 10^12 units had been carted.
	grep -q '"carted":2,' "$st"
	sed -i 's/"carted":2,/"carted":9223372036854775000,/' "$st"
	ev '{"user_id":1,"action":"add_to_cart","product_id":7,"quantity":1000000000000,"price":1.5,"ts":"2026-11-01T10:01:00Z"}'
	run -0 ecs-session --state "$st" --emit update "$IN"
	is "$(jq -c '[.add_to_cart, .cart_left]' <<< "$output")" '[2,null]'
}
