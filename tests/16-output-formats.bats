#!/usr/bin/env bats
# Output formats every ecs program shares (-o csv|tsv|table), each checked
# byte for byte against Miller writing the same records from NDJSON
# (mlr --ijsonl --ocsv, --otsv, --opprint): quoting, escapes, nested values
# flattened to a.b and items.1, a new header block when the keys change,
# empty output, and rows shown at once in a live pipeline.

load helpers

FMT="$BATS_TEST_DIRNAME/fixtures/formats"

# same_as_miller FORMAT CMD...: CMD -o FORMAT equals CMD's NDJSON through
# Miller's writer for FORMAT, and says something.
same_as_miller() {
	local fmt=$1 mlr_fmt=$1
	shift
	[[ $fmt == table ]] && mlr_fmt=pprint
	"$@" -o "$fmt" > "$BATS_TEST_TMPDIR/mine" 2> "$BATS_TEST_TMPDIR/err"
	is "$(cat "$BATS_TEST_TMPDIR/err")" "" "stderr of -o $fmt"
	"$@" > "$BATS_TEST_TMPDIR/ndjson"
	[[ -s "$BATS_TEST_TMPDIR/ndjson" ]] || { echo "# no output to compare" >&2; return 1; }
	mlr --ijsonl --o"$mlr_fmt" cat "$BATS_TEST_TMPDIR/ndjson" > "$BATS_TEST_TMPDIR/mlr"
	cmp "$BATS_TEST_TMPDIR/mine" "$BATS_TEST_TMPDIR/mlr" || {
		diff "$BATS_TEST_TMPDIR/mine" "$BATS_TEST_TMPDIR/mlr" | head -20 >&2
		return 1
	}
}

@test "ecs-filter -o csv: quoting, unicode, numbers as written, nested, nulls, key changes" {
	same_as_miller csv ecs-filter true "$FMT/records.ndjson"
	run -0 ecs-filter -o csv true "$FMT/records.ndjson"
	is "${lines[0]}" "id,name,note,price,big,e,ok,gone,empty"
	is "${lines[1]}" '1,"Mug, large","say ""hi""",1.50,123456789012345678901234567890,1E+2,true,null,'
	# bats drops empty lines from $lines; row 2 holds a newline in quotes.
	is "$(sed -n 6,8p <<< "$output")" "
id,user.name,user.address.city,items.1.sku,items.1.qty,items.2.sku,items.2.qty,tags,meta
4,Ann,Oslo,A,2,B,1,[],{}" "after an empty line, the second header"
}

@test "ecs-filter -o tsv: Miller's escapes for tab, newline, CR and backslash" {
	same_as_miller tsv ecs-filter true "$FMT/records.ndjson"
	run -0 ecs-filter --output-format tsv 'id == 2' "$FMT/records.ndjson"
	is "${lines[1]}" $'2\tcafé ☃ 😀 ☃\ttwo\\nlines\\r\\tand \\\\ a tab\t-0.0\t1\t0.1e-7\tfalse\tnull\t lead'
}

@test "ecs-filter -o table: aligned as mlr --opprint, empty values as -" {
	same_as_miller table ecs-filter true "$FMT/records.ndjson"
	run -0 ecs-filter -o table -f id,user.name,tags 'id >= 4' "$FMT/records.ndjson"
	is "$output" "id user.name tags
4  Ann       []
5  Bo        []

id
7
8
9"
}

@test "a key given twice keeps its first place and its last value, as in Miller" {
	ev '{"a":1,"b":2,"a":3}' '{"a":{"b":1},"a.b":2}'
	same_as_miller csv ecs-filter true "$IN"
	run -0 ecs-filter -o csv true "$IN"
	is "$output" $'a,b\n3,2\n\na.b\n2'
	# The earlier value goes whole, nested or not: its flattened names
	# (a.x beside a.y) do not show that the key was given twice.
	ev '{"a":1,"a":{"b":2},"c":3}' '{"a":{"b":2},"a":1,"c":3}' \
	    '{"a":{"x":1},"a":{"y":2}}' '{"o":{"k":1,"m":2,"k":[1,2]},"z":0}' \
	    '{"a":1,"b":2,"a":3,"b":4,"a":5}' '{"a":1,"\u0061":{"b":2}}' \
	    '{"a":[],"a":{}}' '{"x":{"a":{"p":1,"q":2},"b":0,"a":{"r":3}},"y":1}'
	local fmt
	for fmt in csv tsv table; do
		same_as_miller "$fmt" ecs-filter true "$IN"
	done
	run -0 ecs-filter -o csv true "$IN"
	is "$(sed -n '1,2p;4,5p;7,8p' <<< "$output")" \
	    $'a.b,c\n2,3\na,c\n1,3\na.y\n2' "the last value, at the first place"
}

@test "ecs-sales rows with alerts interleaved: CSV, TSV and table as Miller writes them" {
	ecs-gen --events 3000 > "$IN"
	for f in csv tsv table; do
		same_as_miller "$f" ecs-sales -w 1h -b category -m 'n=count()' \
		    -m 'revenue=sum(price*quantity)' -m 'top=top(product_id,2)' \
		    --alert 'n > 30' "$IN"
	done
	run -0 ecs-sales -o csv -w 1h -b category -m 'n=count()' "$IN"
	is "${lines[0]}" "window_start,window_end,category,n" "group keys, then metrics as given"
}

@test "ecs-stock alerts and ecs-recommend lines (nested arrays) as CSV" {
	ev '{"product_id":101,"quantity":100,"ts":"2026-11-01T00:00:00Z"}' \
	    '{"product_id":"A,1","quantity":3,"ts":"2026-11-01T00:00:01Z"}' \
	    '{"product_id":101,"action":"purchase","quantity":99,"ts":"2026-11-01T00:01:00Z"}' \
	    '{"product_id":"A,1","action":"purchase","quantity":5,"ts":"2026-11-01T00:02:00Z"}'
	same_as_miller csv ecs-stock "$IN"
	run -0 ecs-stock -o csv "$IN"
	is "$output" 'alert,product_id,quantity,threshold,ts
low_stock,"A,1",3,10,2026-11-01T00:00:01Z
low_stock,101,1,10,2026-11-01T00:01:00Z
oversold,"A,1",-2,10,2026-11-01T00:02:00Z'
	ecs-gen --events 3000 > "$IN"
	same_as_miller csv ecs-recommend -k 2 "$IN"
	run -0 ecs-recommend -o csv -k 2 "$IN"
	like "$output" "*recommendations.1.product_id*"
}

@test "no records: no output at all, not even a header" {
	for f in csv tsv table; do
		run -0 ecs-filter -o "$f" false "$FMT/records.ndjson"
		is "$output" "" "-o $f"
		is "$(ecs-filter -o "$f" false < /dev/null | wc -c)" 0
	done
	run -0 bash -c "ecs-filter false '$FMT/records.ndjson' | mlr --ijsonl --ocsv cat | wc -c"
	is "$output" 0 "Miller agrees"
}

@test "-o ndjson is the default; a bad -o, or -o with -c or -t, is a usage error" {
	run -0 ecs-filter -o ndjson 'id == 9' "$FMT/records.ndjson"
	is "$output" '{"id":9,"name":"x"}'
	run -2 --separate-stderr ecs-filter -o xml true < /dev/null
	is "$stderr" "ecs-filter: -o 'xml': expected ndjson, csv, tsv or table"
	run -2 --separate-stderr ecs-filter -o csv -c true < /dev/null
	is "$stderr" "ecs-filter: --output-format: not with --count or --template, which write text"
	run -2 --separate-stderr ecs-filter -o table -t '{id}' true < /dev/null
	like "$stderr" "*not with --count or --template*"
}

@test "CSV and TSV written by -o read back with -i as the same records" {
	for f in csv tsv; do
		ecs-filter -f id,name,note,price 'id <= 3' "$FMT/records.ndjson" > "$BATS_TEST_TMPDIR/want"
		run -0 bash -c "ecs-filter -o $f -f id,name,note,price 'id <= 3' '$FMT/records.ndjson' |
		    ecs-filter -i $f true"
		is "$output" "$(cat "$BATS_TEST_TMPDIR/want")" "-o $f | -i $f"
	done
}

@test "live: a CSV row is written before the end of input" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-filter -o csv 'action == "purchase"' < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"		# the writer stays open: no EOF
	echo '{"action":"browse","n":0}' >&5
	echo '{"action":"purchase","n":1}' >&5
	wait_for "$out" 'purchase,1'
	kill -0 "$pid"		# still running, still reading
	echo '{"action":"purchase","n":2}' >&5
	exec 5>&-
	wait "$pid"
	is "$(cat "$out")" $'action,n\npurchase,1\npurchase,2'
}

@test "live: a table shows its rows before the end of input; wider rows start a new table" {
	fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	ecs-filter -o table true < "$fifo" > "$out" 3>&- &
	pid=$!
	exec 5> "$fifo"
	echo '{"sku":"AAAA","n":1}' >&5
	wait_for "$out" 'AAAA 1'
	echo '{"sku":"B","n":2}' >&5		# fits: continues the table
	wait_for "$out" 'B    2'
	echo '{"sku":"CCCCCC","n":3}' >&5	# wider: a new header
	wait_for "$out" 'CCCCCC 3'
	kill -0 "$pid"
	exec 5>&-
	wait "$pid"
	is "$(cat "$out")" "sku  n
AAAA 1
B    2

sku    n
CCCCCC 3"
}

@test "a reader that goes away (| head) ends a CSV writer quietly with 0" {
	ecs-gen --events 200000 > "$IN"
	run -0 --separate-stderr bash -c "ecs-filter -o csv true '$IN' | head -2; exit \${PIPESTATUS[0]}"
	is "${#lines[@]}" 2
	is "$stderr" ""
}

@test "README: orders over £100 whose description holds HEART, as CSV" {
	run -0 --separate-stderr ecs-filter -o csv -f order_id,ts,description,amount \
	    'amount > 100 and description =~ "HEART"' "$FMT/orders.ndjson"
	is "$output" 'order_id,ts,description,amount
536376,2010-12-01T09:32:00Z,RED HANGING HEART T-LIGHT HOLDER,163.20
536384,2010-12-01T09:53:00Z,HEART OF WICKER LARGE,102.00
561098,2011-07-25T10:56:00Z,"DIAMANTE HEART SHAPED WALL MIRROR, ",129.00'
	same_as_miller csv ecs-filter -f order_id,ts,description,amount \
	    'amount > 100 and description =~ "HEART"' "$FMT/orders.ndjson"
}

@test "UCI orders: -o csv is Miller's CSV of the same selection" {
	shared_data uci-online-retail/orders.ndjson.gz
	same_as_miller csv ecs-filter -n 20000 'description =~ "HEART"' "$data"
	same_as_miller tsv ecs-filter -n 20000 'description =~ "HEART"' "$data"
}

@test "rows like the one before take a fast path: it writes what the full scan writes" {
	# Same keys each time: commas and quotes in plain rows, escapes, a
	# nested value, spaces around tokens, and names that need escapes.
	ev '{"k":"a","v":"x,y"}' '{"k":"b","v":"say \"x\""}' '{"k":"c","v":"p,q\\r"}' \
	    '{"k":"d","v":{"n":1}}' '{ "k" : "e" , "v" : 2 }' '{"k":"f","v":"1,2,3"}' \
	    '{"a\"b":1,"c\\d":2}' '{"a\"b":3,"c\\d":4}' '{"k\u0041":5}' '{"kA":6}'
	for f in csv tsv table; do
		same_as_miller "$f" ecs-filter true "$IN"
	done
	run -0 ecs-filter -o csv 'k == "f"' "$IN"
	is "$output" $'k,v\nf,"1,2,3"'
}

@test "records that go back to a header before (events with more keys) start a new block, as Miller" {
	# ecs_table keeps the headers before the current one for such records:
	# to and fro between three key sets, an empty record, spaces, escapes.
	ev '{"u":1,"a":"view"}' '{"u":2,"a":"cart","q":3}' '{"u":3,"a":"view"}' \
	    '{"u":4,"a":"buy","q":1,"o":"x,y"}' '{"u":5,"a":"view"}' \
	    '{ "u" : 6 , "a" : "cart" , "q" : 2 }' '{"u":7,"a":"buy","q":1,"o":"p"}' \
	    '{}' '{"u":8,"a":"view"}' '{"u":9,"a":"say \"hi\""}' \
	    '{"u":10,"a":"cart","q":{"n":1}}' '{"u":11,"a":"cart","q":4}' \
	    '{"u":12,"a":"view"}' '{"u":13,"a":"view"}'
	for f in csv tsv table; do
		same_as_miller "$f" ecs-filter true "$IN"
	done
	run -0 ecs-filter -o csv 'u >= 11' "$IN"
	is "$output" $'u,a,q\n11,cart,4\n\nu,a\n12,view\n13,view'
}

@test "rows written from the values the scan found are Miller's, byte for byte, on every scan path" {
	# Plain lines (no escapes) are written from the value positions of the
	# validating scan: commas at each place of an 8-byte word, values at
	# the very end of a line, keys of 1 to 17 bytes that differ only in
	# their last byte, keys missing, extra or moved against the header,
	# repeated keys, nested values, spaces, escapes, -0, 1e5, unicode.
	local many full i
	many=$(for ((i = 1; i <= 70; i++)); do printf '"k%d":%d,' $i $i; done)
	full=$(for ((i = 1; i <= 64; i++)); do printf '"k%d":"%d,",' $i $i; done)
	ev '{"a":"\u00e9 first escape, at the start","b":1,"c":2,"d":3}' \
	    '{"a":"x,y","b":1,"c":"","d":-0}' \
	    '{"a":",","b":1e5,"c":"a,b,c,d,e,f,g,h,i","d":-0.0}' \
	    '{"a":"1234567,","b":1E+5,"c":"12345678,","d":true}' \
	    '{"a":"café ☃ 😀","b":null,"c":"x","d":false}' \
	    '{"a":"a string of more than sixteen bytes","b":0,"c":"end,","d":"z"}' \
	    '{"a":1,"b":2,"c":3,"d":",,,"}' '{"a":1,"b":2,"c":3,"d":"1234567890,"}' \
	    '{"a":1,"b":2,"c":3,"d":12345678901234567890123}' \
	    '{"a":1,"b":2,"c":3}' '{"a":1,"b":2,"c":3,"d":4,"e":5}' \
	    '{"b":1,"a":2,"c":3,"d":4}' '{"a":1,"b":2,"c":3,"e":4}' \
	    '{"a":1,"b":2,"c":3,"dd":4}' '{"a":1,"b":2,"c":3,"d ":4}' \
	    '{"a":1,"a":2,"c":3,"d":4}' '{"a":{"x":1},"b":2,"c":3,"d":4}' \
	    '{"a":[1,"p,q"],"b":2,"c":3,"d":4}' '{"a":1,"b":2,"c":3,"d":{}}' \
	    '{ "a" : 1 , "b":2,"c":3,"d":4 }' ' {"a":1,"b":2,"c":3,"d":4}' \
	    '{"a":"q\"uote,","b":"back\\slash","c":"new\nline","d":"\u00e9,"}' \
	    '{"a":"p","b":"q,","c":"r","d":"s"}' \
	    '{"abcdefgh":1,"abcdefghijklmnopq":"x,y"}' \
	    '{"abcdefgh":2,"abcdefghijklmnopZ":"x"}' \
	    '{"abcdefgZ":3,"abcdefghijklmnopZ":"x"}' \
	    '{"abcdefgZ":4,"abcdefghijklmnopZ":","}' \
	    '{}' '{"a,b":1,"c\"d":2}' '{"a,b":3,"c\"d":"4,"}' \
	    "{${many%,}}" "{${many%,}}" "{${full%,}}" "{${full%,}}" '{"k":1}' '{"k":2}' '{"K":3}' '{"k":4}'
	for p in $(scan_paths); do
		for f in csv tsv; do
			ECS_SCAN=$p same_as_miller "$f" ecs-filter true "$IN"
		done
	done
	# A comma in the last value, which ends just before the line does.
	run -0 ecs-filter -o csv 'd == ",,,"' "$IN"
	is "$output" $'a,b,c,d\n1,2,3,",,,"'
}
