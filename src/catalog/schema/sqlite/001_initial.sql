-- The first catalog schema: projects stored once by content hash,
-- executions with one task each, the worker protocol's state and the
-- execution log.  Times are milliseconds since the epoch.

CREATE TABLE folders (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    folder_id   INTEGER NOT NULL REFERENCES folders(id),
    name        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    UNIQUE (folder_id, name)
);

-- Every deployment is a new version; old ones are kept.
CREATE TABLE project_versions (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    version     INTEGER NOT NULL,
    deployed_ms INTEGER NOT NULL,
    UNIQUE (project_id, version)
);

-- File content, stored once however many versions use it.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    content     BLOB NOT NULL
);

CREATE TABLE version_files (
    version_id  INTEGER NOT NULL REFERENCES project_versions(id),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL REFERENCES blobs(sha256),
    is_package  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, path)
) WITHOUT ROWID;

CREATE VIEW packages AS
    SELECT version_id, path AS name, sha256
    FROM version_files WHERE is_package = 1;

-- Project parameters have package = ''.  Filled once the package loader
-- reports parameters at deployment.
CREATE TABLE parameters (
    version_id     INTEGER NOT NULL REFERENCES project_versions(id),
    package        TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL,
    data_type      TEXT NOT NULL,
    design_default TEXT,
    sensitive      INTEGER NOT NULL DEFAULT 0,
    required       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, package, name)
) WITHOUT ROWID;

CREATE TABLE workers (
    id                TEXT PRIMARY KEY,
    incarnation       TEXT,
    name              TEXT NOT NULL,
    machine           TEXT NOT NULL,
    tags              TEXT NOT NULL DEFAULT '[]',
    enabled           INTEGER NOT NULL,
    max_tasks         INTEGER NOT NULL,
    last_heartbeat_ms INTEGER,
    registered_ms     INTEGER NOT NULL,
    fingerprint       TEXT
);

-- Folder and project names are copied so that the log of an execution
-- reads the same after its project is redeployed.
CREATE TABLE executions (
    id            INTEGER PRIMARY KEY,
    folder        TEXT NOT NULL,
    project       TEXT NOT NULL,
    version_id    INTEGER NOT NULL REFERENCES project_versions(id),
    version       INTEGER NOT NULL,
    package       TEXT NOT NULL,
    status        INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    started_ms    INTEGER,
    ended_ms      INTEGER,
    retries       INTEGER NOT NULL,
    max_attempts  INTEGER NOT NULL,
    logging_level INTEGER NOT NULL,
    tag           TEXT,
    parameters    TEXT NOT NULL DEFAULT '{}',
    any_worker    INTEGER NOT NULL DEFAULT 1,
    worker_id     TEXT
);

CREATE INDEX executions_status ON executions (status, id);

-- The workers an execution is restricted to (any_worker = 0).
CREATE TABLE execution_workers (
    execution_id INTEGER NOT NULL REFERENCES executions(id),
    worker_id    TEXT NOT NULL,
    PRIMARY KEY (execution_id, worker_id)
) WITHOUT ROWID;

-- One task per started execution; `attempt` is the attempt it runs or
-- will run next.  worker_id and incarnation name the holder while running.
CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY,
    execution_id     INTEGER NOT NULL UNIQUE REFERENCES executions(id),
    state            TEXT NOT NULL
                     CHECK (state IN ('pending', 'running', 'done')),
    worker_id        TEXT,
    incarnation      TEXT,
    lease_expiry_ms  INTEGER,
    attempt          INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_ms       INTEGER NOT NULL
);

CREATE INDEX tasks_pending ON tasks (created_ms, id) WHERE state = 'pending';
CREATE INDEX tasks_lease ON tasks (lease_expiry_ms) WHERE state = 'running';
CREATE INDEX tasks_worker ON tasks (worker_id) WHERE state = 'running';

-- Every claim of a task: the exact history of who ran what when.
CREATE TABLE task_attempts (
    task_id      INTEGER NOT NULL REFERENCES tasks(id),
    attempt      INTEGER NOT NULL,
    worker_id    TEXT NOT NULL,
    incarnation  TEXT NOT NULL,
    claimed_ms   INTEGER NOT NULL,
    ended_ms     INTEGER,
    result       TEXT CHECK (result IN
                     ('succeeded', 'failed', 'canceled', 'lost')),
    exit_code    INTEGER,
    events_acked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, attempt)
) WITHOUT ROWID;

CREATE INDEX task_attempts_worker ON task_attempts (worker_id, claimed_ms);

-- The execution log.  `seq` numbers events per attempt as the worker sent
-- them (so a batch sent twice is stored once); `exec_seq` is the order
-- shown to people, across attempts.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions(id),
    attempt      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    exec_seq     INTEGER NOT NULL,
    time_ms      INTEGER NOT NULL,
    type         INTEGER NOT NULL,
    event        TEXT NOT NULL,
    source       TEXT NOT NULL,
    path         TEXT NOT NULL,
    message      TEXT NOT NULL,
    code         INTEGER,
    UNIQUE (execution_id, attempt, seq),
    UNIQUE (execution_id, exec_seq)
);

CREATE TABLE executable_statistics (
    id           INTEGER PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions(id),
    attempt      INTEGER NOT NULL,
    path         TEXT NOT NULL,
    start_ms     INTEGER NOT NULL,
    end_ms       INTEGER NOT NULL,
    result       INTEGER NOT NULL
);

CREATE INDEX executable_statistics_execution
    ON executable_statistics (execution_id, id);
