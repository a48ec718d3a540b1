#include "runtime/runtime.h"
#include <stdio.h>
int rt_exec_main(int argc, char **argv) { fprintf(stderr, "not built yet\n"); return 10; }
