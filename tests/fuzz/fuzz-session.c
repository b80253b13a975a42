/* SPDX-License-Identifier: ISC */
/*
 * fuzz-session -- the record step of ecs-session on hostile bytes: each
 * input is a stream read to its end through record(), with a lateness so
 * that late events bridge and merge sessions, a small --max-open so that
 * sessions are closed early, --abandon so that carts are alerted and
 * recovered, --emit update, then every session closed and everything
 * freed. The tool is compiled here with its main renamed. Nothing may
 * crash, trip a sanitizer or leak.
 */
#define main ecs_session_main
#include "../../tools/ecs-session.c"
#undef main

#include <sys/mman.h>

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* The sessions written go nowhere. */
	if (null == -1 || dup2(null, STDOUT_FILENO) == -1)
		abort();
	close(null);
	ecs_config.quiet = true;
	ecs_config.max_line = 4096;
	opt.lateness_ms = 3600000;
	opt.max_duration_ms = 7200000;
	opt.abandon_ms = 600000;
	opt.recover_ms = 86400000;
	opt.max_open = 4;
	opt.emit_update = true;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_fieldset fs;
	struct ecs_field *f;
	struct ecs_path *key;
	struct ecs_reader rd;
	char path[64], *files[1] = { path };
	int fd = memfd_create("input", 0);

	if (fd == -1 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	run_start();
	fields_init(&fs, &key);
	f = ecs_xcalloc(fs.n, sizeof(*f));
	ecs_reader_init(&rd, files, 1);
	while (ecs_reader_line(&rd))
		if (ecs_fields_read(&fs, &rd, f))
			record(&rd, f);
	finish_sessions();
	(void)ecs_reader_finish(&rd);
	ecs_out_flush();
	ecs_fields_finish(&fs);
	ecs_path_free(key);
	free(f);
	free_all();
	close(fd);
	return 0;
}
