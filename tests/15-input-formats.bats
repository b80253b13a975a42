#!/usr/bin/env bats
# Input formats every ecs program shares: CSV and TSV with a header row
# (-i csv|tsv), checked against Miller reading the same files, and gzip
# input read as it is (files, stdin, concatenated members, truncated data).

load helpers

FMT="$BATS_TEST_DIRNAME/fixtures/formats"

# Miller's JSON writer, so that both sides are spelled alike; it keeps the
# text of numbers (1.50 stays 1.50) and tells strings from numbers.
as_miller() { mlr --ijsonl --ojsonl cat; }

# Each value as its Miller type and its value to 6 decimals, for numbers
# that JSON cannot write as Miller does (-.5, 0x1F).
TYPED='for (k, v in $*) { $[k] = typeof(v) . ":" . fmtifnum(v, "%.6lf") }'

@test "CSV rows are Miller's records (mlr --icsv --ojsonl cat)" {
	run -0 --separate-stderr ecs-filter -i csv true "$FMT/mixed.csv"
	is "$stderr" ""
	is "${#lines[@]}" 4 "rows"
	is "${lines[0]}" '{"id":1,"name":"Mug, large","price":1.50,"qty":"007","note":"say \"hi\"","code":-0,"flag":"true"}'
	is "${lines[2]}" '{"id":3,"name":"two\nlines","price":10,"qty":-3,"note":"a,b\nc","code":12,"flag":""}'
	mine=$(printf '%s\n' "$output" | as_miller)
	is "$mine" "$(mlr --icsv --ojsonl cat "$FMT/mixed.csv")" "against Miller"
}

@test "TSV rows are Miller's records (mlr --itsv --ojsonl cat)" {
	run -0 --separate-stderr ecs-filter --input-format tsv true "$FMT/mixed.tsv"
	is "${lines[1]}" '{"id":2,"name":"tab\there","price":-0,"note":"line\nbreak"}'
	mine=$(printf '%s\n' "$output" | as_miller)
	is "$mine" "$(mlr --itsv --ojsonl cat "$FMT/mixed.tsv")" "against Miller"
}

@test "numbers JSON cannot spell as Miller does keep Miller's type and value" {
	run -0 --separate-stderr ecs-filter -i csv true "$FMT/odd-numbers.csv"
	is "${lines[0]}" '{"v":-0.5,"w":31}'
	is "${lines[1]}" '{"v":5.0,"w":5}'
	is "${lines[4]}" '{"v":"1e999","w":0.50}'
	mine=$(printf '%s\n' "$output" | mlr --ijsonl --ojsonl put "$TYPED")
	is "$mine" "$(mlr --icsv --ojsonl put "$TYPED" "$FMT/odd-numbers.csv")" "against Miller"
}

@test "a header's repeated and empty names, a byte order mark: as Miller" {
	printf '\xef\xbb\xbfa,a,b,a\n1,2,3,4\n' > "$BATS_TEST_TMPDIR/h.csv"
	run -0 ecs-filter -i csv true "$BATS_TEST_TMPDIR/h.csv"
	is "$output" '{"a":1,"a_2":2,"b":3,"a_3":4}'
	is "$(as_miller <<< "$output")" "$(mlr --icsv --ojsonl cat "$BATS_TEST_TMPDIR/h.csv")"
	# Miller's JSON reader takes no empty name, so this one is by hand.
	printf 'a,,b\n1,2,3\n' > "$BATS_TEST_TMPDIR/e.csv"
	run -0 ecs-filter -i csv true "$BATS_TEST_TMPDIR/e.csv"
	is "$output" '{"a":1,"":2,"b":3}'
	is "$(mlr --icsv --ojsonl cat "$BATS_TEST_TMPDIR/e.csv")" '{"a": 1, "": 2, "b": 3}'
}

@test "each CSV input has its own header; stdin too" {
	printf 'a,b\n1,2\n' > "$BATS_TEST_TMPDIR/1.csv"
	printf 'b,c\n3,4\n' > "$BATS_TEST_TMPDIR/2.csv"
	run -0 ecs-filter -i csv true "$BATS_TEST_TMPDIR/1.csv" - "$BATS_TEST_TMPDIR/2.csv" <<< $'x\n"y"'
	is "$output" $'{"a":1,"b":2}\n{"x":"y"}\n{"b":3,"c":4}'
}

@test "bad CSV rows: file:line of their first line and the reason, the rest read" {
	f="$BATS_TEST_TMPDIR/bad.csv" rej="$BATS_TEST_TMPDIR/rej"
	printf 'a,b\n1,2\n3\n4,5,6\n5,x"y\n6,"z"w\n"7\n8",9\n\n10,\xff\n11,"open\n12,13\n' > "$f"
	run -0 --separate-stderr ecs-filter -i csv --reject "$rej" true "$f"
	is "$output" $'{"a":1,"b":2}\n{"a":"7\\n8","b":9}'
	is "$stderr" "ecs-filter: $f:3: 1 field where the header has 2 (CSV header/data length mismatch)
ecs-filter: $f:4: 3 fields where the header has 2 (CSV header/data length mismatch)
ecs-filter: $f:5: field 2: a quote inside an unquoted field (quote the field and double the quote)
ecs-filter: $f:6: field 2: text after the closing quote
ecs-filter: $f:9: 1 field where the header has 2 (CSV header/data length mismatch)
ecs-filter: $f:10: field 2: invalid UTF-8
ecs-filter: $f:11: quote not closed at the end of the input
ecs-filter: 7 bad lines of 9 written to $rej"
	# The rows as they came, a row over two lines included.
	is "$(cat "$rej")" "$(printf '3\n4,5,6\n5,x"y\n6,"z"w\n\n10,\xff\n11,"open\n12,13')"
	# Miller refuses such a file too.
}

@test "a bad header makes each row of its input bad, none taken as the header" {
	f="$BATS_TEST_TMPDIR/h.csv" g="$BATS_TEST_TMPDIR/g.csv" rej="$BATS_TEST_TMPDIR/rej"
	printf 'a,b"\n1,2\n"3\n4",5\n' > "$f"
	printf 'a,b\n6,7\n' > "$g"
	run -0 --separate-stderr ecs-filter -i csv --reject "$rej" true "$f" "$g"
	is "$output" '{"a":6,"b":7}'
	is "$stderr" "ecs-filter: $f:1: header: field 2: a quote inside an unquoted field (quote the field and double the quote)
ecs-filter: $f:2: row without names: the header (line 1) is bad
ecs-filter: $f:3: row without names: the header (line 1) is bad
ecs-filter: 3 bad lines of 4 written to $rej"
	is "$(cat "$rej")" "$(cat "$f")" "every line of the file, nothing lost"
	# A header over --max-line, or not UTF-8: the same.
	{ printf 'x%.0s' $(seq 200); printf '\n1\n'; } > "$f"
	run -1 --separate-stderr ecs-filter --max-line 100 -i csv true "$f"
	is "$output" ""
	is "$stderr" "ecs-filter: $f:1: line longer than 100 bytes (--max-line)
ecs-filter: $f:2: row without names: the header (line 1) is bad
ecs-filter: 2 bad lines of 2 skipped"
	printf 'a,\xff\n1,2\n' > "$f"
	run -1 --separate-stderr ecs-filter -i csv true "$f"
	is "$output" ""
	is "${#stderr_lines[@]}" 3
}

@test "an over-long line inside a quoted field breaks that row only" {
	f="$BATS_TEST_TMPDIR/long.csv"
	{ printf 'a,b\n1,"x\n'; printf 'y%.0s' $(seq 200); printf '\n2,3\n4,5\n'; } > "$f"
	run -1 --separate-stderr ecs-filter --max-line 100 -i csv true "$f"
	is "$output" $'{"a":2,"b":3}\n{"a":4,"b":5}'
	is "$stderr" "ecs-filter: $f:3: line longer than 100 bytes (--max-line)
ecs-filter: $f:2: quote not closed at the end of the row (a line in it was too long)
ecs-filter: 2 bad lines of 4 skipped"
}

@test "a hexadecimal integer past 2^63-1 is a bad row, not Miller's negative" {
	printf 'id\n0xffffffffffffffff\n0x7fffffffffffffff\n' > "$BATS_TEST_TMPDIR/x.csv"
	run -1 --separate-stderr ecs-filter -i csv true "$BATS_TEST_TMPDIR/x.csv"
	is "$output" '{"id":9223372036854775807}'
	is "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/x.csv:2: 0xffffffffffffffff is past 2^63-1 (Miller reads it as a negative number)
ecs-filter: 1 bad line of 2 skipped"
	is "$(mlr --icsv --ojsonl put '$id = $id + 0' "$BATS_TEST_TMPDIR/x.csv" | head -1)" '{"id": -1}' "Miller's reading"
}

@test "CSV rows go through expressions and the other programs" {
	run -0 ecs-filter -i csv 'price * 2 >= 5.10' "$FMT/mixed.csv"
	is "$output" $'{"id":2,"name":"Café crème","price":2.55,"qty":1e5,"note":"","code":8,"flag":"false"}\n{"id":3,"name":"two\\nlines","price":10,"qty":-3,"note":"a,b\\nc","code":12,"flag":""}'
	run -0 ecs-filter -i csv -t '{id} {name}' 'id > 2' "$FMT/mixed.csv"
	is "$output" $'3 two\nlines\n4 '
	run -0 ecs-sales -i csv -m 'n=count()' -m 's=sum(price)' "$FMT/mixed.csv"
	like "$output" '*"n":4*"s":14.15*'
}

@test "-i takes ndjson, csv or tsv" {
	run -2 --separate-stderr ecs-filter -i xml true
	is "$stderr" "ecs-filter: -i 'xml': expected ndjson, csv or tsv"
	run -0 ecs-filter -i ndjson true <<< '{"a":1}'
	is "$output" '{"a":1}'
}

@test "gzip: a file, stdin and a pipe read as their text" {
	gzip -c "$FMT/mixed.csv" > "$BATS_TEST_TMPDIR/m.csv.gz"
	want=$(ecs-filter -i csv true "$FMT/mixed.csv")
	[[ -n "$want" ]]
	run -0 ecs-filter -i csv true "$BATS_TEST_TMPDIR/m.csv.gz"
	is "$output" "$want" "file"
	run -0 ecs-filter -i csv true < "$BATS_TEST_TMPDIR/m.csv.gz"
	is "$output" "$want" "stdin"
	run -0 bash -c 'cat "$1" | ecs-filter -i csv true' _ "$BATS_TEST_TMPDIR/m.csv.gz"
	is "$output" "$want" "pipe"
}

@test "gzip: concatenated members are read one after another, as zcat" {
	printf '{"a":1}\n{"a":2}\n' | gzip > "$BATS_TEST_TMPDIR/c.gz"
	printf '{"a":3}\n' | gzip >> "$BATS_TEST_TMPDIR/c.gz"
	: | gzip >> "$BATS_TEST_TMPDIR/c.gz"		# an empty member
	printf '{"a":4}' | gzip >> "$BATS_TEST_TMPDIR/c.gz"
	run -0 ecs-filter true "$BATS_TEST_TMPDIR/c.gz"
	is "$output" "$(zcat "$BATS_TEST_TMPDIR/c.gz")"
	is "${#lines[@]}" 4
}

@test "gzip: diagnostics count decompressed lines" {
	printf '{"a":1}\n{"a":2}\n' | gzip > "$BATS_TEST_TMPDIR/d.gz"
	printf '\n{"a":\n{"a":3}\n' | gzip >> "$BATS_TEST_TMPDIR/d.gz"
	run -1 --separate-stderr ecs-filter true "$BATS_TEST_TMPDIR/d.gz"
	is "$output" $'{"a":1}\n{"a":2}\n{"a":3}'
	is "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/d.gz:4: invalid JSON: unexpected end of line (truncated?)
ecs-filter: 1 bad line of 4 skipped"
}

@test "gzip: truncated data is an error after the good lines, exit 1" {
	seq 1 20000 | sed 's/.*/{"n":&}/' | gzip > "$BATS_TEST_TMPDIR/full.gz"
	head -c 30000 "$BATS_TEST_TMPDIR/full.gz" > "$BATS_TEST_TMPDIR/t.gz"
	good=$( (zcat "$BATS_TEST_TMPDIR/t.gz" 2>/dev/null || true) | grep -c '}$')
	(( good > 1000 && good < 20000 ))
	run -1 --separate-stderr ecs-filter -c true "$BATS_TEST_TMPDIR/t.gz"
	is "$output" "$good" "the good lines are read"
	is "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/t.gz:$((good + 1)): line cut short: gzip data truncated
ecs-filter: 1 bad line of $((good + 1)) skipped"
	# Cut at a line's end: the message names the last line read.
	printf '{"a":1}\n{"a":2}\n' | gzip | head -c 25 > "$BATS_TEST_TMPDIR/t2.gz"
	run -1 --separate-stderr ecs-filter true "$BATS_TEST_TMPDIR/t2.gz" <<< ''
	is "$output" $'{"a":1}\n{"a":2}'
	is "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/t2.gz:2: gzip data truncated after this line"
}

@test "gzip: corrupt data and trailing bytes are errors, never a crash" {
	printf '{"a":1}\n' | gzip > "$BATS_TEST_TMPDIR/g.gz"
	cp "$BATS_TEST_TMPDIR/g.gz" "$BATS_TEST_TMPDIR/trail.gz"
	printf 'junk' >> "$BATS_TEST_TMPDIR/trail.gz"
	run -1 --separate-stderr ecs-filter true "$BATS_TEST_TMPDIR/trail.gz"
	is "$output" '{"a":1}'
	is "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/trail.gz:1: bytes that are not gzip data after this line"
	# A flipped byte in the stored CRC: the data is read, then refused.
	size=$(stat -c %s "$BATS_TEST_TMPDIR/g.gz")
	printf '\x00' | dd of="$BATS_TEST_TMPDIR/g.gz" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
	run -1 --separate-stderr ecs-filter true "$BATS_TEST_TMPDIR/g.gz"
	is "$output" '{"a":1}'
	is "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/g.gz:1: corrupt gzip data (incorrect data check) after this line"
	# The magic and garbage.
	printf '\x1f\x8bxxxxxxxxxxxxxxxxxx' > "$BATS_TEST_TMPDIR/bad.gz"
	run -1 --separate-stderr ecs-filter true "$BATS_TEST_TMPDIR/bad.gz"
	is "$output" ""
	like "$stderr" "ecs-filter: $BATS_TEST_TMPDIR/bad.gz: corrupt gzip data (*)"
}

@test "gzip on a live pipe: a whole member is output before the input ends" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-filter true < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	printf '{"n":1}\n' | gzip >&5
	wait_for "$out" '"n":1'
	printf '{"n":2}\n' | gzip >&5
	wait_for "$out" '"n":2'
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
	is "$(cat "$out")" $'{"n":1}\n{"n":2}'
}

@test "UCI orders.ndjson.gz read directly equal to zcat | ..." {
	shared_data uci-online-retail/orders.ndjson.gz
	direct=$(ecs-filter true "$data" | md5sum)
	piped=$(zcat "$data" | ecs-filter true | md5sum)
	is "$direct" "$piped"
	run -0 ecs-filter -c true "$data"
	(( output > 500000 ))
	run -0 ecs-sales -m 'n=count()' "$data"
	is "$output" "$(zcat "$data" | ecs-sales -m 'n=count()')"
}
