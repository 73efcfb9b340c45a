package dev.bucketdrive.cache;

import dev.bucketdrive.core.local.CacheFullException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite index: one connection, one writer at a time (a lock in this process; SQLite's own file
 * lock against others), WAL and a busy timeout. Commits run with synchronous=NORMAL: a committed
 * transaction survives a crash of the process at once, and a power cut after the next {@link #sync()}
 * (an fsync of the WAL), which the callers that promise durability make. Most commits (a chunk turning
 * dirty, an entry changing) need not each wait for the disk: the close that makes them count does.
 * Callers run on platform threads: JDBC in a virtual thread would pin its carrier.
 *
 * <p>Lock order: a caller may hold a chunk stripe lock ({@code SqliteChunkStore}) when it takes this
 * database lock, never the other way round.
 */
final class Database implements AutoCloseable {

    /** Schema migrations; entry i brings the schema from version i to i + 1. Never edit, only append. */
    private static final List<String> MIGRATIONS = List.of("""
            CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE entries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                path TEXT NOT NULL UNIQUE,
                parent TEXT NOT NULL,
                name TEXT NOT NULL,
                type INTEGER NOT NULL,
                size INTEGER NOT NULL,
                mtime_ms INTEGER NOT NULL,
                mode INTEGER NOT NULL,
                uid INTEGER NOT NULL,
                gid INTEGER NOT NULL,
                etag TEXT,
                listed_at_ms INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX entries_by_parent ON entries (parent, name);
            CREATE TABLE chunks (
                file_id INTEGER NOT NULL,
                idx INTEGER NOT NULL,
                dirty INTEGER NOT NULL,
                etag TEXT,
                length INTEGER NOT NULL,
                crc INTEGER NOT NULL,
                last_access_ms INTEGER NOT NULL,
                PRIMARY KEY (file_id, idx));
            CREATE INDEX chunks_by_access ON chunks (dirty, last_access_ms);
            CREATE TABLE pinned_files (file_id INTEGER PRIMARY KEY);
            CREATE TABLE journal (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                file_id INTEGER NOT NULL,
                key TEXT NOT NULL,
                target TEXT,
                base_etag TEXT,
                due_ms INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                sequence INTEGER NOT NULL DEFAULT 0);
            CREATE UNIQUE INDEX journal_one_upload_per_file ON journal (file_id) WHERE kind = 'UPLOAD';
            CREATE INDEX journal_by_due ON journal (due_ms, id);
            """, """
            ALTER TABLE entries ADD COLUMN remote_size INTEGER NOT NULL DEFAULT -1;
            ALTER TABLE chunks ADD COLUMN data BLOB;
            """, """
            CREATE INDEX journal_uploads_by_due ON journal (due_ms, id) WHERE kind = 'UPLOAD';
            CREATE INDEX journal_steps_by_due ON journal (due_ms, id) WHERE kind <> 'UPLOAD';
            """, """
            DROP INDEX journal_by_due;
            """, """
            CREATE TABLE multipart_uploads (upload_id TEXT PRIMARY KEY, key TEXT NOT NULL);
            """, """
            ALTER TABLE chunks ADD COLUMN log_seq INTEGER NOT NULL DEFAULT 0;
            """, """
            DROP INDEX chunks_by_access;
            CREATE INDEX chunks_by_access ON chunks (dirty, last_access_ms, length);
            """);

    static final int SCHEMA_VERSION = MIGRATIONS.size();

    private final Connection connection;
    /** What work sees: {@link #connection}, its prepared statements kept for reuse ({@link StatementCache}). */
    private final Connection cached;
    private final ReentrantLock lock = new ReentrantLock();
    /** A transaction is open on the connection (guarded by {@link #lock}): a nested one joins it. */
    private boolean inTransaction;
    /** A {@link #sync()} was asked for inside the open transaction: it runs after the commit (guarded by {@link #lock}). */
    private boolean syncAfterCommit;
    /** Run after a transaction rolled back ({@link #afterRollback}). */
    private final List<Runnable> rolledBack = new CopyOnWriteArrayList<>();
    private final Path wal;
    private final Object walLock = new Object();
    private FileChannel walChannel;
    /** Transactions committed, and how many of them the last {@link #sync()} covered. */
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong synced = new AtomicLong();

    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Makes one value of the current row of a result. */
    @FunctionalInterface
    interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    Database(Path file) {
        try {
            if (!Files.exists(file)) {
                // SQLite gives the -wal and -shm files the permissions of the database file.
                LocalFiles.createPrivateFile(file);
            }
            SqliteNativeLibrary.prepare();
            // Without generated keys: the driver would otherwise match every INSERT's text against a
            // pattern and run a SELECT last_insert_rowid() after it (about 2 % of the mount's CPU in an
            // untar); what needs a new row's id asks for it with RETURNING.
            SQLiteConfig config = new SQLiteConfig();
            config.setGetGeneratedKeys(false);
            connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), config.toProperties());
            try (Statement s = connection.createStatement()) {
                s.execute("PRAGMA busy_timeout = 10000");
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = NORMAL");
                // One process at a time (LocalCache holds a lock file): no file locking per statement.
                s.execute("PRAGMA locking_mode = EXCLUSIVE");
            }
            wal = file.resolveSibling(file.getFileName() + "-wal");
            cached = StatementCache.over(connection);
            migrate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the cache index " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cache index " + file, e);
        }
    }

    private void migrate() throws SQLException {
        int version;
        try (Statement s = connection.createStatement(); var rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.getInt(1);
        }
        if (version > SCHEMA_VERSION) {
            throw new IllegalStateException("the cache index has schema " + version
                    + ", newer than this BucketDrive understands (" + SCHEMA_VERSION + ")");
        }
        for (int v = version; v < SCHEMA_VERSION; v++) {
            int next = v + 1;
            String script = MIGRATIONS.get(v);
            transaction(c -> {
                try (Statement s = c.createStatement()) {
                    for (String sql : script.split(";")) {
                        if (!sql.isBlank()) {
                            s.execute(sql);
                        }
                    }
                    s.execute("PRAGMA user_version = " + next);
                }
                return null;
            });
        }
    }

    /**
     * Runs {@code work} in one transaction, holding the writer lock; commits, or rolls back on failure.
     * BEGIN and COMMIT are plain statements on a connection left in auto-commit mode: the driver's
     * own transaction calls add an empty transaction after each commit. A transaction started inside
     * another one joins it; a {@link #sync()} asked for inside runs after the commit, without the lock.
     */
    <T> T transaction(Work<T> work) {
        T result;
        boolean syncNow;
        lock.lock();
        try {
            if (inTransaction) {
                return work.run(cached);
            }
            execute("BEGIN");
            inTransaction = true;
            syncAfterCommit = false;
            try {
                result = work.run(cached);
                execute("COMMIT");
                commits.incrementAndGet();
            } catch (SQLException | RuntimeException e) {
                rollbackAfter(e);
                rolledBack.forEach(Runnable::run);
                throw e;
            } finally {
                inTransaction = false;
            }
            syncNow = syncAfterCommit;
        } catch (SQLException e) {
            throw failure(e);
        } finally {
            lock.unlock();
        }
        if (syncNow) {
            sync();
        }
        return result;
    }

    /** SQLite's result code for a disk (or a page limit) that cannot take a commit. */
    private static final int SQLITE_FULL = 13;

    /**
     * What a failed statement means to the caller: a full disk is {@link CacheFullException} (the
     * drive answers ENOSPC, and the index works again once there is room); anything else is a fault.
     */
    private static RuntimeException failure(SQLException e) {
        if ((e.getErrorCode() & 0xFF) == SQLITE_FULL) {
            return new CacheFullException("the cache's disk is full: the cache index cannot take a change ("
                    + e.getMessage() + ")");
        }
        return new IllegalStateException("cache index: " + e.getMessage(), e);
    }

    /** Runs {@code action} after each transaction that rolls back (to drop what memory holds of its changes). */
    void afterRollback(Runnable action) {
        rolledBack.add(action);
    }

    private void execute(String sql) throws SQLException {
        try (PreparedStatement ps = cached.prepareStatement(sql)) {
            ps.execute();
        }
    }

    /** SQLite may have rolled back already (a full disk, say): then there is nothing left to undo. */
    private void rollbackAfter(Exception cause) {
        try {
            execute("ROLLBACK");
        } catch (SQLException e) {
            if (!connectionHasNoTransaction(e)) {
                cause.addSuppressed(e);
            }
        }
    }

    private static boolean connectionHasNoTransaction(SQLException e) {
        return String.valueOf(e.getMessage()).contains("no transaction is active");
    }

    /**
     * Makes every transaction committed so far survive a power cut: an fsync of the write-ahead log
     * (committed frames are in it until a checkpoint, which syncs the database file itself). Runs
     * without the writer lock, so other transactions go on meanwhile. Returns whether it synced.
     * Inside a transaction it runs once that commits, before {@link #transaction} returns.
     */
    boolean sync() {
        if (lock.isHeldByCurrentThread() && inTransaction) {
            syncAfterCommit = true;
            return true;
        }
        long upTo = commits.get();
        if (synced.get() >= upTo) {
            return false; // nothing committed since the last sync
        }
        try {
            FileChannel channel;
            synchronized (walLock) {
                if (walChannel == null || !walChannel.isOpen()) {
                    if (!Files.exists(wal)) {
                        return false; // nothing committed since the last checkpoint
                    }
                    walChannel = FileChannel.open(wal, StandardOpenOption.WRITE);
                }
                channel = walChannel;
            }
            channel.force(false);
            synced.accumulateAndGet(upTo, Math::max);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot sync the cache index " + wal, e);
        }
    }

    /**
     * Runs one statement with {@code args} as its parameters; returns the rows changed. Outside a
     * transaction the statement is one by itself (SQLite's auto-commit): the same guarantees as
     * {@link #transaction} for one statement, without a BEGIN and a COMMIT to run.
     */
    int update(String sql, Object... args) {
        lock.lock();
        try (PreparedStatement ps = cached.prepareStatement(sql)) {
            bind(ps, args);
            int changed = ps.executeUpdate();
            if (!inTransaction) {
                commits.incrementAndGet();
            }
            return changed;
        } catch (SQLException e) {
            throw failure(e);
        } finally {
            lock.unlock();
        }
    }

    /** Runs a query with {@code args} as its parameters on {@code c}; one value per row. */
    static <T> List<T> query(Connection c, String sql, Row<T> row, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            List<T> out = new ArrayList<>();
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row.map(rs));
                }
            }
            return out;
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
    }

    /** Runs a query holding the lock; one value per row. */
    <T> List<T> query(String sql, Row<T> row, Object... args) {
        return read(c -> query(c, sql, row, args));
    }

    /** Runs a read (or a single self-committing statement) holding the lock. */
    <T> T read(Work<T> work) {
        lock.lock();
        try {
            return work.run(cached);
        } catch (SQLException e) {
            throw failure(e);
        } finally {
            lock.unlock();
        }
    }

    /** The statement texts run through the statement cache so far (for tests of their query plans). */
    Set<String> statementTexts() {
        return read(StatementCache::texts);
    }

    /** How many times the statement text {@code sql} ran through the statement cache (for tests). */
    long timesRun(String sql) {
        return read(c -> StatementCache.timesRun(c, sql));
    }

    /** SQLite's query plan for a statement, one line per step ({@code EXPLAIN QUERY PLAN}'s details). */
    List<String> queryPlan(String sql) {
        return read(c -> query(c, "EXPLAIN QUERY PLAN " + sql, rs -> rs.getString("detail")));
    }

    @Override
    public void close() {
        lock.lock();
        try {
            synchronized (walLock) {
                if (walChannel != null) {
                    walChannel.close();
                }
            }
            StatementCache.close(cached);
            connection.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the cache index: " + e.getMessage(), e);
        } catch (SQLException e) {
            throw new IllegalStateException("closing the cache index: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }
}
