#!/usr/bin/env bats
# =~ and !~ through PCRE2: the Perl dialect against jq's test() on real
# data, UTF-8 characters, and the limits that keep a hostile pattern from
# taking the machine down (compile: usage error with its position; match:
# a bad line with its reason, never a hang).

load helpers

# same_as_jq RE: the orders ecs-filter keeps with description =~ RE are
# those jq's test(RE) keeps, in order (Oniguruma, Perl syntax too).
same_as_jq() {
	local want got
	want=$(zcat "$data" | head -n 20000 |
	    jq -r --arg re "$1" 'select(.description | test($re)) |
	    "\(.order_id) \(.product_id)"')
	got=$(zcat "$data" | head -n 20000 |
	    ecs-filter -t '{order_id} {product_id}' \
	    "description =~ \"${1//\\/\\\\}\"") || return
	[[ -n "$want" ]] || { echo "# jq kept nothing for $1" >&2; return 1; }
	is "$got" "$want" "$1"
}

@test "Perl syntax (\\d, \\b, lazy, lookahead, (?i)) agrees with jq's test() on UCI orders" {
	shared_data uci-online-retail/orders.ndjson.gz
	same_as_jq '\bHEART\b(?!.*HOLDER)'
	same_as_jq '^SET (OF )?\d{1,2}\b'
	same_as_jq '(?i)^red .*?light'
	same_as_jq '[[:digit:]]{3,}|\s{2}'
}

@test "a UTF-8 character is one character for . and \\p{...}, whatever the locale" {
	ev '{"d":"Voucher £40"}' '{"d":"Voucher €40"}' '{"d":"Voucher 😀40"}' \
	    '{"d":"Voucher ££40"}' '{"d":"Voucher 40"}'
	run -0 env LC_ALL=C ecs-filter -c 'd =~ "^Voucher .40$"' "$IN"
	is "$output" 3 "a two-, a three- and a four-byte character"
	run -0 env -u LC_ALL -u LC_CTYPE -u LANG ecs-filter -c 'd =~ "^Voucher \\p{Sc}40$"' "$IN"
	is "$output" 2 "currency symbols"
	run -0 ecs-filter -c 'd =~ "^Voucher \\x{1F600}"' "$IN"
	is "$output" 1 "a code point above U+FFFF"
}

@test "a text that ends in a byte that is not UTF-8 gets PCRE2's interpreter's answer, not the JIT's" {
	# PCRE2 10.42's JIT read the byte after such a text as its next
	# character for \b, \B and $ (and faulted when the text ended a page):
	# "\B$" matched "a" and the byte C3 by the JIT only. (*NO_JIT) asks
	# PCRE2 itself for the interpreter's answer.
	ev '{"s":"a"}' '{"s":"é"}' '{"s":" "}' '{"s":""}' '{"s":"a\u00e9b"}'
	local end re jit interp kept=0
	for end in $'\xc3' $'\xff' $'\xf0\x9f' $'\xe2\x82'; do
		for re in '\\B$' '\\b$' '\\b' '\\B' '$' 'a\\B' '\\w\\b'; do
			jit=$(ecs-filter -t '{s}' "concat(s, \"$end\") =~ \"$re\"" "$IN") || return
			interp=$(ecs-filter -t '{s}' "concat(s, \"$end\") =~ \"(*NO_JIT)$re\"" "$IN") || return
			is "$jit" "$interp" "$re after $(printf %s "$end" | od -An -tx1)"
			[[ -z "$interp" ]] || kept=$((kept + 1))
		done
	done
	(( kept >= 8 )) || { echo "# only $kept patterns kept a line" >&2; return 1; }
}

@test "a pattern with a NUL byte matches it, not the text before it" {
	ev '{"s":"a\u0000b"}' '{"s":"a"}'
	run -0 ecs-filter -c 's =~ "^a\u0000b$"' "$IN"
	is "$output" 1
}

@test "catastrophic backtracking is a bad line with its reason, not a hang" {
	long=$(printf 'a%.0s' {1..5000})
	ev '{"name":"aaa"}' "{\"name\":\"${long}b\"}" '{"name":"xa"}'
	# timeout only stops a hang from holding the suite: no timing is asserted.
	run -0 --separate-stderr timeout 300 ecs-filter --reject "$BATS_TEST_TMPDIR/rej" \
	    'name =~ "(a+)+$"' "$IN"
	is "$output" $'{"name":"aaa"}\n{"name":"xa"}' "the lines it could decide"
	is "${stderr_lines[0]}" "ecs-filter: $IN:2: regular expression gave up: match limit exceeded"
	is "${stderr_lines[1]}" "ecs-filter: 1 bad line of 3 written to $BATS_TEST_TMPDIR/rej"
	is "$(cat "$BATS_TEST_TMPDIR/rej")" "{\"name\":\"${long}b\"}" "the line is kept in --reject"
	# !~ cannot say "does not match" either.
	ev '{"name":"b"}' "{\"name\":\"${long}b\"}"
	run -1 --separate-stderr timeout 300 ecs-filter -c 'name !~ "(a+)+$"' "$IN"
	is "$output" 1
	is "${stderr_lines[1]}" "ecs-filter: 1 bad line of 2 skipped"
}

@test "the interpreter, for a text that is not UTF-8, gives up after 100,000 steps where the JIT takes 1,000,000" {
	# (a+)+$ on 17 a's and a b: about 130,000 steps to say "no match".
	ev '{"s":"aaaaaaaaaaaaaaaaab"}'
	run -0 --separate-stderr ecs-filter -c 's =~ "(a+)+$"' "$IN"
	is "$output" 0 "the JIT's answer, valid UTF-8"
	is "$stderr" ""
	# The same text with a byte that is not UTF-8 after it is interpreted:
	# an interpreted step costs up to a hundred times more (0.44 s for a
	# million on tests/fuzz/regressions/regex-interpreter-slow-step).
	run -1 --separate-stderr ecs-filter -c "concat(s, \"$(printf '\377')\") =~ \"(a+)+\$\"" "$IN"
	is "$output" 0
	is "${stderr_lines[0]}" "ecs-filter: $IN:1: regular expression gave up: match limit exceeded"
	# Under the limit, the interpreter answers as the JIT does.
	ev '{"s":"aaaaaaaaaaaab"}'
	run -0 --separate-stderr ecs-filter -c "concat(s, \"$(printf '\377')\") =~ \"(a+)+\$\"" "$IN"
	is "$output" 0
	is "$stderr" ""
}

@test "ecs-sales --where: a regular expression that gives up rejects the line" {
	long=$(printf 'a%.0s' {1..5000})
	ev '{"ts":"2026-11-01T10:00:00Z","n":"ab"}' \
	    "{\"ts\":\"2026-11-01T10:00:01Z\",\"n\":\"${long}b\"}"
	run -1 --separate-stderr timeout 300 ecs-sales -m 'c=count()' \
	    --where 'n =~ "(a+)+$" or true' "$IN"
	is "$output" '{"c":1}' "the line decided without the pattern is not counted"
	is "${stderr_lines[0]}" "ecs-sales: $IN:2: --where: regular expression gave up: match limit exceeded"
}

@test "a regular expression that gives up in a template, a -b key or a metric rejects the line whole" {
	long=$(printf 'a%.0s' {1..5000})
	ev '{"ts":"2026-11-01T10:00:00Z","n":"aa","id":1}' \
	    "{\"ts\":\"2026-11-01T10:00:00Z\",\"n\":\"${long}b\",\"id\":2}"
	run -1 --separate-stderr timeout 300 ecs-filter -t '{id} {=n =~ "(a+)+$"}' true "$IN"
	is "$output" "1 true" "nothing of line 2 is written"
	is "${stderr_lines[0]}" "ecs-filter: $IN:2: regular expression gave up: match limit exceeded"
	run -1 --separate-stderr timeout 300 ecs-sales -b 'm=n =~ "(a+)+$"' -m 'c=count()' "$IN"
	is "$output" '{"m":true,"c":1}'
	is "${stderr_lines[0]}" "ecs-sales: $IN:2: regular expression gave up: match limit exceeded"
	run -1 --separate-stderr timeout 300 ecs-sales -m 'c=count()' -m 'l=list(n =~ "(a+)+$", 5)' "$IN"
	is "$output" '{"c":1,"l":[true]}'
}

@test "a pattern past the compile limits is a usage error with its position" {
	long=$(printf 'a%.0s' {1..5000})
	run -2 --separate-stderr ecs-filter "name =~ \"$long\"" </dev/null
	is "$stderr" "ecs-filter: expression:1:4106: bad regular expression, at byte 4097: longer than 4096 bytes"
	deep=$(printf '(%.0s' {1..70})a$(printf ')%.0s' {1..70})
	run -2 --separate-stderr ecs-filter "x == 1 or name =~ \"$deep\"" </dev/null
	is "$stderr" "ecs-filter: expression:1:85: bad regular expression, at byte 66: parentheses are too deeply nested"
}

@test "the regcomp out-of-memory input of fuzz-expr is refused at once, at its position" {
	# glibc's regcomp held more than 2 GB for this; PCRE2 needs no memory
	# to refuse it (1 GB of address space is plenty, where AddressSanitizer,
	# which reserves terabytes, is not in the way).
	pat="^Red$(printf '+%.0s' {1..26})"
	limit='ulimit -v 1000000;'
	sanitized && limit=
	run -2 --separate-stderr bash -c "$limit"' ecs-filter "pr+Pre =~ \"$1\" or pr =~ \"x\"" </dev/null' _ "$pat"
	is "$stderr" "ecs-filter: expression:1:18: bad regular expression, at byte 7: quantifier does not follow a repeatable item"
	run -0 cat "$BATS_TEST_DIRNAME/fuzz/regressions/expr-regcomp-out-of-memory"
	like "$output" "pr+Pre =~ \"^Red+++++*"
}

@test "ecs-funnel: a step or --exclude whose regular expression gives up rejects the line" {
	long=$(printf 'a%.0s' {1..5000})
	ev '{"user_id":1,"ts":"2026-11-01T10:00:00Z","n":"aa"}' \
	    "{\"user_id\":2,\"ts\":\"2026-11-01T10:00:01Z\",\"n\":\"${long}b\"}" \
	    '{"user_id":1,"ts":"2026-11-01T10:00:02Z","n":"b"}'
	run -1 --separate-stderr timeout 300 ecs-funnel -s 'a=n =~ "(a+)+$"' \
	    -s 'b=n == "b"' --within 1h --per-key "$IN"
	is "$output" '{"user_id":1,"level":2,"times":["2026-11-01T10:00:00Z","2026-11-01T10:00:02Z"]}' \
	    "user 2 is neither counted nor left out silently"
	is "${stderr_lines[0]}" "ecs-funnel: $IN:2: regular expression gave up: match limit exceeded"
	run -1 --separate-stderr timeout 300 ecs-funnel -s 'a=n == "aa"' \
	    -s 'b=n == "b"' --exclude 'n =~ "(a+)+$"' --within 1h --per-key "$IN"
	is "${stderr_lines[0]}" "ecs-funnel: $IN:2: regular expression gave up: match limit exceeded"
}

@test "ecs-sales rules over rows: --having keeps, --alert does not fire, a metric is null; each said, exit 1" {
	long=$(printf 'a%.0s' {1..5000})
	ev '{"ts":"2026-11-01T10:00:00Z","n":"ab"}' \
	    "{\"ts\":\"2026-11-01T10:00:01Z\",\"n\":\"${long}b\"}" \
	    '{"ts":"2026-11-01T11:00:00Z","n":"aa"}'
	why='(regular expression gave up: match limit exceeded)'
	row='window_start: "2026-11-01T10:00:00Z"'
	run -1 --separate-stderr timeout 300 ecs-sales -w 1h -b n -m 'c=count()' \
	    --having 'n =~ "(a+)+$"' "$IN"
	is "$(jq -r .n <<<"$output" | cut -c1-3)" $'aaa\naa' "the row it cannot judge is written"
	is "$stderr" "ecs-sales: --having 'n =~ \"(a+)+\$\"': no answer for the row with $row $why: taken as true"
	run -1 --separate-stderr timeout 300 ecs-sales -w 1h -b n -m 'c=count()' \
	    --alert 'n =~ "(a+)+$"' "$IN"
	is "$(jq -r 'select(.alert) | .n' <<<"$output")" aa "only the alert it could decide"
	is "$stderr" "ecs-sales: --alert 'n =~ \"(a+)+\$\"': no answer for the row with $row $why: taken as false"
	run -1 --separate-stderr timeout 300 ecs-sales -w 1h -b n -m 'c=count()' \
	    -m 'x=if(n =~ "(a+)+$", 1, 2)' "$IN"
	is "$(jq -c '.x' <<<"$output")" $'2\nnull\n1'
	is "$stderr" "ecs-sales: --metric 'if(n =~ \"(a+)+\$\", 1, 2)': no answer for the row with $row $why: taken as null"
}
