#!/usr/bin/env bats
# Scale-out behind Kafka: events keyed by the program's state key into a
# 4-partition topic of a mock cluster (the real protocol, on loopback), one
# process per partition between two kcat, and the union equal to one
# process over the whole stream.

load helpers

setup() {
	command -v kcat >/dev/null || skip "needs kcat (scripts/bootstrap installs it)"
	command -v kafka-mock >/dev/null || skip "needs librdkafka-dev to build kafka-mock"
	kafka-mock events:4 alerts:4 rows:4 > "$BATS_TEST_TMPDIR/brokers" 3>&- &
	mock=$!
	wait_until test -s "$BATS_TEST_TMPDIR/brokers"
	brokers=$(cat "$BATS_TEST_TMPDIR/brokers")
	[[ -n "$brokers" ]]
}

teardown() {
	[[ -n "${mock:-}" ]] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null || true
}

# produce TOPIC KEY FILE: each line of FILE, keyed by the field KEY, as
# the producer recipe of README.md and ecs(7) does it.
produce() {
	ecs-filter -t "{$2}\\t{.}" true "$3" |
	    timeout 60 kcat -b "$brokers" -P -t "$1" -K $'\t' -q
}

# consume TOPIC [PARTITION]: every message from the beginning, then exit.
consume() {
	timeout 60 kcat -b "$brokers" -C -t "$1" ${2:+-p "$2"} -o beginning -e -q
}

# wait_all PID...: waits for each; fails if any failed (a bare `wait` with
# several PIDs gives the status of the last one only).
wait_all() {
	local pid failed=0
	for pid; do
		wait "$pid" || { echo "# process $pid: exit $?" >&2; failed=1; }
	done
	return "$failed"
}

@test "ecs-stock per partition, keyed by product: the union of alerts is one run's" {
	ecs-gen --events 20000 --inventory --products 300 --seed 21 > "$BATS_TEST_TMPDIR/g"
	produce events product_id "$BATS_TEST_TMPDIR/g"
	pids=()
	for p in 0 1 2 3; do
		( set -o pipefail; consume events "$p" | ecs-stock --cover-hours 24 |
		    timeout 60 kcat -b "$brokers" -P -t alerts -q ) 3>&- &
		pids+=($!)
	done
	wait_all "${pids[@]}"
	got=$(consume alerts | sort | cksum)
	want=$(ecs-stock --cover-hours 24 "$BATS_TEST_TMPDIR/g" | sort | cksum)
	is "$got" "$want"
	(( $(consume alerts | wc -l) > 20 ))
}

@test "ecs-sales per partition, keyed by its group key: the union of rows is one run's" {
	ecs-gen --events 20000 --seed 22 > "$BATS_TEST_TMPDIR/g"
	produce events category "$BATS_TEST_TMPDIR/g"
	m=(-w 1h -b category -m 'n=count()' -m 's=sum(price*quantity)' -m 'u=distinct(user_id)')
	pids=()
	for p in 0 1 2 3; do
		( set -o pipefail; consume events "$p" | ecs-sales "${m[@]}" |
		    timeout 60 kcat -b "$brokers" -P -t rows -q ) 3>&- &
		pids+=($!)
	done
	wait_all "${pids[@]}"
	ecs-sales "${m[@]}" "$BATS_TEST_TMPDIR/g" | sort > "$BATS_TEST_TMPDIR/want"
	(( $(wc -l < "$BATS_TEST_TMPDIR/want") > 20 ))
	is "$(consume rows | sort | cksum)" "$(cksum < "$BATS_TEST_TMPDIR/want")"
}

@test "ecs-sales --partial on unkeyed partitions, --merge: the rows of one run" {
	ecs-gen --events 20000 --seed 23 > "$BATS_TEST_TMPDIR/g"
	paste <(awk '{ print NR }' "$BATS_TEST_TMPDIR/g") "$BATS_TEST_TMPDIR/g" |
	    timeout 60 kcat -b "$brokers" -P -t events -K $'\t' -q
	m=(-m 'n=count()' -m 's=sum(price*quantity)' -m 'a=avg(price)' -m 'lo=min(price)' -m 'hi=max(price)')
	pids=()
	for p in 0 1 2 3; do
		( set -o pipefail; consume events "$p" | ecs-sales -w 1h -b action "${m[@]}" --partial |
		    timeout 60 kcat -b "$brokers" -P -t rows -q ) 3>&- &
		pids+=($!)
	done
	wait_all "${pids[@]}"
	ecs-sales -w 1h -b action "${m[@]}" "$BATS_TEST_TMPDIR/g" | sort > "$BATS_TEST_TMPDIR/want"
	(( $(wc -l < "$BATS_TEST_TMPDIR/want") > 5 ))
	is "$(consume rows | ecs-sales --merge "${m[@]}" | sort | cksum)" \
	   "$(cksum < "$BATS_TEST_TMPDIR/want")"
}
