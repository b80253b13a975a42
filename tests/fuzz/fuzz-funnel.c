/* SPDX-License-Identifier: ISC */
/*
 * fuzz-funnel -- ecs-funnel's record step on hostile streams: the first
 * byte picks the modes (any combination), windows, a breakdown and
 * --per-key, the second --emit update, --same and --partial; the rest is
 * the input, read through the reader as the
 * program reads it, with steps that overlap (a record may match two), so
 * that ties, reentries, deduplication, strict_once's chains, late and
 * unordered events all come up. Nothing may crash, leak or trip UBSan.
 */
#include <sys/mman.h>

#define main ecs_funnel_main
#include "../../tools/ecs-funnel.c"
#undef main

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	static __typeof__(opt) opt0;
	static __typeof__(run) run0;
	char path[64], modes[128] = "", *argv[32];
	struct ecs_field *f;
	struct ecs_reader rd;
	unsigned pick, more;
	size_t i;
	int argc = 0, first, fd;

	if (!started) {
		/* Output goes nowhere: the step is under test, not the pipe. */
		if ((fd = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1)
			abort();
		close(fd);
		opt0 = opt;
		run0 = run;
		started = true;
	}
	if (size < 2)
		return 0;
	pick = data[0];
	more = data[1];
	for (i = 0; i < NMODES; i++)
		if (pick & (1u << i) || (i == 1 && (pick & 16))) {
			strcat(modes, modes[0] != '\0' ? "," : "");
			strcat(modes, mode_names[i]);
		}
	if ((fd = memfd_create("input", 0)) == -1 ||
	    write(fd, data + 2, size - 2) != (ssize_t)(size - 2))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	argv[argc++] = "ecs-funnel";
	argv[argc++] = "-q";
	argv[argc++] = "-s";
	argv[argc++] = "view=action == \"browse\"";
	argv[argc++] = "-s";
	argv[argc++] = "cart=action == \"add_to_cart\" or quantity > 1";
	argv[argc++] = "-s";
	argv[argc++] = "buy=action == \"purchase\" or quantity > 2";
	argv[argc++] = "--within";
	argv[argc++] = "10s";
	argv[argc++] = "--exclude";
	argv[argc++] = "price > 100";
	if (modes[0] != '\0') {
		argv[argc++] = "-m";
		argv[argc++] = modes;
	}
	if (pick & 32) {
		argv[argc++] = "-w";
		argv[argc++] = "5s";
		argv[argc++] = "--lateness";
		argv[argc++] = "2s";
	}
	if (pick & 64) {
		argv[argc++] = "-b";
		argv[argc++] = "category,p=product_id % 2";
	}
	if (pick & 128)
		argv[argc++] = "--per-key";
	if (more & 1) {
		argv[argc++] = "--emit";
		argv[argc++] = "update";
	}
	if ((more & 2) && (!(more & 1) || (pick & 128))) {
		argv[argc++] = "--same";
		argv[argc++] = "product_id";
	}
	if ((more & 4) && !(more & 1) && !(pick & 128))
		argv[argc++] = "--partial";
	argv[argc++] = path;
	argv[argc] = NULL;

	opt = opt0;
	run = run0;
	optind = 0;			/* glibc: start getopt afresh */
	parse_options(argc, argv, &first);
	setup();
	f = ecs_xcalloc(run.fields.n, sizeof(*f));
	ecs_reader_init(&rd, argv + first, argc - first);
	while (ecs_reader_line(&rd))
		if (ecs_fields_read(&run.fields, &rd, f))
			process(&rd, f);
	close_windows(INT64_MAX);
	ecs_out_flush();
	(void)ecs_reader_finish(&rd);
	free(f);
	free_all();
	close(fd);
	return 0;
}
