#!/usr/bin/env bats
# Command-line basics: help, version, usage errors and exit codes.

load helpers

@test "--help prints usage and options on stdout, exit 0" {
	run -0 --separate-stderr ecs-filter --help
	like "${lines[0]}" "usage: ecs-filter *"
	like "$output" "*--template TEXT*"
	like "$output" "*--reject FILE*"
	is "$stderr" ""
}

@test "-h is --help" {
	run -0 ecs-filter -h
	like "${lines[0]}" "usage: ecs-filter *"
}

@test "--version prints name and version" {
	run -0 ecs-filter --version
	like "$output" "ecs-filter [0-9]*.[0-9]*.[0-9]*"
}

@test "an unknown option is a usage error, exit 2, usage on stderr" {
	run -2 --separate-stderr ecs-filter --no-such-option true
	is "$output" ""
	like "$stderr" "*unrecognized option*usage: ecs-filter*"
}

@test "no expression is a usage error" {
	run -2 --separate-stderr ecs-filter </dev/null
	like "$stderr" "*no expression given*"
}

@test "a syntax error points at the column, exit 2" {
	run -2 --separate-stderr ecs-filter 'user_id == 1 and action == ' </dev/null
	is "$stderr" "ecs-filter: expression:1:28: expected a value after '=='"
}

@test "syntax errors name what is wrong" {
	run -2 --separate-stderr ecs-filter 'a = 1' </dev/null
	is "$stderr" "ecs-filter: expression:1:3: '=' is not an operator (use ==)"
	run -2 --separate-stderr ecs-filter '(a == 1' </dev/null
	is "$stderr" "ecs-filter: expression:1:8: expected ')', found end of expression"
	run -2 --separate-stderr ecs-filter 'a == 1 b' </dev/null
	is "$stderr" "ecs-filter: expression:1:8: unexpected 'b' after the expression"
	run -2 --separate-stderr ecs-filter 'name =~ "("' </dev/null
	is "$stderr" "ecs-filter: expression:1:11: bad regular expression, at its end: missing closing parenthesis"
	run -2 --separate-stderr ecs-filter 'a == "abc' </dev/null
	is "$stderr" "ecs-filter: expression:1:10: unterminated string"
	run -2 --separate-stderr ecs-filter 'nosuch(a)' </dev/null
	like "$stderr" "ecs-filter: expression:1:1: unknown function 'nosuch'*"
	run -2 --separate-stderr ecs-filter $'a == 1 and\n  b == ' </dev/null
	is "$stderr" "ecs-filter: expression:2:8: expected a value after '=='"
}

@test "bad option values are usage errors" {
	run -2 --separate-stderr ecs-filter --max-line 0 true </dev/null
	like "$stderr" "*--max-line '0'*"
	run -2 --separate-stderr ecs-filter --max-errors x true </dev/null
	like "$stderr" "*--max-errors 'x': not a count*"
	run -2 --separate-stderr ecs-filter --map user_id true </dev/null
	like "$stderr" "*--map 'user_id': expected CANON=PATH*"
	run -2 --separate-stderr ecs-filter --map-action =browse true </dev/null
	like "$stderr" "*--map-action '=browse': expected INPUT=CANON*"
	run -2 --separate-stderr ecs-filter -n -1 true </dev/null
	like "$stderr" "*--limit '-1': not a count*"
	run -2 --separate-stderr ecs-filter -t 'x {a' true </dev/null
	like "$stderr" "*'{' without '}'*"
	run -2 --separate-stderr ecs-filter -e true -t a -t b </dev/null
	like "$stderr" "*two --template options for one --expr*"
	run -2 --separate-stderr ecs-filter -f 'a..b' true </dev/null
	like "$stderr" "*--fields: 'a..b': empty path segment*"
}

@test "every duration option: one parser, one message; --checkpoint takes a duration or 0" {
	local spec opt
	for spec in "ecs-stock --half-life" "ecs-stock --checkpoint" \
	    "ecs-recommend --half-life" "ecs-recommend --session-gap" \
	    "ecs-recommend --checkpoint" "ecs-sales --window" "ecs-sales --slide" \
	    "ecs-sales --lateness" "ecs-sales --corrections" "ecs-sales --idle" \
	    "ecs-sales --checkpoint"; do
		opt=${spec#* }
		run -2 --separate-stderr ${spec% *} "$opt" 5x </dev/null
		is "$stderr" "${spec% *}: $opt '5x': expected a duration such as 30s, 5m, 1h or 1d" "$spec"
	done
	for t in ecs-stock ecs-recommend ecs-sales; do
		for d in 0 90 90s 1.5m; do
			run -0 --separate-stderr "$t" --state "$BATS_TEST_TMPDIR/$t.state" \
			    --checkpoint "$d" </dev/null
			is "$stderr" "" "$t --checkpoint $d"
		done
	done
}

@test "an unreadable --reject file is an error before any input" {
	run -1 --separate-stderr ecs-filter --reject /nonexistent/dir/rej true </dev/null
	like "$stderr" "ecs-filter: /nonexistent/dir/rej: No such file or directory"
}

TOOLS="ecs-filter ecs-gen ecs-recommend ecs-replay ecs-sales ecs-stock ecs-top"
TOOLS+=" ecs-session ecs-funnel ecs-join"

@test "every program: --help on stdout exit 0, --version, bad option exit 2" {
	for t in $TOOLS; do
		run -0 --separate-stderr "$t" --help
		like "${lines[0]}" "usage: $t *" "$t --help"
		is "$stderr" "" "$t --help stderr"
		run -0 "$t" --version
		like "$output" "$t [0-9]*.[0-9]*.[0-9]*" "$t --version"
		run -2 --separate-stderr "$t" --no-such-option </dev/null
		is "$output" "" "$t usage error stdout"
		like "$stderr" "*usage: $t*" "$t usage error stderr"
	done
}

@test "every program: --help mentions every option of the man page and back" {
	for t in $TOOLS; do
		man="$BATS_TEST_DIRNAME/../man/$t.1"
		[[ -r "$man" ]] || { echo "# $t: no man page $man" >&2; return 1; }
		run -0 "$t" --help
		help=$(grep -o -- '--[a-z][a-z-]*' <<< "$output" | sort -u)
		(( $(wc -l <<< "$help") >= 5 )) ||
		    { echo "# $t --help names fewer than 5 options" >&2; return 1; }
		for opt in $help; do
			grep -qE -- "Fl \\\\?-${opt#--}([^a-z-]|$)" "$man" ||
			    { echo "# $opt of $t --help is missing in $t.1" >&2; return 1; }
		done
		for opt in $(grep -oE 'Fl \\?-[a-z][a-z-]*' "$man" | sed -E 's/^Fl \\?-//' | sort -u); do
			grep -qx -- "--$opt" <<< "$help" ||
			    { echo "# $opt of $t.1 is missing in $t --help" >&2; return 1; }
		done
	done
}

@test "every program: --help gives each option its own line, its text beside it" {
	for t in $TOOLS; do
		# An option line names one option before the text column (27),
		# so no option's text runs on into another's line.
		while IFS= read -r line; do
			[[ "$line" =~ ^\ \ (-[a-zA-Z],\ |\ \ \ \ )--[a-z] ]] || continue
			n=$(grep -o -- ' --[a-z]' <<< "${line:0:27}" | wc -l)
			[[ "$n" -eq 1 ]] ||
			    { echo "# $t --help: two options on one line: $line" >&2; return 1; }
		done < <("$t" --help)
	done
}
