#!/usr/bin/env bats
# ecs-filter: the brief's example, every operator, rules, projection,
# templates, -v/-c/-n, renaming, and agreement with jq on real data.

load helpers

# filter ARGS...: ecs-filter over in.ndjson, with its exit status. That
# status is lost in "$(filter ...)", so a failure is also written into the
# output, where no expected value (an empty one, a count of 0) can match it.
filter() {
	local status=0
	ecs-filter "$@" "$BATS_TEST_TMPDIR/in.ndjson" || status=$?
	((status == 0)) || echo "<ecs-filter exited with status $status>"
	return "$status"
}

@test "the brief's user-behaviour example, byte for byte" {
	run -0 --separate-stderr ecs-filter \
	    -e 'action == "browse"' -t 'User {user_id} is browsing product {product_id}' \
	    -e 'action == "add_to_cart"' -t 'User {user_id} has added product {product_id} to cart' \
	    -e 'action == "purchase"' -t 'User {user_id} has purchased product {product_id}' \
	    "$FIXTURES/brief/behaviour.ndjson"
	is "$output" "$(fixture brief/behaviour.out)"
	is "$stderr" ""
}

@test "the brief's first line from one rule and stdin" {
	run -0 ecs-filter -t 'User {user_id} is browsing product {product_id}' \
	    'action == "browse"' < "$FIXTURES/brief/behaviour.ndjson"
	is "$output" "User 1 is browsing product 101"
}

@test "kept lines are written byte for byte" {
	ev '{ "id" : 12345678901234567890, "price":12.30, "s":"a\/b\u00e9" }' \
	   '{"id":1,"x":1e999}'
	run -0 filter 'exists(id)'
	is "${lines[0]}" '{ "id" : 12345678901234567890, "price":12.30, "s":"a\/b\u00e9" }'
	is "${lines[1]}" '{"id":1,"x":1e999}'
}

@test "equality and inequality on strings, numbers, booleans, null" {
	ev '{"n":1,"s":"a","b":true,"z":null}' '{"n":2,"s":"b","b":false,"z":0}'
	is "$(filter 'n == 1')" '{"n":1,"s":"a","b":true,"z":null}'
	is "$(filter 'n != 1')" '{"n":2,"s":"b","b":false,"z":0}'
	is "$(filter 's == "b"')" '{"n":2,"s":"b","b":false,"z":0}'
	is "$(filter 'b == true')" '{"n":1,"s":"a","b":true,"z":null}'
	is "$(filter 'b == false')" '{"n":2,"s":"b","b":false,"z":0}'
	is "$(filter 'z == null')" '{"n":1,"s":"a","b":true,"z":null}'
	is "$(filter 'n == 1.0')" '{"n":1,"s":"a","b":true,"z":null}'
	is "$(filter 'n != "x"' | wc -l)" 2 "a number is unequal to a word"
}

@test "ordering operators" {
	ev '{"n":1}' '{"n":2}' '{"n":3}'
	is "$(filter 'n < 2')" '{"n":1}'
	is "$(filter 'n <= 2' | wc -l)" 2
	is "$(filter 'n > 2')" '{"n":3}'
	is "$(filter 'n >= 2' | wc -l)" 2
	is "$(filter '2 < n')" '{"n":3}'
}

@test "integers compare exactly beyond double precision" {
	ev '{"id":9007199254740993}' '{"id":9007199254740992}'
	is "$(filter 'id == 9007199254740993')" '{"id":9007199254740993}'
	is "$(filter 'id > 9007199254740992')" '{"id":9007199254740993}'
}

@test "strings compare bytewise, so ISO times order correctly" {
	ev '{"ts":"2026-11-01T09:59:59Z"}' '{"ts":"2026-11-01T10:00:00Z"}'
	is "$(filter 'ts >= "2026-11-01T10"')" '{"ts":"2026-11-01T10:00:00Z"}'
	is "$(filter '"b" > "a" and "ab" > "a" and not ("a" < "a")' | wc -l)" 2
}

@test "a number written as a string compares as that number" {
	ev '{"price":"19.99","id":"0042"}' '{"price":"cheap"}'
	is "$(filter 'price > 10')" '{"price":"19.99","id":"0042"}'
	is "$(filter 'price == 19.99')" '{"price":"19.99","id":"0042"}'
	is "$(filter 'price < 10')" ""
	is "$(filter 'price == "cheap"')" '{"price":"cheap"}'
}

@test "comparing a missing field is false, even with !=" {
	ev '{"a":1}' '{"b":1}'
	is "$(filter 'a == 1')" '{"a":1}'
	is "$(filter 'a != 1')" ""
	is "$(filter 'a != 2')" '{"a":1}'
	is "$(filter 'a < 5')" '{"a":1}'
	is "$(filter 'not (a == 1)')" '{"b":1}'
	is "$(filter 'a == null')" ""
}

@test "and, or, not and their symbols, with precedence" {
	ev '{"a":1,"b":2}' '{"a":1,"b":3}' '{"a":2,"b":3}'
	is "$(filter 'a == 1 and b == 3')" '{"a":1,"b":3}'
	is "$(filter 'a == 1 && b == 3')" '{"a":1,"b":3}'
	is "$(filter 'a == 2 or b == 2' | wc -l)" 2
	is "$(filter 'a == 2 || b == 2' | wc -l)" 2
	is "$(filter 'not a == 1')" '{"a":2,"b":3}'
	is "$(filter '!(a == 1)')" '{"a":2,"b":3}'
	is "$(filter 'a == 2 or a == 1 and b == 2' | wc -l)" 2 "and binds tighter"
	is "$(filter '(a == 2 or a == 1) and b == 3' | wc -l)" 2
}

@test "truthiness follows jq: false, null and missing are false" {
	ev '{"f":false}' '{"f":null}' '{"f":0}' '{"f":""}' '{"g":1}'
	is "$(filter 'f' | wc -l)" 2
	is "$(filter 'f' | head -1)" '{"f":0}'
	is "$(filter 'not f' | wc -l)" 3
}

@test "arithmetic: + - * / % and unary minus, exact for integers" {
	ev '{"price":19.99,"quantity":3,"n":7}'
	run -0 filter 'price * quantity > 59.9 and price * quantity < 60'
	is "${#lines[@]}" 1
	is "$(filter 'n / 2 == 3.5 and n % 4 == 3 and -n == 0 - 7 and n - 10 < 0' | wc -l)" 1
	is "$(filter '9223372036854775807 + 1 > 9223372036854775807' | wc -l)" 1 "past int64"
	is "$(filter '9223372036854775807 + 1 == 9223372036854775808 and 9223372036854775807 + 1 != 9223372036854775809' | wc -l)" 1 "past int64, still exact"
	is "$(filter '1 + 2 * 3 == 7 and (1 + 2) * 3 == 9' | wc -l)" 1
	is "$(filter 'n / 0 == 0 or n / 0 != 0' | wc -l)" 0 "x/0 has no value"
	is "$(filter '"3" * 2 == 6' | wc -l)" 1
}

@test "money arithmetic is exact, as DuckDB's DECIMAL and unlike jq's doubles" {
	need_duckdb
	ev '{"price":2.55,"quantity":6}' '{"price":0.10,"quantity":3}' '{"price":19.99,"quantity":3}' \
	   '{"price":1.15,"quantity":100}' '{"price":0.70,"quantity":10}' '{"price":4.35,"quantity":100}' \
	   '{"price":0.01,"quantity":7}' '{"price":8.20,"quantity":1}'
	local f="$BATS_TEST_TMPDIR/in.ndjson" cond n jq_differs=0
	for cond in 'price * quantity >= 15.30' 'price * quantity == 0.30' 'price * quantity < 115' \
	    'price * quantity == 7' 'price * quantity <= 435' 'price * quantity - 0.07 == 0' \
	    'price + price + price == price * 3' 'price * quantity > 8.2' 'price * quantity - price > 14.75'; do
		n=$(duckdb_sql "SELECT count(*) AS n FROM read_json('$f', format='newline_delimited',
		    columns={price:'DECIMAL(18,2)', quantity:'INTEGER'}) WHERE $cond" | jq -r .n)
		is "$(ecs-filter -c "$cond" "$f")" "$n" "$cond"
		[[ "$(jq -c "select($(sed 's/price/.price/g; s/quantity/.quantity/g' <<< "$cond"))" "$f" | wc -l)" == "$n" ]] ||
		    jq_differs=$((jq_differs + 1))
	done
	(( jq_differs >= 3 ))	# the cases are ones where doubles go wrong
	ev '{"a":0.1,"b":0.2}'
	is "$(filter -c 'a + b == 0.3 and a + b - 0.3 == 0 and b - a == 0.1 and -(a + b) == -0.3')" 1
	is "$(filter -c '7.5 / 2.5 == 3 and 1 / 8 == 0.125 and 5.5 % 2 == 1.5 and -5.5 % 2 == -1.5')" 1
	# 10^39 mod 7 is 6 (10^6 mod 7 is 1): exact though no common scale fits.
	is "$(filter -t '{=1000000000000000000000 % 0.000000000000000007} {=99999999999999999999999999999999999999 % 0.000000000000000001 == 0}' true | head -1)" \
	    '0.000000000000000006 true'
	is "$(filter -c '12345678901234567890124 / 2.000000000000000000 == 6172839450617283945062 and 12345678901234567890124 * 1.000000000000000000 != 12345678901234567890125')" 1 \
	    "zeros that end a fraction do not make a result a double"
	is "$(filter -c 'a * a == 0.01 and a * 0.00000000000000001 == 0.000000000000000001')" 1 \
	    "18 places are exact"
}

@test "integers beyond 64 bits compare and pass through exactly" {
	ev '{"id":123456789012345678901234567890,"n":1}' '{"id":123456789012345678901234567891,"n":2}' \
	   '{"id":123456789012345678901234567890,"s":"\u0041"}' '{"id":"123456789012345678901234567890"}' \
	   '{"id":-99999999999999999999999999}'
	is "$(filter -c 'id == 123456789012345678901234567890')" 3
	is "$(filter -f n 'id == 123456789012345678901234567891')" '{"n":2}'
	is "$(filter -c 'id > 123456789012345678901234567890')" 1
	is "$(filter -c 'id < -99999999999999999999999998 and id > -100000000000000000000000000')" 1
	is "$(filter -f id 'exists(id)')" '{"id":123456789012345678901234567890}
{"id":123456789012345678901234567891}
{"id":123456789012345678901234567890}
{"id":"123456789012345678901234567890"}
{"id":-99999999999999999999999999}'
	is "$(filter -t '{id}' 'exists(s)')" 123456789012345678901234567890 "through json-c too"
	ev '{"id":12345678901234567890123456789012345678901234567890}' \
	   '{"id":12345678901234567890123456789012345678901234567891}' '{"id":-0.0000000000000000000001}'
	is "$(filter 'id == 12345678901234567890123456789012345678901234567891 or id < 0')" \
	    '{"id":12345678901234567890123456789012345678901234567891}
{"id":-0.0000000000000000000001}' "50 digits, 22 places: digit by digit"
}

@test "in [ ... ]" {
	ev '{"action":"browse"}' '{"action":"purchase"}' '{"action":"return"}' '{"n":3}'
	is "$(filter 'action in ["purchase", "return"]' | wc -l)" 2
	is "$(filter 'n in [1, 2, 3]')" '{"n":3}'
	is "$(filter 'not (action in ["browse"])' | wc -l)" 3
	is "$(filter 'action in []' | wc -l)" 0
}

@test "regular expressions =~ and !~" {
	ev '{"name":"Red Shoe"}' '{"name":"blue hat"}' '{"sku":85123}'
	is "$(filter 'name =~ "^Red|hat$"' | wc -l)" 2
	is "$(filter 'name !~ "^Red"')" '{"name":"blue hat"}'
	is "$(filter 'sku =~ "^851"')" '{"sku":85123}' "numbers match as written"
	is "$(filter 'missing !~ "x"')" "" "a missing field matches nothing"
}

@test "regular expressions match UTF-8 characters whatever the locale" {
	ev '{"d":"Voucher £40"}' '{"d":"Voucher \u00a340"}' '{"d":"Voucher ££40"}' '{"d":"Voucher 40"}'
	run -0 env LC_ALL=C ecs-filter -c 'd =~ "Voucher .40"' "$BATS_TEST_TMPDIR/in.ndjson"
	is "$output" 2 "LC_ALL=C"
	run -0 env -u LC_ALL -u LC_CTYPE -u LANG ecs-filter -c 'd =~ "^Voucher [^0-9]40$"' \
	    "$BATS_TEST_TMPDIR/in.ndjson"
	is "$output" 2 "no locale set"
	run -0 env LC_ALL=C ecs-filter -c 'd =~ "^Voucher .{2}40$"' "$BATS_TEST_TMPDIR/in.ndjson"
	is "$output" 1 "two characters, not two bytes"
}

@test "deep nesting is a usage error, not a crash (50,000 parentheses)" {
	ev '{"a":1}'
	deep() { printf "%${2}s" '' | tr ' ' "$1"; }
	run -2 --separate-stderr filter "$(deep '(' 50000)a$(deep ')' 50000)"
	like "$stderr" "*expression:1:1002: expression nested too deeply*"
	run -2 --separate-stderr filter "a$(deep '+' 60000 | sed 's/+/+a/g') > 1"
	like "$stderr" "*nested too deeply*" "a chain of operators"
	run -2 --separate-stderr filter "$(deep '!' 100000)a"
	like "$stderr" "*nested too deeply*"
	run -2 --separate-stderr filter "a == $(deep '-' 100000)1"
	like "$stderr" "*nested too deeply*"
	run -2 --separate-stderr filter "$(deep '(' 1001)a$(deep ')' 1001)"
	run -0 filter "$(deep '(' 1000)a$(deep ')' 1000)"
	is "$output" '{"a":1}' "1000 levels are allowed"
	run -0 filter -e "$(deep '-' 997)1 == -1 or a$(deep '+' 997 | sed 's/+/+a/g') == 998"
	is "$output" '{"a":1}'
}

@test "exists() is true for present fields that are not null" {
	ev '{"coupon":null}' '{"coupon":"X"}' '{"other":1}' '{"a":{"b":[1,2]}}'
	is "$(filter 'exists(coupon)')" '{"coupon":"X"}'
	is "$(filter -c -v 'exists(coupon)')" 3 "null and missing alike"
	is "$(filter 'coupon == null')" '{"coupon":null}' "== null tells them apart"
	is "$(ecs-sales -m 'n=count()' --where 'exists(coupon)' "$BATS_TEST_TMPDIR/in.ndjson")" \
	    '{"n":1}' "the same in ecs-sales --where, on captured fields"
	is "$(filter 'exists(a.b.1)')" '{"a":{"b":[1,2]}}'
	is "$(filter 'exists(a.b.2)')" ""
}

@test "nested paths, array indexes, a leading dot and quoted keys" {
	ev '{"user":{"address":{"city":"Oslo"}},"items":[{"id":7}],"user id":5,"a.b":1,"in":2}'
	is "$(filter 'user.address.city == "Oslo"' | wc -l)" 1
	is "$(filter 'items.0.id == 7' | wc -l)" 1
	is "$(filter '.user.address.city == "Oslo"' | wc -l)" 1
	is "$(filter '."user id" == 5' | wc -l)" 1
	is "$(filter '."a.b" == 1' | wc -l)" 1
	is "$(filter '."in" == 2' | wc -l)" 1
	is "$(filter 'user.address == "x"' | wc -l)" 0
	is "$(filter 'items.1.id == 7 or items.x == 1 or user.address.city.x == 1' | wc -l)" 0
}

@test "time() compares instants across formats and zones" {
	ev '{"ts":"2026-11-01T10:00:00+01:00"}' '{"ts":"2026-11-01T09:00:00.000Z"}' \
	   '{"ts":1793523600}' '{"ts":1793523600000}' '{"ts":"2026-11-01"}' '{"ts":"garbage"}'
	is "$(filter 'time(ts) == time("2026-11-01T09:00:00Z")' | wc -l)" 4
	is "$(filter 'time(ts) == 1793523600' | wc -l)" 4
	is "$(filter 'time(ts) < time("2026-11-01T09:00:00Z")')" '{"ts":"2026-11-01"}'
	is "$(filter 'time(ts) > 0' | wc -l)" 5 "an unparsable time is missing"
	ev '{"ts":"2026-11-01T09:00:00.250Z"}' '{"ts":"2026-11-01T09:00:00,5+00:00"}'
	is "$(filter 'time(ts) == 1793523600.25' | wc -l)" 1
	is "$(filter 'time(ts) == 1793523600.5' | wc -l)" 1
}

@test "time() rejects impossible dates" {
	ev '{"ts":"2026-02-29"}' '{"ts":"2024-02-29"}' '{"ts":"2026-13-01"}' '{"ts":"2026-11-01T24:00:00Z"}'
	is "$(filter 'exists(ts) and time(ts) > 0')" '{"ts":"2024-02-29"}'
}

@test "several rules: the first that matches wins, others fall through" {
	ev '{"a":1}' '{"a":2}' '{"a":3}'
	run -0 filter -e 'a == 1' -t 'one' -e 'a >= 1' -t 'at least one {a}'
	is "$output" $'one\nat least one 2\nat least one 3'
	run -0 filter -e 'a == 1' -e 'a == 3'
	is "$output" $'{"a":1}\n{"a":3}' "rules without templates are or-ed, as grep -e"
	run -0 filter -t '[{a}]' -e 'a == 1' -e 'a == 2' -t 'two'
	is "$output" $'[1]\ntwo' "a leading -t serves the rules without one"
}

@test "-v keeps the events that match no rule" {
	ev '{"a":1}' '{"a":2}' '{"b":3}'
	run -0 filter -v 'a == 1'
	is "$output" $'{"a":2}\n{"b":3}'
	run -0 filter -v -t 'no {a}' 'a == 1'
	is "$output" $'no 2\nno '
}

@test "-c prints only the count" {
	ev '{"a":1}' '{"a":2}' '{"a":1}'
	is "$(filter -c 'a == 1')" 2
	is "$(filter -c 'a == 9')" 0
	is "$(filter -c -v 'a == 1')" 1
}

@test "-n stops after N matches without reading the rest" {
	run -0 --separate-stderr bash -c "yes '{\"a\":1}' | ecs-filter -n 3 'a == 1'"
	is "$output" $'{"a":1}\n{"a":1}\n{"a":1}'
	run -0 bash -c "yes '{\"a\":1}' | ecs-filter -n 0 true"
	is "$output" ""
}

@test "-f projects fields, nested paths become nested objects" {
	ev '{"user":{"id":1,"name":"A"},"action":"browse","price":12.30,"x":[1,{"y":2}]}'
	is "$(filter -f action,user.id 'true')" '{"action":"browse","user":{"id":1}}'
	is "$(filter -f price,missing,x 'true')" '{"price":12.30,"x":[1,{"y":2}]}'
	is "$(filter -f 'user.name,user.id' 'true')" '{"user":{"name":"A","id":1}}'
	is "$(filter -f 'user,user.id' 'true')" '{"user":{"id":1,"name":"A"}}'
	is "$(filter -f 'nothing' 'true')" '{}'
}

@test "[N] indexes arrays in -f, templates and expressions, as jq reads them" {
	ev '{"items":[{"price":5,"q":1},{"price":7}],"m":[[1,2]],"o":{"0":{"price":9}},"a b":[3]}'
	# -f builds what jq builds with setpath from an empty value.
	while read -r list jq_paths; do
		expected=$(jq -c --argjson ps "$jq_paths" '. as $in |
		    reduce $ps[] as $p (null; setpath($p; $in | getpath($p)))' "$BATS_TEST_TMPDIR/in.ndjson")
		run -0 filter -f "$list" true
		is "$output" "$expected" "-f $list"
	done <<-'EOF'
	items[0].price [["items",0,"price"]]
	items[1].price,items[0].q [["items",1,"price"],["items",0,"q"]]
	items[1],items[1].price [["items",1],["items",1,"price"]]
	m[0][1] [["m",0,1]]
	items[0] [["items",0]]
	"a\u0020b"[0],items[1].price [["a b",0],["items",1,"price"]]
	EOF
	is "$(filter -t '{items[1].price} {m[0][0]} {."a b"[0]}' true)" '7 1 3'
	is "$(filter -c 'items[0].price == 5 and m[0][1] == 2 and ."a b"[0] == 3')" 1
	is "$(filter -c 'exists(items[1]) and not exists(items[2])')" 1
	is "$(filter -c 'o.0.price == 9')" 1 "a digit segment also reads an object key"
	is "$(filter -c 'exists(o[0])')" 0 "[N] indexes arrays only"
	is "$(filter -f 'o[0]' true)" '{}'
}

@test "a path the language cannot express is an error, never an empty result" {
	ev '{"items":[{"price":5}]}'
	run -2 --separate-stderr filter -f 'items[].price' true
	like "$stderr" "*--fields: 'items\[\].price': expected an array index \[N\] of digits"
	run -2 --separate-stderr filter -f 'items[-1].price' true
	like "$stderr" "*negative indexes are not supported"
	run -2 --separate-stderr filter -t '{items[0}' true
	like "$stderr" "*expected an array index*"
	run -2 --separate-stderr filter -f 'items]' true
	like "$stderr" "*']' without '\['*"
	run -2 --separate-stderr filter -f 'items[0]price' true
	like "$stderr" "*expected '.' or '\[' after a segment"
	run -2 --separate-stderr filter 'items[x].price == 5'
	like "$stderr" "*expression:1:6: expected an array index \[N\] of digits"
	run -2 ecs-sales -b 'items[*]' "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 filter -f '"items[0]"' true
	is "$output" '{}' "a quoted key may hold brackets"
}

@test "templates render strings raw, others as JSON, braces and escapes" {
	ev '{"s":"say \"hi\"","n":12.50,"o":{"k":[1,true]},"z":null,"u":"é"}'
	is "$(filter -t '{s}|{n}|{o}|{z}|{missing}|{u}' true)" 'say "hi"|12.50|{"k":[1,true]}|null||é'
	is "$(filter -t '{{literal}} {n}' true)" '{literal} 12.50'
	is "$(filter -t 'a\tb\\c' true)" $'a\tb\\c'
	is "$(filter -t '{o.k.0}-{o.k.1}' true)" '1-true'
	run -0 filter -t 'x\ny' true
	is "$output" $'x\ny'
}

@test "{.} in a template is the kept line as read: keys stay beside their events" {
	printf '%s\r\n' '{ "product_id" : 7, "price":12.30 }' > "$BATS_TEST_TMPDIR/in.ndjson"
	printf '%s\n' '' '{"product_id":8,' '[1]' '{"product_id":"s-1","u":"\u00e9"}' \
	    '{"product_id":9}' >> "$BATS_TEST_TMPDIR/in.ndjson"
	run -1 --separate-stderr ecs-filter -t '{product_id}\t{.}' 'product_id != 9' "$IN"
	is "$output" $'7\t{ "product_id" : 7, "price":12.30 }\ns-1\t{"product_id":"s-1","u":"\\u00e9"}'
	# The key of each line is the product_id of the event after the tab.
	is "$(cut -f 2 <<< "$output" | jq -r '.product_id' | paste -sd ' ')" \
	    "$(cut -f 1 <<< "$output" | paste -sd ' ')"
	run -1 --separate-stderr ecs-filter -e 'product_id == 9' -t '[{.}]' "$IN"
	is "$output" '[{"product_id":9}]'
}

@test "a JSON null renders as null in templates" {
	ev '{"z":null}'
	is "$(filter -t '<{z}>' true)" '<null>'
}

@test "--map reads canonical fields from the dataset's names" {
	ev '{"visitorid":7,"itemid":5,"event":"view"}' '{"visitorid":8,"itemid":6,"event":"transaction"}'
	run -0 filter --map user_id=visitorid --map product_id=itemid \
	    --map action=event --map-action view=browse --map-action transaction=purchase \
	    -t 'User {user_id} {action} {product_id}' 'action == "purchase" or product_id == 5'
	is "$output" $'User 7 browse 5\nUser 8 purchase 6'
	run -0 filter --map user_id=visitorid -f user_id,itemid 'user_id == 8'
	is "$output" '{"user_id":8,"itemid":6}'
}

@test "--map-action applies wherever the action is read; whole lines stay verbatim" {
	ev '{"event":"view","p":1}' '{"event":"transaction","p":2}' '{"action":"view","p":3}'
	m=(--map-action view=browse --map-action transaction=purchase)
	run -0 filter --map action=event "${m[@]}" -f action,event,p true
	is "$output" '{"action":"browse","event":"view","p":1}
{"action":"purchase","event":"transaction","p":2}
{"p":3}'
	run -0 filter "${m[@]}" -f action,p 'action == "browse"'
	is "$output" '{"action":"browse","p":3}'
	run -0 filter "${m[@]}" -t '{action}' 'action == "browse"'
	is "$output" 'browse'
	run -0 filter "${m[@]}" 'action == "browse"'
	is "$output" '{"action":"view","p":3}' "a line passed through keeps its bytes"
	ev '{"action":"a"}'
	is "$(filter --map-action a=b --map-action b=c -f action true)" '{"action":"b"}' "translated once"
}

@test "--map to a nested path, and below a mapped name" {
	ev '{"customer":{"id":3,"name":"Ann"}}'
	is "$(filter --map user_id=customer.id 'user_id == 3' | wc -l)" 1
	is "$(filter --map user=customer -t '{user.name}' 'exists(user.id)')" 'Ann'
}

@test "the pre-check never changes a result: escapes, keys, aliases" {
	ev '{"action":"purch\u0061se"}' '{"purchase":1}' '{"action":"purchase"}' \
	   '{"action" : "purchase" }' '{"action":"buy"}' \
	   '{"action":"purchase","x":"\u00e9"}'
	is "$(filter -c 'action == "purchase"')" 4
	is "$(filter -c --map-action buy=purchase 'action == "purchase"')" 5
	is "$(filter -c 'action in ["purchase"] and exists(action)')" 4
	is "$(filter -c -v 'action == "purchase"')" 2
}

@test "the fast path agrees with json-c on mutated real lines" {
	run -0 bash -c "head -300 '$FIXTURES/real/taobao-2000.ndjson' | scan-check 'action == \"purchase\" or exists(category_id) and action in [\"browse\"]'"
	scan_agrees 300
}

@test "selections agree with jq on the bundled real excerpt" {
	f="$FIXTURES/real/taobao-2000.ndjson"
	is "$(ecs-filter 'action == "purchase"' "$f")" "$(jq -c 'select(.action == "purchase")' "$f")"
	is "$(ecs-filter 'action != "browse" and user_id > 1000500' "$f")" \
	   "$(jq -c 'select(.action != "browse" and .user_id > 1000500)' "$f")"
	is "$(ecs-filter -f user_id,product_id 'category_id % 7 == 0' "$f")" \
	   "$(jq -c 'select(.category_id % 7 == 0) | {user_id, product_id}' "$f")"
}

@test "selections agree with jq on the full shared datasets" {
	shared_data taobao-user-behavior-sample/events.ndjson
	is "$(ecs-filter 'action == "purchase"' "$data" | cksum)" \
	   "$(jq -c 'select(.action == "purchase")' "$data" | cksum)"
	is "$(ecs-filter -c 'action in ["add_to_cart", "purchase"] and ts >= "2017-12-01"' "$data")" \
	   "$(jq -c 'select((.action == "add_to_cart" or .action == "purchase") and .ts >= "2017-12-01")' "$data" | wc -l)"
	shared_data uci-online-retail/orders.ndjson.gz
	is "$(zcat "$data" | ecs-filter -c 'country == "France" and quantity * price > 100')" \
	   "$(zcat "$data" | jq -c 'select(.country == "France" and .quantity * .price > 100)' | wc -l)"
}
