#!/usr/bin/env bats
# ecs-filter --unique: the first event of each key within an event-time
# horizon, duplicates counted and kept aside, the keys kept across
# restarts, and the proof that a pipeline killed with -9 and replayed from
# its checkpoint gives, after --unique, exactly the output of a run never
# interrupted.

load helpers

U() { ecs-filter --unique "$@"; }

@test "--unique: the first of each key is written, the others dropped, counted and kept by --dupes" {
	ev '{"id":1,"ts":"2026-11-01T10:00:00Z","n":"a"}' '{"id":2,"ts":"2026-11-01T10:00:01Z"}' \
	    '{"id":1,"ts":"2026-11-01T10:00:02Z","n":"b"}' '{"id":"1","ts":"2026-11-01T10:00:03Z"}' \
	    '{"id":1.0,"ts":"2026-11-01T10:00:04Z"}'
	run -0 --separate-stderr U id --within 1h --dupes "$BATS_TEST_TMPDIR/d" true "$IN"
	is "$output" '{"id":1,"ts":"2026-11-01T10:00:00Z","n":"a"}
{"id":2,"ts":"2026-11-01T10:00:01Z"}
{"id":1.0,"ts":"2026-11-01T10:00:04Z"}'
	is "$(cat "$BATS_TEST_TMPDIR/d")" '{"id":1,"ts":"2026-11-01T10:00:02Z","n":"b"}
{"id":"1","ts":"2026-11-01T10:00:03Z"}'
	is "$stderr" "ecs-filter: 2 duplicate events dropped (--unique), written to $BATS_TEST_TMPDIR/d"
}

@test "--unique A,B: the key is every field; an event without one is written and counted" {
	ev '{"o":1,"p":"x"}' '{"o":1,"p":"y"}' '{"o":1,"p":"x"}' '{"o":1}' '{"o":1}' '{"o":null,"p":"x"}' '{"o":null,"p":"x"}'
	run -0 --separate-stderr U o,p --within 1d true "$IN"
	is "$output" '{"o":1,"p":"x"}
{"o":1,"p":"y"}
{"o":1}
{"o":1}
{"o":null,"p":"x"}'
	is "$stderr" "ecs-filter: 2 duplicate events dropped (--unique)
ecs-filter: 2 events without every --unique field written, not deduplicated"
}

@test "--within: a key is forgotten once the event time is that far past it; memory holds only those keys" {
	ev '{"id":1,"ts":"2026-11-01T10:00:00Z"}' '{"id":1,"ts":"2026-11-01T10:59:59Z"}' \
	    '{"id":2,"ts":"2026-11-01T11:00:00Z"}' '{"id":1,"ts":"2026-11-01T11:00:01Z"}' \
	    '{"id":2,"ts":"2026-11-01T10:30:00Z"}'
	run -0 U id --within 1h -q true "$IN"
	is "$output" '{"id":1,"ts":"2026-11-01T10:00:00Z"}
{"id":2,"ts":"2026-11-01T11:00:00Z"}
{"id":1,"ts":"2026-11-01T11:00:01Z"}'
	# A million distinct ids an hour apart in event time: the state holds
	# the keys of the last hour only.
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"id\":%d,\"ts\":%d}\n", i, 1790000000 + i * 60 }' > "$IN"
	run -0 U id --within 1h --state "$BATS_TEST_TMPDIR/st" -q -c true "$IN"
	is "$output" 200000
	is "$(($(wc -l < "$BATS_TEST_TMPDIR/st") - 2))" 60 "keys held at the end"
}

@test "--within in a stream without times: keys are forgotten by the clock, as ecs(7) times such a stream" {
	# The second X comes at least 1.2 s after the first, by the clock.
	run -0 --separate-stderr bash -c '{ echo "{\"id\":\"X\"}"; sleep 1.2; echo "{\"id\":\"X\",\"n\":2}"; } |
	    ecs-filter --unique id --within 1s true'
	is "$output" '{"id":"X"}
{"id":"X","n":2}'
	# Within the hour, by the same clock, it is a duplicate.
	run -0 --separate-stderr bash -c '{ echo "{\"id\":\"X\"}"; echo "{\"id\":\"X\",\"n\":2}"; } |
	    ecs-filter --unique id --within 1h true'
	is "$output" '{"id":"X"}'
}

@test "--unique with the rules, -v, -c, -n and a --map'ped time" {
	ev '{"id":1,"a":"buy","when":"2026-11-01T10:00:00Z"}' '{"id":1,"a":"view","when":"2026-11-01T10:00:01Z"}' \
	    '{"id":1,"a":"buy","when":"2026-11-01T10:00:02Z"}' '{"id":2,"a":"buy","when":"2026-11-01T12:00:00Z"}' \
	    '{"id":1,"a":"buy","when":"2026-11-01T12:00:01Z"}'
	run -0 U id --within 1h -q --map ts=when -c 'a == "buy"' "$IN"
	is "$output" 3
	run -0 U id --within 1h -q --map ts=when -v -t '{id} {a}' 'a == "buy"' "$IN"
	is "$output" "1 view"
	run -0 U id --within 1d -q -n 1 -t '{id}' 'a == "buy"' "$IN"
	is "$output" 1
	ev '{"id":1,"ts":"soon"}' '{"id":1,"ts":"2026-11-01T10:00:00Z"}'
	run -1 --separate-stderr U id --within 1h true "$IN"
	is "$output" '{"id":1,"ts":"2026-11-01T10:00:00Z"}'
	like "$stderr" "*in.ndjson:1: field 'ts' is not a time: \"soon\"*"
}

@test "--unique usage: --within is needed, and the options that serve it need it" {
	run -2 --separate-stderr ecs-filter --unique id true </dev/null
	is "$stderr" "ecs-filter: --unique: needs --within, the time a key is kept"
	for o in "--within 1h" "--dupes x" "--state x"; do
		run -2 --separate-stderr ecs-filter $o true </dev/null
		is "$stderr" "ecs-filter: ${o% *}: only with --unique"
	done
	run -2 --separate-stderr ecs-filter --unique id --within 1h --checkpoint 5s true </dev/null
	is "$stderr" "ecs-filter: --checkpoint: only with --state"
	run -2 --separate-stderr ecs-filter --unique id --within soon true </dev/null
	like "$stderr" "ecs-filter: --within*"
}

@test "--state keeps the keys seen: a second run drops the duplicates of the first's, in order" {
	st="$BATS_TEST_TMPDIR/st"
	ev '{"id":1,"ts":"2026-11-01T10:00:00Z"}' '{"id":2,"ts":"2026-11-01T10:00:01Z"}'
	run -0 U id --within 1h --state "$st" true "$IN"
	is "${#lines[@]}" 2
	ev '{"id":2,"ts":"2026-11-01T10:00:02Z"}' '{"id":3,"ts":"2026-11-01T10:00:03Z"}' '{"id":1,"ts":"2026-11-01T11:00:00Z"}'
	run -0 U id --within 1h --state "$st" -q true "$IN"
	is "$output" '{"id":3,"ts":"2026-11-01T10:00:03Z"}
{"id":1,"ts":"2026-11-01T11:00:00Z"}'
	run -1 --separate-stderr U other --within 1h --state "$st" true "$IN"
	is "$stderr" "ecs-filter: $st: the state of --unique [\"id\"], not of --unique [\"other\"]"
}

@test "--within: a key kept late, behind a later one, is forgotten at its own time, as in order" {
	# B at 30 comes after X at 100: B is past --within at once, so B at
	# 95 (65 s later) is no duplicate, whatever the order of X and B.
	ev '{"id":"X","ts":100}' '{"id":"B","ts":30}' '{"id":"B","ts":95}' \
	    '{"id":"B","ts":154}' '{"id":"B","ts":155}' '{"id":"X","ts":159}' '{"id":"X","ts":160}'
	run -0 U id --within 60s -q true "$IN"
	is "$output" '{"id":"X","ts":100}
{"id":"B","ts":30}
{"id":"B","ts":95}
{"id":"B","ts":155}
{"id":"X","ts":160}'
	ev '{"id":"B","ts":30}' '{"id":"X","ts":100}' '{"id":"B","ts":95}'
	run -0 U id --within 60s -q true "$IN"
	is "${#lines[@]}" 3
}

@test "--state: a key saved twice or a time out of range is a corrupt state, refused" {
	st="$BATS_TEST_TMPDIR/st"
	head='{"ecs_state":"ecs-filter","version":1,"lines":0,"now":10000,"unique":["id"]}'
	printf '%s\n' "$head" '{"key":"v1:A","t":0}' '{"key":"v1:A","t":5000}' '{"end":2}' >"$st"
	ev '{"id":"C","ts":61}' '{"id":"C","ts":66}'
	run -1 --separate-stderr U id --within 60s --state "$st" true "$IN"
	is "$stderr" "ecs-filter: $st:3: corrupt state: a key saved twice (fix or remove the file; it is not replaced)"
	is "$output" ''
	printf '%s\n' "$head" '{"key":"v1:A","t":-9223372036854775807}' '{"end":1}' >"$st"
	run -1 --separate-stderr U id --within 60s --state "$st" true "$IN"
	is "$stderr" "ecs-filter: $st:2: corrupt state: 't' is not an event time (fix or remove the file; it is not replaced)"
	printf '%s\n' "${head/10000/-9223372036854775807}" '{"end":0}' >"$st"
	run -1 --separate-stderr U id --within 60s --state "$st" true "$IN"
	is "$stderr" "ecs-filter: $st:1: corrupt state: 'now' is not an event time (fix or remove the file; it is not replaced)"
}

# events N: N events with ids and times a second apart; every 7th is sent
# again 150 lines later (a retry), so some retries fall on the other side
# of a checkpoint from their first copy.
events() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			printf "{\"event_id\":\"e%d\",\"ts\":%d,\"n\":%d}\n", i, 1790000000 + i, i
			if (i >= 150 && (i - 150) % 7 == 0)
				printf "{\"event_id\":\"e%d\",\"ts\":%d,\"n\":%d,\"retry\":true}\n", i - 150, 1790000000 + i, i
		}
	}'
}

@test "exactly once: kill -9 mid-stream, replay from the checkpoint as ecs(7) says, and --unique gives the run never interrupted" {
	g="$BATS_TEST_TMPDIR/g" st="$BATS_TEST_TMPDIR/st"
	events 20000 > "$g"
	uniq() { ecs-filter -q --unique event_id --within 1d "$@"; }
	uniq true "$g" > "$BATS_TEST_TMPDIR/whole"
	is "$(wc -l < "$BATS_TEST_TMPDIR/whole")" 20000 "the retries dropped"
	# The pipeline: played live, deduplicated with its state, killed.
	ecs-replay --rate 4000 "$g" | ecs-filter -q --unique event_id --within 1d \
	    --state "$st" --checkpoint 1 true > "$BATS_TEST_TMPDIR/first" 3>&- &
	pid=$!			# ecs-filter itself, not a shell around it
	wait_until test -s "$st"
	kill -9 "$pid"
	status=0
	wait "$pid" || status=$?
	is "$status" 137 "ended by the kill"
	wait
	lines=$(head -1 "$st" | ecs-filter -t '{lines}' true)
	echo "# killed; the last checkpoint was at line $lines of $(wc -l < "$g")" >&3
	(( lines > 0 && lines < $(wc -l < "$g") ))
	# The replay, as ecs(7) documents it: from the line after the count.
	tail -n +"$((lines + 1))" "$g" | uniq --state "$st" true > "$BATS_TEST_TMPDIR/second"
	# What the checkpoint had seen was written before it was saved, and
	# the restart writes exactly the rest of the run never interrupted.
	head -n "$lines" "$g" | uniq true > "$BATS_TEST_TMPDIR/before"
	n=$(wc -l < "$BATS_TEST_TMPDIR/before")
	run -0 cmp <(head -n "$n" "$BATS_TEST_TMPDIR/first") "$BATS_TEST_TMPDIR/before"
	run -0 cmp "$BATS_TEST_TMPDIR/second" <(tail -n +"$((n + 1))" "$BATS_TEST_TMPDIR/whole")
	# The at-least-once output of both runs, after --unique on the id,
	# is the run never interrupted, byte for byte.
	cat "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | uniq true > "$BATS_TEST_TMPDIR/once"
	echo "# $(($(wc -l < "$BATS_TEST_TMPDIR/first") - n)) lines written twice, dropped" >&3
	run -0 cmp "$BATS_TEST_TMPDIR/once" "$BATS_TEST_TMPDIR/whole"
}
