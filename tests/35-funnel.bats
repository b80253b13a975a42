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
	local file=$1 schema=$2 within=$3 modes sqlmodes m n=0 src conds
	local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b"
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
	while read -r modes; do
		sqlmodes=
		for m in ${modes//,/ }; do sqlmodes+=", '$m'"; done
		ecs-funnel "${STEPS[@]}" --within "${within}ms" ${modes:+-m "$modes"} \
		    --per-key "$@" "$file" |
		    jq -c "{k: (.user_id|tostring)${GROUP_JQ:-}, level}" | sort > "$a"
		chdb_sql "SELECT toString(user_id) AS k${GROUP_SQL:+, $GROUP_SQL},
		    windowFunnel($within$sqlmodes)(toUInt64(toUnixTimestamp64Milli(ts)), $conds) AS level
		    FROM $src GROUP BY ALL HAVING level > 0" |
		    jq -c "{k${GROUP_JQ:+${GROUP_JQ//: */}}, level}" | sort > "$b"
		if ! cmp -s "$a" "$b"; then
			echo "# modes [$modes]: ecs-funnel (<) and windowFunnel (>) differ" >&2
			diff "$a" "$b" | head -10 >&2
			return 1
		fi
		[[ -s "$a" ]] || { echo "# modes [$modes]: no levels" >&2; return 1; }
		# Without modes, some key reaches the end: the test can fail.
		[[ -n "$modes" ]] || grep -q "\"level\":$(( ${#STEPS[@]} / 2 ))}" "$a" ||
		    { echo "# no key reached the last step" >&2; return 1; }
		n=$((n + 1))
	done < <(mode_sets)
	is "$n" 24 "mode sets compared"
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
