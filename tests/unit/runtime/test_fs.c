/* Unit tests for the File System task (task_fs.c) and its file
 * operations (fsops.c): packages run in process in a temporary folder;
 * every test checks the files present afterwards and their content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "runtime/fsops.h"
#include "pkgrun.h"

/* A File System task with FileSystemData attributes ATTRS. */
#define FS(name, attrs)                                                       \
    TASK(name, "Microsoft.FileSystemTask",                                    \
         "<DTS:ObjectData><FileSystemData " attrs                             \
         " /></DTS:ObjectData>")
/* Source and destination from the variables User::Src and User::Dst. */
#define BY_VARS(op, more)                                                     \
    "TaskOperationType=\"" op "\" TaskSourcePath=\"User::Src\" "              \
    "TaskIsSourceVariable=\"True\" TaskDestinationPath=\"User::Dst\" "        \
    "TaskIsDestinationVariable=\"True\" " more
#define PKG_VARS(src, dst, op, more)                                          \
    HEAD("T") VARS(STR_VAR("Src", src) STR_VAR("Dst", dst))                        \
    EXES(FS("Fs", BY_VARS(op, more))) TAIL

static void
mkdir_in(const struct run *r, const char *name)
{
    char *p = xasprintf("%s/%s", r->dir, name);

    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

static int
mode_of(const struct run *r, const char *name)
{
    char *p = xasprintf("%s/%s", r->dir, name);
    struct stat st;

    assert_int_equal(stat(p, &st), 0);
    free(p);
    return (int)(st.st_mode & 07777);
}

static void
copy_file_into_folder_and_overwrite_rules(void **state)
{
    struct run r;
    char *p;

    (void)state;
    run_setup(&r);
    put_file(&r, "in.txt", "first\n");
    p = xasprintf("%s/in.txt", r.dir);
    chmod(p, 0750);
    free(p);
    mkdir_in(&r, "out");
    /* A folder destination receives the file under its own name; the
     * relative paths are the package's folder's. */
    assert_int_equal(run_pkg(&r, PKG_VARS("in.txt", "out", "CopyFile", ""),
                             NULL),
                     0);
    assert_file(&r, "out/in.txt", "first\n");
    assert_file(&r, "in.txt", "first\n");
    assert_int_equal(mode_of(&r, "out/in.txt"), 0750);

    /* Again without OverwriteDestination: refused, the copy untouched. */
    put_file(&r, "in.txt", "second\n");
    assert_int_equal(run_pkg(&r, PKG_VARS("in.txt", "out", "CopyFile", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "CopyFile: "));
    assert_true(message_has(&r, "OnError", "/out/in.txt' already exists"));
    assert_true(message_has(&r, "OnError", "OverwriteDestination"));
    assert_file(&r, "out/in.txt", "first\n");

    /* With it, replaced; a file destination is the new name. */
    assert_int_equal(run_pkg(&r,
                             PKG_VARS("in.txt", "out", "CopyFile",
                                      "TaskOverwriteDestFile=\"True\""),
                             NULL),
                     0);
    assert_file(&r, "out/in.txt", "second\n");
    assert_int_equal(run_pkg(&r, PKG_VARS("in.txt", "out/renamed.txt",
                                          "CopyFile", ""),
                             NULL),
                     0);
    assert_file(&r, "out/renamed.txt", "second\n");

    /* A missing source names the operation, the path and the errno. */
    assert_int_equal(run_pkg(&r, PKG_VARS("nope.txt", "out", "CopyFile", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "CopyFile: cannot read '"));
    assert_true(message_has(&r, "OnError", "/nope.txt': No such file"));
    assert_false(exists(&r, "out/nope.txt"));
    run_free(&r);
}

/* FILE connection managers, and --connection replacing one's path. */
#define PKG_CMS(src, dst, op, more)                                           \
    HEAD("T") CMS(CM("SrcFile", "FILE", src) CM("DstFile", "FILE", dst))           \
    EXES(FS("Fs", "TaskOperationType=\"" op "\" TaskSourcePath=\"{SrcFile-"   \
                  "ID}\" TaskDestinationPath=\"DstFile\" " more)) TAIL

static void
move_and_rename_through_connections(void **state)
{
    struct run r;
    char *conn;

    (void)state;
    run_setup(&r);
    put_file(&r, "a.txt", "alpha\n");
    put_file(&r, "b.txt", "beta\n");
    mkdir_in(&r, "done");
    assert_int_equal(run_pkg(&r, PKG_CMS("a.txt", "done", "MoveFile", ""),
                             NULL),
                     0);
    assert_false(exists(&r, "a.txt"));
    assert_file(&r, "done/a.txt", "alpha\n");

    /* Moving onto an existing file: refused, then allowed. */
    put_file(&r, "a.txt", "alpha 2\n");
    assert_int_equal(run_pkg(&r, PKG_CMS("a.txt", "done", "MoveFile", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "MoveFile: "));
    assert_true(message_has(&r, "OnError", "already exists"));
    assert_file(&r, "a.txt", "alpha 2\n");
    assert_file(&r, "done/a.txt", "alpha\n");
    assert_int_equal(run_pkg(&r,
                             PKG_CMS("a.txt", "done", "MoveFile",
                                     "TaskOverwriteDestFile=\"True\""),
                             NULL),
                     0);
    assert_false(exists(&r, "a.txt"));
    assert_file(&r, "done/a.txt", "alpha 2\n");

    /* RenameFile: the destination is the new path, and --connection
     * replaces a FILE manager's path. */
    conn = xasprintf("DstFile=%s/done/b-renamed.txt", r.dir);
    const char *extra[] = {"--connection", conn, NULL};
    assert_int_equal(run_pkg(&r, PKG_CMS("b.txt", "C:\\data\\x.txt",
                                         "RenameFile", ""),
                             extra),
                     0);
    assert_false(exists(&r, "b.txt"));
    assert_file(&r, "done/b-renamed.txt", "beta\n");
    free(conn);

    /* Without the override, the Windows path fails validation and says
     * how to give a Linux one. */
    put_file(&r, "b.txt", "beta\n");
    assert_int_not_equal(run_pkg(&r, PKG_CMS("b.txt", "C:\\data\\x.txt",
                                             "RenameFile", ""),
                                 NULL),
                         0);
    assert_true(message_has(&r, "OnError", "Windows path 'C:\\data\\x.txt'"));
    assert_true(message_has(&r, "OnError", "--connection 'DstFile=/path'"));
    assert_file(&r, "b.txt", "beta\n");
    run_free(&r);
}

/* A FILE manager with a FileUsageType. */
#define FOLDER_CM(name, usage, path)                                          \
    "<DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[" name     \
    "]\" DTS:ObjectName=\"" name "\" DTS:CreationName=\"FILE\">"             \
    "<DTS:ObjectData><DTS:ConnectionManager DTS:FileUsageType=\"" usage      \
    "\" DTS:ConnectionString=\"" path "\"/></DTS:ObjectData>"                \
    "</DTS:ConnectionManager>"
#define PKG_FOLDER(usage)                                                     \
    HEAD("T") CMS(CM("SrcFile", "FILE", "a.txt")                                   \
             FOLDER_CM("Archive", usage, "archive"))                          \
    EXES(FS("Fs", "TaskOperationType=\"CopyFile\" "                          \
                  "TaskSourcePath=\"SrcFile\" "                              \
                  "TaskDestinationPath=\"Archive\"")) TAIL

static void
folder_connection_managers(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    put_file(&r, "a.txt", "alpha");
    /* Existing folder: a missing one is an error, not a file name. */
    assert_int_equal(run_pkg(&r, PKG_FOLDER("2"), NULL), 1);
    assert_true(message_has(&r, "OnError",
                            "CopyFile: the destination folder '"));
    assert_true(message_has(&r, "OnError", "/archive' does not exist"));
    assert_false(exists(&r, "archive"));
    /* Create folder: made, and the file goes inside. */
    assert_int_equal(run_pkg(&r, PKG_FOLDER("3"), NULL), 0);
    assert_file(&r, "archive/a.txt", "alpha");
    assert_int_equal(run_pkg(&r, PKG_FOLDER("2"), NULL), 1);
    assert_true(message_has(&r, "OnError", "already exists"));
    assert_file(&r, "archive/a.txt", "alpha");
    run_free(&r);
}

static void
delete_files_and_folders(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    put_file(&r, "gone.txt", "x");
    mkdir_in(&r, "tree");
    mkdir_in(&r, "tree/sub");
    put_file(&r, "tree/sub/f.txt", "f");
    put_file(&r, "tree/top.txt", "t");
    assert_int_equal(run_pkg(&r, PKG_VARS("gone.txt", "", "DeleteFile", ""),
                             NULL),
                     0);
    assert_false(exists(&r, "gone.txt"));
    /* A missing file is an error naming it. */
    assert_int_equal(run_pkg(&r, PKG_VARS("gone.txt", "", "DeleteFile", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "DeleteFile: cannot read '"));
    assert_true(message_has(&r, "OnError", "gone.txt': No such file"));
    /* DeleteFile refuses a folder. */
    assert_int_equal(run_pkg(&r, PKG_VARS("tree", "", "DeleteFile", ""), NULL),
                     1);
    assert_true(message_has(&r, "OnError", "is a folder"));
    assert_true(exists(&r, "tree/top.txt"));

    assert_int_equal(run_pkg(&r, PKG_VARS("tree", "", "DeleteDirectoryContent",
                                          ""),
                             NULL),
                     0);
    assert_true(message_has(&r, "OnInformation", "deleted what the folder"));
    assert_true(exists(&r, "tree"));
    assert_false(exists(&r, "tree/top.txt"));
    assert_false(exists(&r, "tree/sub"));
    assert_int_equal(run_pkg(&r, PKG_VARS("tree", "", "DeleteDirectory", ""),
                             NULL),
                     0);
    assert_false(exists(&r, "tree"));
    assert_int_equal(run_pkg(&r, PKG_VARS("tree", "", "DeleteDirectory", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "DeleteDirectory: cannot delete"));
    run_free(&r);
}

static void
create_directory_rules(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    assert_int_equal(run_pkg(&r, PKG_VARS("new/deep", "", "CreateDirectory",
                                          ""),
                             NULL),
                     0);
    assert_true(exists(&r, "new/deep"));
    put_file(&r, "new/deep/keep.txt", "k");
    assert_int_equal(run_pkg(&r, PKG_VARS("new/deep", "", "CreateDirectory",
                                          ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "CreateDirectory: "));
    assert_true(message_has(&r, "OnError", "UseDirectoryIfExists"));
    assert_int_equal(run_pkg(&r,
                             PKG_VARS("new/deep", "", "CreateDirectory",
                                      "TaskUseDirectoryIfExists=\"True\""),
                             NULL),
                     0);
    assert_file(&r, "new/deep/keep.txt", "k");
    run_free(&r);
}

static void
copy_and_move_directories(void **state)
{
    struct run r;
    char *link;

    (void)state;
    run_setup(&r);
    mkdir_in(&r, "src");
    mkdir_in(&r, "src/sub");
    put_file(&r, "src/a.txt", "a");
    put_file(&r, "src/sub/b.txt", "b");
    link = xasprintf("%s/src/ln", r.dir);
    assert_int_equal(symlink("a.txt", link), 0);
    mkdir_in(&r, "dst");
    /* Into an existing folder: dst/src. */
    assert_int_equal(run_pkg(&r, PKG_VARS("src", "dst", "CopyDirectory", ""),
                             NULL),
                     0);
    assert_file(&r, "dst/src/a.txt", "a");
    assert_file(&r, "dst/src/sub/b.txt", "b");
    assert_file(&r, "dst/src/ln", "a");
    assert_file(&r, "src/a.txt", "a");
    /* Again: the copy exists; refused unless overwriting. */
    put_file(&r, "src/a.txt", "a2");
    assert_int_equal(run_pkg(&r, PKG_VARS("src", "dst", "CopyDirectory", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "CopyDirectory: the folder '"));
    assert_file(&r, "dst/src/a.txt", "a");
    assert_int_equal(run_pkg(&r,
                             PKG_VARS("src", "dst", "CopyDirectory",
                                      "TaskOverwriteDestFile=\"True\""),
                             NULL),
                     0);
    assert_file(&r, "dst/src/a.txt", "a2");
    /* To a new name: the folder becomes it. */
    assert_int_equal(run_pkg(&r, PKG_VARS("src", "moved", "MoveDirectory", ""),
                             NULL),
                     0);
    assert_false(exists(&r, "src"));
    assert_file(&r, "moved/sub/b.txt", "b");
    /* A folder cannot be copied into itself. */
    assert_int_equal(run_pkg(&r, PKG_VARS("dst", "dst/src", "CopyDirectory",
                                          "TaskOverwriteDestFile=\"True\""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "is inside the folder"));
    assert_false(exists(&r, "dst/src/dst"));
    /* A file is not a folder. */
    assert_int_equal(run_pkg(&r, PKG_VARS("moved/a.txt", "dst",
                                          "MoveDirectory", ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError", "a.txt' is not a folder"));
    free(link);
    run_free(&r);
}

static void
set_attributes_maps_read_only(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    put_file(&r, "f.txt", "x");
    assert_int_equal(run_pkg(&r,
                             PKG_VARS("f.txt", "", "SetAttributes",
                                      "TaskFileAttributes=\"ReadOnly, "
                                      "Hidden\""),
                             NULL),
                     0);
    assert_int_equal(mode_of(&r, "f.txt"), 0444);
    assert_true(message_has(&r, "OnWarning", "do not apply on Linux"));
    assert_int_equal(run_pkg(&r,
                             PKG_VARS("f.txt", "", "SetAttributes",
                                      "TaskFileAttributes=\"Normal\""),
                             NULL),
                     0);
    assert_int_equal(mode_of(&r, "f.txt"), 0644);
    assert_false(message_has(&r, "OnWarning", "do not apply"));
    assert_file(&r, "f.txt", "x");
    run_free(&r);
}

static void
validation_names_the_problem(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    put_file(&r, "in.txt", "x");
    /* Unknown operation, missing connection manager, a manager of the
     * wrong type, a missing variable, no destination: all reported before
     * anything runs. */
    assert_int_not_equal(
        run_pkg(&r,
                HEAD("T") CMS(CM("Db", "OLEDB", "Data Source=x"))
                VARS(STR_VAR("Src", "in.txt"))
                EXES(FS("Bad", "TaskOperationType=\"Shred\" "
                               "TaskSourcePath=\"User::Src\" "
                               "TaskIsSourceVariable=\"True\"")
                     FS("NoCm", "TaskOperationType=\"DeleteFile\" "
                                "TaskSourcePath=\"Missing\"")
                     FS("WrongCm", "TaskOperationType=\"DeleteFile\" "
                                   "TaskSourcePath=\"Db\"")
                     FS("NoVar", "TaskOperationType=\"DeleteFile\" "
                                 "TaskSourcePath=\"User::Nope\" "
                                 "TaskIsSourceVariable=\"True\"")
                     FS("NoDst", "TaskSourcePath=\"User::Src\" "
                                 "TaskIsSourceVariable=\"True\"")
                     TASK("Empty", "Microsoft.FileSystemTask", ""))
                TAIL,
                NULL),
        0);
    assert_true(message_has(&r, "OnError",
                            "unknown TaskOperationType "
                            "'Shred'"));
    assert_true(message_has(&r, "OnError",
                            "source: there is no "
                            "connection manager 'Missing'"));
    assert_true(message_has(&r, "OnError", "'Db' is a OLEDB connection "
                                           "manager, not a File one"));
    assert_true(message_has(&r, "OnError", "no variable 'User::Nope'"));
    assert_true(message_has(&r, "OnError",
                            "the task has no destination"));
    assert_true(message_has(&r, "OnError",
                            "the task has no "
                            "FileSystemData settings"));
    assert_file(&r, "in.txt", "x");

    /* A Windows path in a variable fails the task when it runs. */
    assert_int_equal(run_pkg(&r, PKG_VARS("C:\\in\\x.txt", "out", "CopyFile",
                                          ""),
                             NULL),
                     1);
    assert_true(message_has(&r, "OnError",
                            "the source 'C:\\in\\x.txt' is a Windows path"));
    run_free(&r);
}

static void
property_expressions_apply(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    put_file(&r, "in.txt", "new");
    put_file(&r, "out.txt", "old");
    /* The Destination expression names another variable; the
     * OverwriteDestination one allows replacing. */
    assert_int_equal(
        run_pkg(&r,
                HEAD("T") VARS(STR_VAR("Src", "in.txt") STR_VAR("Dst", "nowhere")
                          STR_VAR("Other", "out.txt"))
                EXES(TASK("Fs", "Microsoft.FileSystemTask",
                          "<DTS:PropertyExpression DTS:Name=\"Destination\">"
                          "\"User::Other\"</DTS:PropertyExpression>"
                          "<DTS:PropertyExpression "
                          "DTS:Name=\"OverwriteDestination\">1 == 1"
                          "</DTS:PropertyExpression>"
                          "<DTS:ObjectData><FileSystemData "
                          BY_VARS("CopyFile", "") "/></DTS:ObjectData>"))
                TAIL,
                NULL),
        0);
    if (r.rc)
        dump_events(&r);
    assert_file(&r, "out.txt", "new");
    assert_false(exists(&r, "nowhere"));
    run_free(&r);
}

/* ---- fsops on its own ---- */

static void
large_copies_and_moves_across_file_systems(void **state)
{
    struct run r;
    struct rt_fs_opts o = {0};
    struct werr err;
    char *src, *dst, *data, *got, shm[64] = "/dev/shm/weir-fs-XXXXXX";
    struct stat a, b;
    size_t n = (20u << 20) + 123;

    (void)state;
    run_setup(&r);
    data = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    data[n] = '\0';
    put_file(&r, "big", data);
    src = xasprintf("%s/big", r.dir);
    dst = xasprintf("%s/big.copy", r.dir);
    /* Larger than one 16 MiB chunk. */
    assert_int_equal(rt_fs_copy_file(src, dst, &o, &err), 0);
    got = get_file(&r, "big.copy");
    assert_non_null(got);
    assert_true(strlen(got) == n && !memcmp(got, data, n));
    free(got);
    /* Onto itself: refused, nothing lost. */
    o.overwrite = true;
    assert_int_equal(rt_fs_copy_file(src, src, &o, &err), -1);
    assert_non_null(strstr(err.msg, "onto itself"));
    free(dst);

    /* Across file systems when /dev/shm is another one: copy + delete. */
    if (mkdtemp(shm) && stat(shm, &a) == 0 && stat(r.dir, &b) == 0) {
        dst = xasprintf("%s/big", shm);
        assert_int_equal(rt_fs_move(src, dst, &o, &err), 0);
        assert_false(exists(&r, "big"));
        assert_int_equal(stat(dst, &a), 0);
        assert_int_equal((size_t)a.st_size, n);
        assert_int_equal(rt_fs_remove_tree(shm, false, &err), 0);
        free(dst);
    }
    free(src);
    free(data);
    run_free(&r);
}

/* The common SSIS pattern: a Foreach File loop maps each file's full path
 * to a variable and a File System task moves it to an archive folder. */
static void
foreach_loop_moves_each_file(void **state)
{
    struct run r;
    char *xml;

    (void)state;
    run_setup(&r);
    mkdir_in(&r, "in");
    mkdir_in(&r, "done");
    put_file(&r, "in/a.csv", "a");
    put_file(&r, "in/b.csv", "b");
    put_file(&r, "in/keep.txt", "k");
    xml = xasprintf(
        HEAD("T") VARS(STR_VAR("FileNamePath", "") STR_VAR("Done", "done"))
        EXES("<DTS:Executable DTS:refId=\"Package\\Loop\" "
             "DTS:ObjectName=\"Loop\" DTS:ExecutableType=\"STOCK:FOREACHLOOP\">"
             "<DTS:ForEachEnumerator "
             "DTS:CreationName=\"Microsoft.ForEachFileEnumerator\">"
             "<DTS:ObjectData><ForEachFileEnumeratorProperties>"
             "<FEFEProperty Folder=\"%s/in\"/><FEFEProperty FileSpec=\"*.csv\"/>"
             "<FEFEProperty FileNameRetrievalType=\"0\"/>"
             "<FEFEProperty Recurse=\"0\"/></ForEachFileEnumeratorProperties>"
             "</DTS:ObjectData></DTS:ForEachEnumerator>"
             EXES("<DTS:Executable DTS:refId=\"Package\\Loop\\Move\" "
                  "DTS:ObjectName=\"Move\" "
                  "DTS:ExecutableType=\"Microsoft.FileSystemTask\">"
                  "<DTS:ObjectData><FileSystemData TaskOperationType=\"MoveFile\" "
                  "TaskSourcePath=\"User::FileNamePath\" "
                  "TaskIsSourceVariable=\"True\" "
                  "TaskDestinationPath=\"User::Done\" "
                  "TaskIsDestinationVariable=\"True\"/></DTS:ObjectData>"
                  "</DTS:Executable>")
             "<DTS:ForEachVariableMappings><DTS:ForEachVariableMapping "
             "DTS:ValueIndex=\"0\" DTS:VariableName=\"User::FileNamePath\"/>"
             "</DTS:ForEachVariableMappings></DTS:Executable>") TAIL,
        r.dir);
    if (run_pkg(&r, xml, NULL))
        dump_events(&r);
    assert_int_equal(r.rc, 0);
    assert_file(&r, "done/a.csv", "a");
    assert_file(&r, "done/b.csv", "b");
    assert_false(exists(&r, "in/a.csv"));
    assert_false(exists(&r, "in/b.csv"));
    assert_file(&r, "in/keep.txt", "k");
    free(xml);
    run_free(&r);
}

static bool
stop_now(void *arg)
{
    (*(int *)arg)++;
    return true;
}

/* A stopped copy leaves neither the destination nor its temporary file. */
static void
a_stopped_copy_leaves_nothing(void **state)
{
    struct run r;
    int asked = 0;
    struct rt_fs_opts o = {false, stop_now, &asked};
    struct werr err;
    char *src, *dst;

    (void)state;
    run_setup(&r);
    put_file(&r, "in.txt", "data");
    mkdir_in(&r, "out");
    src = xasprintf("%s/in.txt", r.dir);
    dst = xasprintf("%s/out/in.txt", r.dir);
    assert_int_equal(rt_fs_copy_file(src, dst, &o, &err), -1);
    assert_int_equal(err.code, WERR_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "canceled"));
    assert_int_equal(asked, 1);
    assert_false(exists(&r, "out/in.txt"));
    /* The folder is empty: rmdir(2) succeeds only then. */
    *strrchr(dst, '/') = '\0';
    assert_int_equal(rmdir(dst), 0);
    free(src);
    free(dst);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_file_into_folder_and_overwrite_rules),
        cmocka_unit_test(move_and_rename_through_connections),
        cmocka_unit_test(folder_connection_managers),
        cmocka_unit_test(delete_files_and_folders),
        cmocka_unit_test(create_directory_rules),
        cmocka_unit_test(copy_and_move_directories),
        cmocka_unit_test(set_attributes_maps_read_only),
        cmocka_unit_test(validation_names_the_problem),
        cmocka_unit_test(property_expressions_apply),
        cmocka_unit_test(large_copies_and_moves_across_file_systems),
        cmocka_unit_test(a_stopped_copy_leaves_nothing),
        cmocka_unit_test(foreach_loop_moves_each_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
