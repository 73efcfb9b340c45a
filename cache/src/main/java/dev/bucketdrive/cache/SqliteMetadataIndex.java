package dev.bucketdrive.cache;

import dev.bucketdrive.core.local.Entry;
import dev.bucketdrive.core.local.MetadataIndex;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * {@link MetadataIndex} in the SQLite index. Subtrees are found as a range of the path index, never by a
 * test of each path (see {@link #pastSubtree}).
 *
 * <p>Entries looked up by path or id (absent ones too), and the children of directories listed, are
 * kept in memory: every change goes through this class and updates or drops what it changed after it
 * commits, so the memory never disagrees with the table for longer than the write takes.
 *
 * <p>Lock order: the database's lock, then the memory's (Caffeine's per-key locks, held only for a
 * put or a removal). A read that missed puts what it read while it still holds the database's lock, so
 * it lands before any later commit and the memory that commit updates or drops: a read that races a
 * write either sees the old rows and is then overwritten or dropped, or sees the new ones. Never the
 * other way round: a read waiting for the database inside one of Caffeine's per-key loads blocked a
 * transaction that then changed a key of the same hash bin (or evicted one) for ever.
 */
final class SqliteMetadataIndex implements MetadataIndex {

    private static final int REMEMBERED = 50_000;
    /** Entries kept in the children lists remembered, all lists together. */
    private static final int CHILDREN_REMEMBERED = 50_000;

    private static final String COLUMNS = "id, path, type, size, mtime_ms, mode, uid, gid, etag, listed_at_ms, remote_size";

    private final Database db;
    // Upkeep (eviction, reordering) runs in the calling thread: handing it to a pool cost each FUSE
    // call that changed an entry a thread wake-up.
    private final Cache<String, Optional<Entry>> byPath = Caffeine.newBuilder().maximumSize(REMEMBERED)
            .executor(Runnable::run).build();
    private final Cache<Long, Optional<Entry>> byId = Caffeine.newBuilder().maximumSize(REMEMBERED)
            .executor(Runnable::run).build();
    /** The children of directories, by the directory's path: each readdir of a tree walk asked SQLite. */
    private final Cache<String, List<Entry>> childrenOf = Caffeine.newBuilder().maximumWeight(CHILDREN_REMEMBERED)
            .weigher((String dir, List<Entry> children) -> children.size() + 1).executor(Runnable::run).build();

    /** Told the id of each file entry it inserts: a new id, under which nothing is stored yet. */
    private final LongConsumer fileMade;

    SqliteMetadataIndex(Database db, LongConsumer fileMade) {
        this.db = db;
        this.fileMade = fileMade;
        // An upsert inside a larger transaction remembers its row before the commit; if that rolls back, forget all.
        db.afterRollback(() -> {
            byPath.invalidateAll();
            byId.invalidateAll();
            childrenOf.invalidateAll();
        });
    }

    @Override
    public Optional<Entry> lookup(String path) {
        Optional<Entry> known = byPath.getIfPresent(path);
        return known != null ? known : db.read(c -> {
            Optional<Entry> e = one(c, "WHERE path = ?", path);
            byPath.put(path, e);
            return e;
        });
    }

    @Override
    public Optional<Entry> byId(long id) {
        Optional<Entry> known = byId.getIfPresent(id);
        return known != null ? known : db.read(c -> {
            Optional<Entry> e = one(c, "WHERE id = ?", id);
            byId.put(id, e);
            return e;
        });
    }

    private void remember(Entry e) {
        byPath.put(e.path(), Optional.of(e));
        byId.put(e.id(), Optional.of(e));
    }

    private boolean isDirectory(String path) {
        return lookup(path).map(e -> e.type() == Entry.Type.DIRECTORY).orElse(false);
    }

    /**
     * Forgets what is remembered of {@code path} after a change to the table moved or removed it,
     * and of everything below it when a directory was involved ({@code tree}: a scan of the memory).
     */
    private void forget(String path, boolean tree) {
        childrenOf.invalidate(Entry.parentOf(path));
        if (!tree) {
            Optional<Entry> known = byPath.getIfPresent(path);
            byPath.invalidate(path);
            if (known != null) {
                known.ifPresent(e -> byId.invalidate(e.id()));
            }
            return;
        }
        String prefix = path + "/";
        byPath.asMap().keySet().removeIf(p -> p.equals(path) || path.isEmpty() || p.startsWith(prefix));
        byId.asMap().values().removeIf(e -> e.isEmpty() || e.get().path().equals(path) || path.isEmpty()
                || e.get().path().startsWith(prefix));
        childrenOf.asMap().keySet().removeIf(p -> p.equals(path) || path.isEmpty() || p.startsWith(prefix));
    }

    @Override
    public Entry upsert(Entry e) {
        // An update first, an insert only when no row has the path: an INSERT ... ON CONFLICT DO UPDATE
        // that updates still draws an id from the AUTOINCREMENT sequence, so each such commit wrote the
        // page of sqlite_sequence too (a tenth of the log an untar's uploads wrote; docs/BENCHMARKS.md,
        // session 42). The insert comes first when memory knows the path has no row (a create after
        // the kernel's lookup of the name): the update would find nothing. Memory may lag a commit of
        // another thread, so an insert that meets the path's row updates it after all.
        Optional<Entry> known = byPath.getIfPresent(e.path());
        boolean absent = known != null && known.isEmpty();
        Entry stored = db.transaction(c -> {
            if (absent) {
                List<Entry> inserted = insert(c, e, " ON CONFLICT (path) DO NOTHING");
                if (!inserted.isEmpty()) {
                    return inserted.getFirst();
                }
            }
            List<Entry> updated = rows(c, "UPDATE entries SET type = ?, size = ?, mtime_ms = ?, mode = ?, uid = ?, "
                    + "gid = ?, etag = ?, listed_at_ms = ?, remote_size = ? WHERE path = ? RETURNING " + COLUMNS,
                    e.type().ordinal(), e.size(), e.mtimeMillis(), e.mode(), e.uid(), e.gid(), e.etag(), e.listedAt(),
                    e.remoteSize(), e.path());
            if (!updated.isEmpty()) {
                return updated.getFirst();
            }
            return insert(c, e, "").getFirst();
        });
        remember(stored);
        childrenOf.invalidate(stored.parent());
        return stored;
    }

    @Override
    public List<Entry> children(String directory) {
        List<Entry> known = childrenOf.getIfPresent(directory);
        return known != null ? known : db.read(c -> {
            List<Entry> children = List.copyOf(many(c, "WHERE parent = ? AND path <> '' ORDER BY name", directory));
            childrenOf.put(directory, children);
            return children;
        });
    }

    @Override
    public int remove(String path) {
        boolean tree = path.isEmpty() || isDirectory(path);
        int removed = db.transaction(c -> removeTree(c, path));
        // An empty directory (an rmdir's) leaves nothing below it to forget: the walk of everything
        // remembered took each rmdir of an rm -r over half a millisecond.
        forget(path, tree && (path.isEmpty() || removed > 1));
        if (tree) {
            childrenOf.invalidate(path);
        }
        return removed;
    }

    private static int removeTree(Connection c, String path) throws SQLException {
        if (path.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM entries")) {
                return ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM entries WHERE path = ? OR (path >= ? AND path < ?)")) {
            ps.setString(1, path);
            ps.setString(2, path + "/");
            ps.setString(3, pastSubtree(path));
            return ps.executeUpdate();
        }
    }

    /**
     * The least path after every path under {@code directory}: paths compare bytewise (UTF-8, SQLite's
     * BINARY), so those starting with {@code directory + "/"} are exactly those from there up to the
     * same text with '/' raised to '0', the next character. A range the path index answers, where a
     * test of each path's start would read every row (an unlink took time in proportion to the whole
     * drive).
     */
    private static String pastSubtree(String directory) {
        return directory + "0";
    }

    @Override
    public void rename(String from, String to) {
        if (from.isEmpty() || to.isEmpty() || to.equals(from) || to.startsWith(from + "/")) {
            throw new IllegalArgumentException("cannot rename " + from + " to " + to);
        }
        boolean tree = isDirectory(from) || isDirectory(to);
        db.transaction(c -> {
            removeTree(c, to);
            String toParent = Entry.parentOf(to);
            String toName = to.substring(to.lastIndexOf('/') + 1);
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE entries SET path = ?, parent = ?, name = ? WHERE path = ?")) {
                ps.setString(1, to);
                ps.setString(2, toParent);
                ps.setString(3, toName);
                ps.setString(4, from);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE entries SET "
                    + "path = ? || substr(path, length(?) + 1), parent = ? || substr(parent, length(?) + 1) "
                    + "WHERE path >= ? AND path < ?")) {
                ps.setString(1, to);
                ps.setString(2, from);
                ps.setString(3, to);
                ps.setString(4, from);
                ps.setString(5, from + "/");
                ps.setString(6, pastSubtree(from));
                ps.executeUpdate();
            }
            return null;
        });
        forget(to, tree);
        forget(from, tree);
    }

    @Override
    public void markListed(String directory, long epochMillis) {
        db.update("UPDATE entries SET listed_at_ms = ? WHERE path = ?", epochMillis, directory);
        forget(directory, false);
    }

    private static Optional<Entry> one(Connection c, String where, Object arg) throws SQLException {
        return many(c, where, arg).stream().findFirst();
    }

    private static List<Entry> many(Connection c, String where, Object arg) throws SQLException {
        return rows(c, "SELECT " + COLUMNS + " FROM entries " + where, arg);
    }

    /** Inserts the entry's row; {@code onConflict} says what a row already there for the path means. */
    private List<Entry> insert(Connection c, Entry e, String onConflict) throws SQLException {
        List<Entry> inserted = rows(c, "INSERT INTO entries (path, parent, name, type, size, mtime_ms, mode, uid, gid, etag, "
                + "listed_at_ms, remote_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + onConflict + " RETURNING "
                + COLUMNS, e.path(), e.parent(), e.name(), e.type().ordinal(), e.size(), e.mtimeMillis(), e.mode(),
                e.uid(), e.gid(), e.etag(), e.listedAt(), e.remoteSize());
        if (!inserted.isEmpty() && e.type() == Entry.Type.FILE) {
            fileMade.accept(inserted.getFirst().id());
        }
        return inserted;
    }

    /** The entries a statement yields (a SELECT, or a write that RETURNs {@link #COLUMNS}). */
    private static List<Entry> rows(Connection c, String sql, Object... args) throws SQLException {
        return Database.query(c, sql, rs -> new Entry(rs.getLong(1),
                rs.getString(2), Entry.Type.values()[rs.getInt(3)], rs.getLong(4), rs.getLong(5), rs.getInt(6),
                rs.getInt(7), rs.getInt(8), rs.getString(9), rs.getLong(10),
                rs.getLong(11) < 0 ? rs.getLong(4) : rs.getLong(11)), args); // -1: from before the column, the object's size
    }
}
