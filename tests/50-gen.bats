#!/usr/bin/env bats
# ecs-gen: determinism, the shape of the stream (funnel, long tail,
# affinity), inventory, pacing and the command line.

load helpers

setup_file() {
	# One 100k-event stream (with inventory) shared by the shape tests.
	export GEN="$BATS_FILE_TMPDIR/gen.ndjson"
	ecs-gen --events 100000 --inventory > "$GEN"
}

@test "--help, --version and usage errors" {
	run -0 ecs-gen --help
	like "${lines[0]}" "usage: ecs-gen *"
	run -0 ecs-gen --version
	like "$output" "ecs-gen [0-9]*"
	run -2 --separate-stderr ecs-gen --no-such
	like "$stderr" "*usage: ecs-gen*"
	run -2 --separate-stderr ecs-gen --cart-rate 1.5
	like "$stderr" "*--cart-rate '1.5': expected a probability from 0 to 1*"
	run -2 --separate-stderr ecs-gen --start yesterday
	like "$stderr" "*--start 'yesterday': not a time*"
	run -2 --separate-stderr ecs-gen --rate 0
	like "$stderr" "*--rate '0'*"
	run -2 --separate-stderr ecs-gen --products 0
	is "$stderr" "ecs-gen: --products and --users must be at least 1"
	run -2 --separate-stderr ecs-gen extra-operand
	like "$stderr" "*usage: ecs-gen*"
	run -2 --separate-stderr ecs-gen --oversell 0.5
	like "$stderr" "*--oversell needs --inventory*"
}

@test "the same seed gives the same bytes (pinned checksums)" {
	is "$(ecs-gen --events 1000 --seed 42 | cksum)" "2231437247 136790"
	is "$(ecs-gen --events 1000 --seed 42 --inventory | cksum)" "351476011 66001"
	is "$(ecs-gen --events 1000 | cksum)" "367755923 136505"
}

@test "another seed gives another stream; --events counts lines" {
	a=$(ecs-gen --events 500 --seed 1 | cksum)
	b=$(ecs-gen --events 500 --seed 2 | cksum)
	[[ "$a" != "$b" ]]
	is "$(ecs-gen --events 777 | wc -l)" 777
	is "$(ecs-gen --events 777 --inventory | wc -l)" 777
}

@test "every line is a JSON object with the canonical fields; time never goes back" {
	run -0 bash -c "head -20000 '$GEN' | jq -rs '
	    [.[] | select(.action)] as \$ev |
	    (\$ev | map(select(.user_id and .session_id and .product_id and .ts and .price and .category)) | length) == (\$ev | length),
	    ([.[].ts] == ([.[].ts] | sort))'"
	is "$output" $'true\ntrue'
	run -0 ecs-filter -c -v 'time(ts) > 0' "$GEN"
	is "$output" 0 "every ts parses"
}

@test "the funnel: about 8% of sessions cart, 2-3% buy" {
	sessions=$(ecs-filter -f session_id 'action == "browse"' "$GEN" | sort -u | wc -l)
	carted=$(ecs-filter -f session_id 'action == "add_to_cart"' "$GEN" | sort -u | wc -l)
	bought=$(ecs-filter -f session_id 'action == "purchase"' "$GEN" | sort -u | wc -l)
	echo "# sessions $sessions carted $carted bought $bought" >&3
	(( sessions > 1000 ))
	(( carted * 1000 >= sessions * 65 && carted * 1000 <= sessions * 95 ))
	(( bought * 1000 >= sessions * 18 && bought * 1000 <= sessions * 32 ))
}

@test "the funnel rates are configurable" {
	ecs-gen --events 50000 --cart-rate 0.5 --buy-rate 1 > "$BATS_TEST_TMPDIR/g"
	sessions=$(ecs-filter -f session_id 'action == "browse"' "$BATS_TEST_TMPDIR/g" | sort -u | wc -l)
	bought=$(ecs-filter -f session_id 'action == "purchase"' "$BATS_TEST_TMPDIR/g" | sort -u | wc -l)
	(( sessions > 1000 ))
	(( bought * 100 >= sessions * 40 && bought * 100 <= sessions * 60 ))
	ecs-gen --events 20000 --cart-rate 0 > "$BATS_TEST_TMPDIR/g"
	is "$(ecs-filter -c 'action == "browse"' "$BATS_TEST_TMPDIR/g")" 20000
}

@test "popularity is long-tailed: the top 1% of products get over 15% of views" {
	ecs-filter -t '{product_id}' 'action == "browse"' "$GEN" | sort | uniq -c |
	    sort -rn | awk '{ total += $1; if (NR <= 10) top += $1 }
	        END { printf "%d %d\n", top, total }' > "$BATS_TEST_TMPDIR/tail"
	read -r top total < "$BATS_TEST_TMPDIR/tail"
	echo "# top 10 of 1000 products: $top of $total views" >&3
	(( top * 100 > total * 15 ))
}

@test "items carted together are related (affinity groups)" {
	# Pairs of products carted in one session: same category far above
	# the 1-in-20 that chance would give.
	run -0 bash -c "set -o pipefail; ecs-filter -t '{session_id} {category}' 'action == \"add_to_cart\"' '$GEN' |
	    awk '{ if (\$1 == s) { pairs++; if (\$2 == c) same++ } s = \$1; c = \$2 }
	        END { print same + 0, pairs + 0 }'"
	read -r same pairs <<< "$output"
	echo "# $same of $pairs carted pairs share a category" >&3
	(( pairs > 50 && same * 100 > pairs * 40 ))
}

@test "prices are stable per product and written with cents" {
	run -0 bash -c "set -o pipefail; ecs-filter -t '{product_id} {price}' 'exists(price)' '$GEN' | sort -u | awk '{ print \$1 }' | uniq -d | wc -l"
	is "$output" 0 "one price per product"
	# Only the 1000 inventory snapshots have no price; every event's has cents.
	is "$(jq -c 'select(has("price") | not)' "$GEN" | wc -l)" 1000
	is "$(ecs-filter -c -v 'price =~ "^[0-9]+\\.[0-9][0-9]$"' "$GEN")" 1000
}

@test "--inventory: a snapshot per product first, stock never negative" {
	is "$(head -1000 "$GEN" | ecs-filter -c 'not exists(action) and quantity > 0')" 1000
	run -0 bash -c "set -o pipefail; ecs-gen --events 200000 --inventory --products 200 | jq -cs '
	    reduce .[] as \$e ({s:{},min:1e9,restocks:0};
	      (\$e.product_id|tostring) as \$p |
	      if (\$e.action|not) then .s[\$p] = \$e.quantity
	      elif \$e.action == \"purchase\" then .s[\$p] -= \$e.quantity
	      elif \$e.action == \"restock\" then .s[\$p] += \$e.quantity | .restocks += 1
	      else . end | .min = ([.min, (.s[\$p] // 1e9)] | min))
	    | {min, restocks}'"
	echo "# $output" >&3
	like "$output" '{"min":0,"restocks":[1-9]*}' "stock-outs happen, never below zero"
}

@test "--oversell lets stock go negative on purpose" {
	run -0 bash -c "set -o pipefail; ecs-gen --events 200000 --inventory --products 200 --oversell 1 | jq -s '
	    reduce .[] as \$e ({s:{},min:1e9};
	      (\$e.product_id|tostring) as \$p |
	      if (\$e.action|not) then .s[\$p] = \$e.quantity
	      elif \$e.action == \"purchase\" then .s[\$p] -= \$e.quantity
	      elif \$e.action == \"restock\" then .s[\$p] += \$e.quantity
	      else . end | .min = ([.min, (.s[\$p] // 1e9)] | min)) | .min < 0'"
	is "$output" true
}

@test "--start sets the first time; 'now' takes the clock" {
	run -0 ecs-gen --events 1 --start 2025-06-01T12:00:00+02:00
	like "$output" '*"ts":"2025-06-01T10:00:00.000Z"*'
	now=$(date -u +%s)
	run -0 bash -c "set -o pipefail; ecs-gen --events 1 --start now | ecs-filter -c 'time(ts) >= $now - 5 and time(ts) <= $now + 60'"
	is "$output" 1
}

@test "--rate paces the output against the wall clock" {
	start=$(date +%s%N)
	run -0 ecs-gen --events 21 --rate 20
	end=$(date +%s%N)
	is "${#lines[@]}" 21
	ms=$(( (end - start) / 1000000 ))
	echo "# 21 lines at 20/s took $ms ms" >&3
	(( ms >= 950 && ms < 8000 ))
}

@test "--rate: each line is flushed as it is paced (a live pipe)" {
	out="$BATS_TEST_TMPDIR/out"
	ecs-gen --events 0 --rate 50 > "$out" 3>&- &
	pid=$!
	wait_until test -s "$out"
	kill -TERM "$pid"
	wait "$pid"
	[[ -s "$out" ]]
	run -0 ecs-filter -c true "$out"
	(( output >= 1 ))
}

@test "an endless stream ends quietly at a closed pipe" {
	run -0 --separate-stderr bash -c 'ecs-gen --events 0 | head -3 | wc -l; exit ${PIPESTATUS[0]}'
	is "$output" 3
	is "$stderr" ""
}

@test "a full disk is an error" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -1 --separate-stderr bash -c 'ecs-gen --events 100000 > /dev/full'
	is "$stderr" "ecs-gen: write error on <stdout>: No space left on device"
}
