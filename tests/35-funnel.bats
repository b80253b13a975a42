#!/usr/bin/env bats
# ecs-funnel: levels per key equal ClickHouse's windowFunnel (chDB) for
# every mode and combination, on a fixture, the shared data sets and
# generated events; windows and breakdowns as GROUP BY; rows checked with
# SQL over the per-key results; ecs's one rule apart from ClickHouse's;
# usage errors and bad lines.

load helpers

F="$FIXTURES/funnel/events.ndjson"
STEPS=(-s 'view=action == "browse"' -s 'cart=action == "add_to_cart"' -s 'buy=action == "purchase"')
CONDS=("action = 'browse'" "action = 'add_to_cart'" "action = 'purchase'")

# The 24 valid combinations of the five modes (allow_reentry needs
# strict_order), as a comma-separated list each, the first empty.
mode_sets() {
	local m ms
	for m in $(seq 0 31); do
		ms=()
		(( m & 1 )) && ms+=(strict_order)
		(( m & 2 )) && ms+=(strict_deduplication)
		(( m & 4 )) && ms+=(strict_increase)
		(( m & 8 )) && ms+=(strict_once)
		if (( m & 16 )); then
			(( m & 1 )) || continue
			ms+=(allow_reentry)
		fi
		(IFS=,; echo "${ms[*]}")
	done
}

# vs_chdb FILE SCHEMA WITHIN_MS [ECS_ARGS...]: for every mode set, the
# --per-key levels of ecs-funnel ("${STEPS[@]}") equal windowFunnel over
# "${CONDS[@]}" in chDB, grouped by $GROUP_SQL (after the key) as ecs
# groups by its ECS_ARGS; $GROUP_JQ names the same groups in ecs's lines.
# With $WINDOW_MS (ecs's -w), each event goes to every window whose
# attempts it may touch (from the window's start to its end plus
# WITHIN_MS), a step 1 only to its own: windowFunnel per key and window.
# Fails on any difference, on no output, and when no key reached the last
# step without modes.
vs_chdb() {
	local file=$1 schema=$2 within=$3 modes sqlmodes m i=0 src conds cols= col=l
	local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b" ch="$BATS_TEST_TMPDIR/ch"
	local -a sets
	shift 3
	src="file('$file', JSONEachRow, '${schema//\'/\'\'}')"
	conds=$(IFS=,; echo "${CONDS[*]}")
	if [[ -n "${WINDOW_MS:-}" ]]; then
		src="(SELECT *, toUnixTimestamp64Milli(ts) AS ms,
		    arrayJoin(arrayMap(j -> intDiv(ms, $WINDOW_MS) * $WINDOW_MS - j * $WINDOW_MS,
		        range(toUInt64(intDiv($within, $WINDOW_MS) + 2)))) AS w
		    FROM $src)
		    WHERE ms < w + $WINDOW_MS + $within AND NOT ((${CONDS[0]}) AND ms >= w + $WINDOW_MS)"
	fi
	# One query for all mode sets: column l$i is windowFunnel in set i.
	mapfile -t sets < <(mode_sets)
	for modes in "${sets[@]}"; do
		sqlmodes=
		for m in ${modes//,/ }; do sqlmodes+=", '$m'"; done
		cols+=", windowFunnel($within$sqlmodes)(toUInt64(toUnixTimestamp64Milli(ts)), $conds) AS l$i"
		i=$((i + 1))
	done
	q="SELECT toString(user_id) AS k${GROUP_SQL:+, $GROUP_SQL}$cols FROM $src GROUP BY ALL"
	# --exclude: the best level of the key's segments between events of
	# $EXCLUDE_SQL (an event of it ends its segment).
	if [[ -n "${EXCLUDE_SQL:-}" ]]; then
		cols=
		for ((i = 0; i < ${#sets[@]}; i++)); do cols+=", max(l$i) AS x$i"; done
		q="SELECT k$cols FROM (${q/FROM $src/, seg FROM (SELECT *,
		    sum(toUInt64($EXCLUDE_SQL)) OVER (PARTITION BY user_id ORDER BY toUnixTimestamp64Milli(ts)
		    RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS seg FROM $src)}) GROUP BY k"
		col=x
	fi
	chdb_sql "$q" > "$ch"
	for ((i = 0; i < ${#sets[@]}; i++)); do
		modes=${sets[i]}
		ecs-funnel "${STEPS[@]}" --within "${within}ms" ${modes:+-m "$modes"} \
		    --per-key "$@" "$file" |
		    jq -c "{k: (.user_id|tostring)${GROUP_JQ:-}, level}" | sort > "$a"
		jq -c "select(.$col$i > 0) | {k${GROUP_JQ:+${GROUP_JQ//: */}}, level: .$col$i}" "$ch" |
		    sort > "$b"
		if ! cmp -s "$a" "$b"; then
			echo "# modes [$modes]: ecs-funnel (<) and windowFunnel (>) differ" >&2
			diff "$a" "$b" | head -10 >&2
			return 1
		fi
		[[ -s "$a" ]] || { echo "# modes [$modes]: no levels" >&2; return 1; }
		# Without modes, some key reaches the end: the test can fail.
		[[ -n "$modes" ]] || grep -q "\"level\":$(( ${#STEPS[@]} / 2 ))}" "$a" ||
		    { echo "# no key reached the last step" >&2; return 1; }
	done
	is "$i" 24 "mode sets compared"
}

@test "the fixture: levels equal windowFunnel's in every mode and combination" {
	need_chdb
	vs_chdb "$F" "user_id String, action String, ts DateTime64(3, 'UTC')" 3600000
}

@test "the fixture in daily windows: windowFunnel per key and window" {
	need_chdb
	WINDOW_MS=86400000 GROUP_SQL="w" GROUP_JQ=', w: (.window_start|fromdateiso8601*1000)'
	vs_chdb "$F" "user_id String, action String, ts DateTime64(3, 'UTC')" 3600000 -w 1d
}

@test "Taobao sample: every mode and combination, then by category" {
	need_chdb
	shared_data taobao-user-behavior-sample/events.ndjson
	vs_chdb "$data" "user_id Int64, action String, ts DateTime64(3, 'UTC')" 3600000
	GROUP_SQL="category_id" GROUP_JQ=', category_id'
	vs_chdb "$data" "user_id Int64, action String, category_id Int64, ts DateTime64(3, 'UTC')" 86400000 -b category_id
}

@test "UCI events (many lines a second): every mode and combination" {
	need_chdb
	shared_data uci-online-retail/events.ndjson.gz
	STEPS=(-s 'few=quantity <= 2' -s 'some=quantity > 2 and quantity <= 6' -s 'many=quantity >= 12')
	CONDS=("quantity <= 2" "quantity > 2 AND quantity <= 6" "quantity >= 12")
	vs_chdb "$data" "user_id Int64, quantity Int64, ts DateTime64(3, 'UTC')" 86400000
}

@test "ecs-gen events: every mode and combination, in hourly windows" {
	need_chdb
	ecs-gen --events 10000 --users 1000 --seed 35 > "$BATS_TEST_TMPDIR/g"
	vs_chdb "$BATS_TEST_TMPDIR/g" "user_id Int64, action String, ts DateTime64(3, 'UTC')" 600000
	WINDOW_MS=3600000 GROUP_SQL="w" GROUP_JQ=', w: (.window_start|fromdateiso8601*1000)'
	vs_chdb "$BATS_TEST_TMPDIR/g" "user_id Int64, action String, ts DateTime64(3, 'UTC')" 600000 -w 1h
}

@test "Taobao sample in daily windows: attempts across midnight stay with their step 1" {
	need_chdb
	shared_data taobao-user-behavior-sample/events.ndjson
	WINDOW_MS=86400000 GROUP_SQL="w" GROUP_JQ=', w: (.window_start|fromdateiso8601*1000)'
	vs_chdb "$data" "user_id Int64, action String, ts DateTime64(3, 'UTC')" 7200000 -w 1d
}

@test "one record fills one step of an attempt: where ClickHouse counts it twice (#21835)" {
	need_chdb
	ev '{"user_id":1,"quantity":6,"ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":2,"quantity":1,"ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":2,"quantity":6,"ts":"2026-11-01T10:00:00Z"}'
	q="SELECT user_id, windowFunnel(3600000MODES)(toUInt64(toUnixTimestamp64Milli(ts)), quantity >= 1, quantity >= 5) AS level
	    FROM file('$IN', JSONEachRow, 'user_id Int64, quantity Int64, ts DateTime64(3, ''UTC'')') GROUP BY user_id ORDER BY user_id"
	# ClickHouse: user 1's one event is both steps, level 2.
	run -0 chdb_sql "${q//MODES/}"
	is "$output" $'{"user_id":1,"level":2}\n{"user_id":2,"level":2}' "windowFunnel"
	# ecs-funnel: user 1 has one event, so one step; user 2 has two.
	run -0 ecs-funnel -s 'any=quantity >= 1' -s 'many=quantity >= 5' --within 1h --per-key "$IN"
	is "$(jq -c '{user_id, level}' <<< "$output")" $'{"user_id":1,"level":1}\n{"user_id":2,"level":2}'
	# strict_once is ClickHouse's own rule for it: the two agree.
	once=", 'strict_once'"
	run -0 chdb_sql "${q//MODES/$once}"
	is "$output" $'{"user_id":1,"level":1}\n{"user_id":2,"level":2}' "windowFunnel strict_once"
	run -0 ecs-funnel -s 'any=quantity >= 1' -s 'many=quantity >= 5' --within 1h -m strict_once --per-key "$IN"
	is "$(jq -c '{user_id, level}' <<< "$output")" $'{"user_id":1,"level":1}\n{"user_id":2,"level":2}'
}

@test "events of one time count in step order, as in ClickHouse, whatever order they came in" {
	need_chdb
	ev '{"user_id":1,"action":"purchase","ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":1,"action":"add_to_cart","ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}'
	run -0 ecs-funnel "${STEPS[@]}" --within 1h --per-key "$IN"
	is "$output" '{"user_id":1,"level":3,"times":["2026-11-01T10:00:00Z","2026-11-01T10:00:00Z","2026-11-01T10:00:00Z"]}'
	run -0 chdb_sql "SELECT windowFunnel(1)(toUInt64(toUnixTimestamp64Milli(ts)), ${CONDS[0]}, ${CONDS[1]}, ${CONDS[2]}) AS level
	    FROM file('$IN', JSONEachRow, 'user_id Int64, action String, ts DateTime64(3, ''UTC'')')"
	is "$output" '{"level":3}'
	# strict_increase asks for later times: one step.
	run -0 ecs-funnel "${STEPS[@]}" --within 1h -m strict_increase --per-key "$IN"
	is "$(jq .level <<< "$output")" 1
}

@test "keys are JSON values: the number 1 and the string \"1\" are two keys, as ecs-funnel(1) says" {
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":"1","action":"browse","ts":"2026-11-01T10:01:00Z"}' \
	    '{"user_id":"1","action":"add_to_cart","ts":"2026-11-01T10:02:00Z"}'
	run -0 ecs-funnel "${STEPS[@]}" --within 1h --per-key "$IN"
	is "$(jq -c '[.user_id, .level]' <<< "$output" | sort)" '["1",2]
[1,1]'
}

@test "rows per window and breakdown equal SQL over the per-key results" {
	need_duckdb
	ecs-gen --events 20000 --users 500 --cart-rate 0.4 --buy-rate 0.5 --seed 36 > "$BATS_TEST_TMPDIR/g"
	args=("${STEPS[@]}" --within 30m -w 6h -b category "$BATS_TEST_TMPDIR/g")
	ecs-funnel --per-key "${args[@]}" > "$BATS_TEST_TMPDIR/pk"
	run -0 ecs-funnel "${args[@]}"
	jq -c '{w: .window_start, category, step, keys, conversion, overall, dropped,
	    median_s: (if .median_s then .median_s * 1 else null end),
	    p90_s: (if .p90_s then .p90_s * 1 else null end)}' <<< "$output" | sort > "$BATS_TEST_TMPDIR/a"
	duckdb_sql "WITH k AS (SELECT * FROM read_json('$BATS_TEST_TMPDIR/pk', format='newline_delimited')),
	    s AS (SELECT window_start AS w, category, i AS step,
	        count(*) FILTER (WHERE level >= i) AS keys,
	        quantile_disc((epoch_ms(times[i]::TIMESTAMP) - epoch_ms(times[i - 1]::TIMESTAMP)) / 1000, 0.5)
	            FILTER (WHERE level >= i AND i > 1) AS median_s,
	        quantile_disc((epoch_ms(times[i]::TIMESTAMP) - epoch_ms(times[i - 1]::TIMESTAMP)) / 1000, 0.9)
	            FILTER (WHERE level >= i AND i > 1) AS p90_s
	        FROM k, range(1, 4) r(i) GROUP BY ALL)
	    SELECT w, category, step, keys,
	        round(keys / lag(keys, 1, keys) OVER g, 4) AS conversion,
	        round(keys / first_value(keys) OVER g, 4) AS overall,
	        keys - lead(keys, 1, keys) OVER g AS dropped, median_s, p90_s
	    FROM s WINDOW g AS (PARTITION BY w, category ORDER BY step)" |
	    jq -c '.w |= (sub(" "; "T") + "Z") | .step |= tonumber | .keys |= tonumber | .dropped |= tonumber' | sort > "$BATS_TEST_TMPDIR/b"
	[[ $(wc -l < "$BATS_TEST_TMPDIR/a") -gt 30 ]]
	grep -q '"step":3,"keys":[1-9]' "$BATS_TEST_TMPDIR/a"
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "bad lines are reported with file and line, and the rest is counted" {
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	    '{"action":"browse","ts":"2026-11-01T10:00:01Z"}' \
	    '{"user_id":1,"action":"add_to_cart","ts":"soon"}' \
	    'not json' \
	    '{"user_id":[1],"action":"browse","ts":"2026-11-01T10:00:02Z"}' \
	    '{"user_id":1,"action":"add_to_cart","ts":"2026-11-01T10:05:00Z"}' \
	    '{"user_id":1,"action":"purchase","ts":"2026-11-01T10:04:00Z"}'
	run -1 --separate-stderr ecs-funnel "${STEPS[@]}" --within 1h --per-key "$IN"
	is "$output" '{"user_id":1,"level":2,"times":["2026-11-01T10:00:00Z","2026-11-01T10:05:00Z"]}'
	like "$stderr" "*in.ndjson:2: field 'user_id' is missing*"
	like "$stderr" "*in.ndjson:3: field 'ts' is not a time: \"soon\"*"
	like "$stderr" "*in.ndjson:4: *"
	like "$stderr" "*in.ndjson:5: field 'user_id' is not a number or string: \[1\]*"
	like "$stderr" "*in.ndjson:7: ts is before the previous event of its key*"
	like "$stderr" "*5 bad lines of 7 skipped*"
}

@test "a bad line's time moves no watermark: no window is written early" {
	# Line 2, a step without its key, is refused: had its time moved
	# event time on, the window had been written and the cart and the
	# purchase refused as late.
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	    '{"action":"browse","ts":"2030-11-01T10:00:00Z"}' \
	    '{"user_id":1,"action":"add_to_cart","ts":"2026-11-01T10:05:00Z"}' \
	    '{"user_id":1,"action":"purchase","ts":"2026-11-01T10:06:00Z"}'
	run -1 --separate-stderr ecs-funnel "${STEPS[@]}" --within 1h -w 1d --per-key "$IN"
	is "$(jq -c '{user_id, level}' <<< "$output")" '{"user_id":1,"level":3}'
	like "$stderr" "*in.ndjson:2: field 'user_id' is missing*"
	[[ "$stderr" != *late* ]]
	like "$stderr" "*1 bad line of 4 skipped*"
}

@test "a late event (its window written) is refused; --lateness waits for it" {
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":2,"action":"browse","ts":"2026-11-01T12:00:00Z"}' \
	    '{"user_id":1,"action":"add_to_cart","ts":"2026-11-01T10:20:00Z"}'
	run -1 --separate-stderr ecs-funnel "${STEPS[@]}" --within 30m -w 1h --per-key "$IN"
	like "$stderr" "*in.ndjson:3: late: a window its ts falls in was written*"
	is "$(jq -c '{user_id, level}' <<< "$output")" $'{"user_id":1,"level":1}\n{"user_id":2,"level":1}'
	run -0 ecs-funnel "${STEPS[@]}" --within 30m -w 1h --lateness 2h --per-key "$IN"
	is "$(jq -c '{user_id, level}' <<< "$output")" $'{"user_id":1,"level":2}\n{"user_id":2,"level":1}'
}

@test "usage errors say what is wrong" {
	run -2 ecs-funnel --within 1h
	like "$output" "*no steps*"
	run -2 ecs-funnel -s 'a=true'
	like "$output" "*--within: required*"
	run -2 ecs-funnel -s 'a=true' --within 1h -m allow_reentry
	like "$output" "*allow_reentry: needs strict_order*"
	run -2 ecs-funnel -s 'a=true' --within 1h -m strict
	like "$output" "*unknown mode 'strict'*"
	run -2 ecs-funnel -s 'a=true' -s 'a=false' --within 1h
	like "$output" "*step 'a' twice*"
	run -2 ecs-funnel -s 'a=(' --within 1h
	like "$output" "*-s 'a=('*"
	run -0 ecs-funnel --help
	like "$output" "usage: ecs-funnel *"
}

@test "--dropouts: the keys that stopped short, with the furthest step" {
	run -0 ecs-funnel "${STEPS[@]}" --within 1h --per-key --dropouts "$BATS_TEST_TMPDIR/d" "$F"
	run -0 cat "$BATS_TEST_TMPDIR/d"
	is "$output" '{"user_id":5,"level":2,"last_step":"cart","times":["2026-11-01T11:40:00Z","2026-11-01T11:50:00Z"]}'
	# Every key of the per-key lines below the last step, and no other.
	ecs-gen --events 5000 --users 300 --seed 37 > "$BATS_TEST_TMPDIR/g"
	rm "$BATS_TEST_TMPDIR/d"
	ecs-funnel "${STEPS[@]}" --within 10m -w 1h --per-key --dropouts "$BATS_TEST_TMPDIR/d" "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/pk"
	is "$(jq -c 'del(.last_step)' "$BATS_TEST_TMPDIR/d")" "$(jq -c 'select(.level < 3)' "$BATS_TEST_TMPDIR/pk")"
	(( $(wc -l < "$BATS_TEST_TMPDIR/d") > 100 ))
}

@test "--state: two runs over halves write what one run writes" {
	ecs-gen --events 6000 --users 300 --seed 38 > "$BATS_TEST_TMPDIR/g"
	args=("${STEPS[@]}" --within 10m -w 1h -b category --state "$BATS_TEST_TMPDIR/st")
	head -3000 "$BATS_TEST_TMPDIR/g" | ecs-funnel "${args[@]}" > "$BATS_TEST_TMPDIR/1"
	tail -n +3001 "$BATS_TEST_TMPDIR/g" | ecs-funnel "${args[@]}" > "$BATS_TEST_TMPDIR/2"
	# The windows still open stay in the state: the lines so far are the
	# first lines of a run over all of it.
	ecs-funnel "${STEPS[@]}" --within 10m -w 1h -b category "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/whole"
	n=$(cat "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2" | wc -l)
	(( n > 100 ))
	is "$(cat "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2")" "$(head -n "$n" "$BATS_TEST_TMPDIR/whole")"
	# Other options are refused with the state.
	run -1 ecs-funnel "${STEPS[@]}" --within 11m -w 1h -b category --state "$BATS_TEST_TMPDIR/st" < /dev/null
	like "$output" "*saved by a run with other options*"
}

@test "--state: a state with impossible values is refused, not trusted" {
	st="$BATS_TEST_TMPDIR/st" next='{"user_id":2,"action":"browse","ts":"2026-11-05T10:00:00Z"}'
	args=("${STEPS[@]}" --within 1h -w 1d --per-key --state "$st")
	ev '{"user_id":1,"action":"browse","ts":"2026-11-01T10:00:00Z"}' \
	    '{"user_id":1,"action":"add_to_cart","ts":"2026-11-01T10:05:00Z"}' \
	    '{"user_id":1,"action":"browse","ts":"2026-11-01T10:20:00Z"}'
	ecs-funnel "${args[@]}" "$IN"
	cp "$st" "$BATS_TEST_TMPDIR/good"
	run -0 ecs-funnel "${args[@]}" <<< "$next"
	like "${lines[0]}" '*"user_id":1,"level":2,*'
	# A scan that returned at level 3 without a chain of 3 (it crashed),
	# a chain whose steps go back in time, a window that is no window.
	for bad in 's/"done":false,"level":0/"done":true,"level":3/' \
	    's/\[\([0-9]*\),\([0-9]*\),1,2\]/[\2,\1,1,2]/' \
	    's/"w":\([0-9]*\)/"w":\1123/'; do
		sed "2$bad" "$BATS_TEST_TMPDIR/good" > "$st"
		run -1 cmp -s "$st" "$BATS_TEST_TMPDIR/good"
		run -1 --separate-stderr ecs-funnel "${args[@]}" <<< "$next"
		like "$stderr" "*st:2: corrupt state: *" "with $bad"
		is "$output" ""
	done
}

@test "kill -9 and a restart from the checkpoint lose no window" {
	ecs-gen --events 20000 --users 1000 --seed 39 > "$BATS_TEST_TMPDIR/g"
	crash_and_resume ecs-funnel "${STEPS[@]}" --within 10m -w 1h -b category
	# Windows are written when their attempts are over: those the last
	# event closed are all there, once each, as in the uninterrupted run.
	last=$(tail -1 "$BATS_TEST_TMPDIR/g" | ecs-filter -t '{ts}' true)
	ecs-filter "time(window_end) + 600 <= time(\"$last\")" "$BATS_TEST_TMPDIR/whole" > "$BATS_TEST_TMPDIR/closed"
	(( $(wc -l < "$BATS_TEST_TMPDIR/closed") > 100 ))
	cat "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | sort -u > "$BATS_TEST_TMPDIR/got"
	run -0 comm -3 <(sort -u "$BATS_TEST_TMPDIR/closed") "$BATS_TEST_TMPDIR/got"
	is "$output" ""
}

@test "no event of a step: no output, exit 0 (no window was ever open)" {
	run -0 --separate-stderr ecs-funnel "${STEPS[@]}" --within 1h < /dev/null
	is "$output" ""
	is "$stderr" ""
	ev '{"user_id":1,"action":"search","ts":"2026-11-01T10:00:00Z"}'
	run -0 --separate-stderr ecs-funnel "${STEPS[@]}" --within 1h -w 1h -m strict_order "$IN"
	is "$output" ""
	is "$stderr" ""
}

@test "--exclude ends a key's attempts: the best level of the segments between its events" {
	need_chdb
	EXCLUDE_SQL="action = 'search'"
	vs_chdb "$F" "user_id String, action String, ts DateTime64(3, 'UTC')" 3600000 --exclude 'action == "search"'
	is "$(ecs-funnel "${STEPS[@]}" --within 1h --exclude 'action == "search"' --per-key "$F" | jq -c 'select(.user_id == 2)')" \
	    '{"user_id":2,"level":1,"times":["2026-11-01T10:00:00Z"]}'
	ecs-gen --events 10000 --users 500 --seed 40 > "$BATS_TEST_TMPDIR/g"
	EXCLUDE_SQL="price > 300"
	vs_chdb "$BATS_TEST_TMPDIR/g" "user_id Int64, action String, price Float64, ts DateTime64(3, 'UTC')" 600000 --exclude 'price > 300'
}

@test "--same product_id: funnels of one product, and a key counts once at its best" {
	need_chdb
	ecs-gen --events 10000 --users 300 --products 50 --seed 41 > "$BATS_TEST_TMPDIR/g"
	GROUP_SQL="product_id" GROUP_JQ=', product_id'
	vs_chdb "$BATS_TEST_TMPDIR/g" "user_id Int64, product_id Int64, action String, ts DateTime64(3, 'UTC')" 600000 --same product_id
	# The rows count users at their best level over the products.
	args=("${STEPS[@]}" --within 10m --same product_id "$BATS_TEST_TMPDIR/g")
	best=$(ecs-funnel --per-key "${args[@]}" |
	    jq -s -c 'group_by(.user_id) | map(max_by(.level).level) |
	        [(map(select(. >= 1)) | length), (map(select(. >= 2)) | length), (map(select(. >= 3)) | length)]')
	is "$(ecs-funnel "${args[@]}" | jq -s -c 'map(.keys)')" "$best"
	[[ "$best" != "[0,0,0]" ]]
}

@test "--emit update: a line as a key's level changes, then the final ones as without it" {
	ecs-gen --events 5000 --users 200 --seed 42 > "$BATS_TEST_TMPDIR/g"
	args=("${STEPS[@]}" --within 10m -w 1h "$BATS_TEST_TMPDIR/g")
	ecs-funnel --per-key "${args[@]}" > "$BATS_TEST_TMPDIR/final"
	ecs-funnel --per-key --emit update "${args[@]}" > "$BATS_TEST_TMPDIR/upd"
	is "$(jq -c 'select(.final) | del(.final)' "$BATS_TEST_TMPDIR/upd")" "$(cat "$BATS_TEST_TMPDIR/final")"
	# The last update of each key and window has its final level: levels
	# only rise without strict modes, and each rise was written (the
	# chain may be a later one of that level).
	is "$(jq -s -c 'map(select(.final == false)) | group_by([.window_start, .user_id]) | map(last | [.window_start, .user_id, .level]) | sort | .[]' "$BATS_TEST_TMPDIR/upd")" \
	   "$(jq -s -c 'map([.window_start, .user_id, .level]) | sort | .[]' "$BATS_TEST_TMPDIR/final")"
	(( $(jq -c 'select(.final == false)' "$BATS_TEST_TMPDIR/upd" | wc -l) > $(wc -l < "$BATS_TEST_TMPDIR/final") ))
	# Rows: the last update of a window has the keys of its final rows.
	ecs-funnel --emit update "${args[@]}" > "$BATS_TEST_TMPDIR/rows"
	is "$(jq -s -c 'map(select(.final == false)) | group_by([.window_start, .step]) | map(last | [.window_start, .step, .keys]) | .[]' "$BATS_TEST_TMPDIR/rows")" \
	   "$(jq -s -c 'map(select(.final)) | group_by([.window_start, .step]) | map(last | [.window_start, .step, .keys]) | .[]' "$BATS_TEST_TMPDIR/rows")"
	run -2 ecs-funnel "${STEPS[@]}" --within 1h --same product_id --emit update
	like "$output" "*--emit update: the rows of --same*"
}

@test "--partial and --merge: processes split by key give the rows of one process" {
	ecs-gen --events 20000 --users 500 --seed 43 > "$BATS_TEST_TMPDIR/g"
	args=("${STEPS[@]}" --within 10m -w 2h -b category)
	ecs-filter 'user_id % 2 == 0' "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/even"
	ecs-filter 'user_id % 2 == 1' "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/odd"
	ecs-funnel "${args[@]}" --partial "$BATS_TEST_TMPDIR/even" > "$BATS_TEST_TMPDIR/p1"
	ecs-funnel "${args[@]}" --partial "$BATS_TEST_TMPDIR/odd" > "$BATS_TEST_TMPDIR/p2"
	run -0 ecs-funnel "${args[@]}" --merge "$BATS_TEST_TMPDIR/p1" "$BATS_TEST_TMPDIR/p2"
	(( ${#lines[@]} > 100 ))
	is "$(sort <<< "$output")" "$(ecs-funnel "${args[@]}" "$BATS_TEST_TMPDIR/g" | sort)"
	# Partials of another funnel are refused, naming both.
	run -1 ecs-funnel "${STEPS[@]}" --within 11m -w 2h -b category --merge "$BATS_TEST_TMPDIR/p1"
	like "$output" "*partials of another funnel*"
	run -2 ecs-funnel "${args[@]}" --partial --per-key
	like "$output" "*--partial writes the rows' states*"
	# More keys at a step than at the one before is no partial: its
	# "dropped" was 2^64 - 2.
	head -1 "$BATS_TEST_TMPDIR/p1" | jq -c '.keys[1] = .keys[0] + 2' > "$BATS_TEST_TMPDIR/p3"
	run -1 --separate-stderr ecs-funnel "${args[@]}" --merge "$BATS_TEST_TMPDIR/p3"
	like "$stderr" "*p3:1: not a line of ecs-funnel --partial (keys)*"
	is "$output" ""
	# Nor is a window that ends before it starts (it was written so).
	head -1 "$BATS_TEST_TMPDIR/p1" | jq -c '.w = .e + 7200001' > "$BATS_TEST_TMPDIR/p3"
	run -1 --separate-stderr ecs-funnel "${args[@]}" --merge "$BATS_TEST_TMPDIR/p3"
	like "$stderr" "*p3:1: not a line of ecs-funnel --partial (window)*"
	is "$output" ""
}

@test "events of no step and no key (stock snapshots) are no one's: not bad lines" {
	ecs-gen --inventory --events 3000 --seed 44 > "$BATS_TEST_TMPDIR/g"
	grep -qv '"user_id"' "$BATS_TEST_TMPDIR/g"
	for m in "" strict_order; do
		run -0 --separate-stderr ecs-funnel "${STEPS[@]}" --within 10m ${m:+-m $m} "$BATS_TEST_TMPDIR/g"
		is "$stderr" "" "stderr with modes [$m]"
		like "${lines[0]}" '{"step":1,"name":"view","keys":[1-9]*'
	done
}

@test "--idle: a quiet stream's window is written once its attempts are over" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-funnel "${STEPS[@]}" --within 1s -w 1s --per-key --idle 1s < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	echo "{\"user_id\":1,\"action\":\"browse\",\"ts\":\"$now\"}" >&5
	echo "{\"user_id\":1,\"action\":\"add_to_cart\",\"ts\":\"$now\"}" >&5
	wait_until test -s "$out"
	is "$(jq -c '{user_id, level}' "$out")" '{"user_id":1,"level":2}' "written while the writer is still open"
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
}
