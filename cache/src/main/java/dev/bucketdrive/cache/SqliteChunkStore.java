package dev.bucketdrive.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.bucketdrive.core.local.CacheFullException;
import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.ChunkStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ChunkStore} on local disk: one file per chunk under {@code chunks/}, one row per chunk in the
 * SQLite index, which is the truth about what is present and dirty. Caffeine holds the rows of hot
 * chunks so a read costs no SQL.
 *
 * <p>Crash safety. A chunk becomes dirty in the index (a durable transaction) <em>before</em> its file
 * is first written, so a crash can leave a dirty row over unchanged bytes (harmless: it uploads what
 * was there) but never changed bytes under a clean row whose checksum would then fail. A clean chunk
 * is written to a temporary file, then moved into place, then indexed: a crash leaves an orphan file
 * that start-up removes, never a row without its bytes. Clean chunks carry a CRC32C checked on their
 * first read in this process; a mismatch drops the chunk and reads as a miss.
 *
 * <p>Lock order: a chunk's stripe lock, then the {@link Database} lock. The dirty-space monitor
 * ({@code dirtyLock}) is never held while taking either.
 */
final class SqliteChunkStore implements ChunkStore {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteChunkStore.class);
    private static final int STRIPES = 64;

    /** The index row of a chunk, plus what this process learnt about it. */
    private static final class Chunk {
        final boolean dirty;
        final String etag;
        volatile int length;
        final long crc;
        volatile boolean verified;
        volatile long generation;

        Chunk(boolean dirty, String etag, int length, long crc) {
            this.dirty = dirty;
            this.etag = etag;
            this.length = length;
            this.crc = crc;
        }
    }

    private static final Optional<Chunk> ABSENT = Optional.empty();

    private final Database db;
    private final CacheOptions options;
    private final Path chunkDir;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final Cache<ChunkKey, Optional<Chunk>> rows;
    private final Map<ChunkKey, Long> touched = new ConcurrentHashMap<>();
    private final AtomicLong totalBytes = new AtomicLong();
    private final AtomicLong dirtyBytes = new AtomicLong();
    private final AtomicLong chunkCount = new AtomicLong();
    private final AtomicLong dirtyCount = new AtomicLong();
    private final ReentrantLock dirtyLock = new ReentrantLock();
    private final Condition dirtyDrained = dirtyLock.newCondition();
    private final AtomicLong generations = new AtomicLong();

    SqliteChunkStore(Database db, CacheOptions options, Path chunkDir) {
        this.db = db;
        this.options = options;
        this.chunkDir = chunkDir;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.rows = Caffeine.newBuilder().maximumSize(200_000).build();
        db.read(c -> {
            try (var s = c.createStatement();
                 var rs = s.executeQuery("SELECT count(*), coalesce(sum(length), 0) FROM chunks WHERE dirty = 0")) {
                chunkCount.addAndGet(rs.getLong(1));
                totalBytes.addAndGet(rs.getLong(2));
            }
            return null;
        });
        List<ChunkKey> dirty = db.query("SELECT file_id, idx FROM chunks WHERE dirty = 1", SqliteChunkStore::chunkKey);
        for (ChunkKey key : dirty) {
            long length = dirtyLength(key);
            chunkCount.incrementAndGet();
            dirtyCount.incrementAndGet();
            totalBytes.addAndGet(length);
            dirtyBytes.addAndGet(length);
        }
    }

    @Override
    public int chunkSize() {
        return options.chunkSize();
    }

    private ReentrantLock stripe(ChunkKey key) {
        return stripes[Math.floorMod(Long.hashCode(key.fileId() * 31 + key.index()), STRIPES)];
    }

    Path path(ChunkKey key) {
        return chunkDir.resolve(String.format("%02x", key.fileId() & 0xff)).resolve(key.fileId() + "-" + key.index());
    }

    private Optional<Chunk> row(ChunkKey key) {
        return rows.get(key, k -> db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT dirty, etag, length, crc FROM chunks WHERE file_id = ? AND idx = ?")) {
                ps.setLong(1, k.fileId());
                ps.setInt(2, k.index());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return ABSENT;
                    }
                    boolean dirty = rs.getInt(1) == 1;
                    // A dirty chunk's length lives in its file: growing writes do not touch the index.
                    int length = dirty ? dirtyLength(k) : rs.getInt(3);
                    return Optional.of(new Chunk(dirty, rs.getString(2), length, rs.getLong(4)));
                }
            }
        }));
    }

    private int dirtyLength(ChunkKey key) {
        try {
            return (int) Files.size(path(key));
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
    }

    private void touch(ChunkKey key) {
        touched.put(key, options.clock().millis());
    }

    @Override
    public int read(ChunkKey key, String etag, int offset, ByteBuffer dst) {
        if (offset < 0 || offset > options.chunkSize()) {
            throw new IllegalArgumentException("read outside chunk: " + offset);
        }
        Optional<Chunk> found = row(key);
        if (found.isEmpty()) {
            return -1;
        }
        Chunk chunk = found.get();
        if (!chunk.dirty && (etag == null || !etag.equals(chunk.etag))) {
            return -1;
        }
        if (!chunk.dirty && !chunk.verified && !verify(key, chunk)) {
            return -1;
        }
        touch(key);
        int want = Math.min(dst.remaining(), chunk.length - offset);
        if (want <= 0) {
            return 0;
        }
        try (FileChannel ch = FileChannel.open(path(key), StandardOpenOption.READ)) {
            ByteBuffer window = dst.slice(dst.position(), want);
            int copied = 0;
            while (window.hasRemaining()) {
                int n = ch.read(window, offset + copied);
                if (n < 0) {
                    break;
                }
                copied += n;
            }
            if (copied < want && !chunk.dirty) {
                // A clean chunk shorter than its row: damaged. Forget it; the caller refetches.
                forgetDamaged(key, chunk);
                return -1;
            }
            dst.position(dst.position() + copied);
            return copied;
        } catch (NoSuchFileException e) {
            if (chunk.dirty) {
                throw new UncheckedIOException("dirty chunk " + key + " lost its file", e);
            }
            forgetDamaged(key, chunk);
            return -1;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
    }

    private boolean verify(ChunkKey key, Chunk chunk) {
        try {
            byte[] bytes = Files.readAllBytes(path(key));
            if (bytes.length == chunk.length && crc(ByteBuffer.wrap(bytes)) == chunk.crc) {
                chunk.verified = true;
                return true;
            }
        } catch (NoSuchFileException e) {
            // Treated as damage below.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
        LOG.warn("cached chunk {} failed its integrity check; it will be fetched again", key);
        forgetDamaged(key, chunk);
        return false;
    }

    private void forgetDamaged(ChunkKey key, Chunk seen) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Optional<Chunk> now = row(key);
            if (now.isPresent() && now.get() == seen && !seen.dirty) {
                deleteRow(key, seen);
                deleteFile(key);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void putClean(ChunkKey key, String etag, ByteBuffer data) {
        if (data.remaining() > options.chunkSize()) {
            throw new IllegalArgumentException("chunk larger than the chunk size");
        }
        long crc = crc(data.duplicate());
        int length = data.remaining();
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Optional<Chunk> current = row(key);
            if (current.isPresent() && current.get().dirty) {
                return;
            }
            Path target = path(key);
            LocalFiles.createPrivateDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING), LocalFiles.privateFile())) {
                ByteBuffer src = data.duplicate();
                while (src.hasRemaining()) {
                    ch.write(src);
                }
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            long now = options.clock().millis();
            db.update("INSERT OR REPLACE INTO chunks (file_id, idx, dirty, etag, length, crc, last_access_ms) "
                    + "VALUES (?, ?, 0, ?, ?, ?, ?)", key.fileId(), key.index(), etag, length, crc, now);
            Chunk fresh = new Chunk(false, etag, length, crc);
            fresh.verified = true;
            current.ifPresentOrElse(old -> totalBytes.addAndGet(length - old.length), () -> {
                totalBytes.addAndGet(length);
                chunkCount.incrementAndGet();
            });
            rows.put(key, Optional.of(fresh));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store chunk " + key, e);
        } finally {
            lock.unlock();
        }
        if (overLimits()) {
            evict();
        }
    }

    @Override
    public void write(ChunkKey key, int offset, ByteBuffer data) {
        int end = offset + data.remaining();
        if (offset < 0 || end > options.chunkSize()) {
            throw new IllegalArgumentException("write outside chunk: " + offset + "+" + data.remaining());
        }
        if (!data.hasRemaining()) {
            return;
        }
        ReentrantLock lock = stripe(key);
        while (true) {
            lock.lock();
            try {
                Optional<Chunk> current = row(key);
                // A clean chunk that is written becomes dirty as a whole.
                int held = current.map(ch -> ch.length).orElse(0);
                int oldDirty = current.filter(ch -> ch.dirty).map(ch -> ch.length).orElse(0);
                long growth = Math.max(held, end) - oldDirty;
                if (growth == 0 || reserveDirty(growth)) {
                    writeLocked(key, current, offset, data, end);
                    return;
                }
            } finally {
                lock.unlock();
            }
            awaitDirtySpace(key);
        }
    }

    /** Takes room for dirty bytes if the limit allows (always when nothing else is dirty). */
    private boolean reserveDirty(long bytes) {
        while (true) {
            long now = dirtyBytes.get();
            if (now > 0 && now + bytes > options.maxDirtyBytes()) {
                return false;
            }
            if (dirtyBytes.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    private void awaitDirtySpace(ChunkKey key) {
        long deadline = System.nanoTime() + options.dirtyWait().toNanos();
        dirtyLock.lock();
        try {
            while (dirtyBytes.get() >= options.maxDirtyBytes()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new CacheFullException("the cache holds " + dirtyBytes.get()
                            + " bytes not yet uploaded (limit " + options.maxDirtyBytes() + "); waited "
                            + options.dirtyWait() + " for uploads to make room for " + key);
                }
                dirtyDrained.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheFullException("interrupted while waiting for cache space");
        } finally {
            dirtyLock.unlock();
        }
    }

    private void releaseDirty(long bytes) {
        if (bytes == 0) {
            return;
        }
        dirtyBytes.addAndGet(-bytes);
        dirtyLock.lock();
        try {
            dirtyDrained.signalAll();
        } finally {
            dirtyLock.unlock();
        }
    }

    /** Writes into a chunk; the caller holds its stripe lock and has accounted for the dirty bytes. */
    private void writeLocked(ChunkKey key, Optional<Chunk> current, int offset, ByteBuffer data, int end) {
        Chunk chunk;
        if (current.isPresent() && current.get().dirty) {
            chunk = current.get();
        } else {
            // Dirty in the index first, durably; then the bytes (see the class comment).
            int length = current.map(ch -> ch.length).orElse(0);
            db.update("INSERT OR REPLACE INTO chunks (file_id, idx, dirty, etag, length, crc, last_access_ms) "
                    + "VALUES (?, ?, 1, NULL, ?, 0, ?)", key.fileId(), key.index(), length, options.clock().millis());
            chunk = new Chunk(true, null, length, 0);
            if (current.isEmpty()) {
                chunkCount.incrementAndGet();
            }
            dirtyCount.incrementAndGet();
            rows.put(key, Optional.of(chunk));
        }
        try {
            Path file = path(key);
            LocalFiles.createPrivateDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE), LocalFiles.privateFile())) {
                ByteBuffer src = data.duplicate();
                int at = offset;
                while (src.hasRemaining()) {
                    at += ch.write(src, at);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chunk " + key, e);
        }
        data.position(data.limit());
        if (end > chunk.length) {
            totalBytes.addAndGet(end - chunk.length);
            chunk.length = end;
        }
        chunk.generation = generations.incrementAndGet();
        touch(key);
    }

    @Override
    public void truncate(long fileId, long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
        int cs = options.chunkSize();
        for (int index : indexes(fileId)) {
            ChunkKey key = new ChunkKey(fileId, index);
            long start = (long) index * cs;
            if (start >= size) {
                dropChunk(key);
            } else if (start + cs > size) {
                int keep = (int) (size - start);
                cut(key, keep);
            }
        }
    }

    private void cut(ChunkKey key, int keep) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Optional<Chunk> current = row(key);
            if (current.isEmpty() || current.get().length <= keep) {
                return;
            }
            // Make it dirty (a zero-length write; its bytes now count as dirty), then shorten the file.
            if (!current.get().dirty) {
                dirtyBytes.addAndGet(current.get().length);
            }
            writeLocked(key, current, 0, ByteBuffer.allocate(0), 0);
            Chunk chunk = row(key).orElseThrow();
            try (FileChannel ch = FileChannel.open(path(key), StandardOpenOption.WRITE)) {
                ch.truncate(keep);
            }
            int removed = chunk.length - keep;
            chunk.length = keep;
            totalBytes.addAndGet(-removed);
            releaseDirty(removed);
            chunk.generation = generations.incrementAndGet();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate chunk " + key, e);
        } finally {
            lock.unlock();
        }
    }

    private List<Integer> indexes(long fileId) {
        return indexes(fileId, "");
    }

    private List<Integer> indexes(long fileId, String condition) {
        return db.query("SELECT idx FROM chunks WHERE file_id = ? " + condition + " ORDER BY idx",
                rs -> rs.getInt(1), fileId);
    }

    @Override
    public void force(long fileId) {
        for (int index : dirtyChunks(fileId).keySet()) {
            try (FileChannel ch = FileChannel.open(path(new ChunkKey(fileId, index)), StandardOpenOption.WRITE)) {
                ch.force(true);
            } catch (NoSuchFileException e) {
                // A zero-length dirty chunk (a cut to nothing) has no bytes to flush.
            } catch (IOException e) {
                throw new UncheckedIOException("cannot flush chunk " + fileId + "-" + index, e);
            }
        }
    }

    @Override
    public Map<Integer, Long> dirtyChunks(long fileId) {
        Map<Integer, Long> out = new HashMap<>();
        for (int index : indexes(fileId, "AND dirty = 1")) {
            row(new ChunkKey(fileId, index)).filter(ch -> ch.dirty).ifPresent(ch -> out.put(index, ch.generation));
        }
        return out;
    }

    @Override
    public int length(ChunkKey key) {
        return row(key).map(ch -> ch.length).orElse(-1);
    }

    @Override
    public void markUploaded(long fileId, String baseEtag, String newEtag, Map<Integer, Long> uploadedGenerations) {
        for (int index : indexes(fileId)) {
            ChunkKey key = new ChunkKey(fileId, index);
            ReentrantLock lock = stripe(key);
            lock.lock();
            try {
                Optional<Chunk> current = row(key);
                if (current.isEmpty()) {
                    continue;
                }
                Chunk chunk = current.get();
                if (chunk.dirty) {
                    Long sent = uploadedGenerations.get(index);
                    if (sent != null && sent == chunk.generation) {
                        becomeClean(key, chunk, newEtag);
                    }
                } else if (baseEtag != null && baseEtag.equals(chunk.etag)) {
                    relabel(key, chunk, newEtag);
                } else if (!newEtag.equals(chunk.etag)) {
                    dropChunk(key);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void becomeClean(ChunkKey key, Chunk chunk, String etag) {
        long crc;
        try {
            crc = Files.exists(path(key)) ? crc(ByteBuffer.wrap(Files.readAllBytes(path(key)))) : crc(ByteBuffer.allocate(0));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
        int length = chunk.length;
        db.update("UPDATE chunks SET dirty = 0, etag = ?, crc = ?, length = ? WHERE file_id = ? AND idx = ?",
                etag, crc, length, key.fileId(), key.index());
        Chunk clean = new Chunk(false, etag, length, crc);
        clean.verified = true;
        rows.put(key, Optional.of(clean));
        dirtyCount.decrementAndGet();
        releaseDirty(length);
    }

    private void relabel(ChunkKey key, Chunk chunk, String etag) {
        db.update("UPDATE chunks SET etag = ? WHERE file_id = ? AND idx = ? AND dirty = 0",
                etag, key.fileId(), key.index());
        Chunk relabelled = new Chunk(false, etag, chunk.length, chunk.crc);
        relabelled.verified = chunk.verified;
        rows.put(key, Optional.of(relabelled));
    }

    @Override
    public void drop(long fileId) {
        for (int index : indexes(fileId)) {
            dropChunk(new ChunkKey(fileId, index));
        }
    }

    private void dropChunk(ChunkKey key) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Optional<Chunk> current = row(key);
            if (current.isPresent()) {
                deleteRow(key, current.get());
                deleteFile(key);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Deletes the row of a chunk; the caller holds its stripe lock. */
    private void deleteRow(ChunkKey key, Chunk chunk) {
        db.update("DELETE FROM chunks WHERE file_id = ? AND idx = ?", key.fileId(), key.index());
        rows.put(key, ABSENT);
        touched.remove(key);
        totalBytes.addAndGet(-chunk.length);
        chunkCount.decrementAndGet();
        if (chunk.dirty) {
            dirtyCount.decrementAndGet();
            releaseDirty(chunk.length);
        }
    }

    private void deleteFile(ChunkKey key) {
        try {
            Files.deleteIfExists(path(key));
        } catch (IOException e) {
            LOG.warn("cannot delete cached chunk file {}: {}", path(key), e.toString());
        }
    }

    @Override
    public void pin(long fileId, boolean pinned) {
        db.update(pinned ? "INSERT OR IGNORE INTO pinned_files (file_id) VALUES (?)"
                : "DELETE FROM pinned_files WHERE file_id = ?", fileId);
    }

    private boolean overLimits() {
        return totalBytes.get() > options.maxBytes() || freeDisk() < options.minFreeBytes();
    }

    private long freeDisk() {
        try {
            return Files.getFileStore(chunkDir).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Writes the access times gathered in memory to the index, in one transaction. */
    void flushAccessTimes() {
        if (touched.isEmpty()) {
            return;
        }
        Map<ChunkKey, Long> batch = new HashMap<>(touched);
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE chunks SET last_access_ms = ? WHERE file_id = ? AND idx = ?")) {
                for (var e : batch.entrySet()) {
                    ps.setLong(1, e.getValue());
                    ps.setLong(2, e.getKey().fileId());
                    ps.setInt(3, e.getKey().index());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
        batch.forEach(touched::remove);
    }

    @Override
    public void evict() {
        flushAccessTimes();
        long target = options.maxBytes() - options.maxBytes() / 10;
        while (totalBytes.get() > target || freeDisk() < options.minFreeBytes()) {
            List<ChunkKey> victims = db.query("SELECT file_id, idx FROM chunks "
                    + "WHERE dirty = 0 AND file_id NOT IN (SELECT file_id FROM pinned_files) "
                    + "ORDER BY last_access_ms, file_id, idx LIMIT 64", SqliteChunkStore::chunkKey);
            if (victims.isEmpty()) {
                return;
            }
            for (ChunkKey key : victims) {
                ReentrantLock lock = stripe(key);
                lock.lock();
                try {
                    // Re-read under the lock: a writer may have made it dirty meanwhile.
                    rows.invalidate(key);
                    Optional<Chunk> now = row(key);
                    if (now.isPresent() && !now.get().dirty) {
                        deleteRow(key, now.get());
                        deleteFile(key);
                    }
                } finally {
                    lock.unlock();
                }
                if (totalBytes.get() <= target && freeDisk() >= options.minFreeBytes()) {
                    return;
                }
            }
        }
    }

    @Override
    public Usage usage() {
        return new Usage(totalBytes.get(), dirtyBytes.get(), chunkCount.get(), dirtyCount.get());
    }

    /**
     * Start-up recovery: removes temporary and orphan chunk files (no row) older than {@code before},
     * and rows of clean chunks whose file is gone. A dirty row whose file is gone is reported: its
     * data was acknowledged, so this means the disk lost it.
     */
    void reconcile(long beforeMillis) throws IOException {
        if (!Files.isDirectory(chunkDir)) {
            return;
        }
        try (var dirs = Files.newDirectoryStream(chunkDir)) {
            for (Path dir : dirs) {
                try (var files = Files.newDirectoryStream(dir)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (Files.getLastModifiedTime(f).toMillis() >= beforeMillis) {
                            continue;
                        }
                        ChunkKey key = parse(name);
                        if (key == null || name.endsWith(".tmp") || row(key).isEmpty()) {
                            Files.deleteIfExists(f);
                        }
                    }
                }
            }
        }
        List<ChunkKey> all = db.query("SELECT file_id, idx FROM chunks", SqliteChunkStore::chunkKey);
        for (ChunkKey key : all) {
            if (!Files.exists(path(key))) {
                Optional<Chunk> chunk = row(key);
                if (chunk.isPresent() && chunk.get().length > 0) {
                    if (chunk.get().dirty) {
                        LOG.error("dirty chunk {} has no file: the disk lost data that was written", key);
                    } else {
                        dropChunk(key);
                    }
                }
            }
        }
    }

    private static ChunkKey chunkKey(ResultSet rs) throws SQLException {
        return new ChunkKey(rs.getLong(1), rs.getInt(2));
    }

    private static ChunkKey parse(String name) {
        int dash = name.indexOf('-');
        if (dash <= 0 || name.contains(".")) {
            return null;
        }
        try {
            return new ChunkKey(Long.parseLong(name.substring(0, dash)), Integer.parseInt(name.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static long crc(ByteBuffer data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return crc.getValue();
    }
}
