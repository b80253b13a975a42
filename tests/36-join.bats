#!/usr/bin/env bats
# ecs-join: a catalogue joined to events (left, inner, prefix, overwrite,
# keys compared as text, duplicates, bad tables), the table reloaded while
# events flow (by rename and in place, never half a table), --table-stream,
# and agreement row for row with Miller's join and DuckDB's LEFT and INNER
# JOIN on the UCI orders.

load helpers

J="$FIXTURES/join"

@test "a CSV or an NDJSON catalogue: each event gains its row's fields, byte for byte" {
	for t in csv ndjson; do
		run -0 --separate-stderr ecs-join "$J/catalog.$t" "$J/orders.ndjson"
		is "$output" "$(cat "$J/joined.ndjson")" "catalog.$t"
		is "$stderr" "ecs-join: 1 event of 5 had no row in $J/catalog.$t (kept as they were)"
	done
}

@test "--inner drops the events without a row, counts them, and --unmatched keeps them" {
	run -0 --separate-stderr ecs-join --inner --unmatched "$BATS_TEST_TMPDIR/un" "$J/catalog.csv" "$J/orders.ndjson"
	is "$output" "$(grep -v 22633 "$J/joined.ndjson")"
	is "$(cat "$BATS_TEST_TMPDIR/un")" "$(grep 22633 "$J/orders.ndjson")"
	is "$stderr" "ecs-join: 1 event of 5 had no row in $J/catalog.csv (dropped, written to $BATS_TEST_TMPDIR/un)"
	run -0 ecs-join -q --inner --left "$J/catalog.csv" "$J/orders.ndjson"
	is "${#lines[@]}" 5 "--left after --inner keeps them"
}

@test "keys are compared as text: 85123A is not 85123, \"71053\" is 71053, 30-digit ids stay whole" {
	printf '%s\n' '{"id":"85123","n":"s"}' '{"id":71053,"n":"num"}' \
	    '{"id":123456789012345678901234567890,"n":"big"}' > "$BATS_TEST_TMPDIR/t.ndjson"
	ev '{"id":"85123A"}' '{"id":85123}' '{"id":"71053"}' '{"id":71053.0}' \
	    '{"id":123456789012345678901234567890}' '{"id":123456789012345678901234567891}' \
	    '{"id":"123456789012345678901234567890"}' '{"id":null}' '{"id":true}' '{"x":1}'
	run -0 ecs-join -q --on id "$BATS_TEST_TMPDIR/t.ndjson" "$IN"
	is "$output" '{"id":"85123A"}
{"id":85123,"n":"s"}
{"id":"71053","n":"num"}
{"id":71053.0}
{"id":123456789012345678901234567890,"n":"big"}
{"id":123456789012345678901234567891}
{"id":"123456789012345678901234567890","n":"big"}
{"id":null}
{"id":true}
{"x":1}'
}

@test "the event's own fields win; --overwrite gives the table's; --prefix names them apart" {
	run -0 ecs-join -q "$J/catalog.csv" "$J/orders.ndjson"
	is "${lines[4]}" '{"order_id":"536367","ts":"2010-12-01T08:34:00Z","product_id":22752,"quantity":2,"price":7.65,"category":"gifts","description":"SET 7 BABUSHKA NESTING BOXES","cost":4.20}'
	run -0 ecs-join -q --overwrite "$J/catalog.csv" "$J/orders.ndjson"
	is "${lines[4]}" '{"order_id":"536367","ts":"2010-12-01T08:34:00Z","product_id":22752,"quantity":2,"price":7.65,"description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}'
	# The same through json-c: an event with an escape is not plain.
	ev '{"note":"a \"b\"","category":"gifts","product_id":"71053"}'
	run -0 ecs-join -q --overwrite "$J/catalog.csv" "$IN"
	is "$output" '{"note":"a \"b\"","product_id":"71053","description":"WHITE METAL LANTERN","category":"home","cost":2.08}'
	run -0 ecs-join -q "$J/catalog.csv" "$IN"
	is "$output" '{"note":"a \"b\"","category":"gifts","product_id":"71053","description":"WHITE METAL LANTERN","cost":2.08}'
	run -0 ecs-join -q --prefix p_ "$J/catalog.csv" "$J/orders.ndjson"
	is "${lines[4]}" '{"order_id":"536367","ts":"2010-12-01T08:34:00Z","product_id":22752,"quantity":2,"price":7.65,"category":"gifts","p_description":"SET 7 BABUSHKA NESTING BOXES","p_category":"toys","p_cost":4.20}'
}

@test "--on FIELD=TABLEFIELD, a nested event field and --map" {
	ev '{"item":{"sku":"71053"},"n":1}' '{"sku":"22752"}' '{}'
	run -0 ecs-join -q --on item.sku=product_id --prefix c_ "$J/catalog.csv" "$IN"
	is "$output" '{"item":{"sku":"71053"},"n":1,"c_description":"WHITE METAL LANTERN","c_category":"home","c_cost":2.08}
{"sku":"22752"}
{}'
	run -0 ecs-join -q --map product_id=sku --inner "$J/catalog.csv" "$IN"
	is "$output" '{"sku":"22752","description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}'
}

@test "a nested key is read from the bytes, as json-c reads it: escapes, numbers, objects, missing, repeated names" {
	# Only the three lines with a backslash go through json-c (--stats
	# parsed); the others give the same key from their bytes.
	ev '{"item":{"sku":"71053"},"n":1}' '{"item":{"sku":"7105\u0033"}}' \
	    '{"item":{"s\u006bu":"22752"}}' '{"item":{"sku":71053}}' \
	    '{"item":{"sku":71053.0}}' '{"item":{"sku":{"a":"71053"}}}' \
	    '{"item":{"sku":["71053"]}}' '{"item":{"sku":null}}' '{"item":{}}' \
	    '{"item":"71053"}' '{"sku":"71053"}' \
	    '{"item":{"sku":"85123A","sku":"22752"}}' \
	    '{"item":{"sku":"22752","sku":{"a":1}}}' \
	    '{"item":{"sku":"22752"},"item":{"sku":"71053"}}' \
	    '{"item":{"sku":"22752"},"item":{"x":1}}' \
	    '{"note":"a \"b\"","item":{"sku":"22752"}}' \
	    '{ "item" : { "sku" : "84406B" } , "description" : "own", "description":"twice" }'
	run -0 ecs-join -q --on item.sku=product_id --stats "$BATS_TEST_TMPDIR/st" "$J/catalog.csv" "$IN"
	is "$output" '{"item":{"sku":"71053"},"n":1,"description":"WHITE METAL LANTERN","category":"home","cost":2.08}
{"item":{"sku":"7105\u0033"},"description":"WHITE METAL LANTERN","category":"home","cost":2.08}
{"item":{"s\u006bu":"22752"},"description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}
{"item":{"sku":71053},"description":"WHITE METAL LANTERN","category":"home","cost":2.08}
{"item":{"sku":71053.0}}
{"item":{"sku":{"a":"71053"}}}
{"item":{"sku":["71053"]}}
{"item":{"sku":null}}
{"item":{}}
{"item":"71053"}
{"sku":"71053"}
{"item":{"sku":"85123A","sku":"22752"},"description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}
{"item":{"sku":"22752","sku":{"a":1}}}
{"item":{"sku":"22752"},"item":{"sku":"71053"},"description":"WHITE METAL LANTERN","category":"home","cost":2.08}
{"item":{"sku":"22752"},"item":{"x":1}}
{"note":"a \"b\"","item":{"sku":"22752"},"description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}
{ "item" : { "sku" : "84406B" } , "description" : "own", "description":"twice" ,"category":"home","cost":1.65}'
	run -0 jq -r '"\(.lines) \(.parsed)"' "$BATS_TEST_TMPDIR/st"
	is "$output" "17 3" "lines and json-c parses"
	# --overwrite drops the event's own (both of a repeated name) and
	# keeps the rest of its text, as with a top-level key.
	run -0 ecs-join -q --overwrite --on item.sku=product_id "$J/catalog.csv" "$IN"
	is "${lines[16]}" '{"item" : { "sku" : "84406B" },"description":"CREAM CUPID HEARTS \"COAT\" HANGER","category":"home","cost":1.65}'
	# Through --map, and an array index.
	run -0 ecs-join -q --map product_id=item.sku --inner "$J/catalog.csv" "$IN"
	is "${#lines[@]}" 8 "--map: the events with a row"
	ev '{"item":{"l":["x","22752"]}}' '{"item":{"l":["22752"]}}' \
	    '{"item":{"l":{"1":"22752"}}}' '{"item":{"l":[{"a":[1,"]"]},71053,3]}}'
	run -0 ecs-join -q --on 'item.l[1]=product_id' "$J/catalog.csv" "$IN"
	is "$output" '{"item":{"l":["x","22752"]},"description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}
{"item":{"l":["22752"]}}
{"item":{"l":{"1":"22752"}}}
{"item":{"l":[{"a":[1,"]"]},71053,3]},"description":"WHITE METAL LANTERN","category":"home","cost":2.08}'
}

@test "a key given twice: the last row wins, counted in a warning" {
	printf '%s\n' '{"product_id":"A","v":1}' '{"product_id":"B","v":2}' '{"product_id":"A","v":3}' \
	    '{"product_id":"B","v":4,"w":5}' > "$BATS_TEST_TMPDIR/t.ndjson"
	ev '{"product_id":"A"}' '{"product_id":"B"}'
	run -0 --separate-stderr ecs-join "$BATS_TEST_TMPDIR/t.ndjson" "$IN"
	is "$output" '{"product_id":"A","v":3}
{"product_id":"B","v":4,"w":5}'
	is "$stderr" "ecs-join: $BATS_TEST_TMPDIR/t.ndjson: 2 rows repeated a key: the last row of each key is used"
}

@test "a table with a bad row is refused with the line and why, before any event (and no counters)" {
	printf '%s\n' '{"product_id":"A","v":1}' '{"v":2}' '{"product_id":"A",' '{"product_id":[1],"v":3}' > "$BATS_TEST_TMPDIR/t.ndjson"
	ev '{"product_id":"A"}'
	run -1 --separate-stderr ecs-join "$BATS_TEST_TMPDIR/t.ndjson" "$IN"
	is "$output" ""
	is "$stderr" "ecs-join: $BATS_TEST_TMPDIR/t.ndjson:2: field 'product_id' is missing
ecs-join: $BATS_TEST_TMPDIR/t.ndjson:3: invalid JSON: unexpected end of line (truncated?)
ecs-join: $BATS_TEST_TMPDIR/t.ndjson:4: field 'product_id' is not a string or number
ecs-join: $BATS_TEST_TMPDIR/t.ndjson: 3 bad rows: no table to join with"
	printf 'product_id,v\nA,1\nB,2,3\n' > "$BATS_TEST_TMPDIR/t.csv"
	run -1 --separate-stderr ecs-join "$BATS_TEST_TMPDIR/t.csv" "$IN"
	like "$stderr" "ecs-join: $BATS_TEST_TMPDIR/t.csv:3: *
ecs-join: $BATS_TEST_TMPDIR/t.csv: 1 bad row: no table to join with"
	# --stats counts events: none were read, and the table's rows are not them.
	echo stale > "$BATS_TEST_TMPDIR/st"
	run -1 --separate-stderr ecs-join --stats "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/t.csv" "$IN"
	is "$(wc -c < "$BATS_TEST_TMPDIR/st")" 0 "an empty --stats file"
	run -1 --separate-stderr ecs-join "$BATS_TEST_TMPDIR/none.csv" "$IN"
	like "$stderr" "*none.csv: No such file or directory"
}

@test "bad events are reported and skipped; the others are joined; -o csv" {
	ev '{"product_id":"71053"' '{"product_id":"71053","q":1}'
	run -1 --separate-stderr ecs-join "$J/catalog.csv" "$IN"
	is "$output" '{"product_id":"71053","q":1,"description":"WHITE METAL LANTERN","category":"home","cost":2.08}'
	like "$stderr" "*in.ndjson:1: invalid JSON*1 bad line of 2 skipped"
	run -0 ecs-join -q -o csv "$J/catalog.csv" "$J/orders.ndjson"
	is "${lines[0]}" "order_id,ts,product_id,quantity,price,description,category,cost"
	is "${lines[3]}" '536365,2010-12-01T08:26:00Z,84406B,8,2.75,"CREAM CUPID HEARTS ""COAT"" HANGER",home,1.65'
}

@test "usage errors: no table, a bad --on" {
	run -2 --separate-stderr ecs-join </dev/null
	like "$stderr" "ecs-join: no table given*usage: ecs-join*"
	run -2 --separate-stderr ecs-join --on 'a=' "$J/catalog.csv" </dev/null
	like "$stderr" "ecs-join: --on 'a=': expected FIELD or FIELD=TABLEFIELD"
}

# table_version V [BAD]: a table of 500 keys, each row saying its version
# and a check that ties the row together, so that a row from two versions
# or half a row shows.
table_version() {
	awk -v v="$1" -v bad="${2:-}" 'BEGIN {
		for (i = 1; i <= 500; i++)
			printf "{\"product_id\":\"K%d\",\"ver\":%d,\"check\":\"K%d-%d\",\"pad\":\"%0100d\"}\n", i, v, i, v, i
		if (bad != "")
			print "{\"ver\":" v "}"
	}'
}

# reload_under_load HOW STATUS CHUNKS: while a writer replaces the table
# 100 times (HOW: mv, a rename over it, or cat, a write in place in three
# steps, so that an empty table and one cut in the middle of a line are
# there to be seen), events flow on their own, in chunks of 1000 with a
# pause after each, at least CHUNKS chunks and until the writer is done.
# With STATUS 1, version 50 has a bad row, refused. Then every output line
# must be joined with one whole version, and versions only go forward.
reload_under_load() {
	local t="$BATS_TEST_TMPDIR/table.ndjson" tmp="$BATS_TEST_TMPDIR/next.ndjson"
	local done="$BATS_TEST_TMPDIR/done" n=0
	awk 'BEGIN { for (i = 0; i < 1000; i++) printf "{\"product_id\":\"K%d\",\"n\":%d}\n", i % 500 + 1, i }' \
	    > "$BATS_TEST_TMPDIR/chunk"
	table_version 0 > "$t"
	# The writer waits for the first table to be loaded: ecs-join needs a
	# whole table to start, and an in-place write could be under way then.
	{
		wait_for "$BATS_TEST_TMPDIR/out" '"ver":0' || exit 1
		for v in $(seq 1 100); do
			if (( v == 50 )) && [[ $2 == 1 ]]; then table_version "$v" bad; else table_version "$v"; fi > "$tmp"
			if [[ $1 == mv ]]; then
				mv "$tmp" "$t"
				# The bad version stays until it has been refused.
				if (( v == 50 )) && [[ $2 == 1 ]]; then
					wait_for "$BATS_TEST_TMPDIR/err" "not reloaded"
				fi
			else	# emptied, then written in two parts cut mid-line, each
				# in one write(2): head and tail write in 4 KiB blocks, and
				# a block can end on a line, a whole shorter table, which
				# ecs-join(1) says an in-place writer must not pause at.
				: > "$t"
				dd if="$tmp" bs=30000 count=1 status=none >> "$t"
				dd if="$tmp" bs=1M skip=30000 iflag=skip_bytes status=none >> "$t"
			fi
		done
	} 3>&- &
	writer=$!
	# Events flow until the writer is done, CHUNKS have gone, and the last
	# version is in use (or far past that, when it never comes).
	while [[ ! -e $done ]] || (( n < $3 )) ||
	    { ! tail -c 65536 "$BATS_TEST_TMPDIR/out" | grep -q '"ver":100,' &&
	    (( n < 20 * $3 )); }; do
		kill -0 "$writer" 2>/dev/null || touch "$done"
		cat "$BATS_TEST_TMPDIR/chunk"
		sleep 0.001
		n=$((n + 1))
	done | tee "$BATS_TEST_TMPDIR/in" |
	    ecs-join "$t" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || status=$?
	wait "$writer"
	is "${status:-0}" "$2" "exit status"
	out="$BATS_TEST_TMPDIR/out"
	is "$(wc -l < "$out")" "$(wc -l < "$BATS_TEST_TMPDIR/in")" "every event written"
	(( $(wc -l < "$out") >= $3 * 1000 ))
	run -0 ecs-filter -c 'not exists(ver) or check != concat(product_id, "-", to_string(ver)) or length(pad) != 100' "$out"
	is "$output" 0 "lines joined with no row, a row of two versions or half a row"
	run -0 ecs-filter -c 'ver == 100' "$out"
	(( output > 0 ))
	if [[ $2 == 1 ]]; then
		run -0 ecs-filter -c 'ver == 50' "$out"
		is "$output" 0 "lines joined with the refused version 50"
	fi
	# The table only moves forward, and it did move while events flowed.
	run -0 bash -c "ecs-filter -t '{ver}' true '$out' | awk '\$1 < last { print \"back at \" NR; exit 1 } NR == 1 || \$1 != last { n++ } { last = \$1 } END { print n }'"
	echo "# $1: $output versions of the table were joined with" >&3
	# Renames are read as they come, however fast: versions between the
	# first and the last are seen. A table written in place is read once
	# it has been still for 50 ms, which this writer may never leave it.
	if [[ $1 == mv ]]; then (( output >= 3 )); else (( output >= 2 )); fi
}

@test "reload under load: 100 renames over the table while 1,000,000 events flow, never half a table" {
	reload_under_load mv 1 1000
	like "$(cat "$BATS_TEST_TMPDIR/err")" "*table.ndjson:501: field 'product_id' is missing*table.ndjson: not reloaded, 1 bad row: the previous table stays in use*"
}

@test "reload under load: 100 writes in place (emptied, then two parts) while events flow, never half a table" {
	reload_under_load cat 0 300
}

@test "--table-stream: rows from a file update the table, the latest winning" {
	printf '%s\n' '{"product_id":"71053","cost":9.99}' '{"product_id":"NEW","cost":1}' 'oops' \
	    '{"product_id":"71053","cost":10.5,"note":"x\"y"}' > "$BATS_TEST_TMPDIR/s.ndjson"
	ev '{"product_id":"71053"}' '{"product_id":"NEW"}' '{"product_id":"22752"}'
	run -1 --separate-stderr ecs-join --table-stream "$BATS_TEST_TMPDIR/s.ndjson" "$J/catalog.csv" "$IN"
	is "$output" '{"product_id":"71053","cost":10.5,"note":"x\"y"}
{"product_id":"NEW","cost":1}
{"product_id":"22752","description":"SET 7 BABUSHKA NESTING BOXES","category":"toys","cost":4.20}'
	is "$stderr" "ecs-join: $BATS_TEST_TMPDIR/s.ndjson:3: row skipped: not a JSON object"
}

@test "--table-stream: rows replaced again and again leave no copies behind, every key still joined right" {
	# 200000 updates of three keys, and a key that is never updated.
	awk 'BEGIN { print "{\"product_id\":\"K\",\"v\":\"kept\"}"
	    for (i = 1; i <= 200000; i++)
		printf "{\"product_id\":\"%s\",\"v\":%d,\"d\":\"a description of forty bytes, or so\"}\n", substr("ABC", i % 3 + 1, 1), i }' \
	    > "$BATS_TEST_TMPDIR/s.ndjson"
	ev '{"product_id":"A"}' '{"product_id":"B"}' '{"product_id":"C"}' '{"product_id":"K"}'
	run -0 --separate-stderr ecs-join --stats "$BATS_TEST_TMPDIR/stats" --table-stream "$BATS_TEST_TMPDIR/s.ndjson" /dev/null "$IN"
	want=$(for k in A B C K; do grep "\"$k\"" "$BATS_TEST_TMPDIR/s.ndjson" | tail -n 1; done)
	is "$output" "$want" "the latest row of each key"
	# Some 17 MB when each version was kept; 2.5 MB now (ASan holds what is freed).
	sanitized || (( $(jq .resident_bytes "$BATS_TEST_TMPDIR/stats") < 8000000 ))
}

@test "--table-stream: a last row without its newline was never applied, and says so" {
	printf '%s\n%s' '{"product_id":"A","v":1}' '{"product_id":"A","v":2}' > "$BATS_TEST_TMPDIR/s.ndjson"
	ev '{"product_id":"A"}'
	run -1 --separate-stderr ecs-join --table-stream "$BATS_TEST_TMPDIR/s.ndjson" /dev/null "$IN"
	is "$output" '{"product_id":"A","v":1}'
	is "$stderr" "ecs-join: $BATS_TEST_TMPDIR/s.ndjson:2: row not applied: no newline at its end"
	# Blanks after the last newline are no row.
	printf '{"product_id":"A","v":1}\n \t' > "$BATS_TEST_TMPDIR/s.ndjson"
	run -0 --separate-stderr ecs-join --table-stream "$BATS_TEST_TMPDIR/s.ndjson" /dev/null "$IN"
	is "$output" '{"product_id":"A","v":1}'
	is "$stderr" ""
}

@test "the integer -0 is the key 0, in a table row (NDJSON, CSV, json-c's) as in an event" {
	printf '%s\n' '{"id":-0,"n":"plain"}' > "$BATS_TEST_TMPDIR/t.ndjson"
	printf '%s\n' '{"id":-0,"n":"caf\u00e9"}' > "$BATS_TEST_TMPDIR/e.ndjson"
	printf 'id,n\n-0,csv\n' > "$BATS_TEST_TMPDIR/t.csv"
	ev '{"id":-0}' '{"id":0}' '{"id":-0,"s":"\n"}' '{"p":{"id":-0}}' '{"id":-0.0}'
	for tn in t.ndjson:plain e.ndjson:café t.csv:csv; do
		t=${tn%%:*} n=${tn#*:}
		run -0 --separate-stderr ecs-join --on id "$BATS_TEST_TMPDIR/$t" "$IN"
		is "$(printf '%s\n' "$output" | jq -c .n)" "$(printf '"%s"\n' "$n" "$n" "$n")
null
null" "$t"
		run -0 --separate-stderr ecs-join --on p.id=id "$BATS_TEST_TMPDIR/$t" "$IN"
		is "${lines[3]}" "{\"p\":{\"id\":-0},\"n\":\"$n\"}" "$t, nested"
	done
}

@test "--table-stream: a row json-c reads (an escape) keeps integers past 64 bits whole, keys and values" {
	printf '%s\n' '{"product_id":99999999999999999999,"n":"caf\u00e9","v":[18446744073709551616]}' > "$BATS_TEST_TMPDIR/s.ndjson"
	ev '{"product_id":18446744073709551615}' '{"product_id":99999999999999999999}'
	run -0 --separate-stderr ecs-join --table-stream "$BATS_TEST_TMPDIR/s.ndjson" /dev/null "$IN"
	is "$output" '{"product_id":18446744073709551615}
{"product_id":99999999999999999999,"n":"café","v":[18446744073709551616]}'
	# The same row from the table file joins alike.
	run -0 --separate-stderr ecs-join "$BATS_TEST_TMPDIR/s.ndjson" "$IN"
	is "$output" '{"product_id":18446744073709551615}
{"product_id":99999999999999999999,"n":"café","v":[18446744073709551616]}'
}

@test "--table-stream from a FIFO: ecs-stock --report as the table, updated live" {
	mkfifo "$BATS_TEST_TMPDIR/ev" "$BATS_TEST_TMPDIR/st"
	ecs-join --prefix stock_ --table-stream "$BATS_TEST_TMPDIR/st" /dev/null < "$BATS_TEST_TMPDIR/ev" > "$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	exec 5> "$BATS_TEST_TMPDIR/ev" 4> "$BATS_TEST_TMPDIR/st"
	report() { ecs-stock -q --initial 5 --report | ecs-filter -f product_id,quantity,status 'exists(status)'; }
	echo '{"product_id":"A","action":"restock","quantity":20}' | report >&4
	echo '{"product_id":"A","n":1}' >&5
	wait_for "$BATS_TEST_TMPDIR/out" '"n":1'
	echo '{"product_id":"A","action":"purchase","quantity":5}' | report >&4
	echo '{"product_id":"A","n":2}' >&5
	exec 4>&- 5>&-
	wait "$pid"
	is "$(cat "$BATS_TEST_TMPDIR/out")" '{"product_id":"A","n":1,"stock_quantity":25,"stock_status":"ok"}
{"product_id":"A","n":2,"stock_quantity":0,"stock_status":"out"}'
}

# The UCI orders and a product table made from them: the description, and
# a cost made up from the lowest price and the id (products ending in B
# left out, so that some orders have no row).
uci_catalog() {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	cat="$BATS_TEST_TMPDIR/catalog.ndjson"
	duckdb_sql "SELECT product_id, max(description) AS description,
	    round(min(price) * 0.6 + length(product_id) / 100, 2) AS cost
	    FROM read_json('$data', format='newline_delimited')
	    WHERE product_id NOT LIKE '%B' GROUP BY product_id ORDER BY product_id" > "$cat"
	mlr --ijson --ocsv cat "$cat" > "$BATS_TEST_TMPDIR/catalog.csv"
	(( $(wc -l < "$cat") > 3000 ))
}

@test "UCI orders: the same rows as Miller's join, in the same order, from NDJSON and CSV" {
	uci_catalog
	zcat "$data" | head -n 100000 > "$BATS_TEST_TMPDIR/orders"
	mlr --ijson --ojsonl join --ur -j product_id -f "$cat" "$BATS_TEST_TMPDIR/orders" |
	    jq -cS . > "$BATS_TEST_TMPDIR/mlr"
	for t in "$cat" "$BATS_TEST_TMPDIR/catalog.csv"; do
		ecs-join -q "$t" "$BATS_TEST_TMPDIR/orders" | jq -cS . > "$BATS_TEST_TMPDIR/ecs"
		is "$(wc -l < "$BATS_TEST_TMPDIR/ecs")" 100000
		run -0 cmp "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/mlr"
	done
	# Some had a row, some had none.
	run -0 grep -c '"cost"' "$BATS_TEST_TMPDIR/ecs"
	(( output > 90000 && output < 100000 ))
	# The key moved into an object: the same rows, read from the bytes.
	sed -E 's/"product_id":("[^"]*"|[0-9]+)/"item":{"product_id":\1}/' \
	    "$BATS_TEST_TMPDIR/orders" > "$BATS_TEST_TMPDIR/nested"
	ecs-join -q --on item.product_id=product_id --stats "$BATS_TEST_TMPDIR/st" \
	    "$cat" "$BATS_TEST_TMPDIR/nested" |
	    jq -cS '.product_id = .item.product_id | del(.item)' > "$BATS_TEST_TMPDIR/ecs"
	run -0 cmp "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/mlr"
	# json-c reads only the lines with an escape.
	run -0 jq .parsed "$BATS_TEST_TMPDIR/st"
	is "$output" "$(grep -c '\\' "$BATS_TEST_TMPDIR/nested")"
}

@test "UCI orders: the same rows as DuckDB's LEFT JOIN and INNER JOIN (--prefix)" {
	uci_catalog
	for kind in LEFT INNER; do
		duckdb_sql "SELECT o.order_id, o.product_id, o.quantity, o.description,
		    c.description AS p_description, c.cost AS p_cost
		    FROM read_json('$data', format='newline_delimited') o
		    $kind JOIN read_json('$cat', format='newline_delimited') c USING (product_id)" |
		    jq -c '[.order_id, .product_id, (.quantity | tostring), .description, .p_description, .p_cost]' |
		    sort > "$BATS_TEST_TMPDIR/duck"
		opt=--left; [[ $kind == INNER ]] && opt=--inner
		ecs-join -q $opt --prefix p_ "$cat" "$data" |
		    jq -c '[.order_id, .product_id, (.quantity | tostring), .description, .p_description, .p_cost]' |
		    sort > "$BATS_TEST_TMPDIR/ecs"
		echo "# $kind JOIN: $(wc -l < "$BATS_TEST_TMPDIR/ecs") rows" >&3
		run -0 cmp "$BATS_TEST_TMPDIR/ecs" "$BATS_TEST_TMPDIR/duck"
	done
	(( $(wc -l < "$BATS_TEST_TMPDIR/ecs") > 400000 ))
}

@test "--table-stream: a row over --max-line, whole in one read or not, is skipped and reported" {
	{ printf '{"product_id":"A","x":"%04000d"}\n' 0; echo '{"product_id":"B","x":1}'; } > "$BATS_TEST_TMPDIR/s.ndjson"
	ev '{"product_id":"A"}' '{"product_id":"B"}'
	run -1 --separate-stderr ecs-join --max-line 1000 --table-stream "$BATS_TEST_TMPDIR/s.ndjson" /dev/null "$IN"
	is "$output" '{"product_id":"A"}
{"product_id":"B","x":1}'
	like "$stderr" "ecs-join: $BATS_TEST_TMPDIR/s.ndjson:1: row skipped: longer than 1000 bytes (--max-line)*"
	{ printf '{"product_id":"A","x":"%0100000d"}\n' 0; echo '{"product_id":"B","x":2}'; } > "$BATS_TEST_TMPDIR/s.ndjson"
	run -1 --separate-stderr ecs-join --max-line 1000 --table-stream "$BATS_TEST_TMPDIR/s.ndjson" /dev/null "$IN"
	is "$output" '{"product_id":"A"}
{"product_id":"B","x":2}'
	like "$stderr" "ecs-join: $BATS_TEST_TMPDIR/s.ndjson:1: row skipped: longer than 1000 bytes (--max-line)*"
}

@test "a table replaced while the input is quiet is looked at then, not at the next event" {
	mkfifo "$BATS_TEST_TMPDIR/ev"
	printf 'product_id,v\nA,1\n' > "$BATS_TEST_TMPDIR/t.csv"
	ecs-join "$BATS_TEST_TMPDIR/t.csv" < "$BATS_TEST_TMPDIR/ev" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 5> "$BATS_TEST_TMPDIR/ev"
	echo '{"product_id":"A"}' >&5
	wait_for "$BATS_TEST_TMPDIR/out" '"v":1'
	# A bad table, refused by a look made with no event to join.
	printf 'product_id,v\nA,2,x\n' > "$BATS_TEST_TMPDIR/next.csv"
	mv "$BATS_TEST_TMPDIR/next.csv" "$BATS_TEST_TMPDIR/t.csv"
	wait_for "$BATS_TEST_TMPDIR/err" "not reloaded, 1 bad row"
	echo '{"product_id":"A"}' >&5
	exec 5>&-
	status=0
	wait "$pid" || status=$?
	is "$status" 1 "a refused reload is an error at exit"
	is "$(cat "$BATS_TEST_TMPDIR/out")" '{"product_id":"A","v":1}
{"product_id":"A","v":1}'
}
