/*
 * SQLite backend: folders, projects, versions and their files.
 *
 * A deployment is one transaction: the folder and project are created if
 * missing, the version number is the project's highest plus one, and each
 * file's content goes into `blobs` only if no file with the same SHA-256 is
 * stored yet, so redeploying a project with one changed file stores one new
 * blob.
 */
#include "catalog/cat_sqlite_int.h"

#include "base/banned.h"
#include "base/wbuf.h"

/* The id of the row `name` finds with `get`, inserted with `add` (binding
 * parent, name, now, or name, now when parent is 0) when missing. */
static int
get_or_add(struct cat_sqlite *s, enum sq_id get, enum sq_id add,
           int64_t parent, const char *name, int64_t now, int64_t *id,
           struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, get, err);
    int rc, i = 1;

    if (!st)
        return -1;
    if (parent)
        sq_bind_int(st, i++, parent);
    sq_bind_text(st, i, name);
    rc = sq_row(s, st, err);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        *id = sqlite3_column_int64(st, 0);
        sq_reset(st);
        return 0;
    }
    if (!(st = sq_stmt(s, add, err)))
        return -1;
    i = 1;
    if (parent)
        sq_bind_int(st, i++, parent);
    sq_bind_text(st, i++, name);
    sq_bind_int(st, i, now);
    if (sq_done(s, st, err) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int
add_version(struct cat_sqlite *s, int64_t project_id, int64_t now,
            int64_t *version_id, int64_t *version, struct werr *err)
{
    sqlite3_stmt *st;

    if (sq_int_query(s, SQ_VERSION_NEXT, project_id, 1, version, err) < 0 ||
        !(st = sq_stmt(s, SQ_VERSION_ADD, err)))
        return -1;
    sq_bind_int(st, 1, project_id);
    sq_bind_int(st, 2, *version);
    sq_bind_int(st, 3, now);
    if (sq_done(s, st, err) < 0)
        return -1;
    *version_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* Stores the content of `f` unless a blob with its hash exists. */
static int
add_blob(struct cat_sqlite *s, const struct cat_file_hashed *f,
         struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_BLOB_HAS, err);
    int rc;

    if (!st)
        return -1;
    sq_bind_text(st, 1, f->sha256);
    rc = sq_row(s, st, err);
    if (rc != 0) {
        if (rc > 0)
            sq_reset(st);
        return rc > 0 ? 0 : -1;
    }
    if (!(st = sq_stmt(s, SQ_BLOB_ADD, err)))
        return -1;
    sq_bind_text(st, 1, f->sha256);
    sq_bind_int(st, 2, (int64_t)f->file->len);
    if (f->file->len == 0)
        rc = sqlite3_bind_zeroblob(st, 3, 0);
    else
        rc = sqlite3_bind_blob64(st, 3, f->file->data, f->file->len,
                                 SQLITE_STATIC);
    if (rc == SQLITE_TOOBIG)
        return werr_set(err, WERR_LIMIT, "file '%s' (%zu bytes) is too "
                        "large for the catalog", f->file->path,
                        f->file->len);
    return sq_done(s, st, err);
}

static int
add_file(struct cat_sqlite *s, int64_t version_id,
         const struct cat_file_hashed *f, struct werr *err)
{
    sqlite3_stmt *st;

    if (add_blob(s, f, err) < 0 || !(st = sq_stmt(s, SQ_FILE_ADD, err)))
        return -1;
    sq_bind_int(st, 1, version_id);
    sq_bind_text(st, 2, f->file->path);
    sq_bind_text(st, 3, f->sha256);
    sq_bind_int(st, 4, f->file->is_package);
    return sq_done(s, st, err);
}

static int
deploy_tx(struct cat_sqlite *s, const char *folder, const char *project,
          const struct cat_file_hashed *files, size_t nfiles, int64_t now,
          int64_t *version, struct werr *err)
{
    int64_t folder_id, project_id, version_id;

    if (get_or_add(s, SQ_FOLDER_ID, SQ_FOLDER_ADD, 0, folder, now,
                   &folder_id, err) < 0 ||
        get_or_add(s, SQ_PROJECT_ID, SQ_PROJECT_ADD, folder_id, project, now,
                   &project_id, err) < 0 ||
        add_version(s, project_id, now, &version_id, version, err) < 0)
        return -1;
    for (size_t i = 0; i < nfiles; i++)
        if (add_file(s, version_id, &files[i], err) < 0)
            return -1;
    return 0;
}

int
cat_sqlite_deploy(struct cat *c, const char *folder, const char *project,
                  const struct cat_file_hashed *files, size_t nfiles,
                  int64_t now, int64_t *version, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    int64_t v = 0;

    if (sq_begin(s, err) < 0)
        return -1;
    if (deploy_tx(s, folder, project, files, nfiles, now, &v, err) < 0)
        return sq_rollback(s);
    if (sq_commit(s, err) < 0)
        return -1;
    if (version)
        *version = v;
    return 0;
}

json_t *
cat_sqlite_folder_list(struct cat *c, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_FOLDER_LIST, err);
    json_t *arr, *obj;
    int rc;

    if (!st)
        return NULL;
    obj = sq_list_object("folders", &arr);
    while ((rc = sq_row(s, st, err)) > 0)
        sq_push(arr, json_pack("{s:o,s:o}", "name", sq_col_str(st, 0),
                               "created_ms", sq_col_int(st, 1)));
    if (rc < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *
cat_sqlite_project_list(struct cat *c, struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_PROJECT_LIST, err);
    json_t *arr, *obj;
    int rc;

    if (!st)
        return NULL;
    obj = sq_list_object("projects", &arr);
    while ((rc = sq_row(s, st, err)) > 0)
        sq_push(arr, json_pack("{s:o,s:o,s:o,s:o}",
                               "folder", sq_col_str(st, 0),
                               "name", sq_col_str(st, 1),
                               "version", sq_col_int(st, 2),
                               "deployed_ms", sq_col_int(st, 3)));
    if (rc < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *
cat_sqlite_version_files(struct cat_sqlite *s, int64_t version_id,
                         json_t **packages, struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_VERSION_FILES, err);
    json_t *files;
    int rc;

    if (!st)
        return NULL;
    files = json_array();
    if (packages)
        *packages = json_array();
    sq_bind_int(st, 1, version_id);
    while ((rc = sq_row(s, st, err)) > 0) {
        sq_push(files, json_pack("{s:o,s:o,s:o}", "path", sq_col_str(st, 0),
                                 "hash", sq_col_str(st, 1),
                                 "size", sq_col_int(st, 2)));
        if (packages && sqlite3_column_int(st, 3))
            sq_push(*packages, json_pack("{s:o,s:o}",
                                         "name", sq_col_str(st, 0),
                                         "hash", sq_col_str(st, 1)));
    }
    if (rc < 0) {
        json_decref(files);
        if (packages) {
            json_decref(*packages);
            *packages = NULL;
        }
        return NULL;
    }
    return files;
}

static json_t *
project_get_tx(struct cat_sqlite *s, const char *folder, const char *project,
               struct werr *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_VERSION_CURRENT, err);
    json_t *obj, *files, *packages;
    int64_t version_id;
    int rc;

    if (!st)
        return NULL;
    sq_bind_text(st, 1, folder);
    sq_bind_text(st, 2, project);
    if ((rc = sq_row(s, st, err)) <= 0) {
        if (rc == 0)
            werr_set(err, WERR_NOTFOUND, "no project '%s/%s'", folder,
                     project);
        return NULL;
    }
    version_id = sqlite3_column_int64(st, 0);
    obj = json_pack("{s:s,s:s,s:o,s:o}", "folder", folder, "name", project,
                    "version", sq_col_int(st, 1),
                    "deployed_ms", sq_col_int(st, 2));
    sq_reset(st);
    files = cat_sqlite_version_files(s, version_id, &packages, err);
    if (!files) {
        json_decref(obj);
        return NULL;
    }
    json_object_set_new(obj, "packages", packages);
    json_object_set_new(obj, "files", files);
    return obj;
}

json_t *
cat_sqlite_project_get(struct cat *c, const char *folder, const char *project,
                       struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    json_t *obj;

    if (sq_begin_read(s, err) < 0)
        return NULL;
    obj = project_get_tx(s, folder, project, err);
    if (!obj) {
        sq_rollback(s);
        return NULL;
    }
    if (sq_commit(s, err) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int
cat_sqlite_blob_get(struct cat *c, const char *hash, struct wbuf *out,
                    struct werr *err)
{
    struct cat_sqlite *s = sq_of(c);
    sqlite3_stmt *st = sq_stmt(s, SQ_BLOB_GET, err);
    const void *p;
    int rc;
    size_t n;

    if (!st)
        return -1;
    sq_bind_text(st, 1, hash);
    if ((rc = sq_row(s, st, err)) <= 0)
        return rc == 0 ? werr_set(err, WERR_NOTFOUND, "no content with "
                                  "hash '%s'", hash) : -1;
    p = sqlite3_column_blob(st, 0);
    n = (size_t)sqlite3_column_bytes(st, 0);
    rc = n ? wbuf_add(out, p, n, err) : 0;
    sq_reset(st);
    return rc;
}
