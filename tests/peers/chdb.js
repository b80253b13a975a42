'use strict';
// tests/peers/chdb.js SQL -- run one query in chDB (ClickHouse embedded in
// the process) and print each row as a JSON object on its own line, as
// ClickHouse's JSONEachRow writes it (64-bit integers quoted unless the
// query says otherwise). The tests compare ecs-funnel with windowFunnel
// here; it runs with the package scripts/bootstrap installed into
// ${XDG_CACHE_HOME:-$HOME/.cache}/ecs/npm, or ECS_CHDB_API.
const path = require('path');
const os = require('os');

const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
const api = process.env.ECS_CHDB_API ||
	path.join(cache, 'ecs', 'npm', 'node_modules', 'chdb');

function main(sql) {
	const { query } = require(api);
	if (sql === '--version')
		sql = 'SELECT version() AS version';
	// One thread: the answer does not depend on it, the machine is shared.
	const out = query(`SET max_threads = 1; ${sql}`, 'JSONEachRow');
	if (sql.startsWith('SELECT version()'))
		process.stdout.write(`${JSON.parse(out).version}\n`);
	else
		process.stdout.write(out);
}

try {
	main(process.argv[2]);
} catch (e) {
	process.stderr.write(`chdb.js: ${e.message}\n`);
	process.exit(1);
}
