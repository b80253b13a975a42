#!/usr/bin/env bats
# ecs-sales: the brief's example, windows, groups, every metric, exact
# money, time (watermark, lateness, late events, --tz, --idle), emission,
# corrections, alerts, baselines, state, bad lines, and agreement with
# Miller on real and generated data.

load helpers

sales() { ecs-sales "$@" "$BATS_TEST_TMPDIR/in.ndjson"; }

@test "the brief's business example, byte for byte" {
	run -0 --separate-stderr bash -c "set -o pipefail; ecs-sales --by date -m 'sales=sum(sales)' '$FIXTURES/brief/business.ndjson' |
	    ecs-filter --template 'Sales on {date}: {sales}' true"
	is "$output" $'Sales on 2021-09-01: 1000\nSales on 2021-09-02: 1500\nSales on 2021-09-03: 1200'
	is "$stderr" ""
}

@test "the brief's figures summed per day in daily windows" {
	run -0 ecs-sales --map ts=date --window 1d -m 'sales=sum(sales)' "$FIXTURES/brief/business.ndjson"
	is "$output" '{"window_start":"2021-09-01T00:00:00Z","window_end":"2021-09-02T00:00:00Z","sales":1000}
{"window_start":"2021-09-02T00:00:00Z","window_end":"2021-09-03T00:00:00Z","sales":1500}
{"window_start":"2021-09-03T00:00:00Z","window_end":"2021-09-04T00:00:00Z","sales":1200}'
}

@test "default metrics: count and the money the events carry" {
	ev '{"price":19.99,"quantity":2,"ts":"2026-11-01T10:00:00Z"}' '{"price":0.01,"quantity":2,"ts":"2026-11-01T10:30:00Z"}'
	run -0 sales -w 1h
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","count":2,"sales":40.00}'
	ev '{"amount":15.30}' '{"amount":-2.55}'
	run -0 sales
	is "$output" '{"count":2,"sales":12.75}'
	ev '{"a":1}'
	run -0 sales
	is "$output" '{"count":1,"sales":0}'
}

@test "money is exact: no float noise, to the cent" {
	for i in $(seq 1000); do echo '{"price":19.98,"quantity":400,"x":0.1}'; done > "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -m 'total=sum(price*quantity)' -m 'x=sum(x)' -m 'avg=avg(price)'
	is "$output" '{"total":7992000.00,"x":100.0,"avg":19.98}'
	ev '{"p":0.1}' '{"p":0.2}' '{"p":"0.3"}'
	run -0 sales -m 's=sum(p)' -m 'a=avg(p)' -m 'lo=min(p)' -m 'hi=max(p)'
	is "$output" '{"s":0.6,"a":0.2,"lo":0.1,"hi":0.3}' "the string \"0.3\" is written as the number (ecs-sales.1)"
}

@test "avg of values with more than 6 decimals rounds exactly, half away from zero, as DuckDB's DECIMAL" {
	need_duckdb
	# In double, 1.0000075 * 10^6 is 1000007.4999...: the mean was 1.000007.
	ev '{"k":"a","p":1.0000075}' '{"k":"b","p":-2.0000045}' '{"k":"c","p":0.1000005}' \
	   '{"k":"d","p":7.1234565}' '{"k":"e","p":1.0000070}' '{"k":"e","p":1.0000080}'
	run -0 --separate-stderr sales -b k -m 'a=avg(p)'
	is "$output" "$(duckdb_sql "SELECT k, round((sum(p::DECIMAL(18,7)) / count(*))::DECIMAL(18,7), 6) AS a
	    FROM read_json('$BATS_TEST_TMPDIR/in.ndjson', format='newline_delimited', columns={k: 'VARCHAR', p: 'VARCHAR'})
	    GROUP BY k ORDER BY k" | jq -c '.a |= tonumber')"
	is "$stderr" ""
}

@test "exact sums past 64 bits, as DuckDB's DECIMAL(38)" {
	need_duckdb
	ev '{"p":99999999999999999999}' '{"p":0.01}' '{"p":"12345678901234567890.5"}' '{"p":-1}'
	run -0 --separate-stderr sales -m 's=sum(p)' -m 'hi=max(p)'
	is "$output" "$(duckdb_sql "SELECT sum(p::DECIMAL(38,2)) AS s FROM read_json('$BATS_TEST_TMPDIR/in.ndjson',
	    format='newline_delimited', columns={p:'VARCHAR'})" | jq -r '"{\"s\":\(.s),\"hi\":99999999999999999999}"')"
	is "$stderr" ""
}

@test "computed values are written as exact decimals" {
	ev '{"p":0.1}' '{"p":0.2}' '{"p":2.55}'
	run -0 sales -m 'l=list(p * 3 + 0.1, 5)' -m 's=sum(p * 6 - p)'
	is "$output" '{"l":[0.4,0.7,7.75],"s":14.25}'
}

@test "a bad line's time does not move event time on: the good events after it are not late" {
	ev '{"ts":"2026-11-01T10:00:00Z","p":5}' '{"ts":"2030-01-01T00:00:00Z","p":1e999}' \
	   '{"ts":"2026-11-01T10:05:00Z","p":2}' '{"ts":"2026-11-01T10:06:00Z","p":1}'
	run -1 --separate-stderr sales -w 1h -m 's=sum(p)' -m 'n=count()'
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","s":8,"n":3}'
	like "$stderr" "*:2: metric 's': the value is not an exact decimal*"
	[[ $stderr != *late* ]] || { echo "# $stderr"; false; }
}

@test "a value no metric can hold exactly is a bad line, never a null sum" {
	ev '{"ts":"2026-11-01T10:00:00Z","p":5}' '{"ts":"2026-11-01T10:01:00Z","p":1e999}' \
	   '{"ts":"2026-11-01T10:02:00Z","p":1e308}' '{"ts":"2026-11-01T10:03:00Z","p":0.1234567890123456789}' \
	   '{"ts":"2026-11-01T10:04:00Z","p":2.5}'
	f="$BATS_TEST_TMPDIR/in.ndjson"
	run -0 --separate-stderr sales -w 1h -m 's=sum(p)' -m 'n=count()' --reject "$BATS_TEST_TMPDIR/rej"
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","s":7.5,"n":2}'
	is "$stderr" "ecs-sales: $f:2: metric 's': the value is not an exact decimal (at most 38 digits, 18 after the point)
ecs-sales: $f:3: metric 's': the value is not an exact decimal (at most 38 digits, 18 after the point)
ecs-sales: $f:4: metric 's': the value is not an exact decimal (at most 38 digits, 18 after the point)
ecs-sales: 3 bad lines of 5 written to $BATS_TEST_TMPDIR/rej"
	is "$(cat "$BATS_TEST_TMPDIR/rej")" "$(sed -n 2,4p "$f")"
	# A sum that would pass the 128-bit mantissa: the line that would is refused.
	for i in $(seq 171); do echo '{"p":999999999999999999999999999999999999}'; done > "$f"
	run -1 --separate-stderr sales -m 's=sum(p)' -m 'n=count()'
	is "$output" '{"s":169999999999999999999999999999999999830,"n":170}'
	is "$stderr" "ecs-sales: $f:171: metric 's': the sum would overflow (exact to 38 digits)
ecs-sales: 1 bad line of 171 skipped"
	# Partials keep their 38 digits, and a merge that would pass them is refused.
	head -100 "$f" | ecs-sales --partial -m 's=sum(p)' > "$BATS_TEST_TMPDIR/part"
	run -1 --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR/part' '$BATS_TEST_TMPDIR/part' | ecs-sales --merge -m 's=sum(p)'"
	is "$output" '{"s":99999999999999999999999999999999999900}'
	is "$stderr" "ecs-sales: <stdin>:2: metric 's': the merged sum would overflow (exact to 38 digits)
ecs-sales: 1 bad line of 2 skipped"
}

@test "30-digit group keys stay apart and are written as they came" {
	ev '{"g":123456789012345678901234567890,"p":1}' '{"g":123456789012345678901234567891,"p":2}' \
	   '{"g":123456789012345678901234567890,"p":3,"s":"\u0041"}'
	run -0 sales -b g -m 's=sum(p)'
	is "$output" '{"g":123456789012345678901234567890,"s":4}
{"g":123456789012345678901234567891,"s":2}'
	run -0 sales -m 's=sum(p)' --where 'g == 123456789012345678901234567891'
	is "$output" '{"s":2}'
}

@test "tumbling windows aligned to the epoch, groups in order first seen" {
	ev '{"ts":"2026-11-01T10:59:59Z","action":"browse"}' '{"ts":"2026-11-01T10:00:00Z","action":"purchase"}' \
	   '{"ts":"2026-11-01T11:00:00Z","action":"browse"}' '{"ts":"2026-11-01T11:20:00Z","action":"browse"}'
	run -0 sales -w 1h --lateness 1h -b action -m 'n=count()'
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","action":"browse","n":1}
{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","action":"purchase","n":1}
{"window_start":"2026-11-01T11:00:00Z","window_end":"2026-11-01T12:00:00Z","action":"browse","n":2}'
}

@test "hopping windows: each event in every window that holds it" {
	ev '{"ts":"2026-11-01T10:05:00Z"}' '{"ts":"2026-11-01T10:25:00Z"}'
	run -0 sales -w 30m --slide 10m -m 'n=count()' --lateness 1h
	is "$(ecs-filter -t '{window_start} {n}' true <<< "$output")" '2026-11-01T09:40:00Z 1
2026-11-01T09:50:00Z 1
2026-11-01T10:00:00Z 2
2026-11-01T10:10:00Z 1
2026-11-01T10:20:00Z 1'
}

@test "group keys: several, nested, missing as null, numbers and strings kept" {
	ev '{"c":"x","n":1,"u":{"city":"Oslo"}}' '{"c":"x","n":1}' '{"c":"y","n":"1"}'
	run -0 sales -b c,n,u.city -m 'k=count()'
	is "$output" '{"c":"x","n":1,"u.city":"Oslo","k":1}
{"c":"x","n":1,"u.city":null,"k":1}
{"c":"y","n":"1","u.city":null,"k":1}'
}

@test "--map-action gives the canonical action in group keys and metrics" {
	ev '{"event":"view"}' '{"event":"transaction"}' '{"event":"transaction"}' '{"event":"a"}' '{"event":"b"}'
	run -0 sales --map action=event --map-action view=browse --map-action transaction=purchase \
	    --map-action a=b --map-action b=c -b action -m 'n=count()' -m 't=top(action,1)'
	is "$output" '{"action":"browse","n":1,"t":[{"value":"browse","count":1}]}
{"action":"purchase","n":2,"t":[{"value":"purchase","count":2}]}
{"action":"b","n":1,"t":[{"value":"b","count":1}]}
{"action":"c","n":1,"t":[{"value":"c","count":1}]}'
}

@test "group keys may index arrays with [N]" {
	ev '{"items":[{"sku":"A"},{"sku":"B"}]}' '{"items":[{"sku":"A"}]}' '{"items":{"0":{"sku":"C"}}}'
	run -0 sales -b 'items[0].sku,items[1].sku' -m 'k=count()'
	is "$output" '{"items[0].sku":"A","items[1].sku":"B","k":1}
{"items[0].sku":"A","items[1].sku":null,"k":1}
{"items[0].sku":null,"items[1].sku":null,"k":1}'
	run -2 sales -b 'items[].sku' -m 'k=count()'
}

@test "every metric function" {
	ev '{"u":1,"p":10,"s":"a"}' '{"u":2,"p":20,"s":"b"}' '{"u":1,"p":30,"s":"a"}' '{"u":3,"p":40,"s":"a"}' '{"p":"n/a"}'
	run -0 sales -m 'n=count()' -m 'sum=sum(p)' -m 'avg=avg(p)' -m 'min=min(p)' -m 'max=max(p)' \
	    -m 'users=distinct(u)' -m 'med=quantile(p,0.5)' -m 'top=top(s,2)' -m 'l=list(u,2)'
	is "$output" '{"n":5,"sum":100,"avg":25,"min":10,"max":40,"users":3,"med":20,"top":[{"value":"a","count":3},{"value":"b","count":1}],"l":[1,2]}'
}

@test "quantiles are within 1% of the exact value" {
	seq 1 100000 | awk '{ printf "{\"v\":%d}\n", $1 }' > "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -m 'p50=quantile(v,0.5)' -m 'p99=quantile(v,0.99)' -m 'd=distinct(v)'
	p50=$(ecs-filter -t '{p50}' true <<< "$output")
	p99=$(ecs-filter -t '{p99}' true <<< "$output")
	d=$(ecs-filter -t '{d}' true <<< "$output")
	echo "# p50 $p50 p99 $p99 distinct $d" >&3
	awk -v a="$p50" -v b="$p99" -v d="$d" 'BEGIN { exit !(a > 49500 && a < 50500 && b > 98000 && b < 100000 && d > 97500 && d < 102500) }'
}

@test "cancellations count in their own window and reduce it" {
	ev '{"ts":"2026-11-01T10:00:00Z","amount":100.50}' '{"ts":"2026-11-01T10:10:00Z","amount":-30.25}' \
	   '{"ts":"2026-11-01T11:10:00Z","amount":-10}'
	run -0 sales -w 1h -m 'sales=sum(amount)' -m 'n=count()'
	is "$(ecs-filter -t '{sales} {n}' true <<< "$output")" $'70.25 2\n-10 1'
}

@test "late events: counted, reported, written to --late; --lateness admits them" {
	ev '{"ts":"2026-11-01T10:10:00Z","id":1}' '{"ts":"2026-11-01T11:10:00Z","id":2}' \
	   '{"ts":"2026-11-01T10:20:00Z","id":3}' '{"ts":"2026-11-01T11:20:00Z","id":4}'
	run -0 --separate-stderr sales -w 1h -m 'n=count()' --late "$BATS_TEST_TMPDIR/late"
	is "$(ecs-filter -t '{window_start} {n}' true <<< "$output")" $'2026-11-01T10:00:00Z 1\n2026-11-01T11:00:00Z 2'
	is "$stderr" "ecs-sales: 1 late event (after their window was written), in $BATS_TEST_TMPDIR/late"
	is "$(cat "$BATS_TEST_TMPDIR/late")" '{"ts":"2026-11-01T10:20:00Z","id":3}'
	run -0 --separate-stderr sales -w 1h -m 'n=count()' --lateness 15m
	is "$(ecs-filter -t '{window_start} {n}' true <<< "$output")" $'2026-11-01T10:00:00Z 2\n2026-11-01T11:00:00Z 2'
	is "$stderr" ""
}

@test "--corrections: a late event updates its written window" {
	ev '{"ts":"2026-11-01T10:10:00Z","a":5}' '{"ts":"2026-11-01T11:10:00Z","a":1}' '{"ts":"2026-11-01T10:20:00Z","a":7}'
	run -0 --separate-stderr sales -w 1h -m 's=sum(a)' --corrections 2h
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","s":5}
{"correction":true,"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","s":12}
{"window_start":"2026-11-01T11:00:00Z","window_end":"2026-11-01T12:00:00Z","s":1}'
	is "$stderr" ""
}

@test "--emit update: a row after every event" {
	ev '{"ts":"2026-11-01T10:10:00Z","a":5}' '{"ts":"2026-11-01T10:20:00Z","a":7}'
	run -0 sales -w 1h -m 's=sum(a)' --emit update
	is "$(ecs-filter -t '{s}' true <<< "$output")" $'5\n12'
}

@test "--where filters first" {
	ev '{"action":"purchase","a":5}' '{"action":"browse","a":7}'
	run -0 sales -m 's=sum(a)' --where 'action == "purchase"'
	is "$output" '{"s":5}'
}

@test "--tz: a day in London is 23 hours when the clocks go forward" {
	ev '{"ts":"2026-03-28T23:30:00Z"}' '{"ts":"2026-03-29T22:30:00Z"}' '{"ts":"2026-03-29T23:30:00Z"}'
	run -0 sales -w 1d --tz Europe/London -m 'n=count()' --lateness 1d
	is "$output" '{"window_start":"2026-03-28T00:00:00+00:00","window_end":"2026-03-29T00:00:00+00:00","n":1}
{"window_start":"2026-03-29T00:00:00+00:00","window_end":"2026-03-30T00:00:00+01:00","n":1}
{"window_start":"2026-03-30T00:00:00+01:00","window_end":"2026-03-31T00:00:00+01:00","n":1}'
	run -2 --separate-stderr sales --tz Mars/Olympus
	like "$stderr" "*--tz 'Mars/Olympus': not a zone*"
}

@test "--alert: matching rows are also alerts" {
	ev '{"ts":"2026-11-01T10:10:00Z","amount":50}' '{"ts":"2026-11-01T11:10:00Z","amount":500}'
	run -0 sales -w 1h -m 'sales=sum(amount)' --alert 'sales < 200'
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","sales":50}
{"alert":"rule","rule":"sales < 200","window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","sales":50}
{"window_start":"2026-11-01T11:00:00Z","window_end":"2026-11-01T12:00:00Z","sales":500}'
}

@test "--drop: a dead checkout is an alert, even with no event at all" {
	for h in 10 11 12 13; do echo "{\"ts\":\"2026-11-01T$h:10:00Z\",\"shop\":\"a\",\"amount\":100}"; done > "$BATS_TEST_TMPDIR/in.ndjson"
	echo '{"ts":"2026-11-01T16:10:00Z","shop":"b","amount":5}' >> "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -w 1h -b shop -m 'sales=sum(amount)' --drop 50 --baseline 3
	# Each quiet hour is a drop against the mean of the three before it.
	is "$(ecs-filter -t '{alert} {window_start} {shop} {value} {baseline} {change_pct}' 'exists(alert)' <<< "$output")" \
	    'sales_drop 2026-11-01T14:00:00Z a 0 100 -100
sales_drop 2026-11-01T15:00:00Z a 0 66.67 -100
sales_drop 2026-11-01T16:00:00Z a 0 33.33 -100'
}

@test "--spike against the group's baseline" {
	for a in 10 10 10 10 40; do echo "{\"amount\":$a}"; done |
	    awk '{ printf "{\"ts\":\"2026-11-01T%02d:00:00Z\",%s\n", NR + 9, substr($0, 2) }' > "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -w 1h -m 'sales=sum(amount)' --spike 100 --baseline 3
	is "$(ecs-filter -t '{alert} {value} {baseline} {change_pct}' 'exists(alert)' <<< "$output")" 'sales_spike 40 10 300'
}

@test "bad lines: diagnostics, --reject, exit status" {
	ev '{"ts":"yesterday"}' 'nope' '{"ts":"2026-11-01T10:00:00Z","a":1}'
	f="$BATS_TEST_TMPDIR/in.ndjson"
	run -1 --separate-stderr sales -w 1h -m 'n=count()'
	is "$stderr" "ecs-sales: $f:1: field 'ts' is not a time: \"yesterday\"
ecs-sales: $f:2: invalid JSON at column 2: null expected
ecs-sales: 2 bad lines of 3 skipped"
	run -0 sales -w 1h -m 'n=count()' --reject "$BATS_TEST_TMPDIR/rej"
	is "$(cat "$BATS_TEST_TMPDIR/rej")" $'{"ts":"yesterday"}\nnope'
}

@test "usage errors" {
	run -2 --separate-stderr ecs-sales -m 'x' </dev/null
	like "$stderr" "*expected NAME=FUNC(EXPR)*"
	run -2 --separate-stderr ecs-sales -m 'x=median(a)' </dev/null
	like "$stderr" "*no function 'median'*"
	run -2 --separate-stderr ecs-sales -m 'x=quantile(a)' </dev/null
	like "$stderr" "*quantile needs a second argument*"
	run -2 --separate-stderr ecs-sales -m 'x=sum(a ==)' </dev/null
	like "$stderr" "*expression:1:5: expected a value after '=='*"
	run -2 --separate-stderr ecs-sales -w 5x </dev/null
	like "$stderr" "*--window '5x'*"
	run -2 --separate-stderr ecs-sales --slide 1m </dev/null
	like "$stderr" "*--slide needs --window*"
	run -2 --separate-stderr ecs-sales -w 1h --slide 1m --drop 10 </dev/null
	like "$stderr" "*--drop and --spike need tumbling windows*"
	run -2 --separate-stderr ecs-sales -w 1h --drop 0 </dev/null
	like "$stderr" "*--drop '0': expected a percentage above 0*"
	run -2 --separate-stderr ecs-sales -w 1h --spike 5% </dev/null
	like "$stderr" "*--spike '5%': expected a percentage above 0*"
}

@test "state: a run split in two gives the rows of one run" {
	ecs-gen --events 20000 --seed 9 > "$BATS_TEST_TMPDIR/g"
	opts=(-w 1h -b category -m 'sales=sum(price*quantity)' -m 'n=count()' -m 'u=distinct(user_id)'
	      -m 'p90=quantile(price,0.9)' -m 'top=top(product_id,3)' --drop 50)
	ecs-sales "${opts[@]}" "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/whole"
	# With --state the windows still open at the end are kept, not
	# written: the split runs give the rows of the windows closed by the
	# last event, however many that is.
	last=$(tail -1 "$BATS_TEST_TMPDIR/g" | ecs-filter -t '{ts}' true)
	ecs-filter "time(window_end) <= time(\"$last\")" "$BATS_TEST_TMPDIR/whole" > "$BATS_TEST_TMPDIR/closed"
	(( $(wc -l < "$BATS_TEST_TMPDIR/closed") > 100 ))
	(( $(wc -l < "$BATS_TEST_TMPDIR/closed") < $(wc -l < "$BATS_TEST_TMPDIR/whole") ))
	for k in 1 5000 12345; do
		st="$BATS_TEST_TMPDIR/s$k"
		head -n "$k" "$BATS_TEST_TMPDIR/g" | ecs-sales "${opts[@]}" --state "$st" > "$BATS_TEST_TMPDIR/split"
		tail -n +"$((k + 1))" "$BATS_TEST_TMPDIR/g" | ecs-sales "${opts[@]}" --state "$st" >> "$BATS_TEST_TMPDIR/split"
		ecs-sales "${opts[@]}" --state "$st" < /dev/null >> "$BATS_TEST_TMPDIR/split"
		is "$(cksum < "$BATS_TEST_TMPDIR/split")" \
		   "$(cksum < "$BATS_TEST_TMPDIR/closed")" "split at $k"
	done
	run -1 --separate-stderr ecs-sales -w 1d --state "$BATS_TEST_TMPDIR/s1" < /dev/null
	like "$stderr" "*saved by a run with other options*"
}

@test "--idle closes the last window of a quiet stream" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-sales -w 1s -m 'n=count()' --idle 1s < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	echo "{\"ts\":\"$now\"}" >&5
	wait_until test -s "$out"
	like "$(cat "$out")" '*"n":1}*' "written while the writer is still open"
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
}

# compare_tsv ECS MLR: rows keyed by their first two columns must agree:
# counts exactly, sums, minima and maxima to the cent, means to 1e-5.
compare_tsv() {
	awk -F '\t' '
	    function bad(what) { printf "%s %s: %s ecs %s mlr %s\n", $1, $2, what, e[3 + i], $(3 + i); n++ }
	    NR == FNR { ecs[$1 FS $2] = $0; next }
	    {
		k = $1 FS $2
		if (!(k in ecs)) { printf "%s: only in Miller\n", k; n++; next }
		split(ecs[k], e, "\t"); delete ecs[k]
		for (i = 0; i < 5; i++) {
			d = e[3 + i] - $(3 + i); if (d < 0) d = -d
			if ((i == 0 && d != 0) || (i == 2 && d > 1e-5) || (i != 0 && i != 2 && d >= 0.005))
				bad("field " (3 + i))
		}
	    }
	    END { for (k in ecs) { printf "%s: only in ecs-sales\n", k; n++ } exit n > 0 }' "$1" "$2"
}

@test "agreement with Miller: hourly count, sum, mean, min, max per group (generated)" {
	ecs-gen --events 50000 --seed 11 > "$BATS_TEST_TMPDIR/g"
	ecs-sales -w 1h -b action -m 'count=count()' -m 'sum=sum(price)' -m 'mean=avg(price)' \
	    -m 'min=min(price)' -m 'max=max(price)' "$BATS_TEST_TMPDIR/g" |
	    ecs-filter -t '{window_start}\t{action}\t{count}\t{sum}\t{mean}\t{min}\t{max}' true |
	    cut -c1-13,21- > "$BATS_TEST_TMPDIR/ecs"
	mlr --ijsonl --ojsonl put '$hour = substr($ts, 0, 12)' then \
	    stats1 -a count,sum,mean,min,max -f price -g hour,action "$BATS_TEST_TMPDIR/g" |
	    ecs-filter -t '{hour}\t{action}\t{price_count}\t{price_sum}\t{price_mean}\t{price_min}\t{price_max}' true \
	    > "$BATS_TEST_TMPDIR/mlr"
	is "$(wc -l < "$BATS_TEST_TMPDIR/ecs")" "$(wc -l < "$BATS_TEST_TMPDIR/mlr")"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ecs") > 50 ))
	run compare_tsv "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/mlr"
	is "$output" ""
}

@test "agreement with Miller and the dataset's own totals on UCI Online Retail" {
	shared_data uci-online-retail/orders.ndjson.gz
	run -0 bash -c "zcat '$data' | ecs-sales -m 'total=sum(amount)' -m 'n=count()'"
	is "$output" '{"total":9747747.934,"n":541909}' "the README's exact sum"
	run -0 bash -c "zcat '$data' | ecs-sales --where 'not cancelled' -m 'total=sum(quantity * price)'"
	is "$output" '{"total":10644560.424}' "the README's sum of lines not cancelled"
	zcat "$data" | ecs-sales -w 1d -b country -m 'count=count()' -m 'sum=sum(amount)' -m 'mean=avg(amount)' \
	    -m 'min=min(amount)' -m 'max=max(amount)' |
	    ecs-filter -t '{window_start}\t{country}\t{count}\t{sum}\t{mean}\t{min}\t{max}' true |
	    cut -c1-10,21- > "$BATS_TEST_TMPDIR/ecs"
	zcat "$data" | mlr --ijsonl --ojsonl put '$day = substr($ts, 0, 9)' then \
	    stats1 -a count,sum,mean,min,max -f amount -g day,country |
	    ecs-filter -t '{day}\t{country}\t{amount_count}\t{amount_sum}\t{amount_mean}\t{amount_min}\t{amount_max}' true \
	    > "$BATS_TEST_TMPDIR/mlr"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ecs") > 1000 ))
	run compare_tsv "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/mlr"
	is "$output" ""
}

@test "the brief's recommendation toy: what user 1 purchased, as a list" {
	run -0 bash -c "set -o pipefail; ecs-sales -b user_id -m 'products=list(product_id)' --where 'action == \"purchase\"' \
	    '$FIXTURES/brief/recommend.ndjson' | ecs-filter -t 'Recommended products for user {user_id}: {products}' true"
	is "$output" "Recommended products for user 1: [103]"
}

@test "state: cron over one file a day, and a running total kept and written" {
	printf '%s\n' '{"ts":"2026-11-01T10:00:00Z","a":1}' '{"ts":"2026-11-01T23:00:00Z","a":2}' > "$BATS_TEST_TMPDIR/day1"
	printf '%s\n' '{"ts":"2026-11-02T01:00:00Z","a":4}' > "$BATS_TEST_TMPDIR/day2"
	st="$BATS_TEST_TMPDIR/s"
	run -0 ecs-sales -w 1d -m 's=sum(a)' --state "$st" "$BATS_TEST_TMPDIR/day1"
	is "$output" ""
	run -0 ecs-sales -w 1d -m 's=sum(a)' --state "$st" "$BATS_TEST_TMPDIR/day2"
	is "$output" '{"window_start":"2026-11-01T00:00:00Z","window_end":"2026-11-02T00:00:00Z","s":3}'
	st2="$BATS_TEST_TMPDIR/t"
	run -0 ecs-sales -m 's=sum(a)' --state "$st2" "$BATS_TEST_TMPDIR/day1"
	is "$output" '{"s":3}'
	run -0 ecs-sales -m 's=sum(a)' --state "$st2" "$BATS_TEST_TMPDIR/day2"
	is "$output" '{"s":7}'
}

@test "--tz: windows shorter than a day never overlap where the clocks change" {
	for m in 0 30 60 90 120 150 180; do
		printf '{"ts":"2026-03-29T%02d:%02d:00Z"}\n' $((m / 60)) $((m % 60))
	done > "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -w 2h --tz Europe/London -m 'n=count()' --lateness 1d
	is "$(ecs-filter -t '{window_start} {n}' true <<< "$output")" $'2026-03-29T00:00:00+00:00 4\n2026-03-29T03:00:00+01:00 3'
}

@test "objects as group keys make one group however the line is written" {
	ev '{"g":{"a":[1, 2]}}' '{"g":{"a":[1,2]},"s":"\u00e9"}'
	run -0 sales -b g -m 'n=count()'
	is "$output" '{"g":{"a":[1,2]},"n":2}'
}

@test "--partial over a round-robin split, then --merge: the rows of one run" {
	ecs-gen --events 30000 --seed 12 > "$BATS_TEST_TMPDIR/g"
	m=(-m 'n=count()' -m 's=sum(price*quantity)' -m 'a=avg(price)' -m 'lo=min(price)'
	   -m 'hi=max(price)' -m 'u=distinct(user_id)' -m 'p=quantile(price,0.9)' -m 't=top(category,2)'
	   -m 'l=list(user_id,2)')
	(cd "$BATS_TEST_TMPDIR" && split -n r/3 g part.)
	for f in "$BATS_TEST_TMPDIR"/part.*; do
		ecs-sales -w 1h -b action "${m[@]}" --partial "$f" > "$f.partial"
	done
	run -0 bash -c "cat '$BATS_TEST_TMPDIR'/part.*.partial | ecs-sales --merge $(printf "'%s' " "${m[@]}")"
	(( ${#lines[@]} > 10 ))
	# The lists keep the first values each process saw: compare the rest.
	is "$(ecs-filter -f window_start,action,n,s,a,lo,hi,u,p,t true <<< "$output" | sort)" \
	   "$(ecs-sales -w 1h -b action "${m[@]}" "$BATS_TEST_TMPDIR/g" | ecs-filter -f window_start,action,n,s,a,lo,hi,u,p,t true | sort)"
	run -2 --separate-stderr ecs-sales --partial -w 1h
	like "$stderr" "*need their metrics given with -m*"
	run -2 --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR'/part.aa.partial | ecs-sales --merge -m 'n=count()'"
	like "$stderr" "*partials of other metrics*-m must be the same as for --partial)"
}

# Exactness (issue 12): exact within the budget, else marked approximate
# with its bound; clashing names and rules that can never fire refused.

# same_numbers A B: files of tab-separated rows agree, numbers by value.
same_numbers() {
	awk -F '\t' 'NR == FNR { a[FNR] = $0; n = FNR; next }
	    { split(a[FNR], x, "\t")
	      for (i = 1; i <= NF; i++) if (x[i] != $i && x[i] + 0 != $i + 0) { print "line " FNR ": " a[FNR] " vs " $0; bad++; break } }
	    END { if (FNR != n) { print "lines: " n " vs " FNR; bad++ } exit bad > 0 }' "$1" "$2"
}

@test "top(): per-day top-10 of UCI orders equal DuckDB's exact counts" {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	zcat "$data" | ecs-sales -w 1d -m 'top=top(product_id,10)' --where 'not cancelled' > "$BATS_TEST_TMPDIR/rows"
	run grep -c approximate "$BATS_TEST_TMPDIR/rows"
	is "$output" 0 "rows marked approximate"
	ecs-filter -t '{window_start}' true < "$BATS_TEST_TMPDIR/rows" | cut -c1-10 > "$BATS_TEST_TMPDIR/days"
	jq -r '.window_start[0:10] as $d | .top[] | [$d, .value, .count] | @tsv' "$BATS_TEST_TMPDIR/rows" > "$BATS_TEST_TMPDIR/ecs"
	duckdb_sql "SELECT left(ts, 10) AS d, product_id AS p, count(*) AS c
	    FROM read_json('$data', format='newline_delimited',
	        columns={ts: 'VARCHAR', product_id: 'VARCHAR', cancelled: 'BOOLEAN'})
	    WHERE NOT cancelled GROUP BY d, p
	    QUALIFY row_number() OVER (PARTITION BY d ORDER BY c DESC, p) <= 10
	    ORDER BY d, c DESC, p" | jq -r '[.d, .p, .c] | @tsv' > "$BATS_TEST_TMPDIR/duck"
	(( $(wc -l < "$BATS_TEST_TMPDIR/days") > 300 ))
	run diff "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/duck"
	is "$output" ""
}

@test "top(): exact over thousands of keys, ties by value, as Miller counts" {
	ecs-gen --events 20000 --products 5000 --seed 21 > "$BATS_TEST_TMPDIR/g"
	run -0 ecs-sales -m 't=top(product_id,20)' "$BATS_TEST_TMPDIR/g"
	[[ "$output" != *approximate* ]]
	jq -r '.t[] | [.value, .count] | @tsv' <<< "$output" > "$BATS_TEST_TMPDIR/ecs"
	mlr --ijsonl --otsv --headerless-csv-output count -g product_id then \
	    sort -nr count -f product_id then head -n 20 "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/mlr"
	is "$(wc -l < "$BATS_TEST_TMPDIR/mlr")" 20
	run diff "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/mlr"
	is "$output" ""
	ev '{"s":"b"}' '{"s":"a"}' '{"s":10}' '{"s":"c"}' '{"s":"b"}' '{"s":"a"}' '{"s":10}'
	run -0 sales -m 't=top(s,3)'
	is "$output" '{"t":[{"value":"a","count":2},{"value":"b","count":2},{"value":10,"count":2}]}'
}

@test "top(): past the budget, approximate with each count's error bound" {
	# 12000 keys once each, then 5 heavy keys 30..70 times, interleaved.
	awk 'BEGIN { for (i = 0; i < 12000; i++) { printf "{\"k\":\"u%d\"}\n", i
	    if (i % 40 == 0 && i < 12000) { h = i / 40 % 5; printf "{\"k\":\"h%d\"}\n", h } } }' > "$BATS_TEST_TMPDIR/in.ndjson"
	for h in 0 1 2 3 4; do for _ in $(seq $((h * 10))); do echo "{\"k\":\"h$h\"}"; done; done >> "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -m 't=top(k,5)'
	like "$output" '*"approximate":{"t":{"count_error":*}}}'
	jq -r '.t[] | [.value, .count, .error] | @tsv' <<< "$output" > "$BATS_TEST_TMPDIR/ecs"
	mlr --ijsonl --otsv --headerless-csv-output count -g k "$BATS_TEST_TMPDIR/in.ndjson" > "$BATS_TEST_TMPDIR/true"
	# Every listed count bounds the true count: count - error <= f <= count.
	run awk -F '\t' 'NR == FNR { f[$1] = $2; next }
	    { if (!($1 in f) || $2 - $3 > f[$1] || f[$1] > $2) { print "bad: " $0 " true " f[$1]; bad++ } n++ }
	    END { exit bad > 0 || n != 5 }' "$BATS_TEST_TMPDIR/true" "$BATS_TEST_TMPDIR/ecs"
	is "$output" ""
	is "$(cut -f1 "$BATS_TEST_TMPDIR/ecs" | tr '\n' ' ')" "h4 h3 h2 h1 h0 "
}

@test "quantile(): exact nearest rank, values that occurred, as DuckDB's quantile_disc" {
	need_duckdb
	ecs-gen --events 20000 --seed 7 > "$BATS_TEST_TMPDIR/g"
	ecs-sales -w 1h -b action -m 'p10=quantile(price,0.1)' -m 'p50=quantile(price,0.5)' \
	    -m 'p95=quantile(price,0.95)' -m 'p100=quantile(price,1)' "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/rows"
	[[ "$(cat "$BATS_TEST_TMPDIR/rows")" != *approximate* ]]
	ecs-filter -t '{window_start}\t{action}\t{p10}\t{p50}\t{p95}\t{p100}' true < "$BATS_TEST_TMPDIR/rows" |
	    cut -c1-13,21- | sort > "$BATS_TEST_TMPDIR/ecs"
	duckdb_sql "SELECT left(ts, 13) AS h, action AS a, quantile_disc(price, 0.1) AS p10,
	    quantile_disc(price, 0.5) AS p50, quantile_disc(price, 0.95) AS p95, quantile_disc(price, 1) AS p100
	    FROM read_json('$BATS_TEST_TMPDIR/g', format='newline_delimited',
	        columns={ts: 'VARCHAR', action: 'VARCHAR', price: 'DOUBLE'}) GROUP BY h, a" |
	    jq -r '[.h, .a, .p10, .p50, .p95, .p100] | @tsv' | sort > "$BATS_TEST_TMPDIR/duck"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ecs") > 30 ))
	run same_numbers "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/duck"
	is "$output" ""
	# Values as the events wrote them: every median is a price that occurred.
	run bash -c "ecs-filter -t '{p50}' true < '$BATS_TEST_TMPDIR/rows' | grep -vxE '[0-9]+\.[0-9]{2}'"
	is "$output" ""
	# A row after every event, the values sorted as they come: the last
	# row of each group is the final one.
	ecs-sales -w 1h -b action -m 'p10=quantile(price,0.1)' -m 'p50=quantile(price,0.5)' \
	    -m 'p95=quantile(price,0.95)' -m 'p100=quantile(price,1)' --emit update "$BATS_TEST_TMPDIR/g" |
	    ecs-filter -t '{window_start}\t{action}\t{p10}\t{p50}\t{p95}\t{p100}' true |
	    awk -F '\t' '{ last[$1 FS $2] = $0 } END { for (k in last) print last[k] }' |
	    cut -c1-13,21- | sort > "$BATS_TEST_TMPDIR/updates"
	run diff "$BATS_TEST_TMPDIR/updates" "$BATS_TEST_TMPDIR/ecs"
	is "$output" ""
}

@test "quantile(): past the budget, 4 significant digits and marked approximate" {
	seq 1 30000 | awk '{ printf "{\"v\":%d.37}\n", $1 }' > "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 sales -m 'p50=quantile(v,0.5)'
	like "$output" '{"p50":1[45][0-9][0-9]0,"approximate":{"p50":{"relative_error":0.011}}}'
	head -n 10000 "$BATS_TEST_TMPDIR/in.ndjson" > "$BATS_TEST_TMPDIR/in2"
	run -0 ecs-sales -m 'p50=quantile(v,0.5)' "$BATS_TEST_TMPDIR/in2"
	is "$output" '{"p50":5000.37}' "exact up to the budget"
}

@test "distinct(): null is not a value, as in SQL COUNT(DISTINCT)" {
	ev '{"u":null}' '{"u":1}' '{"u":"null"}' '{}' '{"u":1}'
	run -0 sales -m 'u=distinct(u)' -m 'n=count()'
	is "$output" '{"u":2,"n":5}'
}

@test "default metrics are the same whatever comes first: the live monitor alerts" {
	ev '{"ts":"2026-11-01T10:00:00Z","page":"/"}' '{"ts":"2026-11-01T10:10:00Z","price":10,"quantity":3}' \
	    '{"ts":"2026-11-01T11:10:00Z","sales":500}'
	run -0 sales -w 1h --alert 'sales < 200'
	is "$output" '{"window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","count":2,"sales":30}
{"alert":"rule","rule":"sales < 200","window_start":"2026-11-01T10:00:00Z","window_end":"2026-11-01T11:00:00Z","count":2,"sales":30}
{"window_start":"2026-11-01T11:00:00Z","window_end":"2026-11-01T12:00:00Z","count":1,"sales":500}'
	run -0 sales -w 1h --watch sales --drop 10 </dev/null
	run -2 --separate-stderr ecs-sales -w 1h --alert 'revenue < 200' </dev/null
	like "$stderr" "*--alert 'revenue < 200': 'revenue' is not a metric or key of the rows (they have window_start, window_end, count, sales)"
	run -2 --separate-stderr ecs-sales -w 1h -b shop -m 'n=count()' --alert 'n > 1 and country == "FR"' </dev/null
	like "$stderr" "*'country' is not a metric or key*"
	run -0 ecs-sales -w 1h -b shop -m 'n=count()' --alert 'n > 1 and shop == "a" and window_start > "2026"' </dev/null
	run -2 --separate-stderr ecs-sales -w 1h --watch revenue --drop 10 </dev/null
	like "$stderr" "*--watch 'revenue': no such metric*"
}

@test "clashing output names are usage errors" {
	run -2 --separate-stderr ecs-sales -m 's=sum(price)' -m 's=count()' </dev/null
	like "$stderr" "*--metric 's': the name is already a metric of the row"
	run -2 --separate-stderr ecs-sales -b shop -m 'shop=count()' </dev/null
	like "$stderr" "*--metric 'shop': the name is already a group key of the row"
	run -2 --separate-stderr ecs-sales -b shop,shop </dev/null
	like "$stderr" "*--by key 'shop': the name is already a group key*"
	for name in window_start window_end approximate alert rule correction; do
		run -2 --separate-stderr ecs-sales -m "$name=count()" </dev/null
		like "$stderr" "*--metric '$name': the name is taken by ecs-sales' rows"
	done
	run -2 --separate-stderr ecs-sales -b window_start </dev/null
	like "$stderr" "*--by key 'window_start': the name is taken*"
}

@test "--idle: a drop alert is written during the outage, when its window closes" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-sales -w 1s -m 'sales=sum(price)' --drop 50 --baseline 2 --idle 1s < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	for _ in $(seq 10); do echo '{"price":10}' >&5; sleep 0.3; done
	# No more events, the writer still open: the quiet second must alert.
	wait_for "$out" '"value":0,'
	like "$(grep sales_drop "$out")" '*"metric":"sales","value":0,*"change_pct":-100}*'
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
}

@test "--merge of partials of other metrics stops at the first line, with one error" {
	ecs-gen --events 3000 --seed 3 | ecs-sales -w 1h -m 'n=count()' -m 's=sum(price)' --partial > "$BATS_TEST_TMPDIR/p"
	(( $(wc -l < "$BATS_TEST_TMPDIR/p") > 3 ))
	run -2 --separate-stderr ecs-sales --merge -m 'n=count()' "$BATS_TEST_TMPDIR/p"
	is "$output" ""
	is "$(wc -l <<< "$stderr")" 1
	like "$stderr" "ecs-sales: $BATS_TEST_TMPDIR/p:1: partials of other metrics: '-m n=count() -m s=sum(price)', not '-m n=count()'*"
}

@test "--merge refuses a partial of a window that is no window, or not one of -w, and a group that is no JSON" {
	ev '{"ts":"2024-01-01T00:10:00Z","u":"a","p":1.5}' '{"ts":"2024-01-01T01:10:00Z","u":"b","p":2}'
	m=(-m 'n=count()' -m 's=sum(p)')
	sales -w 1h -b u "${m[@]}" --partial > "$BATS_TEST_TMPDIR/p"
	(( $(wc -l < "$BATS_TEST_TMPDIR/p") == 2 ))
	# A window that ends before it starts was written so.
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.e = .w - 5' > "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr ecs-sales "${m[@]}" --merge "$BATS_TEST_TMPDIR/h"
	is "$output" ""
	like "$stderr" "*h:1: not a line of ecs-sales --partial (window)*"
	# Two ends for one start: both were written, the last end for both.
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.e += 3600000' > "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR/p' '$BATS_TEST_TMPDIR/h' | ecs-sales ${m[*]@Q} --merge"
	is "$output" "$(ecs-sales -w 1h -b u "${m[@]}" "$IN")"
	like "$stderr" "*<stdin>:3: a window of another size than the lines before*"
	# -w given to --merge was ignored: hourly rows for -w 1d.
	run -1 --separate-stderr ecs-sales -w 1d "${m[@]}" --merge "$BATS_TEST_TMPDIR/p"
	is "$output" ""
	like "$stderr" "*p:1: a window that is not one of -w, --slide and --tz*"
	run -0 ecs-sales -w 1h "${m[@]}" --merge "$BATS_TEST_TMPDIR/p"
	is "$output" "$(ecs-sales -w 1h -b u "${m[@]}" "$IN")"
	# The group is written verbatim: it was an object and a half.
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.g = "\"u\":1},{\"x\":2"' > "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr ecs-sales "${m[@]}" --merge "$BATS_TEST_TMPDIR/h"
	is "$output" ""
	like "$stderr" "*h:1: not a line of ecs-sales --partial (group)*"
	# Counts of 2^63 - 1: three of them wrapped to 9223372036854775805.
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.a[0].n = 1' |
	    sed 's/"n":1,/"n":9223372036854775807,/' > "$BATS_TEST_TMPDIR/h"
	grep -q '"n":9223372036854775807,' "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR'/h{,,} | ecs-sales ${m[*]@Q} --merge"
	is "$output" '{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T01:00:00Z","u":"a","n":9223372036854775807,"s":1.5}'
	like "$stderr" "*<stdin>:2: metric 'n': the merged count would pass 2^63 - 1*"
	# A sum held as a double (no ecs-sales writes one now) was written
	# as exact: 0.1 and 0.2 summed to 0.30000000000000004; and the count
	# of the bad line was merged before its sum was refused.
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.a[1].v = "0.2"' > "$BATS_TEST_TMPDIR/h"
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.a[1] = {n: 1, d: 0.1}' >> "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr ecs-sales "${m[@]}" --merge "$BATS_TEST_TMPDIR/h"
	is "$output" '{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T01:00:00Z","u":"a","n":1,"s":0.2}'
	like "$stderr" "*h:2: metric 's': an aggregate value that is not exact (an older ecs-sales)*"
	# Nor does a bad line make its group: it was a row of n 1 and s 0.
	head -1 "$BATS_TEST_TMPDIR/p" | jq -c '.a[1].v = "x"' > "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr ecs-sales "${m[@]}" --merge "$BATS_TEST_TMPDIR/h"
	is "$output" ""
	like "$stderr" "*h:1: metric 's': bad aggregate value*"
	# 20001 values of which the sketch had seen 1: its one value was the
	# median of them all, "within 1.1%".
	ecs-sales --partial -w 1h -m 'q=quantile(p,0.5)' "$IN" | head -1 |
	    jq -c '.a[0].n = 20001 | .a[0].q = [range(10000) | tostring]' > "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr ecs-sales -m 'q=quantile(p,0.5)' --merge "$BATS_TEST_TMPDIR/h"
	is "$output" ""
	like "$stderr" "*h:1: metric 'q': a quantile sketch of another count of values*"
	# A line whose sum would overflow: its count was merged (n 2, s of 1).
	for i in $(seq 100); do echo '{"p":999999999999999999999999999999999999}'; done |
	    ecs-sales --partial "${m[@]}" > "$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR'/h{,} | ecs-sales ${m[*]@Q} --merge"
	is "$output" '{"n":100,"s":99999999999999999999999999999999999900}'
	like "$stderr" "*<stdin>:2: metric 's': the merged sum would overflow (exact to 38 digits)*"
}

@test "--state: a window that is not one of -w, or past any time, and a group that is no JSON are corrupt" {
	ev '{"ts":"2024-01-01T00:10:00Z","u":"a","p":1.5}' '{"ts":"2024-01-01T01:10:00Z","u":"b","p":2}'
	st="$BATS_TEST_TMPDIR/st"
	m=(-w 1h -b u -m 'n=count()' -m 's=sum(p)' --state "$st")
	sales "${m[@]}" > /dev/null
	cp "$st" "$st.good"
	grep -q '"w":1704070800000,' "$st.good"
	# Its end overflowed (UB), and a window 1 ms off was written as one.
	for w in 9223372036854775000 1704070800001; do
		sed "s/\"w\":1704070800000,/\"w\":$w,/" "$st.good" > "$st"
		run -1 --separate-stderr ecs-sales "${m[@]}" < /dev/null
		is "$output" ""
		like "$stderr" "*st:2: corrupt state: bad window*"
	done
	sed 's/"g":"[^,]*",/"g":"\\"u\\":1},{\\"x\\":2",/' "$st.good" > "$st"
	run -1 --separate-stderr ecs-sales "${m[@]}" < /dev/null
	is "$output" ""
	like "$stderr" "*st:2: corrupt state: bad group*"
	# An open window said written was never written: its events were lost.
	sed 's/"written":false/"written":true/' "$st.good" > "$st"
	run -1 --separate-stderr ecs-sales "${m[@]}" < /dev/null
	like "$stderr" "*st:3: corrupt state: a window written before it closed*"
	# max_time + the --idle interval overflowed (UB).
	sed 's/"max_time":[0-9]*/"max_time":9223372036854775807/' "$st.good" > "$st"
	run -1 --separate-stderr ecs-sales "${m[@]}" --idle 1s < /dev/null
	like "$stderr" "*st:1: corrupt state: 'max_time' is not a time*"
	cp "$st.good" "$st"
	run -0 ecs-sales "${m[@]}" < /dev/null
}

# quantile_file EXP: 10001 values (1..7).25 times 10^EXP, median 4.25.
quantile_file() {
	awk -v e="$1" 'BEGIN { for (i = 0; i <= 10000; i++)
	    printf "{\"ts\":%d,\"p\":%d.25e%d}\n", 1000 + i, 1 + i % 7, e }' > "$BATS_TEST_TMPDIR/in.ndjson"
}

@test "quantile(): an estimate has 4 significant digits at any magnitude, ranks 1 and n are exact" {
	for e in -15 23 37; do
		quantile_file "$e"
		run -0 sales -m 'q=quantile(p,0.5)' -m 'lo=quantile(p,0)' -m 'hi=quantile(p,1)'
		matches "$output" '^\{"q":([0-9.]+),"lo":([0-9.]+),"hi":([0-9.]+),"approximate":' "10^$e"
		q=${BASH_REMATCH[1]} lo=${BASH_REMATCH[2]} hi=${BASH_REMATCH[3]}
		# Fixed notation, 4 significant digits at most, within 1.1% of 4.25.
		digits=$(sed 's/\.//; s/^0*//; s/0*$//' <<< "$q")
		(( ${#digits} <= 4 ))
		awk -v q="$q" -v x="4.25e$e" 'BEGIN { r = q / x; exit !(r > 0.989 && r < 1.011) }'
		is "$(jq -n "$lo == 1.25e$e and $hi == 7.25e$e")" true "min and max at 10^$e: $lo $hi"
	done
}

@test "quantile(): a value with no exact decimal is a bad line, past the budget or not" {
	run -1 --separate-stderr ecs-sales -m 'q=quantile(p,1)' <<< '{"ts":1,"p":123456789012345678901234567890123456789012}
{"ts":2,"p":0.5}'
	is "$output" '{"q":0.5}'
	like "$stderr" "*<stdin>:1: metric 'q': the value is not an exact decimal*"
	quantile_file -100
	run -1 --separate-stderr sales -m 'q=quantile(p,0.5)' -m 'n=count()'
	is "$output" "" "no row: no event counted"
	like "$stderr" "*10001 bad lines of 10001 skipped"
}

@test "the keys of drop and spike alerts are taken names too" {
	for name in metric value baseline change_pct; do
		run -2 --separate-stderr ecs-sales -w 1h -m "$name=count()" --drop 50 </dev/null
		like "$stderr" "*--metric '$name': the name is taken by ecs-sales' rows"
		run -2 --separate-stderr ecs-sales -b "$name" </dev/null
		like "$stderr" "*--by key '$name': the name is taken*"
	done
}

@test "--alert: a rule names a row's keys whole, never a path into them" {
	run -2 --separate-stderr ecs-sales -b a.b --alert 'a.b == 1' </dev/null
	like "$stderr" "*--alert 'a.b == 1': 'a.b' is a path into a value; the row's key 'a.b' is written .\"a.b\" in a rule"
	run -2 --separate-stderr ecs-sales -m 'c=count()' --alert 'c.x == 1' </dev/null
	like "$stderr" "*--alert 'c.x == 1': 'c.x' is a path into the row's 'c'; a rule reads the row's keys whole"
	ev '{"a":{"b":1}}' '{"a":{"b":2}}'
	run -0 sales -b a.b -m 'n=count()' --alert '."a.b" == 1'
	is "$output" '{"a.b":1,"n":1}
{"alert":"rule","rule":".\"a.b\" == 1","a.b":1,"n":1}
{"a.b":2,"n":1}'
}

@test "--alert: rules read the row's values exactly, ids and sums of any length" {
	ev '{"id":123456789012345678901234567890,"p":123456789012345678901234}' '{"id":123456789012345678901234567891,"p":1}'
	run -0 sales -b id -m 's=sum(p)' --alert 'id == 123456789012345678901234567890 and s == 123456789012345678901234'
	is "$output" '{"id":123456789012345678901234567890,"s":123456789012345678901234}
{"alert":"rule","rule":"id == 123456789012345678901234567890 and s == 123456789012345678901234","id":123456789012345678901234567890,"s":123456789012345678901234}
{"id":123456789012345678901234567891,"s":1}'
}
