#!/usr/bin/env bats
# ecs-recommend: the session neighbours (V-STAN), learned by every model
# and scored by --algo vstan alone, their state, and --evaluate
# --exclude-repeats.

load helpers

# Sessions 1 (a b c) and 2 (a b d), then user 9 looks at a.
neighbours() {
	ev '{"user_id":1,"session_id":1,"action":"browse","product_id":"a","ts":"2026-11-01T10:00:00Z"}' \
	   '{"user_id":1,"session_id":1,"action":"browse","product_id":"b","ts":"2026-11-01T10:00:10Z"}' \
	   '{"user_id":1,"session_id":1,"action":"browse","product_id":"c","ts":"2026-11-01T10:00:20Z"}' \
	   '{"user_id":2,"session_id":2,"action":"browse","product_id":"a","ts":"2026-11-01T10:05:00Z"}' \
	   '{"user_id":2,"session_id":2,"action":"browse","product_id":"b","ts":"2026-11-01T10:05:10Z"}' \
	   '{"user_id":2,"session_id":2,"action":"browse","product_id":"d","ts":"2026-11-01T10:05:20Z"}' \
	   '{"user_id":9,"session_id":9,"action":"browse","product_id":"a","ts":"2026-11-01T11:00:00Z"}'
}

@test "--algo vstan: the items of similar sessions, with their neighbour count" {
	neighbours
	run -0 --separate-stderr ecs-recommend --algo vstan -k 4 "$IN"
	is "$stderr" ""
	last=$(tail -1 <<< "$output")
	is "$(jq -c '[.recommendations[] | [.product_id, .reason, .neighbors]]' <<< "$last")" \
	    '[["b","similar_sessions",2],["d","similar_sessions",1],["c","similar_sessions",1]]'
	# V-STAN by hand: a neighbour's similarity is 1/sqrt(3) decayed by
	# exp(-age/5d); an item weighs exp(-|its place - a's place|/2.05) and
	# 1 + 5 * ln(3 sessions / its sessions). b is in 2 sessions, c in 1.
	want=$(awk 'BEGIN {
		d = 5 * 86400; s1 = exp(-(3600 - 20) / d); s2 = exp(-(3300 - 20) / d)
		b = (s1 + s2) * exp(-1 / 2.05) * (1 + 5 * log(3 / 2))
		c = s1 * exp(-2 / 2.05) * (1 + 5 * log(3))
		d2 = s2 * exp(-2 / 2.05) * (1 + 5 * log(3))
		printf "%.3f %.3f %.3f", 1, d2 / b, c / b }')
	is "$(jq -r '[.recommendations[].score | tostring] | join(" ")' <<< "$last" |
	    awk '{ printf "%.3f %.3f %.3f", $1, $2, $3 }')" "$want" "scores, scaled to the best"
}

@test "state: the neighbour index survives a split run, scored by vstan, not by the hybrid" {
	ecs-gen --events 20000 --seed 8 > "$BATS_TEST_TMPDIR/g"
	for algo in vstan hybrid; do
		ecs-recommend --algo "$algo" -k 5 "$BATS_TEST_TMPDIR/g" > "$BATS_TEST_TMPDIR/whole"
		is "$(wc -l < "$BATS_TEST_TMPDIR/whole")" 20000 "a line for every event"
		similar=$(grep -c similar_sessions "$BATS_TEST_TMPDIR/whole") || true
		if [[ $algo == vstan ]]; then
			(( similar > 100 )) || { echo "# vstan: $similar similar_sessions"; false; }
		else
			is "$similar" 0 "the hybrid has no neighbour reasons"
		fi
		for k in 1 9000 19999; do
			st="$BATS_TEST_TMPDIR/s$algo$k"
			head -n "$k" "$BATS_TEST_TMPDIR/g" | ecs-recommend --algo "$algo" -k 5 --state "$st" > "$BATS_TEST_TMPDIR/split"
			tail -n +"$((k + 1))" "$BATS_TEST_TMPDIR/g" | ecs-recommend --algo "$algo" -k 5 --state "$st" >> "$BATS_TEST_TMPDIR/split"
			is "$(cksum < "$BATS_TEST_TMPDIR/split")" "$(cksum < "$BATS_TEST_TMPDIR/whole")" "$algo split at $k"
		done
	done
	# The hybrid learns the index too, so that its state can serve vstan.
	grep -q '"vsession":' "$st" && grep -q '"vitem":' "$st"
}

@test "state: a file of version 3 is refused, and a broken neighbour line, hit rate, user, link weight or popularity too" {
	ecs-gen --events 2000 --seed 9 | ecs-recommend --emit none --state "$BATS_TEST_TMPDIR/s"
	sed '1s/"version":4/"version":3/' "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/old"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/old" < /dev/null
	like "$stderr" "*corrupt state: version 3, expected 4*"
	# More hits than cases: a rate above 1.
	sed '1s/"hit_rates_back":\[ *[0-9.]*, *[0-9.]*/"hit_rates_back":[ 1, 2/' "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/bad"
	! cmp -s "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
	like "$stderr" "*corrupt state: hit_rates_back: a bad hit rate*"
	sed 's/"vsession":[0-9]*/"vsession":0/' "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
	like "$stderr" "*corrupt state: bad 'vsession'*"
	# A user of 3 events in the session with no step yet, and one with
	# a step that is not back though their two products are the same.
	grep -q '"hist":\[[0-9]*,[0-9]*,[0-9]*\],.*"steps":2,' "$BATS_TEST_TMPDIR/s"
	sed '0,/\("hist":\[[0-9]*,[0-9]*,[0-9]*\],.*"steps":\)2,/s//\10,/' "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
	like "$stderr" "*corrupt state: bad steps or returns*"
	grep -q '"hist":\[[0-9]*,[0-9]*\],.*"steps":1,"returns":0,' "$BATS_TEST_TMPDIR/s"
	sed '0,/"hist":\[\([0-9]*\),[0-9]*\],\(.*"steps":1,"returns":0,\)/s//"hist":[\1,\1],\2/' "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
	like "$stderr" "*corrupt state: bad steps or returns*"
	# A list that names a product twice: one click would be two hits.
	ecs-gen --events 2000 --seed 9 | ecs-recommend --state "$BATS_TEST_TMPDIR/lines" > /dev/null
	grep -q '"list":\[[0-9]*,' "$BATS_TEST_TMPDIR/lines"
	sed '0,/"list":\[\([0-9]*\),/s//"list":[\1,\1,/' "$BATS_TEST_TMPDIR/lines" > "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
	like "$stderr" "*corrupt state: a product twice in 'list'*"
	# A link's weight or a popularity that no run writes: negative, NaN
	# (json-c reads it), infinite as a float, or not a number.
	grep -q '"next":\[\[[0-9]*,[0-9.]*\]' "$BATS_TEST_TMPDIR/s"
	for w in -1 NaN 1e300 '"1"'; do
		sed "0,/\"next\":\[\[\([0-9]*\),[0-9.]*\]/s//\"next\":[[\1,$w]/" "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/bad"
		run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
		like "$stderr" "*corrupt state: bad link*"
	done
	sed '0,/"pop":[0-9.]*/s//"pop":NaN/' "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/bad"
	! cmp -s "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr ecs-recommend --state "$BATS_TEST_TMPDIR/bad" < /dev/null
	like "$stderr" "*corrupt state: bad pop*"
}

@test "state: only the hybrid's lists teach its hit rates, so a state other models served is safe for it" {
	ecs-gen --events 2000 --seed 9 > "$BATS_TEST_TMPDIR/g"
	# The cases of all the rates, back and ahead.
	cases() { head -1 "$1" | jq '[.hit_rates_back, .hit_rates_ahead | .[range(0; length; 2)]] | add'; }
	for algo in hybrid sr spop vstan pop; do
		rm -f "$BATS_TEST_TMPDIR/s"
		ecs-recommend --algo "$algo" -k 5 --state "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/g" > /dev/null
		if [[ $algo == hybrid ]]; then
			(( $(cases "$BATS_TEST_TMPDIR/s") > 1000 ))
		else
			is "$(cases "$BATS_TEST_TMPDIR/s")" 0 "$algo taught the hybrid's rates"
		fi
	done
}

# one_session PRODUCT...: user 1 browses the products in one session, in $IN.
one_session() {
	local p
	for p; do
		printf '{"user_id":1,"session_id":1,"action":"browse","product_id":"%s"}\n' "$p"
	done > "$IN"
}

@test "--as-shown: the lists judged leave out the event's product, as the lines do" {
	run -2 --separate-stderr ecs-recommend --as-shown < /dev/null
	like "$stderr" "*--as-shown: only with --evaluate*"
	# a b b in one session: after b, the next click is b again.
	one_session a b b
	run -0 ecs-recommend --evaluate -k 3 --algo spop "$IN"
	like "$output" '*"seen_in_session":{"cases":1,"hr@3":1.0000,"mrr@3":1.0000}*'
	run -0 ecs-recommend --evaluate -k 3 --algo spop --as-shown "$IN"
	like "$output" '*"seen_in_session":{"cases":1,"hr@3":0.0000,"mrr@3":0.0000}*'
	# The line after the first b shows a, not b: what --as-shown judged.
	run -0 ecs-recommend -k 3 --algo spop "$IN"
	is "$(sed -n 2p <<< "$output" | jq -c '[.recommendations[].product_id]')" '["a"]'
	# A query between the two b answers with b (a query has no product
	# on screen), but the list judged stays the one made after the event.
	printf '%s\n' '{"query":"recommend","user_id":1}' | cat <(head -2 "$IN") - <(tail -1 "$IN") > "$BATS_TEST_TMPDIR/q"
	run -0 ecs-recommend --evaluate -k 3 --algo spop --as-shown "$BATS_TEST_TMPDIR/q"
	like "${lines[0]}" '*"recommendations":[{"product_id":"b",*'
	like "${lines[1]}" '*"seen_in_session":{"cases":1,"hr@3":0.0000,"mrr@3":0.0000}*'
}

@test "--freeze-after: a product never learned is a miss, and the next click is judged against the list the line shows" {
	# Learned: a then b, and a. After the freeze, the same session goes
	# on to c (never learned: no list can hold it), then b.
	local n=0 p u
	for p in 0a 0b 1a 1c 1b; do
		u=${p:0:1}
		printf '{"user_id":%s,"session_id":%s,"action":"browse","product_id":"%s","ts":"2026-01-01T00:0%d:00Z"}\n' \
		    "$u" "$u" "${p:1}" "$((n++))"
	done > "$IN"
	freeze=(--freeze-after 2026-01-01T00:02:30Z)
	run -0 ecs-recommend -k 3 --algo sr "${freeze[@]}" "$IN"
	is "$(sed -n 4p <<< "$output" | jq -c '[.trigger.product_id, .recommendations[0].product_id]')" '["c","b"]' "the line after c shows b first"
	run -0 ecs-recommend --evaluate -k 3 --algo sr "${freeze[@]}" --eval-from 2026-01-01T00:02:30Z "$IN"
	like "$output" '*"cases":2,"hr@3":0.5000,"mrr@3":0.5000,*' "c a miss, b a hit at the first place"
}

@test "--exclude-repeats: only products new to the session are judged" {
	run -2 --separate-stderr ecs-recommend --exclude-repeats < /dev/null
	like "$stderr" "*--exclude-repeats: only with --evaluate*"
	# a b a b c in one session: cases b a b c, of which b and c are new.
	one_session a b a b c
	run -0 ecs-recommend --evaluate -k 3 --algo spop "$IN"
	like "$output" '{"algo":"spop","k":3,"events":5,"cases":4,*'
	run -0 ecs-recommend --evaluate -k 3 --algo spop --exclude-repeats "$IN"
	like "$output" '{"algo":"spop","k":3,"events":5,"cases":2,"hr@3":0.0000,*'
}

@test "--exclude-repeats on YOOCHOOSE: the cases DuckDB counts as new to the session" {
	need_duckdb
	shared_data yoochoose-100k/test.ndjson
	test="$data"
	shared_data yoochoose-100k/train.ndjson
	cases=$(cat "$data" "$test" | ecs-recommend --evaluate -k 20 --eval-from 2014-04-07T00:49:53Z --exclude-repeats |
	    ecs-filter -t '{cases}' true)
	# A case: not the first event of its session, its product not among
	# the session's 12 events before it (the session kept per user).
	want=$(duckdb_sql "WITH e AS (SELECT session_id, product_id, ts,
	    row_number() OVER (PARTITION BY session_id ORDER BY ts) AS n
	    FROM read_json('$test', format='newline_delimited'))
	    SELECT count(*) AS c FROM e WHERE n > 1 AND NOT EXISTS (SELECT 1 FROM e p
	    WHERE p.session_id = e.session_id AND p.product_id = e.product_id AND p.n < e.n AND p.n >= e.n - 12)" |
	    jq -r .c)
	is "$cases" "$want"
}

@test "--evaluate on the Taobao excerpt in tests/: hybrid >= vstan, sr, spop >= pop" {
	for a in pop spop sr vstan hybrid; do
		ecs-recommend --evaluate -k 20 --algo "$a" "$FIXTURES/real/taobao-2000.ndjson" |
		    ecs-filter -t "$a {hr@20} {mrr@20} {cases}" true
	done > "$BATS_TEST_TMPDIR/q"
	sed 's/^/# /' "$BATS_TEST_TMPDIR/q" >&3
	run awk '{ hr[$1] = $2; mrr[$1] = $3; cases[$1] = $4 }
	    END { exit !(cases["hybrid"] == 1645 && hr["hybrid"] >= 0.09 && mrr["hybrid"] >= 0.045 &&
	        hr["hybrid"] >= hr["vstan"] && hr["hybrid"] >= hr["sr"] && hr["hybrid"] >= hr["spop"] &&
	        mrr["hybrid"] >= mrr["vstan"] && mrr["hybrid"] >= mrr["sr"] && mrr["hybrid"] >= mrr["spop"] &&
	        hr["spop"] >= hr["pop"] && mrr["spop"] >= mrr["pop"] && hr["vstan"] >= hr["pop"]) }' \
	    "$BATS_TEST_TMPDIR/q"
	is "$status" 0
}
