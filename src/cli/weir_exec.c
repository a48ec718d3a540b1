/*
 * weir-exec: `weir exec` as a program of its own, for the worker, which
 * starts one per task.  It links only the package runtime (libxml2,
 * jansson), not the master's and the client's libraries, and so starts in
 * about half the time.  `weir-exec exec ARGS` and `weir-exec ARGS` are the
 * same, so it can stand wherever `weir` would be run as `weir exec`.
 */
#include <string.h>

#include "runtime/runtime.h"

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        argv[1] = argv[0];
        return rt_exec_main(argc - 1, argv + 1);
    }
    return rt_exec_main(argc, argv);
}
