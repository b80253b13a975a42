#!/usr/bin/env bats
# Reliability across every program: the bad-input corpus, a full disk,
# signals with state, valgrind on a representative subset.

load helpers

BAD="$BATS_TEST_DIRNAME/fixtures/bad"
READERS="ecs-filter ecs-stock ecs-sales ecs-recommend ecs-replay"

# args TOOL: the arguments that make TOOL read plain input.
args() {
	case $1 in
	ecs-filter) echo true ;;
	ecs-replay) echo --speed 0 ;;
	*) echo ;;
	esac
}

# nonblank FILE: the number of lines of FILE that are not blank.
nonblank() { tr -d '\r' < "$1" | grep -acv '^[[:space:]]*$' || true; }

# json_bad FILE: how many lines of FILE are not JSON objects at all, which
# every program must count as bad (ecs-filter needs no field).
json_bad() {
	ecs-filter -q true "$1" 2>&1 >/dev/null |
	    sed -n 's/^ecs-filter: \([0-9]*\) bad lines\{0,1\} of .*/\1/p' | grep . || echo 0
}

@test "every program survives every kind of bad input, and says so" {
	for t in $READERS; do
		for f in "$BAD"/*.ndjson; do
			# shellcheck disable=SC2046 # args are words
			run --separate-stderr "$t" -q $(args "$t") "$f"
			n=$(nonblank "$f") bad=$(json_bad "$f")
			if [[ "$stderr" == "" ]]; then
				# Only where every line is good for this program.
				is "$status" 0 "$t $f: exit"
				(( bad == 0 )) || { echo "# $t $f: $bad bad lines not reported" >&2; return 1; }
				[[ $f == *empty* || $f == *crlf* ]] ||
				    { echo "# $t $f: no bad line reported" >&2; return 1; }
			else
				is "$status" 1 "$t $f: exit"
				matches "$stderr" "^$t: ([0-9]+) bad lines? of $n skipped\$" "$t $f: summary"
				(( BASH_REMATCH[1] >= bad && BASH_REMATCH[1] >= 1 )) ||
				    { echo "# $t $f: fewer bad lines than ecs-filter's $bad" >&2; return 1; }
			fi
		done
	done
}

@test "with --reject, the bad lines are written and every line is counted" {
	for t in ecs-stock ecs-sales ecs-recommend; do
		for f in "$BAD"/*.ndjson; do
			rej="$BATS_TEST_TMPDIR/rej"
			rm -f "$rej"
			run --separate-stderr "$t" -q --reject "$rej" "$f"
			is "$status" 0 "$t $f: exit"
			n=$(nonblank "$f") bad=$(json_bad "$f")
			if [[ "$stderr" == "" ]]; then
				[[ ! -s "$rej" ]] || { echo "# $t $f: lines rejected silently" >&2; return 1; }
				(( bad == 0 )) || { echo "# $t $f: $bad bad lines not reported" >&2; return 1; }
			else
				matches "$stderr" "^$t: ([0-9]+) bad lines? of $n written to $rej\$" "$t $f: summary"
				is "$(wc -l < "$rej")" "${BASH_REMATCH[1]}" "$t $f: rejected lines"
				(( BASH_REMATCH[1] >= bad && BASH_REMATCH[1] >= 1 )) ||
				    { echo "# $t $f: fewer bad lines than ecs-filter's $bad" >&2; return 1; }
			fi
		done
	done
}

@test "a full disk on stdout is an error for every program" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	ecs-gen --events 50000 --inventory > "$BATS_TEST_TMPDIR/g"
	for t in ecs-filter ecs-stock ecs-sales ecs-recommend ecs-replay; do
		# shellcheck disable=SC2046
		run -1 --separate-stderr bash -c "$t $(args "$t") '$BATS_TEST_TMPDIR/g' > /dev/full"
		is "$stderr" "$t: write error on <stdout>: No space left on device" "$t"
	done
	run -1 --separate-stderr bash -c "ecs-gen --events 100000 > /dev/full"
	is "$stderr" "ecs-gen: write error on <stdout>: No space left on device"
}

# stop_with_state TOOL ARGS...: feed two events through a FIFO, SIGTERM, and
# check the state file exists and holds them.
stop_with_state() {
	local fifo="$BATS_TEST_TMPDIR/fifo" st="$BATS_TEST_TMPDIR/state"
	rm -f "$fifo" "$st"
	mkfifo "$fifo"
	"$@" --state "$st" --checkpoint 0 < "$fifo" > "$BATS_TEST_TMPDIR/out" 3>&- &
	local pid=$!
	exec 5> "$fifo"
	echo '{"user_id":1,"action":"purchase","product_id":7,"price":2.50,"quantity":1,"ts":"2026-11-01T10:00:00Z"}' >&5
	echo '{"user_id":2,"action":"purchase","product_id":8,"price":1.25,"quantity":2,"ts":"2026-11-01T10:01:00Z"}' >&5
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid"
	exec 5>&-
	[[ -s "$st" ]]
	like "$(head -1 "$st")" '*"lines":2*'
}

@test "SIGTERM mid-stream saves the state of every stateful program" {
	stop_with_state ecs-stock --initial 10
	stop_with_state ecs-sales -w 1h
	stop_with_state ecs-recommend
}

@test "valgrind: no leak or error on a representative run of each program" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	# AddressSanitizer's binaries abort under valgrind: check plain builds.
	if sanitized; then
		skip "valgrind runs on the build without sanitizers"
	fi
	ecs-gen --events 3000 --inventory --seed 2 > "$BATS_TEST_TMPDIR/g"
	cat "$BAD"/*.ndjson >> "$BATS_TEST_TMPDIR/g"
	log="$BATS_TEST_TMPDIR/vg.log"
	# Any error valgrind finds, a definite or indirect leak included, makes
	# it exit 99; without one the program's own status comes through: 1,
	# for the bad lines at the end of the input.
	vg() { valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 "$@" > /dev/null 2>> "$log"; }
	for cmd in "ecs-filter -f user_id,product_id action==\"purchase\"" \
	    "ecs-stock --cover-hours 24 --report" \
	    "ecs-sales -w 1h -b category -m n=count() -m s=sum(price*quantity) -m u=distinct(user_id) -m p=quantile(price,0.9) -m t=top(product_id,3)" \
	    "ecs-recommend -k 5" "ecs-replay --speed 0"; do
		echo "== $cmd" >> "$log"
		# shellcheck disable=SC2086 # words
		run vg $cmd "$BATS_TEST_TMPDIR/g" -q
		is "$status" 1 "exit of $cmd under valgrind (99: valgrind found an error)"
	done
	run -1 grep -E "definitely lost|indirectly lost|Invalid (read|write|free)|uninitialised|Syscall param|Mismatched free|overlap|Jump to the invalid" "$log"
	is "$output" ""
	# The log holds what each program said: valgrind did run them.
	is "$(grep -c '^== ' "$log")" 5
	is "$(grep -c 'bad lines of' "$log")" 5
}

@test "kill -9 of ecs-sales and ecs-recommend: a restart from the checkpoint loses nothing" {
	ecs-gen --events 20000 --seed 8 > "$BATS_TEST_TMPDIR/g"
	crash_and_resume ecs-sales -w 1h -b action -m 'n=count()' -m 's=sum(price*quantity)'
	# At least once: every row of the uninterrupted run is there (windows
	# still open at the end stay in the state, so compare those the last
	# event closed), and nothing else.
	last=$(tail -1 "$BATS_TEST_TMPDIR/g" | ecs-filter -t '{ts}' true)
	ecs-filter "time(window_end) <= time(\"$last\")" "$BATS_TEST_TMPDIR/whole" |
	    sort -u > "$BATS_TEST_TMPDIR/closed"
	(( $(wc -l < "$BATS_TEST_TMPDIR/closed") > 10 ))
	cat "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | sort -u > "$BATS_TEST_TMPDIR/got"
	run -0 comm -3 "$BATS_TEST_TMPDIR/closed" "$BATS_TEST_TMPDIR/got"
	is "$output" ""
	crash_and_resume ecs-recommend -k 3
	# The lines after the checkpoint are written again; together they are
	# every line of the uninterrupted run.
	is "$(cat "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | sort -u | cksum)" \
	   "$(sort -u "$BATS_TEST_TMPDIR/whole" | cksum)"
}

# A small filesystem of its own, or a visible skip where mounting is not
# allowed.
small_fs() {
	fs="$BATS_TEST_TMPDIR/fs"
	mkdir -p "$fs"
	mount -t tmpfs -o size=64k tmpfs "$fs" 2>/dev/null ||
	    skip "cannot mount a tmpfs here (needs root)"
}

@test "--state on a full or read-only filesystem: a clear error, the old file intact" {
	small_fs
	st="$fs/stock.state"
	for i in $(seq 100); do echo "{\"product_id\":$i,\"quantity\":50}"; done > "$BATS_TEST_TMPDIR/few"
	for i in $(seq 5000); do echo "{\"product_id\":$i,\"quantity\":50}"; done > "$BATS_TEST_TMPDIR/many"
	ecs-stock --state "$st" "$BATS_TEST_TMPDIR/few"
	before=$(cksum < "$st")
	# Full: the larger state does not fit.
	head -c $(( $(df -k --output=avail "$fs" | tail -1) * 1024 - 2048 )) /dev/zero > "$fs/filler" || true
	run -1 --separate-stderr ecs-stock --state "$st" "$BATS_TEST_TMPDIR/many"
	like "$stderr" "*cannot save state to $st (the previous state is kept): No space left on device*"
	is "$(cksum < "$st")" "$before" "the previous state is intact"
	is "$(ls "$fs")" $'filler\nstock.state\nstock.state.lock' "no temporary file left"
	# Read-only: refused at startup, before any input is read.
	rm -f "$fs/filler"
	mount -o remount,ro "$fs"
	run -2 --separate-stderr ecs-stock --state "$st" "$BATS_TEST_TMPDIR/many"
	is "$stderr" "ecs-stock: --state $st: directory $fs is not writable"
	is "$output" ""
	is "$(cksum < "$st")" "$before"
	umount "$fs"
}

# rss PID: the resident set of a process in kB.
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

@test "a long run through a FIFO keeps a flat memory" {
	# AddressSanitizer's quarantine grows on its own: measure plain builds.
	if sanitized; then
		skip "memory is measured on the build without sanitizers"
	fi
	for cmd in "ecs-stock --cover-hours 24" "ecs-sales -w 1h -b category -m n=count()" "ecs-recommend --emit none"; do
		fifo="$BATS_TEST_TMPDIR/fifo.$RANDOM"
		mkfifo "$fifo"
		# shellcheck disable=SC2086 # words
		$cmd < "$fifo" > /dev/null 3>&- &
		pid=$!
		ecs-gen --events 0 --inventory > "$fifo" 3>&- &
		gen=$!
		sleep 1.5
		early=$(rss "$pid")
		sleep 3
		late=$(rss "$pid")
		kill "$gen"
		wait "$gen" || true	# ended by the kill
		# End of input, maybe in the middle of a line: exit 0 or 1.
		status=0
		wait "$pid" || status=$?
		(( status < 2 )) || { echo "# ${cmd%% *}: exit $status" >&2; return 1; }
		echo "# ${cmd%% *}: RSS ${early} kB after 1.5 s, ${late} kB after 4.5 s" >&3
		(( late <= early + early / 4 + 1024 ))
	done
}
