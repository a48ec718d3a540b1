#include "package/package.h"
#include "base/werr.h"
#include <stdlib.h>
struct pkg *pkg_load_memory(const char *name, const void *xml, size_t len, struct werr *err) { werr_set(err, WERR_INTERNAL, "not built yet"); return NULL; }
struct pkg *pkg_load_file(const char *path, struct werr *err) { werr_set(err, WERR_INTERNAL, "not built yet"); return NULL; }
void pkg_free(struct pkg *p) {}
int pkg_validate(const struct pkg *p, struct wbuf *problems) { return 0; }
