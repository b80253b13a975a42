/* SPDX-License-Identifier: ISC */
/*
 * fuzz-gzip -- gzip input, which the reader inflates as it reads, on
 * hostile bytes. The first byte picks the way, the second a place in the
 * rest (the text):
 *   0: the text is compressed here as two gzip members, split at the
 *      place: the reader must give exactly the lines (and bad lines) it
 *      gives for the text itself;
 *   1: the same, cut short at the place: the lines before the last one
 *      read must be the text's first lines, and the truncation is a bad
 *      input, never a crash or a line made up;
 *   2: the text after gzip's magic bytes: any corrupt stream.
 * A small --max-line makes long lines and lines cut at buffer ends come
 * up in both. Nothing may crash or leak.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "ecs.h"
#include "ecs_buf.h"

/* The lines read: each one's length, then its bytes. */
struct lines {
	struct ecs_buf	 b;
	size_t		 n;
	unsigned long long nbad;
	int		 status;
};

static int
file_of(const void *p, size_t len, char path[static 64])
{
	int fd = memfd_create("input", 0);

	if (fd == -1 || write(fd, p, len) != (ssize_t)len)
		abort();
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

static void
read_lines(const void *p, size_t len, struct lines *out)
{
	struct ecs_reader rd;
	char path[64], *files[1] = { path };
	int fd = file_of(p, len, path);

	memset(out, 0, sizeof(*out));
	ecs_reader_init(&rd, files, 1);
	while (ecs_reader_line(&rd)) {
		ecs_buf_add(&out->b, &rd.len, sizeof(rd.len));
		ecs_buf_add(&out->b, rd.line, rd.len);
		out->n++;
	}
	out->nbad = rd.nbad;
	out->status = ecs_reader_finish(&rd);
	close(fd);
}

/* Appends p[0..len) as one gzip member to out. */
static void
gzip_member(const uint8_t *p, size_t len, struct ecs_buf *out)
{
	z_stream z;
	uLong bound;
	unsigned char *dst;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	bound = deflateBound(&z, (uLong)len) + 32;
	dst = ecs_xmalloc(bound);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	z.next_out = dst;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	ecs_buf_add(out, dst, z.total_out);
	deflateEnd(&z);
	free(dst);
}

/* The bytes of the first n lines of l. */
static size_t
first_lines(const struct lines *l, size_t n)
{
	size_t off = 0, len;

	while (n-- > 0) {
		memcpy(&len, l->b.p + off, sizeof(len));
		off += sizeof(len) + len;
	}
	return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ecs_buf gz = ECS_BUF_INIT;
	struct lines plain, inflated;
	const uint8_t *text = data + 2;
	size_t len = size - 2, at;

	if (size < 2)
		return 0;
	/* A text that starts with gzip's magic is read as gzip itself. */
	if (data[0] % 3 != 2 && size >= 4 && text[0] == 0x1f && text[1] == 0x8b)
		return 0;
	ecs_config.quiet = true;
	ecs_config.max_line = 100;
	at = len > 0 ? data[1] * len / 255 : 0;
	if (data[0] % 3 == 2) {
		ecs_buf_add(&gz, "\x1f\x8b", 2);
		ecs_buf_add(&gz, text, len);
	} else {
		gzip_member(text, at, &gz);
		gzip_member(text + at, len - at, &gz);
	}
	if (data[0] % 3 == 1)	/* cut short, inside the first member */
		gz.len = at * gz.len / (len + 1);
	read_lines(text, len, &plain);
	read_lines(gz.p, gz.len, &inflated);
	if (data[0] % 3 == 0 && (inflated.n != plain.n ||
	    inflated.nbad != plain.nbad || inflated.status != plain.status ||
	    inflated.b.len != plain.b.len || (plain.b.len > 0 &&
	    memcmp(inflated.b.p, plain.b.p, plain.b.len) != 0)))
		abort();
	/* The last line read may be cut short: the others are whole. */
	if (data[0] % 3 == 1 && inflated.n > 1 && (inflated.n - 1 > plain.n ||
	    memcmp(inflated.b.p, plain.b.p,
	    first_lines(&inflated, inflated.n - 1)) != 0))
		abort();
	ecs_buf_free(&plain.b);
	ecs_buf_free(&inflated.b);
	ecs_buf_free(&gz);
	return 0;
}
