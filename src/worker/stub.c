#include "worker/worker.h"
#include <stdio.h>
int wk_main(int argc, char **argv, const char *self) { fprintf(stderr, "not built yet\n"); return 10; }
