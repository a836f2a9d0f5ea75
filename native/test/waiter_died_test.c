/*
 * Test-only (not installed): the waiter's sandbox_process_died() (waiter_end.c) on a run
 * directory the test prepares: prints "died" or "not" (WaiterDiedTest).
 */
#define _GNU_SOURCE
#include "../waiter.h"
#include <stdio.h>

double now(void)
{
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	puts(sandbox_process_died(argv[1]) ? "died" : "not");
	return 0;
}
