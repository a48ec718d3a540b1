/* The package runtime: runs a loaded package's control flow. */
#ifndef WEIR_RUNTIME_H
#define WEIR_RUNTIME_H

/* `weir exec [options] PACKAGE.dtsx`; returns dtexec's exit codes (0
 * success, 1 failure, 3 canceled, 4 not found, 5 load error, 6 usage). */
int rt_exec_main(int argc, char **argv);

#endif
