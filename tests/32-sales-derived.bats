#!/usr/bin/env bats
# ecs-sales: derived metrics (-m NAME=EXPR over the row's metrics),
# --having, and --top N --order-by NAME [--desc], each compared with
# DuckDB's GROUP BY ... HAVING ... QUALIFY row_number() on generated
# events and on the UCI orders.

load helpers

sales() { ecs-sales "$@" "$BATS_TEST_TMPDIR/in.ndjson"; }

# exact_numbers: decimals without their trailing zeros (19.90 is 19.9,
# 3.000 is 3), as text: no rounding, so a difference in any digit shows.
exact_numbers() {
	sed -E 's/(^|\t)(-?[0-9]+)\.([0-9]*[1-9])?0+(\t|$)/\1\2.\3\4/g; s/(^|\t)(-?[0-9]+)\.(\t|$)/\1\2\3/g; s/(^|\t)(-?[0-9]+)\.([0-9]*[1-9])?0+(\t|$)/\1\2.\3\4/g; s/(^|\t)(-?[0-9]+)\.(\t|$)/\1\2\3/g'
}

@test "exact_numbers drops trailing zeros only" {
	is "$(printf '19.90\t3.000\t100\t0.5\t-2.50\tx0.0\n' | exact_numbers)" $'19.9\t3\t100\t0.5\t-2.5\tx0.0'
}

@test "a derived metric: exact when it ends within 6 places, else 6 places half away from zero, as avg" {
	ev '{"k":"a","o":1,"p":10.00}' '{"k":"a","o":2,"p":2.50}' '{"k":"b","o":3,"p":1}' \
	   '{"k":"b","o":4,"p":1}' '{"k":"b","o":5,"p":0}' '{"k":"c","o":6,"p":0.0000015}' \
	   '{"k":"c","o":7,"p":0.0000010}'
	run -0 --separate-stderr sales -b k -m 'orders=distinct(o)' -m 'sales=sum(p)' \
	    -m 'aov=sales/orders' -m 'twice=aov*2' -m 'x=sales*1'
	# A derived metric reads the others as the row writes them: twice
	# reads c's aov as 0.000001, and x rounds c's sum to 6 places.
	is "$output" '{"k":"a","orders":2,"sales":12.50,"aov":6.25,"twice":12.50,"x":12.50}
{"k":"b","orders":3,"sales":2,"aov":0.666667,"twice":1.333334,"x":2}
{"k":"c","orders":2,"sales":0.0000025,"aov":0.000001,"twice":0.000002,"x":0.000003}'
	is "$stderr" ""
}

@test "a derived metric of an estimate is listed as approximate, with the estimates it reads" {
	seq 1 12000 | awk '{ printf "{\"o\":%d,\"p\":2}\n", $1 }' > "$IN"
	run -0 sales -m 'orders=distinct(o)' -m 's=sum(p)' -m 'aov=s/orders' -m 'x=s*2' -m 'y=aov+x'
	like "$output" '{"orders":1*,"s":24000,"aov":2.0*,"x":48000,"y":48002.0*,"approximate":*}'
	is "$(jq -c .approximate <<< "$output")" '{"orders":{"relative_error":0.02},"aov":{"from":["orders"]},"y":{"from":["aov"]}}'
	seq 1 100 | awk '{ printf "{\"o\":%d,\"p\":2}\n", $1 }' > "$IN"
	run -0 sales -m 'orders=distinct(o)' -m 's=sum(p)' -m 'aov=s/orders'
	is "$output" '{"orders":100,"s":200,"aov":2}'
}

@test "a derived metric is null on a division by zero or a null input, and --alert and --having read it" {
	ev '{"k":"a","p":0}' '{"k":"b","p":4}' '{"k":"c"}'
	run -0 sales -b k -m 's=max(p)' -m 'inv=100/s' -m 'h=s/2' --having 'inv != null' --alert 'inv > 20'
	is "$output" '{"k":"b","s":4,"inv":25,"h":2}
{"alert":"rule","rule":"inv > 20","k":"b","s":4,"inv":25,"h":2}'
	run -0 sales -b k -m 's=max(p)' -m 'inv=100/s'
	is "$output" '{"k":"a","s":0,"inv":null}
{"k":"b","s":4,"inv":25}
{"k":"c","s":null,"inv":null}'
}

@test "a derived metric reads the metrics before it, by name; others are usage errors" {
	ev '{"p":1}'
	run -2 --separate-stderr sales -m 'b=sum(p)' -m 'a=c*2' -m 'c=b+1'
	is "$stderr" "ecs-sales: --metric 'c*2': 'c' is computed after it (a derived metric reads the metrics before it)"
	run -2 --separate-stderr sales -m 'b=sum(p)' -m 'a=bb*2'
	is "$stderr" "ecs-sales: --metric 'bb*2': 'bb' is not a metric or key of the rows (they have b, a)"
	run -2 --separate-stderr sales -m 'b=sum(p)' -m 'b=b*2'
	is "$stderr" "ecs-sales: --metric 'b': the name is already a metric of the row"
	run -2 --separate-stderr sales -m 'b=sum(p)' -m 'a=b +* 2'
	[[ "$stderr" == "ecs-sales: --metric 'a=b +* 2': not an aggregate call FUNC(EXPR), nor an expression over the row's metrics:"* ]]
	run -0 sales -m 'b=sum(p)' -m 'a=round(b / 3, 2)' -m 'c=a * 3'
	is "$output" '{"b":1,"a":0.33,"c":0.99}'
	# The aggregates come first in the row, then the derived metrics.
	run -0 sales -m 'a=b*2' -m 'b=sum(p)'
	is "$output" '{"b":1,"a":2}'
}

@test "--having and --top: usage errors" {
	ev '{"p":1}'
	run -2 --separate-stderr sales -m 's=sum(p)' --having 'x > 1'
	is "$stderr" "ecs-sales: --having 'x > 1': 'x' is not a metric or key of the rows (they have s)"
	run -2 --separate-stderr sales -m 's=sum(p)' --top 3
	is "$stderr" "ecs-sales: --top and --order-by go together (and --desc with them)"
	run -2 --separate-stderr sales -m 's=sum(p)' --order-by s --desc
	is "$stderr" "ecs-sales: --top and --order-by go together (and --desc with them)"
	run -2 --separate-stderr sales -m 's=sum(p)' --top 0 --order-by s
	is "$stderr" "ecs-sales: --top '0': expected 1 to 1000000 rows"
	run -2 --separate-stderr sales -m 's=sum(p)' -m 'l=list(p)' --top 1 --order-by l
	is "$stderr" "ecs-sales: --order-by 'l': not a metric of numbers"
	run -2 --separate-stderr sales -m 's=sum(p)' --top 1 --order-by t
	is "$stderr" "ecs-sales: --order-by 't': not a metric of numbers"
	run -2 --separate-stderr sales -w 1h -m 's=sum(p)' --top 1 --order-by s --emit update
	is "$stderr" "ecs-sales: --top chooses among the final rows of a window: not with --emit update or --corrections"
	run -2 --separate-stderr sales -w 1h -m 's=sum(p)' -m 'd=s*2' --watch d --drop 50
	is "$stderr" "ecs-sales: --watch 'd': no such metric (an aggregate: derived metrics cannot be watched)"
	run -2 --separate-stderr sales -w 1h -m 's=sum(p)' --partial --having 's > 1'
	[[ "$stderr" == *"--having or --top (give those to the --merge)" ]]
}

@test "--top: per window, ties by group key, nulls last, after --having; alerts only on the rows kept" {
	ev '{"ts":"2026-11-01T10:00:00Z","k":"b","p":5}' '{"ts":"2026-11-01T10:01:00Z","k":"a","p":5}' \
	   '{"ts":"2026-11-01T10:02:00Z","k":"c","p":9}' '{"ts":"2026-11-01T10:03:00Z","k":"d"}' \
	   '{"ts":"2026-11-01T10:04:00Z","k":"e","p":1}' '{"ts":"2026-11-01T11:00:00Z","k":"a","p":2}'
	run -0 sales -w 1h -b k -m 's=max(p)' --top 3 --order-by s --desc --alert 's > 4' -q
	is "$(jq -c '[.alert // "", .k, .s]' <<< "$output")" '["","c",9]
["rule","c",9]
["","a",5]
["rule","a",5]
["","b",5]
["rule","b",5]
["","a",2]'
	run -0 sales -w 1h -b k -m 's=max(p)' --top 2 --order-by s
	is "$(jq -c '[.k, .s]' <<< "$output")" '["e",1]
["a",5]
["a",2]'
	run -0 sales -w 1h -b k -m 's=max(p)' --top 9 --order-by s --having 's != 5'
	is "$(jq -c '[.k, .s]' <<< "$output")" '["e",1]
["c",9]
["d",null]
["a",2]'
}

@test "--merge: derived metrics, --having and --top apply to the merged rows" {
	ecs-gen --events 4000 --seed 5 > "$BATS_TEST_TMPDIR/g"
	m=(-w 1h -b category -m 'n=count()' -m 'sales=sum(price)')
	head -2000 "$BATS_TEST_TMPDIR/g" | ecs-sales "${m[@]}" -m 'aov=sales/n' --partial > "$BATS_TEST_TMPDIR/p"
	tail -n +2001 "$BATS_TEST_TMPDIR/g" | ecs-sales "${m[@]}" --partial >> "$BATS_TEST_TMPDIR/p"
	ecs-sales "${m[@]}" -m 'aov=sales/n' --having 'n > 3' --top 2 --order-by aov --desc --merge "$BATS_TEST_TMPDIR/p" |
	    sort > "$BATS_TEST_TMPDIR/merged"
	ecs-sales "${m[@]}" -m 'aov=sales/n' --having 'n > 3' --top 2 --order-by aov --desc "$BATS_TEST_TMPDIR/g" |
	    sort > "$BATS_TEST_TMPDIR/whole"
	(( $(wc -l < "$BATS_TEST_TMPDIR/whole") > 10 ))
	run diff "$BATS_TEST_TMPDIR/merged" "$BATS_TEST_TMPDIR/whole"
	is "$output" ""
}

# The differential suite: cases over generated events, each an ecs-sales
# command and the DuckDB query that means the same, all run in one
# DuckDB session; both sides as tab-separated lines "case, window, keys,
# metrics", numbers exact (exact_numbers), sorted.
KEYS=(action category action,category product_id)
# Metric sets: the -m options, the DuckDB select list, the names.
MOPTS=("-m n=count() -m sales=sum(price) -m aov=sales/n"
	"-m users=distinct(user_id) -m sales=sum(price) -m per_user=sales/users"
	"-m hi=max(price) -m lo=min(price) -m spread=hi-lo -m mid=(hi+lo)/2"
	"-m n=count() -m users=distinct(user_id) -m rate=users*100/n")
MSQL=("count(*) AS n, sum(price) AS sales, round(sales / n, 6) AS aov"
	"count(DISTINCT user_id) AS users, sum(price) AS sales, round(sales / users, 6) AS per_user"
	"max(price) AS hi, min(price) AS lo, hi - lo AS spread, round((hi + lo) / 2, 6) AS mid"
	"count(*) AS n, count(DISTINCT user_id) AS users, round(users * 100 / n, 6) AS rate")
MNAMES=("n sales aov" "users sales per_user" "hi lo spread mid" "n users rate")
HAVING=("n >= 3" "per_user > 150" "hi > 100" "rate < 100")

# case I: writes the case's ecs-sales lines to ecs and its query to sql.
differential_case() {
	local i=$1 w len keys m names having="" top="" k sel tmpl order sql
	w=$([[ $((i / 16 % 2)) == 0 ]] && echo 1h || echo 1d)
	len=$([[ $w == 1h ]] && echo 13 || echo 10)
	keys=${KEYS[$((i / 4 % 4))]}
	m=$((i % 4))
	read -ra names <<< "${MNAMES[$m]}"
	local args=(-w "$w" -b "$keys")
	read -ra mo <<< "${MOPTS[$m]}"
	args+=("${mo[@]}")
	sel="left(ts, $len) AS b, ${keys}, ${MSQL[$m]}"
	tmpl="$i\t{window_start}"
	for k in ${keys//,/ } "${names[@]}"; do tmpl+="\t{$k}"; done
	sql="SELECT concat_ws(chr(9), '$i', b"
	for k in ${keys//,/ } "${names[@]}"; do sql+=", coalesce($k::VARCHAR, 'null')"; done
	sql+=") AS line FROM (SELECT $sel FROM g GROUP BY b, $keys"
	if (( i % 3 != 2 )); then
		args+=(--having "${HAVING[$m]}")
		sql+=" HAVING ${HAVING[$m]}"
	fi
	if (( i % 3 != 1 )); then
		order=${names[$(( (i / 3) % ${#names[@]} ))]}
		local n=$(( 1 + i % 5 ))
		args+=(--top "$n" --order-by "$order")
		local dir=ASC
		if (( i % 2 == 0 )); then args+=(--desc); dir=DESC; fi
		sql+=" QUALIFY row_number() OVER (PARTITION BY b ORDER BY $order $dir NULLS LAST"
		for k in ${keys//,/ }; do sql+=", $k::VARCHAR"; done
		sql+=") <= $n"
	fi
	sql+=")"
	(( i == 0 )) || echo "UNION ALL" >> "$BATS_TEST_TMPDIR/sql"
	echo "$sql" >> "$BATS_TEST_TMPDIR/sql"
	ecs-sales "${args[@]}" "$BATS_TEST_TMPDIR/g" |
	    ecs-filter -t "$tmpl" true | awk -F '\t' -v OFS='\t' -v n="$len" '{ $2 = substr($2, 1, n); print }' >> "$BATS_TEST_TMPDIR/ecs"
}

@test "differential: 40 generated cases of windows, keys, derived metrics, --having and --top equal DuckDB's" {
	need_duckdb
	ecs-gen --events 20000 --seed 32 > "$BATS_TEST_TMPDIR/g"
	echo "WITH g AS (SELECT * FROM read_json('$BATS_TEST_TMPDIR/g', format='newline_delimited',
	    columns={ts: 'VARCHAR', action: 'VARCHAR', category: 'VARCHAR', product_id: 'BIGINT',
	    user_id: 'BIGINT', price: 'DECIMAL(18,2)'}))" > "$BATS_TEST_TMPDIR/sql"
	: > "$BATS_TEST_TMPDIR/ecs"
	for i in $(seq 0 39); do differential_case "$i"; done
	exact_numbers < "$BATS_TEST_TMPDIR/ecs" | sort > "$BATS_TEST_TMPDIR/ours"
	duckdb_sql "$(cat "$BATS_TEST_TMPDIR/sql")" | jq -r .line | exact_numbers | sort > "$BATS_TEST_TMPDIR/duck"
	# Every case has rows, and every case its own.
	is "$(cut -f1 "$BATS_TEST_TMPDIR/ours" | sort -un | wc -l)" 40 "cases with rows"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ours") > 500 ))
	run bash -c "diff '$BATS_TEST_TMPDIR/ours' '$BATS_TEST_TMPDIR/duck' | head -40"
	is "$output" ""
}

@test "UCI orders: average order value per country per day, with --having, as DuckDB's" {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	ecs-sales -w 1d -b country -m 'orders=distinct(order_id)' -m 'sales=sum(amount)' -m 'aov=sales/orders' \
	    --having 'orders >= 2' "$data" |
	    ecs-filter -t '{window_start}\t{country}\t{orders}\t{sales}\t{aov}' true | cut -c1-10,21- |
	    exact_numbers | sort > "$BATS_TEST_TMPDIR/ours"
	duckdb_sql "SELECT concat_ws(chr(9), left(ts, 10), country, count(DISTINCT order_id),
	        sum(amount), round(sum(amount) / count(DISTINCT order_id), 6)) AS line
	    FROM read_json('$data', format='newline_delimited',
	        columns={ts: 'VARCHAR', country: 'VARCHAR', order_id: 'VARCHAR', amount: 'DECIMAL(18,4)'})
	    GROUP BY left(ts, 10), country HAVING count(DISTINCT order_id) >= 2" |
	    jq -r .line | exact_numbers | sort > "$BATS_TEST_TMPDIR/duck"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ours") > 800 ))
	run diff "$BATS_TEST_TMPDIR/ours" "$BATS_TEST_TMPDIR/duck"
	is "$output" ""
}

@test "UCI orders: the 10 best-selling products per day, exactly as DuckDB's QUALIFY" {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	ecs-sales -w 1d -b product_id -m 'units=sum(quantity)' --where 'not cancelled' \
	    --top 10 --order-by units --desc "$data" |
	    ecs-filter -t '{window_start}\t{product_id}\t{units}' true | cut -c1-10,21- > "$BATS_TEST_TMPDIR/ours"
	duckdb_sql "SELECT concat_ws(chr(9), left(ts, 10), product_id, sum(quantity)) AS line
	    FROM read_json('$data', format='newline_delimited',
	        columns={ts: 'VARCHAR', product_id: 'VARCHAR', quantity: 'BIGINT', cancelled: 'BOOLEAN'})
	    WHERE NOT cancelled GROUP BY left(ts, 10), product_id
	    QUALIFY row_number() OVER (PARTITION BY left(ts, 10) ORDER BY sum(quantity) DESC, product_id) <= 10
	    ORDER BY left(ts, 10), sum(quantity) DESC, product_id" |
	    jq -r .line > "$BATS_TEST_TMPDIR/duck"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ours") > 3000 ))
	# In the same order too: the best first, ties by product id.
	run diff "$BATS_TEST_TMPDIR/ours" "$BATS_TEST_TMPDIR/duck"
	is "$output" ""
}

# Shares of a window's total: -m 'share=sales/total(sales)' is SQL's
# sum(x) / sum(sum(x)) OVER (PARTITION BY window), rounded as derived
# metrics are, over the rows --having keeps.

@test "a share of the window's total: exact, over the rows --having keeps, null when the total is 0" {
	ev '{"ts":"2026-01-01T00:00:00Z","k":"a","p":1}' '{"ts":"2026-01-01T00:01:00Z","k":"b","p":3}' \
	   '{"ts":"2026-01-01T00:02:00Z","k":"c","p":0.5}' '{"ts":"2026-01-01T01:00:00Z","k":"a","p":2}' \
	   '{"ts":"2026-01-01T01:00:00Z","k":"b"}' '{"ts":"2026-01-01T02:00:00Z","k":"a"}'
	run -0 --separate-stderr sales -w 1h -b k -m 's=sum(p)' -m 'share=s/total(s)' -m 'pct=round(share * 100, 1)'
	is "$(jq -c '[.k, .s, .share, .pct]' <<< "$output")" '["a",1,0.222222,22.2]
["b",3,0.666667,66.7]
["c",0.5,0.111111,11.1]
["a",2,1,100]
["b",0,0,0]
["a",0,null,null]'
	is "$stderr" ""
	run -0 sales -w 1h -b k -m 's=sum(p)' -m 'share=s / total( s )' --having 's >= 1'
	is "$(jq -c '[.k, .share]' <<< "$output" | head -3)" '["a",0.25]
["b",0.75]
["a",1]'
	run -0 sales -w 1h -b k -m 's=sum(p)' -m 'share=s/total(s)' --top 1 --order-by share
	is "$(jq -c '[.k, .share]' <<< "$output")" '["c",0.111111]
["b",0]
["a",null]'
}

@test "total(NAME): usage errors" {
	ev '{"p":1}'
	run -2 --separate-stderr sales -m 's=sum(p)' -m 'a=s/total(x)'
	is "$stderr" "ecs-sales: --metric 'total(x)': not an aggregate metric given with -m"
	run -2 --separate-stderr sales -m 's=sum(p)' -m 'a=s*2' -m 'b=s/total(a)'
	is "$stderr" "ecs-sales: --metric 'total(a)': not an aggregate metric given with -m"
	run -2 --separate-stderr sales -m 's=sum(p)' -m 'a=s/total()'
	is "$stderr" "ecs-sales: --metric 'a=s/total()': total(NAME) takes the name of a metric"
	run -2 --separate-stderr sales -m 's=sum(p)' -m 'a=s/total(s+1)'
	is "$stderr" "ecs-sales: --metric 'a=s/total(s+1)': total(NAME) takes the name of a metric"
	run -2 --separate-stderr sales -m 's=top(p, 3)' -m 'a=1/total(s)'
	is "$stderr" "ecs-sales: --metric total(s): not a metric of numbers"
	for o in "--emit update" "--corrections 1h" "--partial"; do
		run -2 --separate-stderr sales -w 1h -m 's=sum(p)' -m 'a=s/total(s)' $o
		is "$stderr" "ecs-sales: --metric total(s): known when the window closes, so not with --emit update, --corrections or --partial"
	done
	run -2 --separate-stderr sales -m 's=sum(p)' -m 'a=s/total(s)' -m 'b=a*2' --having 'b > 0.1'
	is "$stderr" "ecs-sales: --having cannot read a total(NAME): the totals are over the rows it keeps"
	# A key named total, and "total(s)" in a string, are no totals.
	ev '{"total":4,"p":1}'
	run -0 sales -m 's=sum(p)' -m 't=max(total)' -m 'a=t*s' -m 'b=length("total(s)")'
	is "$output" '{"s":1,"t":4,"a":4,"b":8}'
}

@test "generated events: each category's share of the hour's sales, with and without --having, as DuckDB's window sum" {
	need_duckdb
	ecs-gen --events 20000 --seed 5 > "$IN"
	for having in "" "sales > 4000"; do
		ecs-sales -w 1h -b category -m 'sales=sum(price)' -m 'share=sales/total(sales)' \
		    ${having:+--having "$having"} "$IN" |
		    ecs-filter -t '{window_start}\t{category}\t{sales}\t{share}' true | cut -c1-13,21- |
		    exact_numbers | sort > "$BATS_TEST_TMPDIR/ours"
		duckdb_sql "SELECT concat_ws(chr(9), left(ts, 13), category, sum(price),
		        round(sum(price) / sum(sum(price)) OVER (PARTITION BY left(ts, 13)), 6)::DECIMAL(18,6)) AS line
		    FROM read_json('$IN', format='newline_delimited',
		        columns={ts: 'VARCHAR', category: 'VARCHAR', price: 'DECIMAL(18,2)'})
		    GROUP BY left(ts, 13), category ${having:+HAVING sum(price) > 4000}" |
		    jq -r .line | exact_numbers | sort > "$BATS_TEST_TMPDIR/duck"
		(( $(wc -l < "$BATS_TEST_TMPDIR/ours") > 100 ))
		run diff "$BATS_TEST_TMPDIR/ours" "$BATS_TEST_TMPDIR/duck"
		is "$output" ""
	done
}

@test "UCI orders: each country's share of the day's sales, as DuckDB's sum(sum(amount)) OVER (PARTITION BY day)" {
	shared_data uci-online-retail/orders.ndjson.gz
	need_duckdb
	ecs-sales -w 1d -b country -m 'sales=sum(amount)' -m 'share=sales/total(sales)' "$data" |
	    ecs-filter -t '{window_start}\t{country}\t{sales}\t{share}' true | cut -c1-10,21- |
	    exact_numbers | sort > "$BATS_TEST_TMPDIR/ours"
	duckdb_sql "SELECT concat_ws(chr(9), left(ts, 10), country, sum(amount),
	        round(sum(amount) / sum(sum(amount)) OVER (PARTITION BY left(ts, 10)), 6)::DECIMAL(18,6)) AS line
	    FROM read_json('$data', format='newline_delimited',
	        columns={ts: 'VARCHAR', country: 'VARCHAR', amount: 'DECIMAL(18,4)'})
	    GROUP BY left(ts, 10), country" |
	    jq -r .line | exact_numbers | sort > "$BATS_TEST_TMPDIR/duck"
	(( $(wc -l < "$BATS_TEST_TMPDIR/ours") > 1000 ))
	run diff "$BATS_TEST_TMPDIR/ours" "$BATS_TEST_TMPDIR/duck"
	is "$output" ""
}

@test "--merge computes the shares on the merged rows" {
	ecs-gen --events 20000 --seed 5 > "$IN"
	head -n 10500 "$IN" > "$BATS_TEST_TMPDIR/a"
	tail -n +10501 "$IN" > "$BATS_TEST_TMPDIR/b"
	for f in a b; do
		ecs-sales --partial -w 1h -b category -m 'sales=sum(price)' "$BATS_TEST_TMPDIR/$f"
	done | ecs-sales --merge -w 1h -b category -m 'sales=sum(price)' -m 'share=sales/total(sales)' |
	    sort > "$BATS_TEST_TMPDIR/merged"
	sales -w 1h -b category -m 'sales=sum(price)' -m 'share=sales/total(sales)' | sort > "$BATS_TEST_TMPDIR/one"
	(( $(grep -c '"share":0\.0' "$BATS_TEST_TMPDIR/one") > 200 ))
	run diff "$BATS_TEST_TMPDIR/merged" "$BATS_TEST_TMPDIR/one"
	is "$output" ""
}
