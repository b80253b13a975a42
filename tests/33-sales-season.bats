#!/usr/bin/env bats
# ecs-sales --season: the median of the same slot (hour of the week or
# day, in --tz) over the last --baseline seasons, the band of --band
# robust deviations with its Poisson floor, --persist, the state; the
# expected values and bands compared with DuckDB's median and mad.

load helpers

# weeks_of_orders WEEKS [OUTAGE_HOUR SURGE_HOUR]: hourly purchases from
# Monday 2026-11-02 (UTC; or the epoch START) with a daily and a weekly rhythm and noise from
# a seeded LCG; in the last week, no event in hour OUTAGE_HOUR (counted
# from the start) and four times the orders in SURGE_HOUR.
weeks_of_orders() {
	awk -v start="${START:-1793577600}" -v weeks="$1" -v outage="${2:--1}" -v surge="${3:--1}" 'BEGIN {
		x = 42
		split("2 1 1 1 1 2 4 6 8 9 10 10 10 10 10 11 12 13 14 14 12 9 6 4", hw, " ")
		split("10 10 10 10 9 6 7", dw, " ")
		for (h = 0; h < weeks * 168; h++) {
			x = (x * 16807) % 2147483647
			n = int(hw[h % 24 + 1] * dw[int(h / 24) % 7 + 1] / 4 + x % 7)
			if (h == outage) n = 0
			if (h == surge) n *= 4
			for (i = 0; i < n; i++)
				printf "{\"ts\":%d,\"action\":\"purchase\"}\n", \
				    start + h * 3600 + int(i * 3600 / n)
		}
	}' > "$IN"
}

# The judgement of every hour of the last week, from DuckDB: UTC hours
# (the zones here are whole hours off) with their orders (0 when none),
# their slot the local hour of the week, the median and mad of the same hour of the
# week in the 4 weeks before, the band of K spreads; the hours outside
# as "start value expected low high score", in hundredths.
duckdb_alerts() {
	local k=$1 tz=${2:-UTC}
	need_duckdb
	duckdb_sql "SET TimeZone='$tz';
	    WITH ev AS (SELECT ts FROM read_json('$IN', format='newline_delimited',
	        columns={ts:'BIGINT'})),
	    counts AS (SELECT ts // 3600 * 3600 AS e, count(*) AS n FROM ev GROUP BY 1),
	    hours AS (SELECT unnest(range(min(e), max(e) + 1, 3600)) AS e FROM counts),
	    series AS (SELECT to_timestamp(hours.e) AS h, coalesce(n, 0) AS n,
	        (isodow(to_timestamp(hours.e)) - 1) * 24 + hour(to_timestamp(hours.e)) AS slot
	        FROM hours LEFT JOIN counts USING (e)),
	    judged AS (SELECT h, n, count(n) OVER w AS k, median(n) OVER w AS m, mad(n) OVER w AS d
	        FROM series WINDOW w AS (PARTITION BY slot ORDER BY h
	            ROWS BETWEEN 4 PRECEDING AND 1 PRECEDING)),
	    banded AS (SELECT *, greatest(1.4826 * d, sqrt(greatest(m, 1) * (1 + pi() / 8))) AS s
	        FROM judged WHERE k = 4)
	    SELECT epoch(h)::BIGINT || ' ' || n || ' ' || round(m * 100)::BIGINT || ' ' ||
	        round((m - $k * s) * 100)::BIGINT || ' ' || round((m + $k * s) * 100)::BIGINT ||
	        ' ' || round((n - m) / s * 100)::BIGINT AS line
	    FROM banded WHERE n < m - $k * s OR n > m + $k * s ORDER BY h" | jq -r .line
}

# ecs-sales' alerts in the same form (window starts with an offset too).
our_alerts() {
	jq -r 'def epoch: if endswith("Z") then fromdateiso8601 else
	        (.[0:19] + "Z" | fromdateiso8601) - (if .[19:20] == "-" then -1 else 1 end) *
	        ((.[20:22] | tonumber) * 3600 + (.[23:25] | tonumber) * 60) end;
	    select(.alert) | "\(.window_start | epoch) \(.value) " +
	    ([.expected, .low, .high, .score] | map(. * 100 | round) | join(" "))'
}

@test "--season 1w: expected, band and score of every alert as DuckDB's median and mad" {
	weeks_of_orders 5 $((4 * 168 + 34)) $((4 * 168 + 110))
	run -0 ecs-sales -w 1h -m 'orders=count()' --season 1w --baseline 4 "$IN"
	ours=$(our_alerts <<< "$output")
	theirs=$(duckdb_alerts 3)
	is "$ours" "$theirs"
	# The outage (hour 34 of the week: Tuesday 10:00) and the surge
	# (Friday 14:00) found.
	like "$ours" "*$((1793577600 + (4 * 168 + 34) * 3600)) 0 *"
	like "$ours" "*$((1793577600 + (4 * 168 + 110) * 3600)) *"
	# Only the last week is judged: 4 weeks of history first.
	(( $(jq -r 'select(.alert) | .window_start' <<< "$output" | sort | head -1 |
	    jq -R 'fromdateiso8601') >= 1793577600 + 4 * 604800 ))
}

@test "--band: a narrower band flags more hours, each as DuckDB's" {
	weeks_of_orders 5
	run -0 ecs-sales -w 1h -m 'orders=count()' --season 1w --baseline 4 --band 1.5 "$IN"
	ours=$(our_alerts <<< "$output")
	is "$ours" "$(duckdb_alerts 1.5)"
	(( $(wc -l <<< "$ours") >= 3 ))
}

@test "--season in --tz: slots are local hours of the week, as DuckDB's" {
	# From Monday 2026-10-05: New York's clocks go back on November 1st,
	# and the local hour of the week moves against UTC's.
	START=1791158400 weeks_of_orders 5 $((4 * 168 + 34)) $((4 * 168 + 110))
	run -0 ecs-sales -w 1h -m 'orders=count()' --season 1w --baseline 4 --band 2 \
	    --tz America/New_York "$IN"
	ours=$(our_alerts <<< "$output")
	is "$ours" "$(duckdb_alerts 2 America/New_York)"
	(( $(wc -l <<< "$ours") >= 2 ))
}

@test "--season 1d: the same hour of the day; an hour without events counts 0" {
	# 50 orders at 10:00 on four days, then none at all that day.
	for d in 02 03 04 05 06; do
		for h in 09 10 11; do
			n=50
			[[ $d$h == 0610 ]] && n=0
			for ((i = 0; i < n; i++)); do
				echo "{\"ts\":\"2026-11-${d}T$h:$(printf %02d $((i % 60))):00Z\"}"
			done
		done
	done > "$IN"
	run -0 ecs-sales -w 1h -m 'n=count()' --season 1d --baseline 4 "$IN"
	alerts=$(jq -c 'select(.alert) | [.alert, .window_start, .value, .expected]' <<< "$output")
	is "$alerts" '["sales_drop","2026-11-06T10:00:00Z",0,50]'
}

@test "--persist 2: only the second window in a row off the band alerts" {
	weeks_of_orders 5 $((4 * 168 + 34)) $((4 * 168 + 110))
	# Two hours of outage: 34 and 35.
	awk -v a=$((1793577600 + (4 * 168 + 35) * 3600)) \
	    '{ split($0, f, "[:,]"); if (f[2] < a || f[2] >= a + 3600) print }' "$IN" > "$IN.2"
	run -0 ecs-sales -w 1h -m 'orders=count()' --season 1w --baseline 4 "$IN.2"
	one=$(jq -r 'select(.alert) | .window_start' <<< "$output")
	run -0 ecs-sales -w 1h -m 'orders=count()' --season 1w --baseline 4 --persist 2 "$IN.2"
	two=$(jq -r 'select(.alert) | .window_start' <<< "$output")
	like "$one" "*2026-12-01T10:00:00Z*2026-12-01T11:00:00Z*"
	is "$two" "2026-12-01T11:00:00Z"
}

@test "state keeps the seasons: a run split in two alerts as one run" {
	weeks_of_orders 5 $((4 * 168 + 34)) $((4 * 168 + 110))
	opts=(-w 1h -m 'orders=count()' --season 1w --baseline 4 --band 2)
	ecs-sales "${opts[@]}" "$IN" | jq -c 'select(.alert)' > "$BATS_TEST_TMPDIR/whole"
	(( $(wc -l < "$BATS_TEST_TMPDIR/whole") >= 2 ))
	st="$BATS_TEST_TMPDIR/st"
	k=$(( $(wc -l < "$IN") * 9 / 10 ))
	{
		head -n "$k" "$IN" | ecs-sales "${opts[@]}" --state "$st"
		tail -n +"$((k + 1))" "$IN" | ecs-sales "${opts[@]}" --state "$st"
		ecs-sales "${opts[@]}" --idle 1s --state "$st" < /dev/null
	} | jq -c 'select(.alert)' > "$BATS_TEST_TMPDIR/split"
	# The last window stays open in the state: compare the closed ones.
	last=$(tail -1 "$BATS_TEST_TMPDIR/split" | jq -r .window_start)
	is "$(cat "$BATS_TEST_TMPDIR/split")" \
	   "$(jq -c --arg l "$last" 'select(.window_start <= $l)' "$BATS_TEST_TMPDIR/whole")"
	# A state of the mean rule is not one of the seasonal rule.
	run -1 --separate-stderr ecs-sales -w 1h -m 'orders=count()' --drop 50 --baseline 4 \
	    --state "$st" < /dev/null
	like "$stderr" "*saved by a run with other options*"
}

@test "--season usage errors: rules that cannot fire or cannot be judged" {
	ev '{"ts":"2026-11-02T00:00:00Z"}'
	run -2 --separate-stderr ecs-sales --season 1w "$IN"
	like "$stderr" "*--season needs tumbling windows*"
	run -2 --separate-stderr ecs-sales -w 1h --slide 30m --season 1w "$IN"
	like "$stderr" "*--season needs tumbling windows*"
	run -2 --separate-stderr ecs-sales -w 7h --season 1d "$IN"
	like "$stderr" "*--window must divide it*"
	run -2 --separate-stderr ecs-sales -w 1w --season 1w "$IN"
	like "$stderr" "*--window must divide it*"
	run -2 --separate-stderr ecs-sales -w 1mo --season 1w "$IN"
	like "$stderr" "*--window must divide it*"
	run -2 --separate-stderr ecs-sales -w 1h --season 2d "$IN"
	like "$stderr" "*--season '2d': expected 1d or 1w*"
	run -2 --separate-stderr ecs-sales -w 1h --season 1w --drop 50 "$IN"
	like "$stderr" "*not with --drop or --spike*"
	run -2 --separate-stderr ecs-sales -w 1h --band 2 "$IN"
	like "$stderr" "*--band needs --season*"
	run -2 --separate-stderr ecs-sales -w 1h --band 0 --season 1w "$IN"
	like "$stderr" "*--band '0'*"
	run -2 --separate-stderr ecs-sales -w 1h --persist 2 "$IN"
	like "$stderr" "*--persist needs*"
	run -2 --separate-stderr ecs-sales -w 1h -m 'n=count()' --partial --season 1w "$IN"
	like "$stderr" "*--partial writes states to merge*"
	run -2 --separate-stderr ecs-sales -w 1h -m 'n=count()' --merge --season 1w "$IN"
	like "$stderr" "*--merge takes --alert but not*"
	run -2 --separate-stderr ecs-sales -w 1h -m 'score=count()' "$IN"
	like "$stderr" "*'score': the name is taken*"
}
