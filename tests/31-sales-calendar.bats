#!/usr/bin/env bats
# ecs-sales calendar windows (-w 1w, 1mo, 1y: ISO weeks from Monday,
# months, years, local under --tz) and group keys that are named
# expressions (-b NAME=EXPR): small cases at the clock changes and year
# boundaries, then the UCI orders compared with DuckDB (date_trunc in a
# time zone, time_bucket in UTC).

load helpers

sales() { ecs-sales "$@" "$IN"; }

# Exact decimals printed with fewer or more zeros at the end are equal.
canon() { sed -E 's/(\.[0-9]*[1-9])0+( |\||$)/\1\2/g; s/\.0+( |\||$)/\1/g'; }

# The UCI orders as DuckDB reads them: money exact, ts an instant.
orders_sql() {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	ORDERS="read_json('$data', format='newline_delimited', columns={ts:'TIMESTAMPTZ',
	    price:'DECIMAL(18,3)', amount:'DECIMAL(18,3)', country:'VARCHAR', cancelled:'BOOLEAN'})"
}

# A local label as ecs-sales writes it under --tz Europe/London (whole hours).
LABEL="'%Y-%m-%dT%H:%M:%S%z') || ':00'"

# windows_vs_duckdb UNIT ARGS...: "start end revenue count" of ecs-sales
# -w ARGS over the orders not cancelled, and the same from DuckDB's
# date_trunc(UNIT) in Europe/London, its end UNIT later in that calendar.
windows_vs_duckdb() {
	local unit=$1 ours theirs
	shift
	orders_sql
	run -0 --separate-stderr ecs-sales "$@" --tz Europe/London --where 'not cancelled' \
	    -m 'revenue=sum(amount)' -m 'n=count()' "$data"
	is "$stderr" "" "no late event, no bad line"
	ours=$(ecs-filter -t '{window_start} {window_end} {revenue} {n}' true <<< "$output" | canon)
	theirs=$(duckdb_sql "SET TimeZone='Europe/London';
	    SELECT strftime(w, $LABEL || ' ' || strftime(w + INTERVAL 1 $unit, $LABEL
	        || ' ' || sum(amount)::VARCHAR || ' ' || count(*) AS line
	    FROM (SELECT date_trunc('$unit', ts) AS w, amount FROM $ORDERS WHERE NOT cancelled)
	    GROUP BY w ORDER BY w" | jq -r .line | canon)
	is "$ours" "$theirs"
	(( $(wc -l <<< "$ours") >= ${MIN_ROWS:-1} ))
}

@test "-w 1d --tz: 23 hours when London's clocks go forward, 25 when they go back" {
	ev '{"ts":"2026-03-29T00:30:00Z"}' '{"ts":"2026-03-29T22:30:00Z"}' \
	   '{"ts":"2026-10-24T23:30:00Z"}' '{"ts":"2026-10-25T23:30:00Z"}' '{"ts":"2026-10-26T00:30:00Z"}'
	run -0 sales -w 1d --tz Europe/London -m 'n=count()'
	is "$output" '{"window_start":"2026-03-29T00:00:00+00:00","window_end":"2026-03-30T00:00:00+01:00","n":2}
{"window_start":"2026-10-25T00:00:00+01:00","window_end":"2026-10-26T00:00:00+00:00","n":2}
{"window_start":"2026-10-26T00:00:00+00:00","window_end":"2026-10-27T00:00:00+00:00","n":1}'
}

@test "-w 1mo: months start at local midnight on the 1st, in UTC without --tz" {
	ev '{"ts":"2011-03-31T22:59:59Z"}' '{"ts":"2011-03-31T23:00:00Z"}' '{"ts":"2011-10-31T23:59:59Z"}' \
	   '{"ts":"2012-02-29T12:00:00Z"}'
	run -0 sales -w 1mo --tz Europe/London -m 'n=count()'
	is "$output" '{"window_start":"2011-03-01T00:00:00+00:00","window_end":"2011-04-01T00:00:00+01:00","n":1}
{"window_start":"2011-04-01T00:00:00+01:00","window_end":"2011-05-01T00:00:00+01:00","n":1}
{"window_start":"2011-10-01T00:00:00+01:00","window_end":"2011-11-01T00:00:00+00:00","n":1}
{"window_start":"2012-02-01T00:00:00+00:00","window_end":"2012-03-01T00:00:00+00:00","n":1}'
	run -0 sales -w 1mo -m 'n=count()'
	is "$(ecs-filter -t '{window_start} {window_end} {n}' true <<< "$output")" \
	    '2011-03-01T00:00:00Z 2011-04-01T00:00:00Z 2
2011-10-01T00:00:00Z 2011-11-01T00:00:00Z 1
2012-02-01T00:00:00Z 2012-03-01T00:00:00Z 1'
	run -0 sales -w 3mo --tz America/New_York -m 'n=count()'
	is "$(ecs-filter -t '{window_start} {n}' true <<< "$output")" \
	    '2011-01-01T00:00:00-05:00 2
2011-10-01T00:00:00-04:00 1
2012-01-01T00:00:00-05:00 1'
}

@test "-w 1w: ISO weeks from Monday, one across the new year, none from Thursday" {
	ev '{"ts":"2020-12-27T23:59:59Z"}' '{"ts":"2020-12-28T00:00:00Z"}' '{"ts":"2021-01-03T23:59:59Z"}' \
	   '{"ts":"2021-01-04T00:00:00Z"}'
	run -0 sales -w 1w -m 'n=count()'
	is "$output" '{"window_start":"2020-12-21T00:00:00Z","window_end":"2020-12-28T00:00:00Z","n":1}
{"window_start":"2020-12-28T00:00:00Z","window_end":"2021-01-04T00:00:00Z","n":2}
{"window_start":"2021-01-04T00:00:00Z","window_end":"2021-01-11T00:00:00Z","n":1}'
	# In Tokyo a Sunday's 23:59:59Z is already Monday morning.
	run -0 sales -w 1w --tz Asia/Tokyo -m 'n=count()'
	is "$(ecs-filter -t '{window_start} {n}' true <<< "$output")" '2020-12-28T00:00:00+09:00 2
2021-01-04T00:00:00+09:00 2'
	ev '{"ts":"1970-01-01T00:00:00Z"}'
	run -0 sales -w 2w -m 'n=count()'
	is "$output" '{"window_start":"1969-12-22T00:00:00Z","window_end":"1970-01-05T00:00:00Z","n":1}'
}

@test "-w 1y: local new year, a year of 366 days" {
	ev '{"ts":"2011-12-31T15:30:00Z"}' '{"ts":"2012-12-31T23:59:00Z"}'
	run -0 sales -w 1y --tz Asia/Tokyo -m 'n=count()'
	is "$output" '{"window_start":"2012-01-01T00:00:00+09:00","window_end":"2013-01-01T00:00:00+09:00","n":1}
{"window_start":"2013-01-01T00:00:00+09:00","window_end":"2014-01-01T00:00:00+09:00","n":1}'
	run -0 sales -w 1y -m 'n=count()'
	is "$output" '{"window_start":"2011-01-01T00:00:00Z","window_end":"2012-01-01T00:00:00Z","n":1}
{"window_start":"2012-01-01T00:00:00Z","window_end":"2013-01-01T00:00:00Z","n":1}'
}

@test "calendar windows: --slide, fractions and unnamed key expressions are usage errors" {
	run -2 --separate-stderr ecs-sales -w 1mo --slide 1d
	like "$stderr" "*--slide: not with windows of months or years*"
	run -2 --separate-stderr ecs-sales -w 1.5mo
	like "$stderr" "*--window '1.5mo': months and years are whole numbers*"
	run -2 --separate-stderr ecs-sales -w 0y
	like "$stderr" "*--window '0y'*"
	run -2 --separate-stderr ecs-sales -b 'price >= 100'
	like "$stderr" "*--by 'price >= 100': expected a field path or NAME=EXPR*"
	run -2 --separate-stderr ecs-sales -b 'window_end=1'
	like "$stderr" "*--by key 'window_end': the name is taken*"
	run -2 --separate-stderr ecs-sales -b 'c=('
	like "$stderr" "*--by '(': expression:*"
}

@test "calendar windows: --lateness, late events, --state and --merge as with fixed ones" {
	ev '{"ts":"2011-04-20T10:00:00Z","a":1}' '{"ts":"2011-05-02T10:00:00Z","a":2}' \
	   '{"ts":"2011-04-30T23:30:00Z","a":4}' '{"ts":"2011-06-01T00:00:00Z","a":8}'
	# 2011-04-30T23:30Z is May in London, so it is not late.
	run -0 --separate-stderr sales -w 1mo --tz Europe/London -m 's=sum(a)'
	is "$(ecs-filter -t '{window_start} {s}' true <<< "$output")" '2011-04-01T00:00:00+01:00 1
2011-05-01T00:00:00+01:00 6
2011-06-01T00:00:00+01:00 8'
	is "$stderr" ""
	run -0 --separate-stderr sales -w 1mo -m 's=sum(a)'
	is "$(ecs-filter -t '{window_start} {s}' true <<< "$output")" '2011-04-01T00:00:00Z 1
2011-05-01T00:00:00Z 2
2011-06-01T00:00:00Z 8'
	is "$stderr" "ecs-sales: 1 late event (after their window was written)"
	run -0 sales -w 1mo -m 's=sum(a)' --lateness 2d
	is "$(ecs-filter -t '{window_start} {s}' true <<< "$output")" '2011-04-01T00:00:00Z 5
2011-05-01T00:00:00Z 2
2011-06-01T00:00:00Z 8'
	whole=$output
	st="$BATS_TEST_TMPDIR/st"
	# April stays open in the state until June's event closes it.
	head -2 "$IN" | ecs-sales -w 1mo -m 's=sum(a)' --lateness 2d --state "$st" > "$BATS_TEST_TMPDIR/out"
	is "$(cat "$BATS_TEST_TMPDIR/out")" ""
	tail -2 "$IN" | ecs-sales -w 1mo -m 's=sum(a)' --lateness 2d --state "$st" > "$BATS_TEST_TMPDIR/out"
	is "$(cat "$BATS_TEST_TMPDIR/out")" "${whole%%$'\n'*}" "two runs with --state"
	run -1 --separate-stderr ecs-sales -w 31d -m 's=sum(a)' --state "$st" < /dev/null
	like "$stderr" "*saved by a run with other options*"
	head -2 "$IN" | ecs-sales -w 1mo --tz Europe/London -m 's=sum(a)' --partial > "$BATS_TEST_TMPDIR/p"
	tail -2 "$IN" | ecs-sales -w 1mo --tz Europe/London -m 's=sum(a)' --partial >> "$BATS_TEST_TMPDIR/p"
	run -0 ecs-sales --merge --tz Europe/London -m 's=sum(a)' "$BATS_TEST_TMPDIR/p"
	is "$(ecs-filter -t '{window_start} {window_end} {s}' true <<< "$output" | sort)" \
	    '2011-04-01T00:00:00+01:00 2011-05-01T00:00:00+01:00 1
2011-05-01T00:00:00+01:00 2011-06-01T00:00:00+01:00 6
2011-06-01T00:00:00+01:00 2011-07-01T00:00:00+01:00 8'
}

@test "-w 1w: a state saved when weeks started on Thursday is refused" {
	ev '{"ts":"2021-01-07T10:00:00Z","a":1}'
	st="$BATS_TEST_TMPDIR/st"
	run -0 ecs-sales -w 1w -m 's=sum(a)' --state "$st" "$IN"
	grep -q ' from=monday' "$st"
	sed -i 's/ from=monday//' "$st"
	run -1 --separate-stderr ecs-sales -w 1w -m 's=sum(a)' --state "$st" < /dev/null
	like "$stderr" "*saved by a run with other options*"
}

@test "--drop: a month without an event is a drop to 0" {
	ev '{"ts":"2011-01-10T00:00:00Z","a":5}' '{"ts":"2011-02-10T00:00:00Z","a":5}' \
	   '{"ts":"2011-04-10T00:00:00Z","a":5}'
	run -0 sales -w 1mo -m 's=sum(a)' --drop 50 --baseline 2
	is "$(ecs-filter -t '{window_start} {window_end} {value}' 'alert == "sales_drop"' <<< "$output")" \
	    '2011-03-01T00:00:00Z 2011-04-01T00:00:00Z 0'
}

@test "-b NAME=EXPR: the value as JSON, null without one (a comparison is false); keys split outside brackets" {
	ev '{"ts":"2011-03-31T23:30:00Z","price":150,"c":"UK","o":{"a": [1, 2]}}' \
	   '{"ts":"2011-04-01T00:30:00Z","price":5,"c":"FR"}' '{"ts":"2011-02-01T00:30:00Z","c":"FR"}'
	run -0 sales -b 'c,month=trunc(ts,"month"),big=price >= 100,p=price * 2,o2 = o' --tz Europe/London -m 'n=count()'
	is "$output" '{"c":"UK","month":"2011-04-01T00:00:00+01:00","big":true,"p":300,"o2":{"a":[1,2]},"n":1}
{"c":"FR","month":"2011-04-01T00:00:00+01:00","big":false,"p":10,"o2":null,"n":1}
{"c":"FR","month":"2011-02-01T00:00:00+00:00","big":false,"p":null,"o2":null,"n":1}'
}

@test "UCI orders: revenue per month in London time, as DuckDB's date_trunc" {
	MIN_ROWS=13 windows_vs_duckdb month -w 1mo
}

@test "UCI orders: revenue per ISO week in London time, as DuckDB's date_trunc" {
	MIN_ROWS=50 windows_vs_duckdb week -w 1w
}

@test "UCI orders: revenue per year in London time, as DuckDB's date_trunc" {
	MIN_ROWS=2 windows_vs_duckdb year -w 1y
}

@test "UCI orders: weeks and months in UTC, as DuckDB's time_bucket" {
	local ours theirs unit
	orders_sql
	for unit in week month; do
		run -0 ecs-sales -w "$([[ $unit == week ]] && echo 1w || echo 1mo)" -m 'revenue=sum(amount)' "$data"
		ours=$(ecs-filter -t '{window_start} {revenue}' true <<< "$output" | canon)
		theirs=$(duckdb_sql "SELECT strftime(b, '%Y-%m-%dT%H:%M:%SZ') || ' ' || sum(amount)::VARCHAR AS line
		    FROM (SELECT time_bucket(INTERVAL 1 $unit, timezone('UTC', ts)) AS b, amount FROM $ORDERS)
		    GROUP BY b ORDER BY b" | jq -r .line | canon)
		is "$ours" "$theirs" "$unit"
		(( $(wc -l <<< "$ours") >= 13 ))
	done
}

@test "UCI orders: revenue per month and country in London time, as DuckDB" {
	local ours theirs
	orders_sql
	run -0 ecs-sales -w 1mo -b country --tz Europe/London --where 'not cancelled' \
	    -m 'revenue=sum(amount)' "$data"
	ours=$(ecs-filter -t '{window_start}|{country}|{revenue}' true <<< "$output" | canon | sort)
	theirs=$(duckdb_sql "SET TimeZone='Europe/London';
	    SELECT strftime(date_trunc('month', ts), $LABEL || '|' || country || '|' || sum(amount)::VARCHAR AS line
	    FROM $ORDERS WHERE NOT cancelled GROUP BY date_trunc('month', ts), country" | jq -r .line | canon | sort)
	is "$ours" "$theirs"
	(( $(wc -l <<< "$ours") >= 200 ))
}

@test "UCI orders: -b 'month=trunc(ts,\"month\")' is -w 1mo by month, as DuckDB" {
	local keyed windowed theirs
	orders_sql
	run -0 ecs-sales -b 'month=trunc(ts,"month")' --tz Europe/London --where 'not cancelled' \
	    -m 'revenue=sum(amount)' "$data"
	keyed=$(ecs-filter -t '{month} {revenue}' true <<< "$output" | canon)
	run -0 ecs-sales -w 1mo --tz Europe/London --where 'not cancelled' -m 'revenue=sum(amount)' "$data"
	windowed=$(ecs-filter -t '{window_start} {revenue}' true <<< "$output" | canon)
	is "$keyed" "$windowed"
	theirs=$(duckdb_sql "SET TimeZone='Europe/London';
	    SELECT strftime(date_trunc('month', ts), $LABEL || ' ' || sum(amount)::VARCHAR AS line
	    FROM $ORDERS WHERE NOT cancelled GROUP BY date_trunc('month', ts) ORDER BY date_trunc('month', ts)" |
	    jq -r .line | canon)
	is "$keyed" "$theirs"
	(( $(wc -l <<< "$keyed") == 13 ))
}

@test "UCI orders: -b 'big=price >= 100' counts as DuckDB's GROUP BY price >= 100" {
	local ours theirs
	orders_sql
	run -0 ecs-sales -b 'big=price >= 100' -m 'n=count()' -m 'revenue=sum(amount)' "$data"
	ours=$(ecs-filter -t '{big} {n} {revenue}' true <<< "$output" | canon | sort)
	theirs=$(duckdb_sql "SELECT (price >= 100)::VARCHAR || ' ' || count(*) || ' ' || sum(amount)::VARCHAR AS line
	    FROM $ORDERS GROUP BY price >= 100" | jq -r .line | canon | sort)
	is "$ours" "$theirs"
	(( $(wc -l <<< "$ours") == 2 ))
}

@test "the README's revenue per month in London time: DuckDB's, with and without windows" {
	local f="$FIXTURES/real/uci-orders-excerpt.ndjson" keyed windowed theirs
	need_duckdb
	run -0 bash -c "cd '$BATS_TEST_DIRNAME/..' && ecs-sales --tz Europe/London -b 'month=trunc(ts,\"month\")' \
	    --where 'not cancelled' -m 'revenue=sum(amount)' tests/fixtures/real/uci-orders-excerpt.ndjson"
	is "$(head -4 <<< "$output")" "$(sed -n '/^    \$ ecs-sales --tz Europe\/London -b/,/^$/p' \
	    "$BATS_TEST_DIRNAME/../README.md" | sed -n 's/^    {/{/p')" "the README's rows"
	keyed=$(ecs-filter -t '{month} {revenue}' true <<< "$output" | canon)
	# The excerpt ends with lines out of time order: windows wait for them.
	run -0 --separate-stderr ecs-sales -w 1mo --lateness 400d --tz Europe/London --where 'not cancelled' \
	    -m 'revenue=sum(amount)' "$f"
	windowed=$(ecs-filter -t '{window_start} {revenue}' true <<< "$output" | canon)
	theirs=$(duckdb_sql "SET TimeZone='Europe/London';
	    SELECT strftime(date_trunc('month', ts), $LABEL || ' ' || sum(amount)::VARCHAR AS line
	    FROM read_json('$f', format='newline_delimited', columns={ts:'TIMESTAMPTZ',
	        amount:'DECIMAL(18,3)', cancelled:'BOOLEAN'})
	    WHERE NOT cancelled GROUP BY date_trunc('month', ts) ORDER BY date_trunc('month', ts)" | jq -r .line | canon)
	is "$keyed" "$theirs"
	is "$windowed" "$theirs"
	(( $(wc -l <<< "$theirs") == 13 ))
}

@test "-w 2y, 3mo and 7mo in Tokyo: DuckDB's time_bucket in that zone, months from January 2000" {
	local ts w ours theirs
	need_duckdb
	ev '{"ts":"1999-12-31T14:59:59Z"}' '{"ts":"1999-12-31T15:00:00Z"}' '{"ts":"2011-03-31T15:30:00Z"}' \
	   '{"ts":"2013-06-30T23:00:00Z"}' '{"ts":"2024-02-29T12:00:00Z"}'
	for w in 2y:'2 year' 3mo:'3 month' 7mo:'7 month'; do
		ours=$(sales -w "${w%%:*}" --tz Asia/Tokyo --lateness 99999d -m 'n=count()' |
		    ecs-filter -t '{window_start} {n}' true)
		theirs=$(duckdb_sql "SET TimeZone='Asia/Tokyo';
		    SELECT strftime(b, '%Y-%m-%dT%H:%M:%S%z') || ':00 ' || count(*) AS line
		    FROM (SELECT time_bucket(INTERVAL ${w#*:}, ts::TIMESTAMPTZ, 'Asia/Tokyo') AS b
		        FROM read_json('$IN', format='newline_delimited', columns={ts:'VARCHAR'}))
		    GROUP BY b ORDER BY b" | jq -r .line)
		is "$ours" "$theirs" "$w"
		(( $(wc -l <<< "$ours") >= 4 ))
	done
}

@test "--tz: windows of whole days slide by whole days, else a usage error" {
	# The window that started at noon ended at the next local midnight:
	# [10T12:00, 11T00:00) for -w 1d, without the events of the 11th.
	ev '{"ts":"2024-01-10T13:00:00+01:00"}' '{"ts":"2024-01-11T06:00:00+01:00"}'
	run -2 --separate-stderr ecs-sales -w 1d --slide 12h --tz Europe/Paris -m 'n=count()' "$IN"
	is "$output" ""
	like "$stderr" "*--slide: with --tz, windows of whole days go from local midnight to local midnight, so they slide by whole days"
	run -0 ecs-sales -w 2d --slide 1d --tz Europe/Paris -m 'n=count()' "$IN"
	is "$output" '{"window_start":"2024-01-09T00:00:00+01:00","window_end":"2024-01-11T00:00:00+01:00","n":1}
{"window_start":"2024-01-10T00:00:00+01:00","window_end":"2024-01-12T00:00:00+01:00","n":2}
{"window_start":"2024-01-11T00:00:00+01:00","window_end":"2024-01-13T00:00:00+01:00","n":1}'
	# In UTC a day is 24 hours, and slides by any part of it.
	run -0 ecs-sales -w 1d --slide 12h -m 'n=count()' "$IN"
	like "$output" '*{"window_start":"2024-01-10T12:00:00Z","window_end":"2024-01-11T12:00:00Z","n":2}*'
}
