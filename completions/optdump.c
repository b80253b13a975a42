/*
 * optdump.so, preloaded (LD_PRELOAD) into an ecs program by gen-completion:
 * the program's first call of getopt_long prints the option table it was
 * given and exits, so the completions are made from the very table the
 * program parses its options with and cannot drift from it. Prints
 *	short OPTSTRING
 *	long NAME HAS_ARG VAL		(one line per long option)
 * and exits 0 without running the program's atexit handlers.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

static void
dump(const char *optstring, const struct option *longopts)
{
	const struct option *o;

	printf("short %s\n", optstring);
	for (o = longopts; o != NULL && o->name != NULL; o++)
		printf("long %s %d %d\n", o->name, o->has_arg, o->val);
	fflush(stdout);
	_exit(ferror(stdout) ? 1 : 0);
}

int
getopt_long(int argc, char *const argv[], const char *optstring,
    const struct option *longopts, int *longindex)
{
	(void)argc;
	(void)argv;
	(void)longindex;
	dump(optstring, longopts);
	return -1;
}

/* A program that parses with these instead is read the same way. */
int
getopt_long_only(int argc, char *const argv[], const char *optstring,
    const struct option *longopts, int *longindex)
{
	return getopt_long(argc, argv, optstring, longopts, longindex);
}

int
getopt(int argc, char *const argv[], const char *optstring)
{
	(void)argc;
	(void)argv;
	dump(optstring, NULL);
	return -1;
}
