#!/usr/bin/env bats
# ecs-gen --weekly, --outage, --surge, --labels and --until: a stream with
# a weekly rhythm and labelled anomalies to score alerts against.

load helpers

# hourly FILE: "hour count" of the events of FILE, by Miller.
hourly() {
	mlr --ijson --onidx --ofs ' ' put '$h = substr($ts, 0, 12)' then count -g h then sort -f h "$1"
}

@test "--until: the stream stops before that time, the same stream as without it" {
	run -0 ecs-gen -n 0 --until 2026-11-01T06:00:00Z
	last=$(tail -1 <<< "$output" | jq -r .ts)
	[[ $last < 2026-11-01T06:00:00Z ]]
	[[ $last > 2026-11-01T05:50:00Z ]]
	n=$(wc -l <<< "$output")
	is "$output" "$(ecs-gen -n "$n")"
}

@test "--outage: no shopper event in it, and the labels say where it was" {
	labels="$BATS_TEST_TMPDIR/labels"
	ecs-gen -n 0 --until 2026-11-01T12:00:00Z --outage 2026-11-01T09:00:00Z,2h \
	    --labels "$labels" > "$IN"
	is "$(cat "$labels")" '{"anomaly":"outage","start":"2026-11-01T09:00:00Z","end":"2026-11-01T11:00:00Z"}'
	counts=$(hourly "$IN")
	like "$counts" "*2026-11-01T08 *"
	like "$counts" "*2026-11-01T11 *"
	is "$(grep -c -e '^2026-11-01T09' -e '^2026-11-01T10' <<< "$counts")" 0 "$counts"
	# Before it, the stream is the usual one.
	head -n 1000 "$IN" > "$BATS_TEST_TMPDIR/head"
	is "$(cksum < "$BATS_TEST_TMPDIR/head")" "$(ecs-gen -n 1000 | cksum)"
}

@test "--surge: about factor times the sessions in it" {
	ecs-gen -n 0 --until 2026-11-01T16:00:00Z > "$BATS_TEST_TMPDIR/plain"
	ecs-gen -n 0 --until 2026-11-01T16:00:00Z --surge 2026-11-01T14:00:00Z,1h,3 \
	    --labels "$BATS_TEST_TMPDIR/labels" > "$IN"
	is "$(cat "$BATS_TEST_TMPDIR/labels")" \
	   '{"anomaly":"surge","start":"2026-11-01T14:00:00Z","end":"2026-11-01T15:00:00Z","factor":3}'
	# Sessions whose first event is in the hour, counted by Miller.
	starts() {
		mlr --ijson --onidx head -n 1 -g session_id then filter 'substr($ts, 0, 12) == "2026-11-01T14"' \
		    then count "$1"
	}
	plain=$(starts "$BATS_TEST_TMPDIR/plain") surged=$(starts "$IN")
	echo "# sessions started 14:00-15:00: $plain, surged $surged" >&3
	(( plain > 300 && surged > 2 * plain && surged < 4 * plain ))
}

@test "--weekly: quieter weekends, in UTC days" {
	ecs-gen -n 0 --weekly --start 2026-11-02T00:00:00Z --until 2026-11-09T00:00:00Z > "$IN"
	days=$(mlr --ijson --onidx --ofs ' ' put '$d = substr($ts, 0, 9)' then count -g d "$IN")
	monday=$(awk '$1 == "2026-11-02" { print $2 }' <<< "$days")
	saturday=$(awk '$1 == "2026-11-07" { print $2 }' <<< "$days")
	sunday=$(awk '$1 == "2026-11-08" { print $2 }' <<< "$days")
	echo "# events: Monday $monday, Saturday $saturday, Sunday $sunday" >&3
	# 6 and 7 tenths of a weekday's arrivals, give or take the noise.
	(( saturday * 100 > monday * 50 && saturday * 100 < monday * 70 ))
	(( sunday * 100 > monday * 60 && sunday * 100 < monday * 80 ))
	# Without --weekly, no such rhythm.
	run -0 ecs-gen -n 0 --start 2026-11-02T00:00:00Z --until 2026-11-09T00:00:00Z
	saturday=$(jq -r .ts <<< "$output" | grep -c '^2026-11-07')
	(( saturday * 100 > monday * 90 ))
}

@test "anomaly usage errors" {
	run -2 --separate-stderr ecs-gen --outage 2026-11-01T09:00:00Z
	like "$stderr" "*--outage '2026-11-01T09:00:00Z': expected START,DURATION*"
	run -2 --separate-stderr ecs-gen --surge 2026-11-01T09:00:00Z,1h
	like "$stderr" "*expected START,DURATION,FACTOR*"
	run -2 --separate-stderr ecs-gen --surge 2026-11-01T09:00:00Z,1h,0
	like "$stderr" "*the factor must be above 0*"
	run -2 --separate-stderr ecs-gen --outage yesterday,1h
	like "$stderr" "*--outage*yesterday*"
	run -2 --separate-stderr ecs-gen --labels "$BATS_TEST_TMPDIR/l"
	like "$stderr" "*--labels needs --outage or --surge*"
	run -2 --separate-stderr ecs-gen --until never
	like "$stderr" "*--until*never*"
}
