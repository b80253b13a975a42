/* SPDX-License-Identifier: ISC */
/*
 * fuzz-reader -- the line reader and the bad-line machinery on hostile
 * bytes: any input, with a small --max-line so that long lines, lines cut
 * at buffer ends, CRLF, NULs and missing newlines all come up; every line
 * is parsed and its fields read. Nothing may crash or leak.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ecs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "user_id", "action", "ts" };
	struct ecs_fieldset fs;
	struct ecs_field f[3];
	struct ecs_reader rd;
	char path[64], *files[1] = { path };
	int fd = memfd_create("input", 0);

	if (fd == -1 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ecs_config.quiet = true;
	ecs_config.max_line = 100;
	ecs_fields_init(&fs, names, 3);
	ecs_reader_init(&rd, files, 1);
	while (ecs_reader_line(&rd))
		(void)ecs_fields_read(&fs, &rd, f);
	ecs_fields_finish(&fs);
	(void)ecs_reader_finish(&rd);
	close(fd);
	return 0;
}
