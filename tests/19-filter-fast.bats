#!/usr/bin/env bats
# ecs-filter's fast path: rules evaluated on fields read straight from the
# bytes of plain lines (top-level and nested, through --map), json-c only
# for the other lines, and literal pre-checks that skip lines unread. The
# answers are jq's on real events, and the same whether a line takes the
# fast path or json-c's (forced by an escape that changes nothing).

load helpers

# escaped FILE: each line with "esc":"\u0041" first, which no plain line
# has: json-c must read it; jq -c 'del(.esc)' gives the line back.
escaped() { sed -E 's/^\{ *\}$/{"esc":"\\u0041"}/; t; s/^\{/{"esc":"\\u0041",/' "$1"; }

# agree FILE EXPR JQ: ecs-filter EXPR selects the records jq's select(JQ)
# does, on FILE as it is and with every line forced through json-c.
agree() {
	local f=$1 expr=$2 sel=$3 want got slow
	want=$(jq -c "select($sel)" "$f")
	[[ -n $want ]] || { echo "# $expr: jq selects nothing" >&2; return 1; }
	got=$(ecs-filter "$expr" "$f" | jq -c .)
	is "$got" "$want" "$expr (fast path)"
	escaped "$f" > "$BATS_TEST_TMPDIR/esc.ndjson"
	slow=$(ecs-filter "$expr" "$BATS_TEST_TMPDIR/esc.ndjson" | jq -c 'del(.esc)')
	is "$slow" "$want" "$expr (through json-c)"
	is "$(ecs-filter -c "$expr" "$f")" "$(jq -c "select($sel)" "$f" | wc -l)" "$expr -c"
}

@test "fast path: the rules select what jq selects on real Taobao and UCI events" {
	t="$FIXTURES/real/taobao-2000.ndjson" u="$FIXTURES/real/uci-orders-excerpt.ndjson"
	agree "$t" 'action == "purchase"' '.action == "purchase"'
	agree "$t" 'product_id % 7 == 0' '.product_id % 7 == 0'
	agree "$t" 'category_id > 2000000 and action in ["add_to_cart", "purchase"]' \
	    '.category_id > 2000000 and (.action == "add_to_cart" or .action == "purchase")'
	agree "$t" 'user_id >= 1000500 or action != "browse"' \
	    '.user_id >= 1000500 or .action != "browse"'
	agree "$u" 'price > 2 and quantity >= 6' '.price > 2 and .quantity >= 6'
	agree "$u" 'description =~ "^WHITE" and not cancelled' \
	    '(.description | test("^WHITE")) and (.cancelled | not)'
	agree "$u" 'country in ["Germany", "EIRE"] or amount == 15.3' \
	    '.country == "Germany" or .country == "EIRE" or .amount == 15.3'
	agree "$u" 'user_id == null' '.user_id == null'
}

@test "fast path: the rules select what jq selects on the shared datasets" {
	shared_data taobao-user-behavior-sample/events.ndjson
	head -n 100000 "$data" > "$BATS_TEST_TMPDIR/t.ndjson"
	agree "$BATS_TEST_TMPDIR/t.ndjson" 'action == "purchase" and category_id % 3 == 1' \
	    '.action == "purchase" and .category_id % 3 == 1'
	shared_data uci-online-retail/orders.ndjson.gz
	zcat "$data" | head -n 50000 > "$BATS_TEST_TMPDIR/u.ndjson"
	agree "$BATS_TEST_TMPDIR/u.ndjson" 'price > 50 and quantity >= 2' \
	    '.price > 50 and .quantity >= 2'
	agree "$BATS_TEST_TMPDIR/u.ndjson" 'product_id =~ "^85" and country != "United Kingdom"' \
	    '(.product_id | test("^85")) and .country != "United Kingdom"'
}

@test "fast path: nested paths, --map to them, repeated keys and escaped strings as jq reads them" {
	f="$BATS_TEST_TMPDIR/n.ndjson"
	cat > "$f" <<-'EOF'
	{"user":{"city":"Oslo","tags":["a","b"]},"items":[{"price":12.5},{"price":3}],"action":"purchase"}
	{"user":{"city":"Bergen","city":"Oslo"},"items":[],"action":"browse"}
	{"user":{"city":"Oslo","city":"Bergen"},"items":[{"price":50}],"action":"purc\u0068ase"}
	{ "user" : { "city" : "Oslo" } , "items" : [ { "price" : 5e1 } , 1 ] , "action" : "view" }
	{"user":"Oslo","items":{"0":{"price":99}},"action":"purchase","action":"browse"}
	{"user":{"city":"\u004fslo"},"items":[{"price":50.00,"price":49}],"action":"browse"}
	{"user":{"ci\u0074y":"Oslo"},"items":[[{"price":1}]],"action":"purchase"}
	EOF
	agree "$f" 'user.city == "Oslo"' '.user | objects | .city == "Oslo"'
	agree "$f" 'items[0].price >= 50' '.items | arrays | .[0] | objects | .price >= 50'
	agree "$f" 'action == "purchase"' '.action == "purchase"'
	agree "$f" 'user.city =~ "^Os" and items.0.price == 50' \
	    '(.user | objects | .city | strings | test("^Os")) and (.items | arrays | .[0] | objects | .price == 50)'
	# The same fields under their canonical names.
	want=$(jq -c 'select(.user | objects | .city == "Oslo")' "$f")
	is "$(ecs-filter --map city=user.city 'city == "Oslo"' "$f" | jq -c .)" "$want" "--map"
	is "$(ecs-filter --map city=user.city --map-action view=purchase -c \
	    'city == "Oslo" and action == "purchase"' "$f")" 3 "--map and --map-action"
}

@test "fast path: integers past 64 bits compare exactly, as Python's json reads them" {
	f="$BATS_TEST_TMPDIR/big.ndjson"
	printf '%s\n' '{"id":12345678901234567890123,"n":{"v":18446744073709551617}}' \
	    '{"id":12345678901234567890124,"n":{"v":18446744073709551616}}' \
	    '{"id":"12345678901234567890123","n":{"v":1.8446744073709551617e19}}' > "$f"
	# Each expression, then the same test in Python over r, the record.
	while IFS= read -r e && IFS= read -r py; do
		want=$(python3 -c '
import json, sys
from decimal import Decimal
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line, parse_float=Decimal)
    n += bool(eval(sys.argv[2]))
print(n)' "$f" "$py")
		is "$(ecs-filter -c "$e" "$f")" "$want" "$e"
		escaped "$f" > "$BATS_TEST_TMPDIR/esc.ndjson"
		is "$(ecs-filter -c "$e" "$BATS_TEST_TMPDIR/esc.ndjson")" "$want" "$e (through json-c)"
	done <<-'EOF'
	id == 12345678901234567890123
	int(r["id"]) == 12345678901234567890123
	n.v > 18446744073709551616
	r["n"]["v"] > 18446744073709551616
	id in [12345678901234567890124, 1]
	r["id"] in (12345678901234567890124, 1)
	EOF
}

@test "pre-checks: lines without a rule's key, prefix or value are skipped, never one that matches" {
	f="$BATS_TEST_TMPDIR/p.ndjson"
	# Each value also written the ways a text search could miss.
	printf '%s\n' '{"price":60,"quantity":2}' '{"price":60}' '{"price":5e1,"quantity":3}' \
	    '{"name":"Red fox","price":1}' '{"name":"Re\u0064 fox"}' '{"nam\u0065":"Red"}' \
	    '{"name":"Rd"}' '{"name":"Rxd"}' '{"tag":[1,"Red"],"qty":2}' > "$f"
	for e in 'price > 50 and quantity >= 2' 'price == 50' 'quantity in [2, 3]' \
	    'name =~ "^Red"' 'name =~ "^Re?d"' 'name =~ "^Rx|^Re"' 'exists(name)'; do
		sel=$(printf '%s' "$e" | sed -e 's/\([a-z]*\) =~ \("[^"]*"\)/(.\1 | strings | test(\2))/' \
		    -e 's/exists(\([a-z]*\))/has("\1")/' -e 's/\b\(price\|quantity\)\b/.\1/g' \
		    -e 's/\(\.quantity\) in \[2, 3\]/(\1 == 2 or \1 == 3)/')
		is "$(ecs-filter -c "$e" "$f")" "$(jq -c "select($sel)" "$f" | wc -l)" "$e (jq: $sel)"
		is "$(ecs-filter -v "$e" "$f" | jq -c .)" "$(jq -c "select(($sel) // false | not)" "$f")" "-v $e"
	done
}

@test "--stats: parsed counts the lines json-c read; plain lines and skipped ones it never reads" {
	st="$BATS_TEST_TMPDIR/st.json" f="$FIXTURES/real/uci-orders-excerpt.ndjson"
	# The excerpt's one line with an escape is the only one json-c reads.
	is "$(grep -c '\\' "$f")" 1
	run -0 ecs-filter --stats "$st" -c 'price > 2 and quantity >= 6' "$f"
	is "$(jq -c '{lines, parsed}' "$st")" '{"lines":314,"parsed":1}'
	grep -v '\\' "$f" > "$BATS_TEST_TMPDIR/plain.ndjson"
	run -0 ecs-filter --stats "$st" -c 'price > 2 and quantity >= 6' "$BATS_TEST_TMPDIR/plain.ndjson"
	is "$(jq -c '{lines, parsed}' "$st")" '{"lines":313,"parsed":0}'
	# Lines with an escape go through json-c; the kept lines a template or
	# -f writes are written from their bytes (see "fast output" below).
	escaped "$f" | head -n 10 > "$BATS_TEST_TMPDIR/e.ndjson"
	run -0 ecs-filter --stats "$st" -c 'price > 2' "$BATS_TEST_TMPDIR/e.ndjson"
	is "$(jq -c '{lines, parsed}' "$st")" '{"lines":10,"parsed":10}'
	f="$BATS_TEST_TMPDIR/plain.ndjson"
	kept=$(ecs-filter -c 'country == "France"' "$f")
	[[ $kept -gt 0 ]]
	run -0 ecs-filter --stats "$st" -t '{order_id}' 'country == "France"' "$f"
	is "$(jq -c '{kept, parsed}' "$st")" "{\"kept\":$kept,\"parsed\":0}"
	run -0 ecs-filter --stats "$st" -f order_id 'country == "France"' "$f"
	is "$(jq -c '{kept, parsed}' "$st")" "{\"kept\":$kept,\"parsed\":0}"
}

@test "captured arrays and objects compare by value, as jq and json-c compare them (ecs-sales --where too)" {
	f="$BATS_TEST_TMPDIR/eq.ndjson"
	printf '%s\n' '{"ts":"2026-11-01T10:00:00Z","a":{},"b":{ }}' \
	    '{"ts":"2026-11-01T10:00:01Z","a":[1,2],"b":[1, 2]}' \
	    '{"ts":"2026-11-01T10:00:02Z","a":{"x":1,"y":2},"b":{"y":2,"x":1}}' \
	    '{"ts":"2026-11-01T10:00:03Z","a":[1],"b":[2]}' \
	    '{"ts":"2026-11-01T10:00:04Z","a":{"x":"A"},"b":{"x":"\u0041"}}' > "$f"
	want=$(jq -s 'map(select(.a == .b)) | length' "$f")
	is "$want" 4
	agree "$f" 'a == b' '.a == .b'
	run -0 ecs-sales -w 1h -m 'n=count()' --where 'a == b' "$f"
	is "$output" "{\"window_start\":\"2026-11-01T10:00:00Z\",\"window_end\":\"2026-11-01T11:00:00Z\",\"n\":$want}"
}

# hostile FILE: lines whose values json-c writes otherwise than their bytes
# (-0, spaced and repeated objects, 1E5 and 0.10 kept, big integers kept,
# UTF-8, DEL and '/' raw), nested fields, missing ones and bad times.
hostile() {
	cat > "$1" <<-'EOF'
	{"ts":1,"a":-0,"b":1E5,"c":1.0,"d":0.10,"e":123456789012345678901234,"f":"xé","g":"é/","h":{ "x" : -0 , "y":[1, 2] },"i":-0.0,"j":1e400,"k":-9223372036854775808,"l":18446744073709551615,"action":"buy"}
	{"ts":2,"a":"x","a":-0,"b":null,"c":true,"d":false,"u":{"x":1,"y":{"z":"q/r"},"y":{"z":-0}},"action":"purchase"}
	{ "ts" : "1970-01-01T00:00:03Z" , "b" : -12345678901234567890123 , "u" : { "y" : { "z" : 7 } , "x" : 2.50 }, "action" : "view" }
	{"ts":4,"u":{"x":[1,2]},"a":{},"c":[],"action":"buy","f":"a\u00e9"}
	{"ts":5}
	{"ts":-0,"a":1,"b":1,"u":{"y":{"z":"q/r"}}}
	{"ts":"soon","a":1,"b":1}
	{"ts":{"t":6},"a":1,"b":2}
	{"ts":6,"a":1,"b":1,"c":"x","u":{ "y" : {"z":"q/r"} }}
	EOF
	printf '{"ts":7,"a":"x\177y","g":"</q>","action":"buy","u":{"x":-0}}\n' >> "$1"
}

# same_both FILE OPTION...: ecs-filter writes the same bytes, the same
# messages and the same --state and --dupes files (s.json, d.ndjson) from
# FILE's plain lines, which it reads from their bytes, as from FILE with
# every line forced through json-c (escaped); the output is not empty.
same_both() {
	local f=$1 fast="$BATS_TEST_TMPDIR/fast" slow="$BATS_TEST_TMPDIR/slow" rc
	shift
	rm -rf "$fast" "$slow"
	mkdir "$fast" "$slow"
	escaped "$f" > "$slow/in"
	cp "$f" "$fast/in"
	for d in "$fast" "$slow"; do
		rc=0
		(cd "$d" && ecs-filter "$@" < in > out 2> err) || rc=$?
		echo "$rc" > "$d/rc"
		rm "$d/in"
		[[ ! -f $d/d.ndjson ]] || sed -i 's/^{"esc":"\\u0041",/{/' "$d/d.ndjson"
	done
	[[ -s $fast/out ]] || { echo "# $*: no output" >&2; return 1; }
	diff -r "$fast" "$slow" >&2 || { echo "# $*: the fast path differs from json-c's" >&2; return 1; }
}

@test "fast output: -f, templates and --unique write from the bytes what json-c's record gives, byte for byte" {
	f="$BATS_TEST_TMPDIR/h.ndjson"
	hostile "$f"
	same_both "$f" -f a,b,c,d,e,f,g,i,j,k,l,action true
	same_both "$f" -f a,h true
	same_both "$f" -f u,h,c true
	same_both "$f" -f u.y.z,a,u.x true
	same_both "$f" -f u.x,b,u.y,zz true
	same_both "$f" -f zz true
	same_both "$f" -f a,a true
	same_both "$f" -f a,a.b,u,u.y.z true
	same_both "$f" -f 'c[0],a' true
	same_both "$f" -f '"a","x y".z,b' true
	same_both "$f" -t '{a}|{b}|{u.y.z}|{action}|{=a}|{=concat(a, b)}|{=b * 2}|{ts}|{=to_string(a)}|{zz}' true
	same_both "$f" -t '{=to_string(u)} {=concat(u.y, "!")}' true
	same_both "$f" -t '{a} {u}' true
	same_both "$f" -e 'a == 1' -t 'one {b}' -e 'exists(u)' -t '{=u.y.z =~ "^q"} {u.x}' -e true -t '{a}'
	same_both "$f" --map-action buy=purchase -f action,a true
	same_both "$f" --map-action 'buy=pur"cha\se' -f action,b true
	same_both "$f" --map-action buy=purchase -t '{action} {=action} {=lower(action)}' true
	same_both "$f" --map x=u.y -f x.z,x,a true
	same_both "$f" -v -f a,b 'a == 1'
	same_both "$f" -o csv -f a,b,c true
	same_both "$f" -n 3 -f a,u.x true
	same_both "$f" --unique a,b --within 1h --state s.json --dupes d.ndjson -f a true
	same_both "$f" --map-action buy=purchase --unique action --within 1h --state s.json -t '{action}' true
	same_both "$f" --unique u.y --within 1h --state s.json --dupes d.ndjson -f a true
	same_both "$f" -c --unique a --within 1h --state s.json true
	# The rules read -0 as json-c writes it too.
	same_both "$f" -f a,b 'to_string(a) == "0" or u.x =~ "^0"'
}

@test "rules turn a line's objects and arrays into the text json-c writes: compact, -0 as 0, a repeated key once" {
	f="$BATS_TEST_TMPDIR/h.ndjson"
	hostile "$f"
	rule='length(to_string(h)) == 17 or concat(u, "") == "{\"y\":{\"z\":7},\"x\":2.50}"'
	rule+=' or to_string(u) == "{\"x\":1,\"y\":{\"z\":0}}" or to_string(c) == "[]"'
	run -0 ecs-filter -t '{ts}' "$rule" "$f"
	is "$output" '1
2
1970-01-01T00:00:03Z
4'
	same_both "$f" -t '{ts}' "$rule"
	same_both "$f" -t '{ts} {=length(to_string(u))} {=concat(h, u)}' 'exists(u) or exists(h)'
}

@test "fast output: the same bytes as json-c's on random hostile lines" {
	f="$BATS_TEST_TMPDIR/r.ndjson"
	# Objects nested 3 deep, spaced or not, keys repeated, the numbers and
	# strings json-c writes otherwise than the line or that look alike.
	python3 - > "$f" <<-'EOF'
	import random
	random.seed(19)
	nums = ["-0", "0", "1", "-1", "1E5", "1e-3", "1.0", "0.10", "-0.0", "2.50",
	    "12345678901234567890123", "-9223372036854775808", "1e400", "3"]
	strs = ['"x"', '""', '"\u00e9"', '"a/b"', '"\x7f"', '"buy"', '"purchase"',
	    '"1"', '"-0"', '"q r"', "true", "false", "null"]
	def value(d):
	    r = random.random()
	    if d < 3 and r < 0.2:
	        sp = random.choice(["", " "])
	        return "[" + ("," + sp).join(value(d + 1)
	            for _ in range(random.randint(0, 3))) + "]"
	    if d < 3 and r < 0.4:
	        return obj(d + 1)
	    return random.choice(nums if random.random() < 0.5 else strs)
	def obj(d, ts=None):
	    sp = random.choice(["", " "])
	    members = ['%s"%s"%s:%s%s' % (sp, random.choice("abcux"), sp, sp,
	        value(d)) for _ in range(random.randint(0, 5))]
	    if ts is not None:	# an event time, for --unique
	        members.insert(0, '"ts":%d' % ts)
	    return "{" + ",".join(members) + sp + "}"
	for i in range(500):
	    print(obj(0, None if i % 10 == 9 else i))
	EOF
	same_both "$f" -f a,b,c,u.x,u.a,x.b.c true
	same_both "$f" -f u.b,a,u.c true
	same_both "$f" -t '{a}|{u.a}|{=to_string(b)}|{=concat(a, c)}|{=c * 2}|{=u.a + 1}' true
	same_both "$f" --map q=u.x -f q.a,b,q.b true
	same_both "$f" -v -f a 'to_string(a) == "0"'
	same_both "$f" --unique a,u.b --within 1h --state s.json --dupes d.ndjson -f c true
}

@test "fast output: kept lines are written from their bytes; json-c reads only those with an object that repeats a key" {
	f="$BATS_TEST_TMPDIR/h.ndjson" st="$BATS_TEST_TMPDIR/st.json"
	hostile "$f"
	grep -v '\\' "$f" > "$BATS_TEST_TMPDIR/plain.ndjson"
	f="$BATS_TEST_TMPDIR/plain.ndjson"
	is "$(wc -l < "$f")" 9
	run -0 ecs-filter --stats "$st" -f a,b true "$f"
	is "$(jq -c '{lines, kept, parsed}' "$st")" '{"lines":9,"kept":9,"parsed":0}'
	run -0 ecs-filter --stats "$st" -t '{a} {b} {=b * 2}' true "$f"
	is "$(jq -c '{kept, parsed}' "$st")" '{"kept":9,"parsed":0}'
	# Objects are compacted from their bytes, but for u of line 2, which
	# repeats a key: json-c writes that one.
	run -0 ecs-filter --stats "$st" -f a,u.y true "$f"
	is "$(jq -c '{kept, parsed}' "$st")" '{"kept":9,"parsed":0}'
	run -0 ecs-filter --stats "$st" -t '{u}' true "$f"
	is "$(jq -c '{kept, parsed}' "$st")" '{"kept":9,"parsed":1}'
	# One time is an object, which json-c shows in its message.
	run -1 ecs-filter --stats "$st" --unique a,b --within 1d -f a true "$f"
	is "$(jq -c '{parsed}' "$st")" '{"parsed":1}'
}
