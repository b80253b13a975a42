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

int
getopt_long(int argc, char *const argv[], const char *optstring,
    const struct option *longopts, int *longindex)
{
	const struct option *o;

	(void)argc;
	(void)argv;
	(void)longindex;
	printf("short %s\n", optstring);
	for (o = longopts; o != NULL && o->name != NULL; o++)
		printf("long %s %d %d\n", o->name, o->has_arg, o->val);
	fflush(stdout);
	_exit(ferror(stdout) ? 1 : 0);
}
