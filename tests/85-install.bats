#!/usr/bin/env bats
# What an installed ecs brings besides its programs: --version with the git
# describe of the build, and the bash and zsh completions that
# completions/gen-completion makes at build time for every program of
# tools/meson.build, checked here against each program's --help and
# against the program itself (the values of a fixed set are accepted).

load helpers

setup() {
	local bin
	bin=$(dirname "$(command -v ecs-filter)")
	# meson test names the programs of tools/meson.build; by hand, every
	# ecs-* program beside ecs-filter.
	if [[ -n "${ECS_TOOLS:-}" ]]; then
		read -ra TOOLS <<< "$ECS_TOOLS"
	else
		TOOLS=()
		for f in "$bin"/ecs-*; do
			[[ -f "$f" && -x "$f" ]] && TOOLS+=("${f##*/}")
		done
	fi
	COMPLETIONS=${ECS_COMPLETIONS:-$bin/../completions}
	SRC="$BATS_TEST_DIRNAME/.."
}

# bash_complete WORD...: COMPREPLY, one a line, for the command line WORD...
# with the cursor in the last word, from the program's bash completion.
bash_complete() {
	bash -c 'source "$1" || exit 3
		shift
		fn=$(complete -p "$1" | awk "{ print \$3 }")
		[[ -n "$fn" ]] || exit 4
		COMP_WORDS=("$@")
		COMP_CWORD=$(( $# - 1 ))
		"$fn"
		(( ${#COMPREPLY[@]} == 0 )) || printf "%s\n" "${COMPREPLY[@]}"' \
	    bash "$COMPLETIONS/$1" "$@" | LC_ALL=C sort
}

# help_options PROGRAM: the options --help lists (-x and --long), sorted.
help_options() {
	"$1" --help | sed -nE 's/^ +(-[A-Za-z0-9])?(, )?(--[A-Za-z0-9][-A-Za-z0-9]*)?.*/\1 \3/p' |
	    tr ' ' '\n' | grep . | LC_ALL=C sort -u
}

# help_words PROGRAM: "OPTION WORD" for each --help option with a word after
# it (its argument), the long name when there is one.
help_words() {
	"$1" --help | sed -nE 's/^ +(-[A-Za-z0-9], )?(--[A-Za-z0-9][-A-Za-z0-9]*) ([^ ]+).*/\2 \3/p'
	"$1" --help | sed -nE 's/^ +(-[A-Za-z0-9]) ([^ -][^ ]*).*/\1 \2/p'
}

@test "--version: the meson project version, and git describe in a git checkout" {
	version=$(grep -m 1 -oE "version: '[0-9][^']*'" "$SRC/meson.build" | cut -d"'" -f2)
	[[ -n "$version" ]]
	if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1 &&
	    [[ -e "$SRC/.git" ]]; then
		describe=$(git -C "$SRC" describe --always)
		expected="* $version (git $describe*)"
	else
		expected="* $version"
	fi
	for t in "${TOOLS[@]}"; do
		run -0 "$t" --version
		like "$output" "$t $version*" "$t --version"
		like "$output" "$expected" "$t --version"
		is "${#lines[@]}" 1 "$t --version lines"
	done
}

@test "every program has a bash and a zsh completion for its name" {
	(( ${#TOOLS[@]} >= 6 ))
	for t in "${TOOLS[@]}"; do
		[[ -f "$COMPLETIONS/$t" ]] || { echo "# no bash completion for $t" >&2; return 1; }
		[[ -f "$COMPLETIONS/_$t" ]] || { echo "# no zsh completion for $t" >&2; return 1; }
		run -0 bash -n "$COMPLETIONS/$t"
		run -0 head -1 "$COMPLETIONS/_$t"
		is "$output" "#compdef $t" "_$t first line"
	done
}

@test "bash: a dash completes to exactly the options --help lists" {
	for t in "${TOOLS[@]}"; do
		expected=$(help_options "$t")
		[[ $(wc -l <<< "$expected") -ge 6 ]]
		run -0 bash_complete "$t" -
		is "$output" "$expected" "$t -<Tab> against $t --help"
		run -0 bash_complete "$t" --versi
		is "$output" "--version" "$t --versi<Tab>"
	done
}

@test "bash: an option's fixed set of values (a|b|c in --help), each taken by the program" {
	sets=0
	for t in "${TOOLS[@]}"; do
		while read -r opt word; do
			[[ "$word" =~ ^[a-z0-9_.-]+(\|[a-z0-9_.-]+)+$ ]] || continue
			sets=$((sets + 1))
			expected=$(tr '|' '\n' <<< "$word" | LC_ALL=C sort)
			run -0 bash_complete "$t" "$opt" ""
			is "$output" "$expected" "$t $opt <Tab>"
			if [[ "$opt" == --* ]]; then
				run -0 bash_complete "$t" "$opt" "="
				is "$output" "$expected" "$t $opt=<Tab>"
				first=${word%%|*}
				run -0 bash_complete "$t" "$opt" "=" "${first:0:1}"
				like "$output" "*$first*" "$t $opt=${first:0:1}<Tab>"
			fi
			# The program takes each value: it goes on to the next
			# option, which it refuses; a value not in the set is
			# refused before that.
			for v in ${word//|/ }; do
				run -2 --separate-stderr "$t" "$opt" "$v" --no-such-option </dev/null
				like "$stderr" "*unrecognized option*--no-such-option*" "$t $opt $v"
			done
			run -2 --separate-stderr "$t" "$opt" no-such-value --no-such-option </dev/null
			like "$stderr" "*no-such-value*" "$t $opt no-such-value"
		done < <(help_words "$t")
	done
	# -i and -o of five programs, --emit of two, --algo, --sim...
	(( sets >= 12 )) || { echo "# only $sets options with a set of values" >&2; return 1; }
}

@test "bash: FILE arguments and file operands complete file names, free text nothing" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p dir && touch alpha.ndjson alps.txt
	files=0 free=0
	for t in "${TOOLS[@]}"; do
		while read -r opt word; do
			[[ "$word" =~ ^[a-z0-9_.-]+(\|[a-z0-9_.-]+)+$ ]] && continue
			run -0 bash_complete "$t" "$opt" al
			if [[ "$word" == *FILE ]]; then
				files=$((files + 1))
				is "$output" $'alpha.ndjson\nalps.txt' "$t $opt al<Tab>"
			else
				free=$((free + 1))
				is "$output" "" "$t $opt al<Tab> ($word)"
			fi
		done < <(help_words "$t")
		run -0 bash_complete "$t" al
		if "$t" --help | grep -q 'file \.\.\.\]'; then
			is "$output" $'alpha.ndjson\nalps.txt' "$t al<Tab>"
		else
			is "$output" "" "$t al<Tab> (no file operands)"
		fi
	done
	(( files >= 10 && free >= 30 )) ||
	    { echo "# $files FILE options, $free free ones: too few" >&2; return 1; }
}

@test "zsh: options, fixed values, files and free text as bash completes them" {
	command -v zsh >/dev/null || skip "zsh is not installed (scripts/bootstrap installs it)"
	zsh -c 'zmodload zsh/zpty' 2>/dev/null || skip "zsh has no zsh/zpty module"
	cd "$BATS_TEST_TMPDIR"
	touch alpha.ndjson alps.txt
	zc() { "$BATS_TEST_DIRNAME/complete-zsh" "$COMPLETIONS" "$1"; }
	for t in "${TOOLS[@]}"; do
		run -0 zsh -n "$COMPLETIONS/_$t"
		# Long options: zsh lists the short ones apart from "-".
		run -0 zc "$t --"
		is "$output" "$(help_options "$t" | grep -e '^--')" "zsh: $t --<Tab>"
	done
	run -0 zc "ecs-sales --emit "
	is "$output" $'final\nupdate' "zsh: ecs-sales --emit <Tab>"
	run -0 zc "ecs-filter -o t"
	is "$output" $'table\ntsv' "zsh: ecs-filter -o t<Tab>"
	run -0 zc "ecs-filter --input-format="
	is "$output" $'csv\nndjson\ntsv' "zsh: ecs-filter --input-format=<Tab>"
	run -0 zc "ecs-stock --state al"
	is "$output" $'alpha.ndjson\nalps.txt' "zsh: ecs-stock --state al<Tab>"
	run -0 zc "ecs-filter true al"
	is "$output" $'alpha.ndjson\nalps.txt' "zsh: ecs-filter true al<Tab>"
	run -0 zc "ecs-filter -e al"
	is "$output" "" "zsh: ecs-filter -e al<Tab>"
}
