'use strict';
// tests/peers/duckdb.js SQL -- run one query in an in-memory DuckDB and print
// each row as a JSON object on its own line (keys in column order, DECIMAL and
// BIGINT as their exact text, timestamps as DuckDB writes them). The tests
// compare ecs with it; it runs with the package scripts/bootstrap installed
// into ${XDG_CACHE_HOME:-$HOME/.cache}/ecs/npm, or ECS_DUCKDB_API.
const path = require('path');
const os = require('os');

const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
const api = process.env.ECS_DUCKDB_API ||
	path.join(cache, 'ecs', 'npm', 'node_modules', '@duckdb', 'node-api');

function text(v) {
	if (v === null || v === undefined)
		return null;
	if (typeof v === 'bigint')
		return v.toString();
	if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string')
		return v;
	if (Array.isArray(v))
		return v.map(text);
	if (typeof v.toString === 'function' && v.constructor && v.constructor.name !== 'Object')
		return v.toString();
	const o = {};
	for (const k of Object.keys(v))
		o[k] = text(v[k]);
	return o;
}

async function main(sql) {
	const { DuckDBInstance } = require(api);
	const instance = await DuckDBInstance.create(':memory:');
	const con = await instance.connect();
	if (sql === '--version') {
		const v = await con.runAndReadAll('SELECT version()');
		process.stdout.write(`${v.getRows()[0][0]}\n`);
		return;
	}
	const reader = await con.runAndReadAll(sql);
	const names = reader.columnNames();
	let out = '';
	for (const row of reader.getRows()) {
		const o = {};
		names.forEach((n, i) => { o[n] = text(row[i]); });
		out += JSON.stringify(o) + '\n';
	}
	process.stdout.write(out);
}

main(process.argv[2]).catch((e) => {
	process.stderr.write(`duckdb.js: ${e.message}\n`);
	process.exit(1);
});
