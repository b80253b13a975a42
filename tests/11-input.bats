#!/usr/bin/env bats
# The input rules every ecs program shares, seen through ecs-filter: bad
# lines of every kind, --reject, --strict, --max-errors, -q, long lines,
# file operands, flushing before blocking, EPIPE, write errors, signals.

load helpers

BAD="$BATS_TEST_DIRNAME/fixtures/bad"

# check_bad FILE EXPECTED_STDERR: good lines survive, exit 1, diagnostics.
check_bad() {
	run -1 --separate-stderr ecs-filter true "$BAD/$1"
	is "$output" $'{"a":1}\n{"a":3}' "$1: good lines kept"
	is "$stderr" "$2" "$1: diagnostics"
}

@test "a truncated line" {
	check_bad truncated.ndjson "ecs-filter: $BAD/truncated.ndjson:2: invalid JSON: unexpected end of line (truncated?)
ecs-filter: 1 bad line of 3 skipped"
}

@test "a JSON array where an object should be" {
	check_bad array.ndjson "ecs-filter: $BAD/array.ndjson:2: not a JSON object (found an array)
ecs-filter: 1 bad line of 3 skipped"
}

@test "scalars where an object should be" {
	check_bad scalar.ndjson "ecs-filter: $BAD/scalar.ndjson:2: not a JSON object (found a number)
ecs-filter: $BAD/scalar.ndjson:3: not a JSON object (found a string)
ecs-filter: $BAD/scalar.ndjson:4: not a JSON object (found null)
ecs-filter: $BAD/scalar.ndjson:5: not a JSON object (found a boolean)
ecs-filter: 4 bad lines of 6 skipped"
}

@test "binary garbage" {
	check_bad binary.ndjson "ecs-filter: $BAD/binary.ndjson:2: invalid JSON at column 1: NUL byte
ecs-filter: $BAD/binary.ndjson:3: invalid JSON at column 1: unexpected character
ecs-filter: 2 bad lines of 4 skipped"
}

@test "NUL bytes" {
	check_bad nul-bytes.ndjson "ecs-filter: $BAD/nul-bytes.ndjson:2: invalid JSON at column 8: NUL byte
ecs-filter: $BAD/nul-bytes.ndjson:3: invalid JSON at column 8: NUL byte
ecs-filter: 2 bad lines of 4 skipped"
}

@test "text after the object" {
	check_bad trailing-garbage.ndjson "ecs-filter: $BAD/trailing-garbage.ndjson:2: invalid JSON at column 9: unexpected character
ecs-filter: $BAD/trailing-garbage.ndjson:3: invalid JSON at column 8: unexpected character
ecs-filter: 2 bad lines of 4 skipped"
}

@test "1000-deep nesting" {
	check_bad deep-nesting.ndjson "ecs-filter: $BAD/deep-nesting.ndjson:2: invalid JSON: nested deeper than 64 levels
ecs-filter: 1 bad line of 3 skipped"
}

@test "invalid UTF-8" {
	run -1 --separate-stderr ecs-filter true "$BAD/invalid-utf8.ndjson"
	is "${lines[0]}" '{"a":1}'
	is "${lines[2]}" '{"a":3}'
	is "$stderr" "ecs-filter: $BAD/invalid-utf8.ndjson:2: invalid JSON at column 11: invalid utf-8 string
ecs-filter: 1 bad line of 4 skipped"
}

@test "what is not RFC 8259 JSON is bad, also what json-c lets through" {
	run -1 --separate-stderr ecs-filter true "$BAD/not-rfc.ndjson"
	f=$BAD/not-rfc.ndjson
	is "$stderr" "ecs-filter: $f:2: invalid JSON at column 2: single quotes are not JSON (RFC 8259)
ecs-filter: $f:3: invalid JSON at column 6: NaN is not a number (RFC 8259)
ecs-filter: $f:4: invalid JSON at column 8: number expected
ecs-filter: $f:5: invalid JSON at column 8: unexpected character
ecs-filter: $f:7: invalid JSON at column 6: Infinity is not a number (RFC 8259)
ecs-filter: $f:8: invalid JSON at column 6: Infinity is not a number (RFC 8259)
ecs-filter: $f:9: invalid JSON at column 8: unescaped control character U+0009 in a string (RFC 8259)
ecs-filter: $f:10: invalid JSON at column 8: unescaped control character U+001F in a string (RFC 8259)
ecs-filter: $f:11: invalid JSON at column 6: a number has no leading zero and digits on both sides of '.' (RFC 8259)
ecs-filter: $f:12: invalid JSON at column 6: a number has no leading zero and digits on both sides of '.' (RFC 8259)
ecs-filter: $f:13: invalid JSON at column 7: a number has no leading zero and digits on both sides of '.' (RFC 8259)
ecs-filter: 11 bad lines of 14 skipped"
	is "$output" "{\"a\":1}
{\"a\":3}
$(tail -1 "$f")"
}

@test "CRLF, blank lines and a missing final newline are fine" {
	run -0 --separate-stderr ecs-filter true "$BAD/crlf-blank-no-final-newline.ndjson"
	is "$output" $'{"a":1}\n{"a":3}'
	is "$stderr" ""
}

@test "empty input: no output, exit 0" {
	run -0 --separate-stderr ecs-filter true "$BAD/empty.ndjson"
	is "$output" ""
	is "$stderr" ""
	run -0 ecs-filter -c true < /dev/null
	is "$output" 0
}

@test "--reject holds exactly the bad lines, verbatim; exit 0" {
	for f in "$BAD"/*.ndjson; do
		rej="$BATS_TEST_TMPDIR/rej"
		rm -f "$rej"
		run --separate-stderr ecs-filter --reject "$rej" true "$f"
		is "$status" 0 "$f: exit 0 when every bad line is rejected"
		# Kept plus rejected lines are exactly the non-blank input lines.
		want=$(tr -d '\r' < "$f" | grep -av '^[[:space:]]*$' | LC_ALL=C sort | cksum)
		got=$( { printf '%s\n' "$output"; cat "$rej" 2>/dev/null; } |
		    grep -av '^$' | LC_ALL=C sort | cksum)
		is "$got" "$want" "$f: every line accounted for"
	done
}

@test "--reject appends, so a restarted monitor loses nothing" {
	rej="$BATS_TEST_TMPDIR/rej"
	ecs-filter --reject "$rej" true "$BAD/array.ndjson" >/dev/null
	ecs-filter --reject "$rej" true "$BAD/array.ndjson" >/dev/null
	is "$(cat "$rej")" $'[{"a":2}]\n[{"a":2}]'
	run -0 --separate-stderr ecs-filter --reject "$rej" true "$BAD/array.ndjson"
	is "$stderr" "ecs-filter: $BAD/array.ndjson:2: not a JSON object (found an array)
ecs-filter: 1 bad line of 3 written to $rej"
}

@test "--strict stops at the first bad line after flushing, exit 1" {
	run -1 --separate-stderr ecs-filter --strict true "$BAD/scalar.ndjson"
	is "$output" '{"a":1}'
	is "$stderr" "ecs-filter: $BAD/scalar.ndjson:2: not a JSON object (found a number)
ecs-filter: stopped at the first bad line (--strict)"
}

@test "--max-errors N makes the (N+1)th bad line fatal" {
	run -1 --separate-stderr ecs-filter --max-errors 2 -q true "$BAD/scalar.ndjson"
	is "$output" '{"a":1}'
	is "$stderr" "ecs-filter: stopped after 3 bad lines (--max-errors)"
	run -1 --separate-stderr ecs-filter --max-errors 4 -q true "$BAD/scalar.ndjson"
	is "$output" $'{"a":1}\n{"a":3}'
	is "$stderr" "ecs-filter: 4 bad lines of 6 skipped"
}

@test "-q silences per-line warnings but keeps the summary" {
	run -1 --separate-stderr ecs-filter -q true "$BAD/scalar.ndjson"
	is "$stderr" "ecs-filter: 4 bad lines of 6 skipped"
}

@test "a 20 MB line is a bad line, not a crash; the stream goes on" {
	big="$BATS_TEST_TMPDIR/big.ndjson"
	{ echo '{"a":1}'; printf '{"pad":"'; head -c 20000000 /dev/zero | tr '\0' x;
	  echo '"}'; echo '{"a":3}'; } > "$big"
	rej="$BATS_TEST_TMPDIR/rej"
	run -0 --separate-stderr ecs-filter --reject "$rej" true "$big"
	is "$output" $'{"a":1}\n{"a":3}'
	like "$stderr" "*big.ndjson:2: line longer than 16777216 bytes (--max-line)*"
	is "$(wc -c < "$rej")" 20000011 "the long line is rejected verbatim"
	is "$(sed -n 2p "$big" | cksum)" "$(cksum < "$rej")"
}

@test "--max-line sets the limit; a long last line without newline too" {
	printf '{"a":1}\n{"a":"0123456789"}\n{"a":3}\n{"b":"0123456789"}' |
	    { run -1 --separate-stderr ecs-filter --max-line 16 true
	      is "$output" $'{"a":1}\n{"a":3}'
	      is "$stderr" "ecs-filter: <stdin>:2: line longer than 16 bytes (--max-line)
ecs-filter: <stdin>:4: line longer than 16 bytes (--max-line)
ecs-filter: 2 bad lines of 4 skipped"; }
}

@test "file operands are read in order, - is stdin, a missing file is an error" {
	run -1 --separate-stderr bash -c "echo '{\"a\":2}' | ecs-filter true '$BAD/array.ndjson' - /nonexistent.ndjson '$BAD/truncated.ndjson' -q"
	is "$output" $'{"a":1}\n{"a":3}\n{"a":2}\n{"a":1}\n{"a":3}'
	like "$stderr" "*ecs-filter: /nonexistent.ndjson: No such file or directory*"
}

@test "| head -1 ends quietly with status 0" {
	run -0 --separate-stderr bash -c 'yes "{\"a\":1}" | head -c 5000000 | ecs-filter true | head -1; exit ${PIPESTATUS[2]}'
	is "$output" '{"a":1}'
	is "$stderr" ""
}

@test "a full disk on stdout is an error, exit 1" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -1 --separate-stderr bash -c "ecs-filter true '$FIXTURES/real/taobao-2000.ndjson' > /dev/full"
	is "$stderr" "ecs-filter: write error on <stdout>: No space left on device"
}

@test "tail -f: a matching line comes out before end of input" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-filter 'action == "purchase"' < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"		# the writer stays open: no EOF
	echo '{"action":"browse"}' >&5
	echo '{"action":"purchase","n":1}' >&5
	wait_for "$out" '"n":1'
	echo '{"action":"purchase","n":2}' >&5
	wait_for "$out" '"n":2'
	kill -0 "$pid"		# still running, still reading
	exec 5>&-
	wait "$pid"
	is "$(cat "$out")" $'{"action":"purchase","n":1}\n{"action":"purchase","n":2}'
}

@test "SIGTERM stops reading, flushes, and keeps a partial line as bad" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	rej="$BATS_TEST_TMPDIR/rej"
	mkfifo "$fifo"
	ecs-filter --reject "$rej" true < "$fifo" > "$out" 2> "$out.err" 3>&- &
	pid=$!
	exec 5> "$fifo"
	echo '{"a":1}' >&5
	wait_for "$out" '{"a":1}'
	printf '{"a":' >&5	# half a line, then the monitor is stopped
	sleep 0.3
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	exec 5>&-
	is "$status" 0 "exit 0: the partial line went to --reject"
	is "$(cat "$out")" '{"a":1}'
	is "$(cat "$rej")" '{"a":'
	like "$(cat "$out.err")" "*<stdin>:2: invalid JSON: unexpected end of line*"
}

@test "--max-line counts the line without its CR or newline" {
	run -1 --separate-stderr bash -c "printf '{\"a\":\"123456789\"}\r\n{\"a\":\"1234567890\"}\r\n{\"a\":\"123456789\"}\n' | ecs-filter --max-line 17 true"
	is "$output" $'{"a":"123456789"}\n{"a":"123456789"}'
	is "$stderr" "ecs-filter: <stdin>:2: line longer than 17 bytes (--max-line)
ecs-filter: 1 bad line of 3 skipped"
}
