package dev.bucketdrive.cache;

import dev.bucketdrive.core.local.PendingOp;
import dev.bucketdrive.core.local.UploadJournal;
import dev.bucketdrive.core.store.MultipartUpload;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link UploadJournal} in the SQLite index; every change of an entry is a durable transaction. The
 * record of multipart uploads started is not synced (a power cut may lose it, like the upload).
 */
final class SqliteUploadJournal implements UploadJournal {

    private static final String COLUMNS = "id, kind, file_id, key, target, base_etag, due_ms, attempts, last_error, sequence";

    private final Database db;
    /** Raised after each change that may make a step due earlier than {@link #stepsSeen} says. */
    private final AtomicLong stepChanges = new AtomicLong();
    /** What {@link #due} last learnt of the steps: see {@link StepsSeen}. */
    private volatile StepsSeen stepsSeen = new StepsSeen(-1, 0);

    /**
     * No step is due before {@code noneBeforeMs} while {@link #stepChanges} still reads {@code changes}:
     * {@link #due} then reads no steps. The write-back loop asks after every upload and steps are
     * rare (renames, deletes), yet the read that found none cost about 46 µs of CPU each time in an
     * untar's uploads (docs/BENCHMARKS.md, session 45).
     */
    private record StepsSeen(long changes, long noneBeforeMs) {}

    /**
     * The files with an upload entry, as far as this process knows: those there at start and those
     * it held since, less those it completed. {@link #holdUpload} moves the entry of a file in here
     * and inserts first for any other: an untar's creates each ran an update that found nothing.
     * Only a hint: an insert that meets an entry moves it, and an update that finds none inserts.
     */
    private final Set<Long> withUpload = ConcurrentHashMap.newKeySet();

    SqliteUploadJournal(Database db) {
        this.db = db;
        // The whole journal, once (its steps are few): the files of its uploads.
        db.query("SELECT kind, file_id FROM journal", rs -> rs.getString(1).equals("UPLOAD") ? rs.getLong(2) : null)
                .stream().filter(Objects::nonNull).forEach(withUpload::add);
    }

    @Override
    public PendingOp scheduleUpload(long fileId, String key, String baseEtag, Instant due) {
        PendingOp op = holdUpload(fileId, key, baseEtag, due);
        db.sync();
        return op;
    }

    @Override
    public void sync() {
        db.sync();
    }

    @Override
    public PendingOp holdUpload(long fileId, String key, String baseEtag, Instant due) {
        // The file's pending upload moved (keeping its base unless one is given) with its sequence
        // raised, or else a new one; the index on (file_id) for uploads makes them one. Not one INSERT
        // ... ON CONFLICT DO UPDATE: that draws an id from the AUTOINCREMENT sequence even when it
        // updates, and writes the sequence's page again (see SqliteMetadataIndex#upsert). The insert
        // comes first for a file with no entry as far as memory knows (withUpload).
        boolean known = withUpload.contains(fileId);
        PendingOp op = db.transaction(c -> {
            if (!known) {
                List<PendingOp> inserted = insert(c, PendingOp.Kind.UPLOAD, fileId, key, null, baseEtag, due,
                        " ON CONFLICT (file_id) WHERE kind = 'UPLOAD' DO NOTHING");
                if (!inserted.isEmpty()) {
                    return inserted.getFirst();
                }
            }
            List<PendingOp> moved = entries(c, "UPDATE journal SET key = ?, due_ms = ?, "
                    + "base_etag = coalesce(?, base_etag), sequence = sequence + 1 "
                    + "WHERE kind = 'UPLOAD' AND file_id = ? RETURNING " + COLUMNS,
                    key, due.toEpochMilli(), baseEtag, fileId);
            if (!moved.isEmpty()) {
                return moved.getFirst();
            }
            return insert(c, PendingOp.Kind.UPLOAD, fileId, key, null, baseEtag, due, "").getFirst();
        });
        withUpload.add(fileId);
        return op;
    }

    @Override
    public PendingOp append(PendingOp.Kind kind, String key, String target, String baseEtag, Instant due) {
        if (kind == PendingOp.Kind.UPLOAD) {
            throw new IllegalArgumentException("uploads are scheduled with scheduleUpload");
        }
        PendingOp op = db.transaction(c -> insert(c, kind, 0, key, target, baseEtag, due, "").getFirst());
        mayComeDueAt(due.toEpochMilli());
        return op;
    }

    /** Inserts an entry; {@code onConflict} says what an upload entry already there for the file means. */
    private static List<PendingOp> insert(Connection c, PendingOp.Kind kind, long fileId, String key, String target,
                                          String baseEtag, Instant due, String onConflict) throws SQLException {
        return entries(c, "INSERT INTO journal (kind, file_id, key, target, base_etag, due_ms) VALUES (?, ?, ?, ?, ?, ?)"
                + onConflict + " RETURNING " + COLUMNS, kind.name(), fileId, key, target, baseEtag, due.toEpochMilli());
    }

    @Override
    public List<PendingOp> due(Instant now, Instant uploadsDueBy, int max) {
        // Two range reads, one per partial index, merged: one query with both bounds would walk every
        // upload held back by a pause in writing (thousands during an untar) on each pass of the
        // write-back loop, which runs after every close.
        long nowMs = now.toEpochMilli();
        long uploadsBy = Math.min(nowMs, uploadsDueBy.toEpochMilli());
        StepsSeen seen = stepsSeen;
        boolean readSteps = seen.changes() != stepChanges.get() || nowMs >= seen.noneBeforeMs();
        return db.read(c -> {
            List<PendingOp> due = new ArrayList<>(readSteps ? dueSteps(c, nowMs, max) : List.of());
            due.addAll(many(c, "WHERE kind = 'UPLOAD' AND due_ms <= ? ORDER BY due_ms, id LIMIT ?", uploadsBy, max));
            due.sort(Comparator.comparing(PendingOp::due).thenComparingLong(PendingOp::id));
            return due.size() > max ? List.copyOf(due.subList(0, max)) : due;
        });
    }

    /**
     * After a change that sets an entry's time (a new step, or any entry moved by its id): unless
     * that time is no earlier than what {@link #due} last learnt, it reads the steps again. Called
     * once the change is made (committed, or inside a transaction that holds the database lock until
     * it commits); {@link #dueSteps} remembers under that lock, so this sees what any read before the
     * change remembered.
     */
    private void mayComeDueAt(long dueMs) {
        if (dueMs < stepsSeen.noneBeforeMs()) {
            stepChanges.incrementAndGet();
        }
    }

    /** The steps due by {@code nowMs}; when there are none, remembers when the first will be. Under the database lock. */
    private List<PendingOp> dueSteps(Connection c, long nowMs, int max) throws SQLException {
        long changes = stepChanges.get(); // before the read: a change after it reads again
        long first = Database.query(c, "SELECT coalesce(min(due_ms), ?) FROM journal WHERE kind <> 'UPLOAD'",
                rs -> rs.getLong(1), Long.MAX_VALUE).getFirst();
        if (first > nowMs) {
            stepsSeen = new StepsSeen(changes, first);
            return List.of();
        }
        return many(c, "WHERE kind <> 'UPLOAD' AND due_ms <= ? ORDER BY due_ms, id LIMIT ?", nowMs, max);
    }

    @Override
    public Optional<Instant> nextDue() {
        return db.read(c -> {
            // One search per partial index (the journal has no index over all its entries by time).
            try (var s = c.createStatement(); var rs = s.executeQuery("SELECT min(due_ms) FROM ("
                    + "SELECT min(due_ms) AS due_ms FROM journal WHERE kind = 'UPLOAD' UNION ALL "
                    + "SELECT min(due_ms) FROM journal WHERE kind <> 'UPLOAD')")) {
                long min = rs.getLong(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(min));
            }
        });
    }

    @Override
    public void rebase(long fileId, String baseEtag) {
        db.update("UPDATE journal SET base_etag = ? WHERE kind = 'UPLOAD' AND file_id = ?", baseEtag, fileId);
        db.sync();
    }

    @Override
    public void retryLater(long id, Instant due, String error) {
        db.update("UPDATE journal SET due_ms = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                due.toEpochMilli(), error, id);
        mayComeDueAt(due.toEpochMilli());
    }

    @Override
    public void postpone(long id, Instant due) {
        db.update("UPDATE journal SET due_ms = ? WHERE id = ?", due.toEpochMilli(), id);
        mayComeDueAt(due.toEpochMilli());
    }

    @Override
    public boolean complete(long id, long sequence) {
        // Moves no entry to an earlier time: what due() learnt of the steps holds.
        return db.transaction(c -> {
            List<Long> uploadOf = Database.query(c, "DELETE FROM journal WHERE id = ? AND sequence = ? "
                    + "RETURNING CASE kind WHEN 'UPLOAD' THEN file_id ELSE -1 END", rs -> rs.getLong(1), id, sequence);
            if (!uploadOf.isEmpty()) {
                withUpload.remove(uploadOf.getFirst());
                return true;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE journal SET attempts = 0, last_error = NULL WHERE id = ?")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
            return false;
        });
    }

    @Override
    public Optional<PendingOp> uploadOf(long fileId) {
        return db.read(c -> one(c, "WHERE kind = 'UPLOAD' AND file_id = ?", fileId));
    }

    @Override
    public Counts counts() {
        return db.query("SELECT coalesce(sum(kind = 'UPLOAD'), 0), coalesce(sum(kind <> 'UPLOAD'), 0), "
                + "coalesce(sum(attempts > 0), 0) FROM journal",
                rs -> new Counts(rs.getInt(1), rs.getInt(2), rs.getInt(3))).getFirst();
    }

    @Override
    public void multipartStarted(MultipartUpload upload) {
        db.update("INSERT OR IGNORE INTO multipart_uploads (upload_id, key) VALUES (?, ?)", upload.uploadId(), upload.key());
    }

    @Override
    public void multipartEnded(MultipartUpload upload) {
        db.update("DELETE FROM multipart_uploads WHERE upload_id = ?", upload.uploadId());
    }

    @Override
    public List<MultipartUpload> multipartsStarted() {
        return db.query("SELECT key, upload_id FROM multipart_uploads ORDER BY rowid",
                rs -> new MultipartUpload(rs.getString(1), rs.getString(2)));
    }

    @Override
    public List<PendingOp> all() {
        return db.read(c -> many(c, "ORDER BY due_ms, id"));
    }

    private static Optional<PendingOp> one(Connection c, String where, Object... args) throws SQLException {
        return many(c, where, args).stream().findFirst();
    }

    private static List<PendingOp> many(Connection c, String where, Object... args) throws SQLException {
        return entries(c, "SELECT " + COLUMNS + " FROM journal " + where, args);
    }

    /** The journal rows a statement yields (a SELECT, or a write that RETURNs {@link #COLUMNS}). */
    private static List<PendingOp> entries(Connection c, String sql, Object... args) throws SQLException {
        return Database.query(c, sql, rs -> new PendingOp(rs.getLong(1),
                PendingOp.Kind.valueOf(rs.getString(2)), rs.getLong(3), rs.getString(4), rs.getString(5),
                rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)), rs.getInt(8), rs.getString(9), rs.getLong(10)),
                args);
    }
}
