/*
 * Test-only (not installed): the waiter's sandbox_process_died() (waiter_end.c) on a run
 * directory the test prepares: prints "died" or "not"; with --destroyed DIR, run_dir_destroyed();
 * with --log-error FILE, log_has_error() ("error" or "none") (WaiterDiedTest).
 */
#define _GNU_SOURCE
#include "../waiter.h"
#include <stdio.h>
#include <string.h>

double now(void)
{
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--destroyed") == 0) { /* run_dir_destroyed() of a directory */
		puts(run_dir_destroyed(argv[2]) ? "destroyed" : "not");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--log-error") == 0) { /* log_has_error() of a runsc --log file */
		puts(log_has_error(argv[2]) ? "error" : "none");
		return 0;
	}
	if (argc != 2)
		return 2;
	puts(sandbox_process_died(argv[1]) ? "died" : "not");
	return 0;
}
