#!/usr/bin/env bats
# Arithmetic over captured fields that are no number: missing, null, a
# boolean, an object or array, a string (a number when it is exactly one),
# on the fast path and on json-c's (an escape in the line), as jq computes
# with the same rule. ecs_expr looks at the field types before it reads
# either number; these pin that it changes no result.

load helpers

# The values of price * quantity, as ecs computes them, by jq.
jq_products() {
	jq -n 'def num: if type == "number" then .
	    elif type == "string" then (tonumber? // null) else null end;
	    [inputs | (.price | num) as $p | (.quantity | num) as $q
	    | select($p != null and $q != null) | $p * $q]' "$1"
}

setup() {
	cat > "$BATS_TEST_TMPDIR/in.ndjson" <<'LINES'
{"price":2.5,"quantity":2}
{"price":4,"quantity":"3"}
{"price":1,"quantity":null}
{"price":1,"quantity":true}
{"price":1,"quantity":{"a":1}}
{"price":1,"quantity":[2]}
{"price":1}
{"price":"x","quantity":2}
{"price":null,"quantity":2}
{"quantity":2,"price":{"a":1}}
{"price":"1.5","quantity":2,"c":"\u0041"}
{"price":1,"quantity":false,"c":"\u0041"}
{"price":[1],"quantity":2,"c":"\u0041"}
{"price":0.25,"quantity":4,"c":"\u0041"}
LINES
}

@test "sum, avg and max of price*quantity skip fields that are no number, as jq" {
	run -0 jq_products "$BATS_TEST_TMPDIR/in.ndjson"
	local want
	want=$(jq -c '{s: add, a: (add / length), m: max}' <<< "$output")
	[[ $want == '{"s":21,"a":5.25,"m":12}' ]] || { echo "# jq: $want"; false; }
	run -0 ecs-sales -m 's=sum(price*quantity)' -m 'a=avg(price*quantity)' \
	    -m 'm=max(quantity*price)' -m 'n=count()' "$BATS_TEST_TMPDIR/in.ndjson"
	is "$(jq -c '{s, a, m}' <<< "$output")" "$want"
	is "$(jq -c '.n' <<< "$output")" 14 "every line counted"
}

@test "ecs-filter keeps the lines jq keeps on price*quantity over such fields" {
	run -0 jq -c 'def num: if type == "number" then .
	    elif type == "string" then (tonumber? // null) else null end;
	    select((.price | num) as $p | (.quantity | num) as $q
	    | $p != null and $q != null and $p * $q > 0.5)' "$BATS_TEST_TMPDIR/in.ndjson"
	local want=$output
	[[ $(wc -l <<< "$want") == 4 ]] || { echo "# jq: $want"; false; }
	run -0 ecs-filter 'price * quantity > 0.5' "$BATS_TEST_TMPDIR/in.ndjson"
	is "$(jq -c . <<< "$output")" "$want"
}
