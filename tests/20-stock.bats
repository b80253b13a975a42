#!/usr/bin/env bats
# ecs-stock: levels, every alert kind, thresholds, forecasting, --report,
# state that survives (split runs, kill -9, corruption), bad lines, latency
# and a real dataset.

load helpers

stock() { ecs-stock "$@" "$BATS_TEST_TMPDIR/in.ndjson"; }

@test "30-digit product ids are two products, written as they came" {
	ev '{"product_id":123456789012345678901234567890,"quantity":5}' \
	   '{"product_id":123456789012345678901234567891,"quantity":20}' \
	   '{"product_id":123456789012345678901234567891,"quantity":19,"s":"\u0041"}'
	run -0 --separate-stderr stock -t 10 --state "$BATS_TEST_TMPDIR/st"
	is "$(ecs-filter -t '{alert} {product_id}' true <<< "$output")" 'low_stock 123456789012345678901234567890'
	run -0 stock -t 10 --state "$BATS_TEST_TMPDIR/st" --report
	is "$(ecs-filter -t '{product_id} {quantity} {status}' 'exists(status)' <<< "$output")" \
	    $'123456789012345678901234567890 5 low\n123456789012345678901234567891 19 ok'
}

@test "the brief's inventory example, byte for byte" {
	run -0 --separate-stderr bash -c "set -o pipefail; ecs-stock '$FIXTURES/brief/inventory.ndjson' |
	    ecs-filter --template 'Warning: Product {product_id} is low on stock' true"
	is "$output" "Warning: Product 103 is low on stock"
	is "$stderr" ""
}

@test "every alert kind, on transitions" {
	ev '{"product_id":7,"quantity":100,"ts":"2026-11-01T10:00:00Z"}' \
	   '{"action":"purchase","product_id":7,"quantity":90,"ts":"2026-11-01T10:01:00Z"}' \
	   '{"action":"purchase","product_id":7,"quantity":5,"ts":"2026-11-01T10:02:00Z"}' \
	   '{"action":"purchase","product_id":7,"quantity":5,"ts":"2026-11-01T10:03:00Z"}' \
	   '{"action":"purchase","product_id":7,"ts":"2026-11-01T10:04:00Z"}' \
	   '{"action":"restock","product_id":7,"quantity":6,"ts":"2026-11-01T10:05:00Z"}' \
	   '{"action":"return","product_id":7,"quantity":20,"ts":"2026-11-01T10:06:00Z"}' \
	   '{"action":"adjust","product_id":7,"delta":-25,"ts":"2026-11-01T10:07:00Z"}'
	run -0 --separate-stderr stock
	is "$output" '{"alert":"low_stock","product_id":7,"quantity":10,"threshold":10,"ts":"2026-11-01T10:01:00Z"}
{"alert":"out_of_stock","product_id":7,"quantity":0,"threshold":10,"ts":"2026-11-01T10:03:00Z"}
{"alert":"oversold","product_id":7,"quantity":-1,"threshold":10,"ts":"2026-11-01T10:04:00Z"}
{"alert":"low_stock","product_id":7,"quantity":5,"threshold":10,"ts":"2026-11-01T10:05:00Z"}
{"alert":"back_in_stock","product_id":7,"quantity":25,"threshold":10,"ts":"2026-11-01T10:06:00Z"}
{"alert":"out_of_stock","product_id":7,"quantity":0,"threshold":10,"ts":"2026-11-01T10:07:00Z"}'
	is "$stderr" ""
}

@test "--every: an alert for every record that leaves a product low" {
	ev '{"product_id":7,"quantity":12}' '{"action":"purchase","product_id":7,"quantity":3}' \
	   '{"action":"purchase","product_id":7}' '{"product_id":7,"quantity":11}' \
	   '{"action":"browse","product_id":7}' '{"action":"purchase","product_id":7}'
	run -0 stock -t 10
	is "$(ecs-filter -t '{alert} {quantity}' true <<< "$output")" $'low_stock 9\nback_in_stock 11\nlow_stock 10'
	run -0 stock --every
	is "$(ecs-filter -t '{alert} {quantity}' true <<< "$output")" $'low_stock 9\nlow_stock 8\nback_in_stock 11\nlow_stock 10'
}

@test "thresholds: global, from a file, from the event, in that order of strength" {
	ev '{"product_id":1,"quantity":15}' '{"product_id":"A","quantity":15}' \
	   '{"product_id":3,"quantity":15,"threshold":20}' '{"product_id":4,"quantity":5,"threshold":0}'
	printf '%s\n' '{"product_id":"A","threshold":15}' '{"product_id":3,"threshold":1}' \
	    > "$BATS_TEST_TMPDIR/thr.ndjson"
	run -0 stock --thresholds "$BATS_TEST_TMPDIR/thr.ndjson" --report
	is "$(ecs-filter -t '{product_id} {status} {threshold}' 'exists(status)' <<< "$output")" \
	    $'1 ok 10\nA low 15\n3 low 20\n4 ok 0'
	run -0 stock -t 16 --report
	is "$(ecs-filter -c 'alert == "low_stock"' <<< "$output")" 3
}

@test "a bad thresholds file is reported like any input" {
	printf '%s\n' '{"product_id":1,"threshold":-3}' 'nope' > "$BATS_TEST_TMPDIR/thr.ndjson"
	run -1 --separate-stderr ecs-stock --thresholds "$BATS_TEST_TMPDIR/thr.ndjson" < /dev/null
	like "$stderr" "*thr.ndjson:1: field 'threshold' is not a whole number of units (>= 0)*thr.ndjson:2: invalid JSON*"
}

@test "forecasting: velocity and hours of cover computed by hand" {
	# Half-life 1h. 10 units at 10:00, 10 more at 11:00: the decayed sum
	# is 10 * 0.5 + 10 = 15 units, the velocity 15 * ln 2 = 10.397 units
	# an hour, and 80 units left cover 80 / 10.397 = 7.694 hours.
	ev '{"product_id":5,"quantity":100,"ts":"2026-11-01T09:00:00Z"}' \
	   '{"action":"purchase","product_id":5,"quantity":10,"ts":"2026-11-01T10:00:00Z"}' \
	   '{"action":"purchase","product_id":5,"quantity":10,"ts":"2026-11-01T11:00:00Z"}' \
	   '{"action":"purchase","product_id":5,"quantity":1,"ts":"2026-11-01T11:00:01Z"}'
	run -0 stock --half-life 1h --cover-hours 8
	is "$output" '{"alert":"stockout_risk","product_id":5,"quantity":80,"threshold":10,"velocity_per_hour":10.397,"hours_of_cover":7.694,"ts":"2026-11-01T11:00:00Z"}'
	run -0 stock --half-life 1h --cover-hours 8 --every
	is "${#lines[@]}" 2 "--every repeats the risk"
	run -0 stock --half-life 1h --cover-hours 7
	is "$output" "" "12.98 and 7.69 hours are not below 7"
	# One more unit a second later: 15 * 2^(-1/3600) + 1 = 15.99711 units,
	# 11.088 an hour, and 79 units cover 7.125 hours.
	run -0 stock --half-life 1h --report
	is "$output" '{"product_id":5,"quantity":79,"status":"ok","threshold":10,"velocity_per_hour":11.088,"hours_of_cover":7.125}'
}

@test "forecasting: a steady rate converges to that rate" {
	for h in $(seq 10 59); do
		printf '{"action":"purchase","product_id":1,"quantity":4,"ts":"2026-11-01T%02d:%02d:00Z"}\n' $((h / 60 + 10)) $((h % 60))
	done > "$BATS_TEST_TMPDIR/in.ndjson"
	# 4 units a minute is 240 an hour; a 5 minute half-life forgets the
	# start. Read just after a sale, the estimate is within 10%.
	run -0 stock --half-life 5m --report
	v=$(ecs-filter -t '{velocity_per_hour}' true <<< "$output")
	echo "# velocity $v for a steady 240 an hour" >&3
	(( ${v%.*} >= 216 && ${v%.*} <= 264 ))
}

@test "--report: every product in the order first seen, unknown levels too" {
	ev '{"product_id":"B","quantity":3}' '{"action":"purchase","product_id":"C"}' \
	   '{"product_id":101,"quantity":0}' '{"action":"adjust","product_id":"101","delta":-2}'
	run -0 stock --report
	is "$(ecs-filter -v 'exists(alert)' <<< "$output")" '{"product_id":"B","quantity":3,"status":"low","threshold":10,"velocity_per_hour":0}
{"product_id":"C","quantity":null,"status":"unknown","threshold":10,"velocity_per_hour":0.029}
{"product_id":101,"quantity":-2,"status":"oversold","threshold":10,"velocity_per_hour":0}'
}

@test "--initial gives products first seen in a movement a level" {
	ev '{"action":"purchase","product_id":9,"quantity":95}'
	run -0 stock --initial 100
	like "$output" '{"alert":"low_stock","product_id":9,"quantity":5,*'
	run -0 stock
	is "$output" ""
}

@test "browse and cart events pass silently; an unknown action is reported once" {
	ev '{"action":"browse","product_id":1}' '{"action":"add_to_cart","product_id":1}' \
	   '{"action":"wishlist","product_id":1}' '{"action":"wishlist","product_id":2}' \
	   '{"action":"gift","product_id":1}'
	run -0 --separate-stderr stock --report
	is "$output" ""
	is "$stderr" "ecs-stock: $BATS_TEST_TMPDIR/in.ndjson:3: action 'wishlist' is not a stock movement: passed over (not reported again)
ecs-stock: $BATS_TEST_TMPDIR/in.ndjson:5: action 'gift' is not a stock movement: passed over (not reported again)"
}

@test "--map and --map-action read another naming" {
	ev '{"sku":"X1","units":20,"time":1793523600}' '{"sku":"X1","event":"sold","units":18,"time":1793527200}'
	run -0 stock --map product_id=sku --map action=event --map quantity=units \
	    --map ts=time --map-action sold=purchase
	is "$output" '{"alert":"low_stock","product_id":"X1","quantity":2,"threshold":10,"ts":"2026-11-01T10:00:00Z"}'
}

@test "bad lines of every kind: diagnostics, --reject, exit status" {
	ev '{"product_id":1,"quantity":-1}' '{"product_id":1,"quantity":1.5}' \
	   '{"product_id":1,"quantity":"many"}' '{"quantity":4}' '{"product_id":[1],"quantity":4}' \
	   '{"product_id":1,"quantity":4,"ts":"yesterday"}' '{"action":7,"product_id":1}' \
	   '{"action":"restock","product_id":1}' '{"action":"adjust","product_id":1,"delta":"x"}' \
	   '{"action":"purchase","product_id":1,"quantity":-2}' 'not json' '[]' \
	   '{"product_id":1,"quantity":"5"}' '{"product_id":1,"quantity":4.0}'
	f="$BATS_TEST_TMPDIR/in.ndjson"
	run -1 --separate-stderr stock --report
	is "$stderr" "ecs-stock: $f:1: field 'quantity' is not a whole number of units (>= 0): -1
ecs-stock: $f:2: field 'quantity' is not a whole number of units (>= 0): 1.5
ecs-stock: $f:3: field 'quantity' is not a whole number of units (>= 0): \"many\"
ecs-stock: $f:4: field 'product_id' is missing
ecs-stock: $f:5: field 'product_id' is not a number or string: [1]
ecs-stock: $f:6: field 'ts' is not a time: \"yesterday\"
ecs-stock: $f:7: field 'action' is not a string: 7
ecs-stock: $f:8: field 'quantity' is missing
ecs-stock: $f:9: field 'delta' is not a whole number: \"x\"
ecs-stock: $f:10: field 'quantity' is not a whole number of units (>= 0): -2
ecs-stock: $f:11: invalid JSON at column 2: null expected
ecs-stock: $f:12: not a JSON object (found an array)
ecs-stock: 12 bad lines of 14 skipped"
	like "$output" '*"product_id":1,"quantity":4,"status":"low"*'
	run -0 --separate-stderr stock --reject "$BATS_TEST_TMPDIR/rej"
	is "$(head -12 "$f")" "$(cat "$BATS_TEST_TMPDIR/rej")"
}

@test "ids: numbers and strings, 101 and \"101\" are one product" {
	ev '{"product_id":"85123A","quantity":5}' '{"product_id":101,"quantity":50}' \
	   '{"action":"purchase","product_id":"101","quantity":45}' '{"product_id":"a\"b","quantity":1}'
	run -0 stock
	like "${lines[0]}" '{"alert":"low_stock","product_id":"85123A","quantity":5,*'
	like "${lines[1]}" '{"alert":"low_stock","product_id":101,"quantity":5,*'
	like "${lines[2]}" '{"alert":"low_stock","product_id":"a\\"b","quantity":1,*'
}

@test "state: two runs over two halves equal one run, split anywhere" {
	ecs-gen --events 30000 --inventory --products 100 --seed 3 > "$BATS_TEST_TMPDIR/g"
	ecs-stock --cover-hours 24 --report "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/whole"
	is "$(ecs-filter -c 'exists(status)' "$BATS_TEST_TMPDIR/whole")" 100 "a report line per product"
	for k in 1 100 101 7777 29999; do
		st="$BATS_TEST_TMPDIR/s$k"
		head -n "$k" "$BATS_TEST_TMPDIR/g" | ecs-stock --cover-hours 24 --state "$st" > "$BATS_TEST_TMPDIR/split"
		tail -n +"$((k + 1))" "$BATS_TEST_TMPDIR/g" |
		    ecs-stock --cover-hours 24 --state "$st" --report >> "$BATS_TEST_TMPDIR/split"
		is "$(cksum < "$BATS_TEST_TMPDIR/split")" "$(cksum < "$BATS_TEST_TMPDIR/whole")" "split at $k"
		like "$(head -1 "$st")" '{"ecs_state":"ecs-stock","version":1,"lines":30000,*'
	done
}

@test "state: cron's --report reads the saved levels" {
	ev '{"product_id":1,"quantity":3}'
	stock --state "$BATS_TEST_TMPDIR/s" > /dev/null
	run -0 ecs-stock --state "$BATS_TEST_TMPDIR/s" --report < /dev/null
	is "$output" '{"product_id":1,"quantity":3,"status":"low","threshold":10,"velocity_per_hour":0}'
}

@test "state: a corrupt or foreign file is an error and is left alone" {
	st="$BATS_TEST_TMPDIR/s"
	ev '{"product_id":1,"quantity":3}' '{"product_id":2,"quantity":30}'
	stock --state "$st" > /dev/null
	good=$(cat "$st")
	head -2 <<< "$good" > "$st"
	run -1 --separate-stderr ecs-stock --state "$st" < /dev/null
	like "$stderr" "ecs-stock: $st:2: corrupt state: no end line: the save did not finish*"
	is "$(cat "$st")" "$(head -2 <<< "$good")" "not replaced"
	{ head -1 <<< "$good"; echo '{"product_id":1,"quantity":"x"}'; } > "$st"
	run -1 --separate-stderr ecs-stock --state "$st" < /dev/null
	like "$stderr" "*$st:2: corrupt state: field 'quantity' missing or of the wrong type*"
	sed 's/"version":1/"version":9/' <<< "$good" > "$st"
	run -1 --separate-stderr ecs-stock --state "$st" < /dev/null
	like "$stderr" "*$st:1: corrupt state: version 9, expected 1*"
	echo '{"ecs_state":"ecs-sales","version":1}' > "$st"
	run -1 --separate-stderr ecs-stock --state "$st" < /dev/null
	like "$stderr" "*not a state file of ecs-stock*"
	printf '%s' "$good" | head -c 40 > "$st"
	run -1 --separate-stderr ecs-stock --state "$st" < /dev/null
	like "$stderr" "*corrupt state: truncated line*"
}

@test "state: times past any event time, an infinite sum sold, a product twice are corrupt" {
	st="$BATS_TEST_TMPDIR/s"
	head='{"ecs_state":"ecs-stock","version":1,"lines":1,"now":1793545200000}'
	line='{"product_id":101,"quantity":8,"known":true,"threshold":-1,"sold":12.5,"sold_at":1793545200000,"status":"low","at_risk":false}'
	ev '{"action":"purchase","product_id":101,"ts":"2026-11-01T00:00:00Z"}'
	# The file as it is: it loads, and its purchase is counted.
	printf '%s\n' "$head" "$line" '{"end":1}' > "$st"
	run -0 --separate-stderr stock --state "$st" --report
	like "$output" '*{"product_id":101,"quantity":7,*'
	# Each of these would reach the decay of the velocity: a time
	# difference that overflows (undefined), or a velocity of null.
	for bad in "$head|${line/1793545200000,\"status/-9223372036854775807,\"status}" \
	    "$head|${line/12.5/Infinity}" \
	    "${head/1793545200000/9223372036854775807}|$line" \
	    "$head|$line|${line/101/\"101\"}"; do
		tr '|' '\n' <<< "$bad" > "$st"
		echo "{\"end\":$(( $(wc -l < "$st") - 1 ))}" >> "$st"
		before=$(cat "$st")
		run -1 --separate-stderr stock --state "$st" --report
		is "$output" "" "$bad"
		matches "$stderr" "^ecs-stock: $st:[0-9]: corrupt state: (impossible values|product_id seen twice) " "$bad"
		is "$(cat "$st")" "$before" "not replaced"
	done
}

@test "state: a directory that cannot be saved to is refused before any input" {
	run -2 --separate-stderr ecs-stock --state /nonexistent-dir/s.state "$FIXTURES/brief/inventory.ndjson"
	is "$stderr" "ecs-stock: --state /nonexistent-dir/s.state: directory /nonexistent-dir does not exist"
	is "$output" ""
}

@test "state: kill -9 mid-run, restart from the checkpoint, nothing lost" {
	ecs-gen --events 20000 --inventory --products 300 --seed 5 > "$BATS_TEST_TMPDIR/g"
	crash_and_resume ecs-stock --report
	is "$(ecs-filter -c 'exists(status)' "$BATS_TEST_TMPDIR/whole")" 300 "a report line per product"
	# The levels are exact; alerts are at least once.
	is "$(ecs-filter -v 'exists(alert)' "$BATS_TEST_TMPDIR/second")" \
	   "$(ecs-filter -v 'exists(alert)' "$BATS_TEST_TMPDIR/whole")"
	is "$(cat "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | ecs-filter 'exists(alert)' | sort -u)" \
	   "$(ecs-filter 'exists(alert)' "$BATS_TEST_TMPDIR/whole" | sort -u)"
}

@test "SIGTERM stops reading, flushes and saves the state" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out" st="$BATS_TEST_TMPDIR/s"
	mkfifo "$fifo"
	ecs-stock --state "$st" --checkpoint 0 < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	echo '{"product_id":1,"quantity":4}' >&5
	wait_for "$out" '"low_stock"'	# the alert came before end of input
	like "$(cat "$out")" '{"alert":"low_stock","product_id":1,"quantity":4,"threshold":10,"ts":"*"}'
	kill -TERM "$pid"
	wait "$pid"
	exec 5>&-
	run -0 ecs-stock --state "$st" --report < /dev/null
	is "$output" '{"product_id":1,"quantity":4,"status":"low","threshold":10,"velocity_per_hour":0}'
}

@test "--max-products bounds memory with a clear error" {
	ev '{"product_id":1,"quantity":1}' '{"product_id":2,"quantity":1}' '{"product_id":1,"quantity":2}' \
	   '{"product_id":3,"quantity":1}'
	run -1 --separate-stderr stock --max-products 2
	is "$stderr" "ecs-stock: $BATS_TEST_TMPDIR/in.ndjson:4: more than 2 products (--max-products): stopping"
	is "${#lines[@]}" 2 "the alerts before the stop are written"
}

@test "usage errors" {
	run -2 --separate-stderr ecs-stock --half-life 0 </dev/null
	like "$stderr" "*--half-life '0'*"
	run -2 --separate-stderr ecs-stock --cover-hours x </dev/null
	like "$stderr" "*--cover-hours 'x'*"
	run -2 --separate-stderr ecs-stock -t -1 </dev/null
	like "$stderr" "*--threshold '-1'*"
}

@test "a real dataset: Taobao purchases as stock per category (--map)" {
	shared_data taobao-user-behavior-sample/events.ndjson
	run -0 --separate-stderr bash -c "set -o pipefail; ecs-stock --map product_id=category_id --initial 20 --report '$data' |
	    ecs-filter -v -t '{product_id} {quantity}' 'exists(alert)' | sort"
	want=$(jq -r 'select(.action == "purchase") | .category_id' "$data" | sort | uniq -c |
	    awk '{ print $2, 20 - $1 }' | sort)
	(( $(wc -l <<< "$want") > 100 ))
	# Categories never bought are still at 20: leave them out.
	is "$(grep -v ' 20$' <<< "$output")" "$want"
}

@test "products named only in --thresholds are not held; a restart keeps event thresholds" {
	printf '%s\n' '{"product_id":9,"threshold":50}' '{"product_id":1,"threshold":30}' > "$BATS_TEST_TMPDIR/thr"
	ev '{"product_id":1,"quantity":20,"threshold":5}'
	st="$BATS_TEST_TMPDIR/s"
	run -0 stock --thresholds "$BATS_TEST_TMPDIR/thr" --state "$st" --report --initial 0
	is "$output" '{"product_id":1,"quantity":20,"status":"ok","threshold":5,"velocity_per_hour":0}'
	run -0 ecs-stock --thresholds "$BATS_TEST_TMPDIR/thr" --state "$st" --report < /dev/null
	is "$output" '{"product_id":1,"quantity":20,"status":"ok","threshold":5,"velocity_per_hour":0}'
}

@test "a bad line's time does not move event time on" {
	# The overflowing restock is dated a day later: refused, it must not
	# make that day the latest event time, which the report is dated by.
	local q=2000000000000000000 good
	good=("{\"product_id\":1,\"quantity\":$q,\"ts\":\"2026-11-01T10:00:00Z\"}")
	for m in 1 2 3; do
		good+=("{\"action\":\"restock\",\"product_id\":1,\"quantity\":$q,\"ts\":\"2026-11-01T10:0${m}:00Z\"}")
	done
	good+=('{"action":"purchase","product_id":1,"quantity":1,"ts":"2026-11-01T10:05:00Z"}')
	ev "${good[@]}"
	run -0 stock --report
	want=$output
	ev "${good[@]:0:4}" "{\"action\":\"restock\",\"product_id\":1,\"quantity\":$q,\"ts\":\"2026-11-02T10:00:00Z\"}" "${good[4]}"
	run -1 --separate-stderr stock --report
	like "$stderr" "*:5: the level of product '1' would overflow*"
	is "$output" "$want" "the report of the good lines alone"
}

@test "a level that would overflow is a bad line, not undefined behaviour" {
	ev '{"product_id":1,"quantity":2000000000000000000}' \
	   '{"action":"restock","product_id":1,"quantity":2000000000000000000}' \
	   '{"action":"restock","product_id":1,"quantity":2000000000000000000}' \
	   '{"action":"restock","product_id":1,"quantity":2000000000000000000}' \
	   '{"action":"restock","product_id":1,"quantity":2000000000000000000}'
	run -1 --separate-stderr stock --report
	like "$stderr" "*:5: the level of product '1' would overflow*"
	is "$output" '{"product_id":1,"quantity":8000000000000000000,"status":"ok","threshold":10,"velocity_per_hour":0}'
}

@test "a quantity is its text's exact value: 9007199254740993.0 is not rounded, a fraction past a double is one" {
	ev '{"product_id":1,"quantity":9007199254740993.0}' \
	   '{"product_id":2,"quantity":"2305843009213693951.00"}' \
	   '{"product_id":3,"quantity":3.00000000000000001}' \
	   '{"action":"adjust","product_id":2,"delta":-1.0000000000000000001e18}'
	run -1 --separate-stderr stock -q --report
	is "$output" '{"product_id":1,"quantity":9007199254740993,"status":"ok","threshold":10,"velocity_per_hour":0}
{"product_id":2,"quantity":2305843009213693951,"status":"ok","threshold":10,"velocity_per_hour":0}'
	like "$stderr" "*2 bad lines of 4 skipped*"
	run -1 --separate-stderr stock
	like "$stderr" "*in.ndjson:3: field 'quantity' is not a whole number of units (>= 0): 3.00000000000000001*"
	like "$stderr" "*in.ndjson:4: field 'delta' is not a whole number: -1.0000000000000000001e18*"
}

@test "a velocity that rounds to 0 gives no hours of cover" {
	ev '{"product_id":1,"quantity":1000000,"ts":"2026-01-01T00:00:00Z"}' \
	   '{"action":"purchase","product_id":1,"ts":"2026-01-01T00:00:00Z"}' \
	   '{"product_id":2,"quantity":1,"ts":"2026-09-01T00:00:00Z"}'
	run -0 stock --report
	is "${lines[1]}" '{"product_id":1,"quantity":999999,"status":"ok","threshold":10,"velocity_per_hour":0}'
}

@test "while input is quiet, the state is still checkpointed" {
	fifo="$BATS_TEST_TMPDIR/fifo" st="$BATS_TEST_TMPDIR/s"
	mkfifo "$fifo"
	ecs-stock --state "$st" --checkpoint 1 < "$fifo" > /dev/null 3>&- &
	pid=$!
	exec 5> "$fifo"
	echo '{"product_id":1,"quantity":40}' >&5
	wait_for "$st" '"quantity":40'
	echo '{"product_id":1,"quantity":41}' >&5
	wait_for "$st" '"quantity":41'
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
}
