#!/usr/bin/env bats
# ecs-top: the frame of a known stream (events, metric rows with a
# correction, a seasonal alert with its band, a stock alert, a session
# row, a record of no kind), text frames at intervals, its figures
# against jq, and the full screen in a real terminal (tmux).

load helpers

STREAM="$FIXTURES/top/stream.ndjson"

setup() {
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
}

teardown() {
	[[ -S "$TMUX_SOCK" ]] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
}

# in_tmux ROWS ARGS...: ecs-top ARGS in a detached tmux of 100 x ROWS,
# its exit status to $BATS_TEST_TMPDIR/status when it ends.
in_tmux() {
	command -v tmux >/dev/null || skip "needs tmux (scripts/bootstrap installs it)"
	local rows=$1
	shift
	tmux -S "$TMUX_SOCK" new-session -d -x 100 -y "$rows" \
	    "ecs-top $* 2>$BATS_TEST_TMPDIR/stderr; echo \$? > $BATS_TEST_TMPDIR/status"
}

# last_minute FILE: the events of FILE whose ts, read by jq in ms (.ms),
# is less than a minute before the latest.
last_minute() {
	jq -c 'def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 +
	        (if length > 20 then .[20:23] | tonumber else 0 end);
	    .ms = (.ts | ms)' "$1" > "$BATS_TEST_TMPDIR/ms"
	jq -c --argjson l "$(jq -s 'map(.ms) | max' "$BATS_TEST_TMPDIR/ms")" \
	    'select(.ms > $l - 60000)' "$BATS_TEST_TMPDIR/ms"
}

screen() { tmux -S "$TMUX_SOCK" capture-pane -p; }
screen_has() { screen | grep -qF -- "$1"; }

@test "--once: the frame of a known stream" {
	run -0 --separate-stderr ecs-top --once "$STREAM"
	is "$output" "$(cat "$FIXTURES/top/once.txt")"
	is "$stderr" ""
}

@test "not a terminal: a text frame each interval while the input is quiet, the last at its end" {
	fifo="$BATS_TEST_TMPDIR/fifo"
	mkfifo "$fifo"
	ecs-top --interval 200ms < "$fifo" > "$BATS_TEST_TMPDIR/out" &
	exec 4> "$fifo"
	head -6 "$STREAM" >&4
	# Frames come while the input is open and quiet: two of them.
	two_frames() { (( $(grep -c '^ecs-top ' "$BATS_TEST_TMPDIR/out") >= 2 )); }
	wait_until two_frames
	tail -n +7 "$STREAM" >&4
	exec 4>&-
	wait $!
	like "$(head -1 "$BATS_TEST_TMPDIR/out")" "ecs-top  events 6  rows 0 *"
	# The last frame is the --once frame of the whole stream.
	last=$(awk '/^ecs-top /{ f = "" } { f = f $0 "\n" } END { printf "%s", f }' "$BATS_TEST_TMPDIR/out")
	is "$last" "$(cat "$FIXTURES/top/once.txt")"
	# --plain is the same on any output.
	run -0 ecs-top --plain "$STREAM"
	is "$(tail -n "$(wc -l < "$FIXTURES/top/once.txt")" <<< "$output")" "$(cat "$FIXTURES/top/once.txt")"
}

@test "the events' figures as jq counts them: totals by action, the last minute, top products" {
	ecs-gen -n 5000 --seed 3 > "$IN"
	run -0 ecs-top --once "$IN"
	frame=$output
	# The events of the last minute of event time, as jq counts them.
	last_minute "$IN" > "$BATS_TEST_TMPDIR/minute"
	n=$(wc -l < "$BATS_TEST_TMPDIR/minute")
	like "$frame" "*EVENTS  last minute $n (*"
	(( n > 10 ))
	for action in browse add_to_cart purchase; do
		total=$(jq -r --arg a "$action" 'select(.action == $a) | 1' "$IN" | wc -l)
		minute=$(jq -r --arg a "$action" 'select(.action == $a) | 1' "$BATS_TEST_TMPDIR/minute" | wc -l)
		echo "# $action: $minute in the last minute, $total in all" >&3
		matches "$(grep "^  $action " <<< "$frame")" "^  $action +$minute +[0-9.]+% +$total\$"
	done
	top=$(jq -r .product_id "$BATS_TEST_TMPDIR/minute" | sort | uniq -c | sort -k1,1nr | head -1 | awk '{ print $1 }')
	like "$frame" "*  top products: * ($top),*"
	[[ $frame != *"($((top + 1)))"* ]]
}

@test "events out of order: the last minute as jq counts it, those older than it expire" {
	# Each run of 10 events reversed: the time goes back at every line
	# but one in ten, and an early event of a run expires after later ones.
	ecs-gen -n 3000 --seed 5 |
	    awk '{ run[n++] = $0 } n == 10 { while (n > 0) print run[--n] }
	        END { while (n > 0) print run[--n] }' > "$IN"
	run -0 ecs-top --once "$IN"
	frame=$output
	last_minute "$IN" > "$BATS_TEST_TMPDIR/minute"
	n=$(wc -l < "$BATS_TEST_TMPDIR/minute")
	(( n > 10 ))
	like "$frame" "*EVENTS  last minute $n (*"
	for action in browse add_to_cart purchase; do
		minute=$(jq -r --arg a "$action" 'select(.action == $a) | 1' "$BATS_TEST_TMPDIR/minute" | wc -l)
		matches "$(grep "^  $action " <<< "$frame")" "^  $action +$minute +[0-9.]+% +[0-9]+\$"
	done
}

@test "corrections of earlier windows take their window's place, as jq keeps the last row of each" {
	# Runs of 40 events reversed: ecs-sales writes corrections of
	# windows already written, many of them not the latest.
	ecs-gen -n 3000 --seed 5 |
	    awk '{ run[n++] = $0 } n == 40 { while (n > 0) print run[--n] }
	        END { while (n > 0) print run[--n] }' |
	    ecs-sales -q -w 5m -b action -m 'n=count()' --corrections 1h > "$IN"
	(( $(grep -c '"correction":true' "$IN") > 100 ))
	# The same rows without corrections: the last row of each window.
	jq -sc 'group_by([.action, .window_start]) | map(last) |
	    sort_by(.window_start) | .[]' "$IN" > "$BATS_TEST_TMPDIR/last"
	run -0 ecs-top --once "$BATS_TEST_TMPDIR/last"
	want=$(tail -n +2 <<< "$output" | sort)
	like "$want" "*action=browse *n * [_.:=+*#-]*"
	run -0 ecs-top --once "$IN"
	is "$(tail -n +2 <<< "$output" | sort)" "$want"
	# A correction row last: the latest window stays the latest.
	last_window=$(jq -sr 'map(.window_start) | max' "$IN")
	jq -c 'select(.correction) | .n = 1000' "$IN" | head -1 >> "$IN"
	run -0 ecs-top --once "$IN"
	like "$output" "*METRICS  latest window $last_window*"
}

@test "a sparkline of values whose span is past a double, and infinite ones" {
	printf '%s\n' '{"window_start":"2026-11-01T00:00:00Z","n":-1e308}' \
	    '{"window_start":"2026-11-01T01:00:00Z","n":1e308}' \
	    '{"window_start":"2026-11-01T02:00:00Z","n":1e999}' > "$IN"
	run -0 --separate-stderr ecs-top --once "$IN"
	like "$output" "*  (all)                  n                1e999  __#"
	head -2 "$IN" > "$BATS_TEST_TMPDIR/two"
	run -0 --separate-stderr ecs-top --once "$BATS_TEST_TMPDIR/two"
	like "$output" "*  (all)                  n                1e308  _#"
}

@test "an alert shows up to 6 of its numbers" {
	echo '{"alert":"x","product_id":1,"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8}' > "$IN"
	run -0 ecs-top --once "$IN"
	is "${lines[2]}" "  -  x  product_id=1 a=1 b=2 c=3 d=4 e=5 f=6"
}

@test "full screen in tmux: the expected screen, p pauses, q quits" {
	in_tmux 30 "$STREAM"
	wait_until screen_has "q quit  p pause"
	wait_until screen_has "sales_drop  shop=south"
	is "$(screen)" "$(cat "$FIXTURES/top/screen.txt")"
	tmux -S "$TMUX_SOCK" send-keys p
	wait_until screen_has "PAUSED  p resume"
	tmux -S "$TMUX_SOCK" send-keys q
	wait_for "$BATS_TEST_TMPDIR/status" 0
	is "$(cat "$BATS_TEST_TMPDIR/status")" 0
	is "$(cat "$BATS_TEST_TMPDIR/stderr")" ""
}

@test "full screen in tmux: arrows scroll a frame longer than the screen" {
	in_tmux 8 "$STREAM"
	wait_until screen_has "q quit  p pause"
	# The title stays; the body starts at the frame's second line.
	is "$(screen | sed -n 2p)" "EVENTS  last minute 5 (0.08/s)"
	tmux -S "$TMUX_SOCK" send-keys Down Down
	scrolled() { [[ "$(screen | sed -n 2p)" == "$(sed -n 4p "$FIXTURES/top/once.txt")" ]]; }
	wait_until scrolled
	is "$(screen | sed -n 1p)" "$(head -1 "$FIXTURES/top/once.txt")"
	is "$(screen | sed -n 2,7p)" "$(sed -n 4,9p "$FIXTURES/top/once.txt")"
	is "$(screen | sed -n 8p)" "q quit  p pause  arrows scroll"
	# At most to the end of the frame; Home back to the top.
	tmux -S "$TMUX_SOCK" send-keys NPage NPage NPage NPage
	at_end() { [[ "$(screen | sed -n 7p)" == "$(tail -1 "$FIXTURES/top/once.txt")" ]]; }
	wait_until at_end
	tmux -S "$TMUX_SOCK" send-keys Home
	wait_until screen_has "EVENTS  last minute"
	tmux -S "$TMUX_SOCK" send-keys q
	wait_for "$BATS_TEST_TMPDIR/status" 0
}

@test "full screen: a live stream is drawn before it ends, an alert at once" {
	fifo="$BATS_TEST_TMPDIR/fifo"
	mkfifo "$fifo"
	in_tmux 30 --interval 1h "$fifo"
	exec 4> "$fifo"
	head -6 "$STREAM" >&4
	# The first draw comes at once; the next only after an hour or at
	# once after an alert, with everything read before it.
	wait_until screen_has "q quit  p pause"
	sed -n 11p "$STREAM" >&4
	wait_until screen_has "sales_drop  shop=south"
	screen_has "events 6  rows 0  alerts 1"
	exec 4>&-
	tmux -S "$TMUX_SOCK" send-keys q
	wait_for "$BATS_TEST_TMPDIR/status" 0
}

@test "bad lines: counted in the frame, reported with file and line, exit 1" {
	printf '%s\n' '{"action":"browse","ts":"2026-11-02T10:00:00Z"}' 'not json' \
	    '{"action":"browse","ts":"yesterday"}' > "$IN"
	run -1 --separate-stderr ecs-top --once "$IN"
	like "$output" "ecs-top  events 1  rows 0  alerts 0  other 0  bad 2 *"
	like "$stderr" "*in.ndjson:2: *"
	like "$stderr" "*in.ndjson:3: field 'ts' is not a time*"
	like "$stderr" "*2 bad lines of 3 skipped*"
}

@test "usage errors" {
	run -2 --separate-stderr ecs-top --interval 10ms /dev/null
	like "$stderr" "*--interval '10ms': at least 100ms*"
	run -2 --separate-stderr ecs-top -o csv /dev/null
	like "$stderr" "*-o: ecs-top writes a screen*"
}

@test "every kind of bad input: no crash, the bad lines counted and summed up" {
	for f in "$FIXTURES"/bad/*.ndjson; do
		run --separate-stderr ecs-top --once -q "$f"
		(( status <= 1 )) || { echo "# $f: exit $status" >&2; return 1; }
		bad=$(ecs-filter -q true "$f" 2>&1 >/dev/null |
		    sed -n 's/^ecs-filter: \([0-9]*\) bad lines\{0,1\} of .*/\1/p')
		# At least the lines that are not JSON objects, in the frame.
		matches "${lines[0]}" "^ecs-top  events [0-9]+ .* bad ([0-9]+)" "$f: frame"
		(( BASH_REMATCH[1] >= ${bad:-0} )) ||
		    { echo "# $f: ${BASH_REMATCH[1]} bad, ecs-filter says $bad" >&2; return 1; }
		if (( BASH_REMATCH[1] > 0 )); then
			like "$stderr" "*ecs-top: ${BASH_REMATCH[1]} bad line* skipped" "$f"
			is "$status" 1 "$f"
		else
			is "$status" 0 "$f"
		fi
	done
}

@test "a full disk on stdout is an error" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -1 --separate-stderr bash -c "ecs-top --once '$STREAM' > /dev/full"
	is "$stderr" "ecs-top: write error on <stdout>: No space left on device"
}
